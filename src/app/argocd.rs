//! Argo CD: Dex at `url + "/api/dex"`; argocd-server rewrites its own calls to Dex to the
//! in-cluster `argocd-dex-server:5556` (reference/argocd.md).

use super::{
    ARGOCD_DEX_SERVER, ConfigStore, DexCall, DiscoveryError, Install, IssuerRule, Profile,
    RedirectUri, ReturnPath, Seen, Workload,
};
use crate::plan::predict::HostKind;

pub static PROFILE: Profile = Profile {
    id: "argocd",
    name: "Argo CD",
    default_namespace: "argocd",
    config: ConfigStore::ConfigMap("argocd-cm"),
    dex_address: None,
    provider: None,
    server: Workload {
        selector: "app.kubernetes.io/name=argocd-server",
        deployment: "argocd-server",
        service: "argocd-server",
        service_port: 443,
    },
    container_port: None,
    // cmd/argocd-server: --port, default common.DefaultPortAPIServer (8080), TLS or not.
    listen_port: 8080,
    server_name: "argocd-server",
    dex: ARGOCD_DEX_SERVER,
    // manifests/install.yaml: ghcr.io/dexidp/dex:v2.45.1
    dex_version: (2, 45, 1),
    // argocd-server's --dex-server default; Dex serves TLS by default since Argo CD 2.5
    internal_dex: |_| "https://argocd-dex-server:5556".to_string(),
    dex_path: "api/dex",
    callback_path: "auth/callback",
    browser_runs_oidc: false,
    issuer: IssuerRule::Concat,
    dex_call: DexCall::Rewrite,
    proxies_dex: false,
    path_prefix: None,
    login_path: "auth/login",
    return_path: Some(ReturnPath::UnderBase("/applications")),
    redirect_uri: RedirectUri::FromBase,
    // util/dex/config.go: three more types than Devtron's
    // argo-cd util/dex/config.go: argo-cd, argo-cd-cli (and argo-cd-pkce in newer releases) first.
    own_clients: &["argo-cd", "argo-cd-cli", "argo-cd-pkce"],
    overwrites_redirect_uri: &[
        "oidc",
        "saml",
        "microsoft",
        "linkedin",
        "gitlab",
        "github",
        "bitbucket-cloud",
        "openshift",
        "gitea",
        "google",
        "oauth",
    ],
    // Argo CD ≥ 3.1 lower-cases it
    discovery_error: DiscoveryError::QueryProvider("failed to query provider"),
    head_label: Some("Argo CD ≥ 3.1"),
    url_setting: "url",
    url_where: "argocd-cm",
    example_url: "https://argocd.example.com",
    restart,
    candidates,
};

fn restart(i: &Install) -> String {
    i.rollout_restart(&[PROFILE.server.deployment, PROFILE.dex.deployment])
}

/// The usual port-forward, the in-cluster service, and an ingress host.
fn candidates(i: &Install, seen: &Seen) -> Vec<String> {
    let mut out = vec![
        "https://localhost:8080".to_string(),
        i.base_on("https", &i.server_fqdn()),
    ];
    if let Some(ing) = seen.first(HostKind::Public) {
        out.push(i.base_on(&ing.scheme, &ing.host));
    }
    out
}
