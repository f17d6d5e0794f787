//! Kargo: the API server proxies its Dex at `<baseURL>/dex` and calls it in-cluster
//! (`DEX_SERVER_ADDRESS` + the issuer's path); with an external IdP (`api.oidc.issuerURL`) the
//! API server fetches the public issuer's discovery and keys from its pod, logs a failure and
//! fails every login (since #3456 it no longer exits), and the UI runs the OIDC exchange in the
//! browser. The chart registers the web client `<api.host>` with `<baseURL>/login`. Facts with
//! their lines: fixtures/apps/kargo/FACTS.md.

use super::{
    ConfigStore, DexCall, DiscoveryError, Install, IssuerRule, Profile, RedirectUri, Seen, Workload,
};
use crate::plan::predict::HostKind;

pub static PROFILE: Profile = Profile {
    id: "kargo",
    name: "Kargo",
    default_namespace: "kargo",
    // charts/kargo templates/api/configmap.yaml: the API server's environment
    config: ConfigStore::ConfigMap("kargo-api"),
    dex_address: None,
    provider: None,
    server: Workload {
        selector: "app.kubernetes.io/component=api",
        deployment: "kargo-api",
        service: "kargo-api",
        service_port: 443,
    },
    container_port: None,
    listen_port: 8080,
    server_name: "the Kargo API server",
    dex: Workload {
        selector: "app.kubernetes.io/component=dex-server",
        deployment: "kargo-dex-server",
        service: "kargo-dex-server",
        service_port: 443,
    },
    // charts/kargo values.yaml api.oidc.dex.image: ghcr.io/dexidp/dex:v2.44.0
    dex_version: (2, 44, 0),
    // DEX_SERVER_ADDRESS: https://kargo-dex-server.<ns>.svc
    internal_dex: |ns| format!("https://kargo-dex-server.{ns}.svc"),
    // OIDC_ISSUER_URL: {{ include "kargo.api.baseURL" . }}/dex
    issuer: IssuerRule::Concat,
    dex_path: "dex",
    callback_path: "login",
    // oidc-login.tsx: oauth4webapi fetch from the page
    browser_runs_oidc: true,
    // getKeySet: DexProxyConfig.ServerAddr + issuerURL.Path
    dex_call: DexCall::Rewrite,
    proxies_dex: false,
    path_prefix: None,
    login_path: "login",
    return_path: None,
    // oidc-login.tsx: window.location.origin + basePath + /login
    redirect_uri: RedirectUri::FromRequest,
    // The chart writes Dex's config as given: no redirectURI is overwritten.
    overwrites_redirect_uri: &[],
    own_clients: &[],
    discovery_error: DiscoveryError::Logged(
        "error making discovery request to OpenID Connect identity provider",
    ),
    head_label: None,
    url_setting: "api.host",
    url_where: "Helm values api.host, api.basePath, api.tls",
    example_url: "https://kargo.example.com",
    restart,
    candidates,
};

fn restart(i: &Install) -> String {
    i.rollout_restart(&[PROFILE.server.deployment, PROFILE.dex.deployment])
}

/// A port-forward to the API Service, an ingress host.
fn candidates(i: &Install, seen: &Seen) -> Vec<String> {
    let mut out = vec!["https://localhost:8443".to_string()];
    if let Some(ing) = seen.first(HostKind::Public) {
        out.push(i.base_on(&ing.scheme, &ing.host));
    }
    out
}
