//! Remedies to paste, filled with the operator's own names and ports. Used by `check` (attached
//! to failing findings) and by `explain`.

use crate::setup::App;

/// The install's namespace and the names that go with it.
pub fn namespace(app: App) -> &'static str {
    match app {
        App::Devtron => "devtroncd",
        App::Argocd => "argocd",
    }
}

/// Devtron behind a port-forward: local port 8080 (the orchestrator's own port) and the URL to match.
pub fn port_forward_8080() -> String {
    "kubectl -n devtroncd port-forward svc/devtron-service 8080:80, then set URL to http://localhost:8080/orchestrator in Global Configurations → SSO (inside the pod localhost:8080 is the orchestrator itself); the IdP must accept http://localhost:8080/orchestrator/api/dex/callback".into()
}

/// A CoreDNS `rewrite` so pods resolve the public name to the ingress controller's Service.
pub fn coredns_rewrite(host: &str) -> String {
    format!(
        "kubectl -n kube-system edit configmap coredns, and inside the server block add: rewrite name exact {host} ingress-nginx-controller.ingress-nginx.svc.cluster.local (for a regex: rewrite stop {{ name regex (.*)\\.{} ingress-nginx-controller.ingress-nginx.svc.cluster.local answer auto }}); then kubectl -n kube-system rollout restart deployment coredns",
        host.split_once('.')
            .map(|(_, d)| d.replace('.', "\\."))
            .unwrap_or_else(|| host.replace('.', "\\."))
    )
}

/// `hostAliases` on the app's Deployment, mapping the public name to an address pods can reach.
pub fn host_aliases(app: App, host: &str) -> String {
    let (ns, deploy) = match app {
        App::Devtron => ("devtroncd", "devtron"),
        App::Argocd => ("argocd", "argocd-server"),
    };
    format!(
        "kubectl -n {ns} patch deployment {deploy} --type merge -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"hostAliases\":[{{\"ip\":\"INGRESS_CLUSTER_IP\",\"hostnames\":[\"{host}\"]}}]}}}}}}}}' (INGRESS_CLUSTER_IP: kubectl -n ingress-nginx get svc ingress-nginx-controller -o jsonpath='{{.spec.clusterIP}}')"
    )
}

/// The `NO_PROXY` value the app pod needs so calls to itself and to Dex bypass the proxy.
pub fn no_proxy(app: App, extra_host: Option<&str>) -> String {
    let mut v: Vec<String> = match app {
        App::Devtron => vec![
            "argocd-dex-server.devtroncd".into(),
            "devtron-service.devtroncd".into(),
        ],
        App::Argocd => vec![
            "argocd-dex-server".into(),
            "argocd-dex-server.argocd".into(),
        ],
    };
    v.extend([
        ".svc".to_string(),
        ".cluster.local".to_string(),
        "localhost".into(),
        "127.0.0.1".into(),
    ]);
    if let Some(h) = extra_host {
        v.insert(0, h.to_string());
    }
    let (ns, deploy) = match app {
        App::Devtron => ("devtroncd", "devtron"),
        App::Argocd => ("argocd", "argocd-server"),
    };
    format!(
        "kubectl -n {ns} set env deployment/{deploy} NO_PROXY={} (and no_proxy likewise)",
        v.join(",")
    )
}

/// Restart the app and Dex after an SSO change, so every copy of URL agrees.
pub fn restart(app: App) -> String {
    match app {
        App::Devtron => "kubectl -n devtroncd delete pod -l app=devtron; kubectl -n devtroncd delete pod -l app.kubernetes.io/name=argocd-dex-server".into(),
        App::Argocd => "kubectl -n argocd rollout restart deployment argocd-server argocd-dex-server".into(),
    }
}

/// Argo CD's server↔Dex TLS modes must pair up.
pub fn argocd_tls_pair(server_sends_plain_to_tls: bool) -> String {
    if server_sends_plain_to_tls {
        "argocd-server talks plain HTTP to a Dex that serves TLS: either let Dex drop TLS too (argocd-cmd-params-cm: dexserver.disable.tls: \"true\", which runs Dex with --disable-tls) or remove server.dex.server.plaintext / --dex-server-plaintext; then kubectl -n argocd rollout restart deployment argocd-server argocd-dex-server".into()
    } else {
        "argocd-server speaks TLS to a Dex that serves plain HTTP: set server.dex.server.plaintext: \"true\" in argocd-cmd-params-cm (--dex-server-plaintext) to match Dex's --disable-tls, or give Dex TLS back; then kubectl -n argocd rollout restart deployment argocd-server argocd-dex-server".into()
    }
}

/// Under a service mesh, Dex's port must be plain TCP to the sidecar.
pub fn app_protocol_tcp(app: App) -> String {
    format!(
        "kubectl -n {} patch service argocd-dex-server --type json -p '[{{\"op\":\"add\",\"path\":\"/spec/ports/0/appProtocol\",\"value\":\"TCP\"}}]'",
        namespace(app)
    )
}

/// The callback the upstream IdP must have registered.
pub fn register_callback(issuer: &str) -> String {
    format!(
        "Register exactly {}/callback as a redirect (callback) URL at the IdP, and set the connector's redirectURI to the same string",
        issuer.trim_end_matches('/')
    )
}
