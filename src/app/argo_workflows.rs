//! Argo Workflows: argo-server is an OIDC relying party with no Dex of its own. Its
//! `workflow-controller-configmap` key `sso` names an issuer (often Argo CD's Dex at
//! `https://argocd…/api/dex`); argo-server discovers it at start-up from its pod
//! (`oidc.NewProvider`, server/auth/sso/sso.go) and exits with cobra's `Error: <error>` when it
//! cannot. Its callback is `redirectUrl`, else built from the request's scheme and `Host` plus
//! `oauth2/callback` (`getRedirectURL`). Facts with their lines: fixtures/apps/argo-workflows/FACTS.md.

use super::{
    ARGOCD_DEX_SERVER, ConfigStore, DexCall, DiscoveryError, Install, IssuerRule, Profile,
    Provider, RedirectUri, Seen, Workload,
};
use crate::plan::predict::HostKind;

pub static PROFILE: Profile = Profile {
    id: "argo-workflows",
    name: "Argo Workflows",
    // docs/quick-start.md: kubectl create namespace argo
    default_namespace: "argo",
    // workflow/common/common.go: ConfigMapName; the server's --configmap default
    config: ConfigStore::ConfigMap("workflow-controller-configmap"),
    dex_address: None,
    // Argo CD's argocd-cm, where the staticClients argo-server must be among live
    provider: Some(Provider {
        namespace: "argocd",
        config: ConfigStore::ConfigMap("argocd-cm"),
    }),
    // manifests/base/argo-server: Deployment and Service argo-server, label app=argo-server, 2746
    server: Workload {
        selector: "app=argo-server",
        deployment: "argo-server",
        service: "argo-server",
        service_port: 2746,
    },
    container_port: None,
    listen_port: 2746,
    server_name: "argo-server",
    // The Dex it most often uses is Argo CD's, in Argo CD's namespace.
    dex: ARGOCD_DEX_SERVER,
    dex_version: (2, 45, 1),
    internal_dex: |_| "https://argocd-dex-server.argocd:5556".to_string(),
    // getRedirectURL: fmt.Sprintf("%s://%s%soauth2/callback", proto, r.Host, s.baseHRef)
    issuer: IssuerRule::Concat,
    dex_path: "",
    callback_path: "oauth2/callback",
    browser_runs_oidc: false,
    // oidc.NewProvider(ctx, c.Issuer): the public issuer, from the pod, no rewrite
    dex_call: DexCall::PublicUrl,
    proxies_dex: false,
    path_prefix: None,
    // ui/src/login/login.tsx: uiUrlWithParams('oauth2/redirect', redirect)
    login_path: "oauth2/redirect",
    return_path: None,
    redirect_uri: RedirectUri::FromRequest,
    overwrites_redirect_uri: &[],
    own_clients: &[],
    discovery_error: DiscoveryError::Exit,
    head_label: None,
    url_setting: "redirectUrl",
    url_where: "workflow-controller-configmap sso; Helm server.sso.redirectUrl",
    example_url: "https://argo-workflows.example.com",
    restart,
    candidates,
};

fn restart(i: &Install) -> String {
    i.rollout_restart(&[PROFILE.server.deployment])
}

/// argo-server's usual port-forward (docs/quick-start.md), the in-cluster Service, an ingress
/// host.
fn candidates(i: &Install, seen: &Seen) -> Vec<String> {
    let mut out = vec![
        "https://localhost:2746".to_string(),
        i.base_on("https", &format!("{}:2746", i.server_fqdn())),
    ];
    if let Some(ing) = seen.first(HostKind::Public) {
        out.push(i.base_on(&ing.scheme, &ing.host));
    }
    out
}
