//! Devtron: Dex at `URL/api/dex`, where `URL` ends in `/orchestrator`; the orchestrator fetches
//! that same public URL from inside its pod (reference/devtron.md).

use super::{
    ARGOCD_DEX_SERVER, ConfigStore, DexAddress, DexCall, DiscoveryError, Install, IssuerRule,
    Profile, RedirectUri, ReturnPath, Seen, Workload,
};
use crate::plan::predict::HostKind;

pub static PROFILE: Profile = Profile {
    id: "devtron",
    name: "Devtron",
    default_namespace: "devtroncd",
    config: ConfigStore::Secret("devtron-secret"),
    // devtron-cm DEX_HOST + DEX_PORT
    dex_address: Some(DexAddress {
        configmap: "devtron-cm",
        host_key: "DEX_HOST",
        port_key: "DEX_PORT",
    }),
    provider: None,
    server: Workload {
        selector: "app=devtron",
        deployment: "devtron",
        service: "devtron-service",
        service_port: 80,
    },
    // App.go: `port := 8080`
    container_port: Some(8080),
    listen_port: 8080,
    server_name: "the orchestrator",
    // Devtron installs Argo CD's Dex.
    dex: ARGOCD_DEX_SERVER,
    // charts/devtron: the argocd-dex-server image, Dex v2.30.2
    dex_version: (2, 30, 2),
    internal_dex: |ns| format!("http://argocd-dex-server.{ns}:5556"),
    dex_path: "api/dex",
    callback_path: "auth/callback",
    browser_runs_oidc: false,
    issuer: IssuerRule::PathJoin,
    dex_call: DexCall::PublicUrl,
    proxies_dex: true,
    path_prefix: Some("/orchestrator"),
    login_path: "auth/login",
    // dashboard Login.tsx: origin + "/orchestrator" + "/dashboard" + continue
    return_path: Some(ReturnPath::Fixed("/orchestrator/dashboard/")),
    redirect_uri: RedirectUri::FromBase,
    // needsRedirectURI in the authenticator
    // devtron-labs/authenticator client/k8sClient.go GenerateDexConfigYAML: the DEX_CLIENT_ID client (argo-cd) first.
    own_clients: &["argo-cd"],
    overwrites_redirect_uri: &[
        "oidc",
        "saml",
        "microsoft",
        "linkedin",
        "gitlab",
        "github",
        "bitbucket-cloud",
        "openshift",
    ],
    discovery_error: DiscoveryError::QueryProvider("Failed to query provider"),
    head_label: None,
    url_setting: "URL",
    url_where: "Global Configurations → SSO",
    example_url: "https://devtron.example.com/orchestrator",
    restart,
    candidates,
};

fn restart(i: &Install) -> String {
    let k = i.kubectl();
    format!(
        "{k} delete pod -l {}; {k} delete pod -l {}",
        PROFILE.server.selector, PROFILE.dex.selector
    )
}

/// The forwarded port as the browser uses it, the in-cluster service, the container's own port
/// (serves both sides), and an ingress host.
fn candidates(i: &Install, seen: &Seen) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(pf) = seen.first(HostKind::Loopback) {
        out.push(i.base_on(
            "http",
            &format!("localhost:{}", pf.effective_port().unwrap_or(80)),
        ));
    }
    out.push(i.base_on("http", &i.server_fqdn()));
    out.push(i.base_on("http", "localhost:8080"));
    if let Some(ing) = seen.first(HostKind::Public) {
        out.push(i.base_on(&ing.scheme, &ing.host));
    }
    out
}
