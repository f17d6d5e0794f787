//! Concourse: the web node runs Dex in-process at the root of `CONCOURSE_EXTERNAL_URL` +
//! `/sky/issuer` (`ResolveReference`: any path of the external URL is dropped) and sends its
//! own calls to it over loopback (`mitmRoundTripper`, atc/atccmd/command.go), so the pod side
//! holds; the browser's does not when it comes from another address than the external URL. It
//! registers its clients itself with `EXTERNAL_URL/sky/callback`, and every connector's
//! `redirectURI` as issuer + `/callback`. Facts with their lines: fixtures/apps/concourse/FACTS.md.

use super::{
    ConfigStore, DexCall, DiscoveryError, Install, IssuerRule, Profile, RedirectUri, Seen, Workload,
};
use crate::plan::predict::HostKind;

/// The Helm chart's web node for release `concourse`: Deployment, Service and label
/// `app: <release>-web`, port `atc` 8080 (concourse/concourse-chart).
const WEB: Workload = Workload {
    selector: "app=concourse-web",
    deployment: "concourse-web",
    service: "concourse-web",
    service_port: 8080,
};

pub static PROFILE: Profile = Profile {
    id: "concourse",
    name: "Concourse",
    default_namespace: "concourse",
    config: ConfigStore::Deployment("concourse-web"),
    dex_address: None,
    provider: None,
    server: WEB,
    // bind-port 8080: a port-forward to it on local 8080 matches the default external URL
    container_port: Some(8080),
    listen_port: 8080,
    server_name: "the web node",
    // Dex runs inside the web node.
    dex: WEB,
    // concourse/dex v1.14.0 (Concourse 8.2.5) follows upstream Dex 2.45
    dex_version: (2, 45, 0),
    // cmd.DefaultURL(): http://127.0.0.1:<bind-port>
    internal_dex: |_| "http://127.0.0.1:8080".to_string(),
    issuer: IssuerRule::Root,
    dex_path: "/sky/issuer",
    callback_path: "/sky/callback",
    browser_runs_oidc: false,
    dex_call: DexCall::Rewrite,
    proxies_dex: false,
    path_prefix: None,
    // skymarshal: the login page sends the browser to /sky/login
    login_path: "sky/login",
    return_path: None,
    redirect_uri: RedirectUri::FromBase,
    // skymarshal/dexserver: every connector is serialized with issuer + /callback
    overwrites_redirect_uri: &[
        "oidc",
        "saml",
        "microsoft",
        "gitlab",
        "github",
        "bitbucket-cloud",
        "gitea",
        "oauth",
        "cf",
        "cloudfoundry",
    ],
    // command.go: concourse-web (login), fly, concourse-worker (TSA)
    own_clients: &["concourse-web", "fly", "concourse-worker"],
    discovery_error: DiscoveryError::Logged(
        "error: server: Failed to open connector oidc: failed to open connector: failed to create connector oidc: failed to get provider",
    ),
    head_label: None,
    url_setting: "CONCOURSE_EXTERNAL_URL",
    url_where: "the web node's environment; Helm concourse.web.externalUrl",
    example_url: "https://ci.example.com",
    restart,
    candidates,
};

fn restart(i: &Install) -> String {
    i.rollout_restart(&[PROFILE.server.deployment])
}

/// The chart NOTES' port-forward (`8080:8080`, which matches the default external URL), an
/// ingress host.
fn candidates(i: &Install, seen: &Seen) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(pf) = seen.first(HostKind::Loopback) {
        out.push(i.base_on(
            "http",
            &format!("localhost:{}", pf.effective_port().unwrap_or(80)),
        ));
    }
    out.push("http://127.0.0.1:8080".to_string());
    if let Some(ing) = seen.first(HostKind::Public) {
        out.push(i.base_on(&ing.scheme, &ing.host));
    }
    out
}
