//! App profiles: everything that differs between the applications that embed Dex, as data.
//!
//! Each app is one file with one [`Profile`] value (`devtron.rs`, `argocd.rs`,
//! `argo_workflows.rs`, `concourse.rs`, `kargo.rs`); the rest of dexcheck reads the profile and
//! never asks which app it is. Another app is one new file here plus its entry in [`App::ALL`]
//! (`tests::third_app` shows one that is never registered); an app whose config is an input form
//! of its own also needs that form read in `setup/`.

pub mod argo_workflows;
pub mod argocd;
pub mod concourse;
pub mod devtron;
pub mod kargo;

use std::fmt;

use serde::{Serialize, Serializer};

use crate::knowledge::versions::Versions;
use crate::plan::gourl::{GoUrl, join};
use crate::plan::predict::{HostKind, host_kind};

/// How the issuer (and the app's own callback) is derived from the base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerRule {
    /// `u.Path = path.Join(u.Path, "api/dex")` on Go's parsed URL (Devtron).
    PathJoin,
    /// The plain string `URL + "/api/dex"` (Argo CD, Kargo, argo-server's callback).
    Concat,
    /// Go's `URL.ResolveReference` with an absolute path: the base URL's path is dropped
    /// (Concourse: `EXTERNAL_URL` → `/sky/issuer`).
    Root,
}

/// How the app words a failed discovery of its issuer (Dex's or an IdP's), from its pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryError {
    /// A log line `HEAD "ISSUER": Get "URL": error` (Devtron, Argo CD).
    QueryProvider(&'static str),
    /// The server returns the error and exits: cobra prints `Error: <error>` (argo-server).
    Exit,
    /// A log line with this head and the error; the server keeps running and fails each
    /// login (Kargo's API server).
    Logged(&'static str),
}

impl DiscoveryError {
    /// The head `explain` recognises a log line by, where the app prints one.
    pub fn head(self) -> Option<&'static str> {
        match self {
            DiscoveryError::QueryProvider(h) => Some(h),
            DiscoveryError::Exit | DiscoveryError::Logged(_) => None,
        }
    }
}

/// Where the `redirect_uri` the app sends comes from, where it has no return-URL rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectUri {
    /// The base URL's callback, which the app registers itself with its own Dex: a browser at
    /// another origin is sent to the base URL's host (Concourse, Kargo).
    FromBase,
    /// The configured redirect URL, else built from the request's scheme and `Host`; the
    /// provider must have it registered (argo-server).
    FromRequest,
}

/// How the app's server reaches Dex for discovery, token and keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DexCall {
    /// The app fetches its own public URL + `/api/dex` from inside its pod (Devtron).
    PublicUrl,
    /// The app rewrites every server → Dex call to the in-cluster Dex service (Argo CD).
    Rewrite,
}

/// The login page's return URL for a browser at an origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnPath {
    /// A fixed path after the origin (Devtron's dashboard: `/orchestrator/dashboard/`).
    Fixed(&'static str),
    /// The base URL's path plus a suffix (Argo CD: `/applications`).
    UnderBase(&'static str),
}

/// A workload in the app's namespace.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// The label selector of its pods.
    pub selector: &'static str,
    pub deployment: &'static str,
    pub service: &'static str,
    pub service_port: u16,
}

/// Argo CD's Dex (`argocd-dex-server`), which Devtron installs as well.
pub const ARGOCD_DEX_SERVER: Workload = Workload {
    selector: "app.kubernetes.io/name=argocd-dex-server",
    deployment: "argocd-dex-server",
    service: "argocd-dex-server",
    service_port: 5556,
};

/// Where the live SSO config is kept in the cluster.
#[derive(Debug, Clone, Copy)]
pub enum ConfigStore {
    /// A Secret with `url` and `dex.config` (Devtron's `devtron-secret`).
    Secret(&'static str),
    /// A ConfigMap (Argo CD's `argocd-cm`, Argo Workflows' `workflow-controller-configmap`,
    /// Kargo's `kargo-api`).
    ConfigMap(&'static str),
    /// A Deployment whose container environment holds the config (Concourse's web node).
    Deployment(&'static str),
}

impl ConfigStore {
    pub fn name(self) -> &'static str {
        match self {
            ConfigStore::Secret(n) | ConfigStore::ConfigMap(n) | ConfigStore::Deployment(n) => n,
        }
    }
    /// `secret`, `configmap` or `deployment`, as kubectl names the kind.
    pub fn kind(self) -> &'static str {
        match self {
            ConfigStore::Secret(_) => "secret",
            ConfigStore::ConfigMap(_) => "configmap",
            ConfigStore::Deployment(_) => "deployment",
        }
    }
}

/// The install of the provider an app usually signs in with, in its own namespace (Argo CD's Dex
/// for argo-server): its config is read beside the app's, best effort, for the checks that need
/// both sides (the app's redirect URI among the provider's clients).
#[derive(Debug, Clone, Copy)]
pub struct Provider {
    pub namespace: &'static str,
    pub config: ConfigStore,
}

/// A ConfigMap key pair naming the in-cluster Dex address (Devtron's `devtron-cm`).
#[derive(Debug, Clone, Copy)]
pub struct DexAddress {
    pub configmap: &'static str,
    pub host_key: &'static str,
    pub port_key: &'static str,
}

/// Everything dexcheck knows about one application that embeds Dex.
#[derive(Debug)]
pub struct Profile {
    /// The id on the command line and in JSON (`devtron`).
    pub id: &'static str,
    /// The name for people (`Devtron`).
    pub name: &'static str,
    pub default_namespace: &'static str,
    pub config: ConfigStore,
    /// Where the in-cluster Dex address is configured, if anywhere.
    pub dex_address: Option<DexAddress>,
    /// The provider's install whose config is read beside the app's, live.
    pub provider: Option<Provider>,
    /// The app's server (its pods are the app-pod vantage).
    pub server: Workload,
    /// The server container's own port, when a port-forward to it serves browser and pod alike.
    pub container_port: Option<u16>,
    /// The port the server container listens on (what a route's targetPort must reach).
    pub listen_port: u16,
    /// The server component's name in messages (`the orchestrator`).
    pub server_name: &'static str,
    pub dex: Workload,
    /// The Dex release the app ships (its image tag), for rules that depend on Dex's version.
    pub dex_version: (u16, u16, u16),
    /// The in-cluster Dex address (scheme and authority) for a namespace.
    pub internal_dex: fn(namespace: &str) -> String,
    pub issuer: IssuerRule,
    /// Where the app serves its Dex under the base URL, by `issuer` (`api/dex`).
    pub dex_path: &'static str,
    /// The app's own OIDC callback under the base URL, by `issuer` (`auth/callback`).
    pub callback_path: &'static str,
    /// The app's page runs the OIDC exchange itself (Kargo's UI): the IdP must allow its origin
    /// (CORS) for discovery and the token endpoint.
    pub browser_runs_oidc: bool,
    pub dex_call: DexCall,
    /// The app's server proxies the issuer path to Dex itself (a row of its own).
    pub proxies_dex: bool,
    /// The base URL's path must be exactly this for the app to serve Dex (Devtron's ingress).
    pub path_prefix: Option<&'static str>,
    /// The login the browser opens, under the base URL (`auth/login`): where a HAR's login
    /// starts.
    pub login_path: &'static str,
    /// The login's return-URL rule, where the app has one (Devtron, Argo CD).
    pub return_path: Option<ReturnPath>,
    /// Where the app's `redirect_uri` comes from, for apps without a return-URL rule.
    pub redirect_uri: RedirectUri,
    /// Connector types whose `redirectURI` the app overwrites with issuer + `/callback`.
    pub overwrites_redirect_uri: &'static [&'static str],
    /// The static clients the app puts first in Dex's `staticClients` (a `dex.config` entry
    /// with one of these ids replaces the app's: Dex keeps the last client of an id).
    pub own_clients: &'static [&'static str],
    /// How the app words a failed discovery (`Failed to query provider`).
    pub discovery_error: DiscoveryError,
    /// Who prints that head, when the head alone tells (`Argo CD ≥ 3.1`).
    pub head_label: Option<&'static str>,
    /// The name of the base URL setting in the app's words (`URL`, `url`).
    pub url_setting: &'static str,
    /// Where an operator sets it.
    pub url_where: &'static str,
    /// An example base URL for remedies.
    pub example_url: &'static str,
    /// Restarts after an SSO change, so every copy of the URL agrees.
    pub restart: fn(&Install) -> String,
    /// The what-if candidates beyond the configured URL.
    pub candidates: fn(&Install, &Seen) -> Vec<String>,
}

/// URLs seen in the input, for candidates.
#[derive(Debug, Default)]
pub struct Seen {
    pub urls: Vec<GoUrl>,
}

impl Seen {
    pub fn first(&self, kind: HostKind) -> Option<&GoUrl> {
        self.urls.iter().find(|u| host_kind(u.hostname()) == kind)
    }
}

/// Which application embeds Dex: a handle on its profile.
#[derive(Clone, Copy)]
pub struct App(&'static Profile);

impl App {
    pub const DEVTRON: App = App(&devtron::PROFILE);
    pub const ARGOCD: App = App(&argocd::PROFILE);
    pub const ARGO_WORKFLOWS: App = App(&argo_workflows::PROFILE);
    pub const CONCOURSE: App = App(&concourse::PROFILE);
    pub const KARGO: App = App(&kargo::PROFILE);
    /// Every registered app, in detection order.
    pub const ALL: &'static [App] = &[
        App::DEVTRON,
        App::ARGOCD,
        App::ARGO_WORKFLOWS,
        App::CONCOURSE,
        App::KARGO,
    ];

    /// The app whose login page `path` is, and its base path (`/orchestrator`, or empty).
    pub fn by_login_path(path: &str) -> Option<(App, &'static str)> {
        let path = path.trim_end_matches('/');
        App::ALL.iter().find_map(|a| {
            let p = a.profile();
            let base = p.path_prefix.unwrap_or("");
            (path == format!("{base}/{}", p.login_path)).then_some((*a, base))
        })
    }

    pub const fn new(profile: &'static Profile) -> App {
        App(profile)
    }
    pub fn profile(self) -> &'static Profile {
        self.0
    }
    pub fn id(self) -> &'static str {
        self.0.id
    }
    pub fn name(self) -> &'static str {
        self.0.name
    }
    pub fn overwrites_redirect_uri(self, connector_type: &str) -> bool {
        self.0.overwrites_redirect_uri.contains(&connector_type)
    }
    /// The app with this id.
    pub fn by_id(id: &str) -> Option<App> {
        App::ALL.iter().copied().find(|a| a.0.id == id)
    }
    /// The app a base URL's path points to (Devtron's `/orchestrator`), if any says so.
    pub fn by_path(path: &str) -> Option<App> {
        App::ALL.iter().copied().find(|a| {
            a.0.path_prefix
                .is_some_and(|p| path.trim_end_matches('/').ends_with(p) || path.contains(p))
        })
    }
}

impl PartialEq for App {
    fn eq(&self, other: &App) -> bool {
        self.0.id == other.0.id
    }
}
impl Eq for App {}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "App({})", self.0.id)
    }
}

impl fmt::Display for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.id)
    }
}

impl Serialize for App {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.id)
    }
}

impl clap::ValueEnum for App {
    fn value_variants<'a>() -> &'a [Self] {
        App::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.0.id).help(self.0.name))
    }
}

/// An install: an app in the namespace actually in use. Remedies and commands come from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    pub app: App,
    pub namespace: String,
    /// The releases in use, where known: rules that changed upstream read them.
    pub versions: Versions,
}

impl Install {
    /// `namespace` or the app's default.
    pub fn new(app: App, namespace: Option<&str>) -> Install {
        Install {
            app,
            namespace: namespace
                .filter(|n| !n.is_empty())
                .unwrap_or(app.0.default_namespace)
                .to_string(),
            versions: Versions::default(),
        }
    }
    /// The same install, with the releases known to be in use.
    pub fn with_versions(mut self, versions: &Versions) -> Install {
        self.versions = versions.clone();
        self
    }
    pub fn profile(&self) -> &'static Profile {
        self.app.0
    }
    /// `kubectl -n NS`.
    pub fn kubectl(&self) -> String {
        format!("kubectl -n {}", self.namespace)
    }
    pub fn internal_dex(&self) -> String {
        (self.app.0.internal_dex)(&self.namespace)
    }
    pub fn restart(&self) -> String {
        (self.app.0.restart)(self)
    }
    /// `kubectl -n NS rollout restart deployment A B`: the restart of apps whose workloads are
    /// Deployments.
    pub fn rollout_restart(&self, deployments: &[&str]) -> String {
        format!(
            "{} rollout restart deployment {}",
            self.kubectl(),
            deployments.join(" ")
        )
    }
    /// The server Service's in-cluster name, `svc.ns.svc.cluster.local`.
    pub fn server_fqdn(&self) -> String {
        format!(
            "{}.{}.svc.cluster.local",
            self.app.0.server.service, self.namespace
        )
    }
    /// The port-forward that serves local port `port`.
    pub fn port_forward(&self, port: u16) -> String {
        let s = &self.app.0.server;
        format!(
            "{} port-forward svc/{} {port}:{}",
            self.kubectl(),
            s.service,
            s.service_port
        )
    }
    /// The base URL with the app's path on `scheme://authority`.
    pub fn base_on(&self, scheme: &str, authority: &str) -> String {
        format!(
            "{scheme}://{authority}{}",
            self.app.0.path_prefix.unwrap_or("")
        )
    }
    /// The return URL the app's login page sends for a browser at `origin`, where the app has
    /// a return-URL rule.
    pub fn return_url_for(&self, origin: &str, base: Option<&GoUrl>) -> Option<String> {
        Some(match self.app.0.return_path? {
            ReturnPath::Fixed(p) => format!("{origin}{p}"),
            ReturnPath::UnderBase(suffix) => {
                let path = base.map(|b| b.path.trim_end_matches('/')).unwrap_or("");
                format!("{origin}{path}{suffix}")
            }
        })
    }
    /// Whether the base URL's path is where the app serves Dex.
    pub fn path_ok(&self, base: Option<&GoUrl>) -> bool {
        match self.app.0.path_prefix {
            None => true,
            Some(p) => base.is_some_and(|b| b.path.trim_end_matches('/') == p),
        }
    }
    /// The issuer for a base URL.
    pub fn issuer(&self, base: &str, parsed: &GoUrl) -> String {
        self.under_base(base, parsed, self.app.0.dex_path)
    }
    /// The app's own callback (`URL/auth/callback`), by the app's own rule.
    pub fn app_callback(&self, base: &str, parsed: &GoUrl) -> String {
        self.under_base(base, parsed, self.app.0.callback_path)
    }
    fn under_base(&self, base: &str, parsed: &GoUrl, rel: &str) -> String {
        let rel = rel.trim_start_matches('/');
        match self.app.0.issuer {
            IssuerRule::PathJoin => {
                let mut u = parsed.clone();
                u.path = join(&[&u.path, rel]);
                u.to_go_string()
            }
            IssuerRule::Concat => format!("{base}/{rel}"),
            IssuerRule::Root => {
                let mut u = parsed.clone();
                u.path = format!("/{rel}");
                u.raw_path.clear();
                u.raw_query.clear();
                u.force_query = false;
                u.fragment.clear();
                u.to_go_string()
            }
        }
    }
    /// The app's words for a failed discovery, from the pod: `Failed to query provider
    /// "ISSUER": Get "URL": err` (Devtron, Argo CD), `Error: Get "URL": err` (argo-server).
    /// HTTP status and go-oidc errors stand without the `Get` part.
    pub fn query_provider_error(&self, issuer: &str, get: &str, err: &str) -> String {
        if err.starts_with("oidc:") || err.starts_with(|c: char| c.is_ascii_digit()) {
            self.discovery_failed(issuer, err)
        } else {
            self.discovery_failed(issuer, &format!("Get {get:?}: {err}"))
        }
    }
    /// [`Install::query_provider_error`] for an error that already names its request.
    pub fn discovery_failed(&self, issuer: &str, err: &str) -> String {
        match self.app.0.discovery_error {
            DiscoveryError::QueryProvider(head) => format!("{head} {issuer:?}: {err}"),
            DiscoveryError::Exit => format!("Error: {err}"),
            DiscoveryError::Logged(head) => format!("{head}: {err}"),
        }
    }
    /// The what-if candidates beyond the configured URL.
    pub fn candidates(&self, seen: &Seen) -> Vec<String> {
        (self.app.0.candidates)(self, seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A third app, defined in one place and never registered: the whole diagnosis runs on it.
    static THIRD: Profile = Profile {
        id: "thirdapp",
        name: "Third App",
        default_namespace: "third",
        config: ConfigStore::ConfigMap("third-cm"),
        dex_address: None,
        provider: None,
        server: Workload {
            selector: "app=third",
            deployment: "third-server",
            service: "third-server",
            service_port: 9000,
        },
        container_port: None,
        server_name: "the third server",
        dex: Workload {
            selector: "app=third-dex",
            deployment: "third-dex",
            service: "third-dex",
            service_port: 5556,
        },
        dex_version: (2, 45, 1),
        internal_dex: |ns| format!("http://third-dex.{ns}:5556"),
        dex_path: "api/dex",
        callback_path: "auth/callback",
        browser_runs_oidc: false,
        issuer: IssuerRule::Concat,
        dex_call: DexCall::Rewrite,
        proxies_dex: false,
        path_prefix: Some("/third"),
        login_path: "auth/login",
        return_path: Some(ReturnPath::Fixed("/third/home")),
        redirect_uri: RedirectUri::FromBase,
        overwrites_redirect_uri: &["oidc"],
        own_clients: &["third"],
        listen_port: 8080,
        discovery_error: DiscoveryError::QueryProvider("third: failed to query provider"),
        head_label: None,
        url_setting: "baseURL",
        url_where: "third-cm",
        example_url: "https://third.example.com/third",
        restart: |i| format!("{} rollout restart deploy/third-server", i.kubectl()),
        candidates: |i, _| vec![format!("http://{}:9000/third", i.server_fqdn())],
    };

    #[test]
    fn third_app_is_one_value() {
        let app = App::new(&THIRD);
        let yaml = "# URL: http://localhost:8082/third\nid: x\nname: X\ntype: oidc\nconfig:\n  issuer: https://idp.invalid\n  clientID: c\n  clientSecret: s\n";
        let setup = crate::setup::load_str("third.yaml", yaml, None, Some(app)).unwrap();
        let opts = crate::diagnosis::Options {
            namespace: Some("third-prod".into()),
            auto_candidates: true,
            ..Default::default()
        };
        let d = crate::diagnosis::diagnose(&setup, &opts);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["app"], "thirdapp");
        assert_eq!(
            json["endpoints"]["issuer"],
            "http://localhost:8082/third/api/dex"
        );
        assert_eq!(
            json["endpoints"]["internal_discovery"],
            "http://third-dex.third-prod:5556/third/api/dex/.well-known/openid-configuration"
        );
        // The app rewrites server → Dex calls: the loopback URL does not break the pod row.
        let pod = d
            .checks
            .iter()
            .find(|c| c.id == crate::diagnosis::CheckId::PodDiscovery)
            .unwrap();
        assert_eq!(pod.status, crate::plan::predict::Status::Pass);
        // Its own candidate, in the namespace in use.
        assert!(
            d.candidates
                .iter()
                .any(|c| c.url == "http://third-server.third-prod.svc.cluster.local:9000/third")
        );
        assert!(!json.to_string().contains("devtroncd"));
    }

    #[test]
    fn install_names_its_namespace() {
        let i = Install::new(App::DEVTRON, Some("devtron-prod"));
        assert_eq!(
            i.port_forward(8080),
            "kubectl -n devtron-prod port-forward svc/devtron-service 8080:80"
        );
        assert!(i.restart().contains("-n devtron-prod"));
        assert_eq!(
            Install::new(App::ARGOCD, None).internal_dex(),
            "https://argocd-dex-server:5556"
        );
    }
}
