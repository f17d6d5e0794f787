//! Remedies to paste, filled with the operator's own names, ports and namespace. Used by `check`
//! (attached to failing findings) and by `explain`.

use crate::app::Install;

/// Behind a port-forward: the server container's own port serves the browser and the pod alike
/// (Devtron's 8080). `None` for an app without such a port.
pub fn port_forward_own(i: &Install) -> Option<String> {
    let p = i.profile();
    let port = p.container_port?;
    let url = i.base_on("http", &format!("localhost:{port}"));
    Some(format!(
        "{}, then set {} to {url} in {} (inside the pod localhost:{port} is {} itself); the IdP must accept {url}/api/dex/callback",
        i.port_forward(port),
        p.url_setting,
        p.url_where,
        p.server_name
    ))
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
pub fn host_aliases(i: &Install, host: &str) -> String {
    format!(
        "{} patch deployment {} --type merge -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"hostAliases\":[{{\"ip\":\"INGRESS_CLUSTER_IP\",\"hostnames\":[\"{host}\"]}}]}}}}}}}}' (INGRESS_CLUSTER_IP: kubectl -n ingress-nginx get svc ingress-nginx-controller -o jsonpath='{{.spec.clusterIP}}')",
        i.kubectl(),
        i.profile().server.deployment
    )
}

/// The `NO_PROXY` value the app pod needs so calls to itself and to Dex bypass the proxy.
pub fn no_proxy(i: &Install, extra_host: Option<&str>) -> String {
    let p = i.profile();
    let ns = &i.namespace;
    let mut v: Vec<String> = extra_host.map(str::to_string).into_iter().collect();
    v.push(p.dex.service.to_string());
    v.push(format!("{}.{ns}", p.dex.service));
    v.push(format!("{}.{ns}", p.server.service));
    v.extend([".svc", ".cluster.local", "localhost", "127.0.0.1"].map(String::from));
    format!(
        "{} set env deployment/{} NO_PROXY={} (and no_proxy likewise)",
        i.kubectl(),
        p.server.deployment,
        v.join(",")
    )
}

/// The app's server and Dex must agree on TLS (Argo CD's server↔Dex modes pair up).
pub fn dex_tls_pair(i: &Install, server_sends_plain_to_tls: bool) -> String {
    let restart = i.restart();
    if server_sends_plain_to_tls {
        format!(
            "{} talks plain HTTP to a Dex that serves TLS: either let Dex drop TLS too (argocd-cmd-params-cm: dexserver.disable.tls: \"true\", which runs Dex with --disable-tls) or remove server.dex.server.plaintext / --dex-server-plaintext; then {restart}",
            i.profile().server_name
        )
    } else {
        format!(
            "{} speaks TLS to a Dex that serves plain HTTP: set server.dex.server.plaintext: \"true\" in argocd-cmd-params-cm (--dex-server-plaintext) to match Dex's --disable-tls, or give Dex TLS back; then {restart}",
            i.profile().server_name
        )
    }
}

/// Under a service mesh, Dex's port must be plain TCP to the sidecar.
pub fn app_protocol_tcp(i: &Install) -> String {
    format!(
        "{} patch service {} --type json -p '[{{\"op\":\"add\",\"path\":\"/spec/ports/0/appProtocol\",\"value\":\"TCP\"}}]'",
        i.kubectl(),
        i.profile().dex.service
    )
}

/// The callback the upstream IdP must have registered.
pub fn register_callback(issuer: &str) -> String {
    format!(
        "Register exactly {}/callback as a redirect (callback) URL at the IdP, and set the connector's redirectURI to the same string",
        issuer.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::App;

    #[test]
    fn every_remedy_names_the_namespace_in_use() {
        for (app, ns) in [(App::DEVTRON, "devtron-prod"), (App::ARGOCD, "gitops")] {
            let i = Install::new(app, Some(ns));
            let all = [
                port_forward_own(&i).unwrap_or_default(),
                host_aliases(&i, "sso.example.com"),
                no_proxy(&i, Some("sso.example.com")),
                dex_tls_pair(&i, true),
                dex_tls_pair(&i, false),
                app_protocol_tcp(&i),
                i.restart(),
            ];
            for r in all.iter().filter(|r| !r.is_empty()) {
                assert!(r.contains(ns), "{r}");
                assert!(!r.contains("devtroncd") && !r.contains("-n argocd "), "{r}");
            }
        }
    }
}
