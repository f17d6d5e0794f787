//! The check catalog: every check dexcheck can report, with its id, title, vantage, place in the
//! report and in the login flow, the checks it depends on, and whether it is a matrix row.
//!
//! Adding a check: one [`CheckId`] variant, one [`Spec`] row in [`CATALOG`] (the row's position is
//! the check's place in the report), and the function that produces it.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// Where a check is seen from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Vantage {
    /// The configuration itself, no network.
    Config,
    /// The operator's machine: the browser.
    Workstation,
    /// The application's pod (Devtron orchestrator, argocd-server).
    AppPod,
    /// Dex's pod (`argocd-dex-server`).
    DexPod,
    /// The application's own logic (the return-URL rule).
    App,
    /// The upstream identity provider.
    Idp,
    /// The cluster's own objects: the route behind URL.
    Cluster,
    /// The user's browser, as its HAR recorded a login.
    Browser,
}

impl Vantage {
    /// The serialized name (`app_pod`).
    pub fn name(self) -> &'static str {
        match self {
            Vantage::Config => "config",
            Vantage::Workstation => "workstation",
            Vantage::AppPod => "app_pod",
            Vantage::DexPod => "dex_pod",
            Vantage::App => "app",
            Vantage::Idp => "idp",
            Vantage::Cluster => "cluster",
            Vantage::Browser => "browser",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Vantage::Config => "config",
            Vantage::Workstation => "workstation",
            Vantage::AppPod => "app pod",
            Vantage::DexPod => "Dex pod",
            Vantage::App => "app",
            Vantage::Idp => "upstream IdP",
            Vantage::Cluster => "cluster",
            Vantage::Browser => "browser's HAR",
        }
    }
}

/// Every check with a fixed id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckId {
    UrlMissing,
    UrlInvalid,
    UrlRelative,
    UrlScheme,
    UrlPath,
    ControlDiscovery,
    UrlDefaultPort,
    UrlHostCase,
    UrlTrailingSlash,
    UrlPlainHttp,
    IdpIssuer,
    IdpConnector,
    BrowserApp,
    BrowserDiscovery,
    BrowserKeys,
    BrowserToken,
    PodDiscovery,
    PodTokenKeys,
    PodInternalDex,
    BrowserReturnUrl,
    BrowserRedirectUri,
    BrowserIdpCors,
    BrowserDexAuth,
    IdpCallback,
    DexpodConnectorHost,
    DexpodConnectorFiles,
    BrowserConnectorHost,
    LdapBind,
    OidcConfig,
    AppSettings,
    OidcSecretRefs,
    ConfigSecretRefs,
    ConfigStaticClients,
    ConfigConnectorFields,
    RouteServes,
    RouteAllowList,
    RouteDns,
    RouteTls,
    RouteProxyProtocol,
    RouteHeaderBudget,
    PodIdpDiscovery,
    PodIdpTokenKeys,
    BrowserIdpDiscovery,
    DexpodIdpDiscovery,
    IdpAuthorize,
    DexpodIdpClientAuth,
    IdpClientAuth,
    DriftUrl,
    DriftConnector,
    DriftNotChecked,
    CompareAuthorizationEndpoint,
    CompareTokenEndpoint,
    CompareJwksUri,
    CompareUserinfoEndpoint,
    CompareAlgorithms,
    CompareGrantTypes,
    CompareResponseTypes,
    ComparePkceMethods,
    DiscoveryEndpoints,
    DiscoverySigningAlg,
    DiscoveryResponseType,
    IdpClaims,
    ClockSkew,
    DexReplicas,
    PodsConfig,
    PodsNotRun,
    HarTrace,
    HarLogin,
    HarProvider,
    HarUpstream,
    HarSignin,
    HarUpstreamCallback,
    HarCallback,
    HarState,
    HarCallbackHost,
    HarSession,
    HarCookies,
    HarLoop,
    HarSlow,
    HarClock,
    HarDisagrees,
}

/// One check's fixed facts.
#[derive(Debug)]
pub struct Spec {
    pub id: CheckId,
    /// The stable id in every output format.
    pub name: &'static str,
    pub title: &'static str,
    pub vantage: Vantage,
    /// Rank in the login flow: the first failing check by rank is what the user meets first.
    pub flow: Option<u8>,
    /// Checks whose failure makes this one moot (it is skipped, not failed).
    pub depends_on: &'static [CheckId],
    /// A row of the path matrix (as opposed to a finding about the config or a document).
    pub matrix: bool,
}

const fn spec(
    id: CheckId,
    name: &'static str,
    title: &'static str,
    vantage: Vantage,
    flow: Option<u8>,
    matrix: bool,
) -> Spec {
    Spec {
        id,
        name,
        title,
        vantage,
        flow,
        depends_on: &[],
        matrix,
    }
}

use CheckId as C;
use Vantage as V;

/// The catalog, in report order.
pub const CATALOG: &[Spec] = &[
    spec(
        C::UrlMissing,
        "url.missing",
        "base URL present",
        V::Config,
        None,
        false,
    ),
    spec(
        C::UrlInvalid,
        "url.invalid",
        "base URL parses",
        V::Config,
        None,
        false,
    ),
    spec(
        C::UrlRelative,
        "url.relative",
        "base URL is absolute",
        V::Config,
        None,
        false,
    ),
    spec(
        C::UrlScheme,
        "url.scheme",
        "base URL is http or https",
        V::Config,
        None,
        false,
    ),
    spec(
        C::UrlPath,
        "url.path",
        "URL path is where the app serves Dex",
        V::Config,
        None,
        false,
    ),
    spec(
        C::ControlDiscovery,
        "control.discovery",
        "control: reference provider on this machine",
        V::Workstation,
        None,
        true,
    ),
    spec(
        C::UrlDefaultPort,
        "url.default_port",
        "no explicit default port",
        V::Config,
        None,
        false,
    ),
    spec(
        C::UrlHostCase,
        "url.host_case",
        "host is lower-case",
        V::Config,
        None,
        false,
    ),
    spec(
        C::UrlTrailingSlash,
        "url.trailing_slash",
        "no trailing slash",
        V::Config,
        None,
        false,
    ),
    spec(
        C::UrlPlainHttp,
        "url.plain_http",
        "https for a non-loopback host",
        V::Config,
        None,
        false,
    ),
    spec(
        C::IdpIssuer,
        "idp.issuer",
        "issuer in its IdP's published form",
        V::Config,
        None,
        false,
    ),
    spec(
        C::IdpConnector,
        "idp.connector",
        "connector has what its type needs",
        V::Config,
        None,
        false,
    ),
    spec(
        C::OidcConfig,
        "oidc.config",
        "Argo CD reads oidc.config",
        V::Config,
        None,
        false,
    ),
    spec(
        C::AppSettings,
        "app.settings",
        "the app's own SSO settings",
        V::Config,
        None,
        false,
    ),
    spec(
        C::OidcSecretRefs,
        "oidc.secret_refs",
        "oidc.config's secret references resolved",
        V::Config,
        None,
        false,
    ),
    spec(
        C::ConfigStaticClients,
        "config.static_clients",
        "dex.config leaves the app's own client alone",
        V::Config,
        None,
        false,
    ),
    spec(
        C::ConfigConnectorFields,
        "config.connector_fields",
        "each connector's settings sit where Dex reads them",
        V::Config,
        None,
        false,
    ),
    spec(
        C::ConfigSecretRefs,
        "config.secret_refs",
        "dex.config's secret references resolved",
        V::Config,
        None,
        false,
    ),
    spec(
        C::BrowserApp,
        "browser.app",
        "browser → app",
        V::Workstation,
        Some(10),
        true,
    ),
    spec(
        C::BrowserDiscovery,
        "browser.discovery",
        "browser → Dex discovery",
        V::Workstation,
        Some(40),
        true,
    ),
    spec(
        C::BrowserKeys,
        "browser.keys",
        "browser → Dex keys",
        V::Workstation,
        Some(150),
        true,
    ),
    spec(
        C::BrowserToken,
        "browser.token",
        "browser → Dex token endpoint",
        V::Workstation,
        Some(140),
        true,
    ),
    spec(
        C::PodDiscovery,
        "pod.discovery",
        "app pod → Dex discovery",
        V::AppPod,
        Some(20),
        true,
    ),
    spec(
        C::PodIdpDiscovery,
        "pod.idp_discovery",
        "app pod → IdP discovery (direct OIDC)",
        V::AppPod,
        Some(25),
        true,
    ),
    Spec {
        depends_on: &[C::PodIdpDiscovery],
        ..spec(
            C::PodIdpTokenKeys,
            "pod.idp_token_keys",
            "app pod → IdP token and keys (direct OIDC)",
            V::AppPod,
            Some(135),
            true,
        )
    },
    Spec {
        depends_on: &[C::PodDiscovery],
        ..spec(
            C::PodTokenKeys,
            "pod.token_keys",
            "app pod → Dex token and keys",
            V::AppPod,
            Some(130),
            true,
        )
    },
    spec(
        C::PodInternalDex,
        "pod.internal_dex",
        "app pod → Dex service (proxy target)",
        V::AppPod,
        Some(30),
        true,
    ),
    spec(
        C::BrowserReturnUrl,
        "browser.return_url",
        "return-URL check",
        V::App,
        Some(50),
        true,
    ),
    spec(
        C::BrowserRedirectUri,
        "browser.redirect_uri",
        "redirect_uri for this browser",
        V::App,
        Some(53),
        true,
    ),
    spec(
        C::BrowserIdpCors,
        "browser.idp_cors",
        "browser page → IdP (CORS)",
        V::Workstation,
        Some(54),
        true,
    ),
    spec(
        C::BrowserDexAuth,
        "browser.dex_auth",
        "browser → Dex authorization endpoint",
        V::Workstation,
        Some(60),
        true,
    ),
    spec(
        C::IdpCallback,
        "idp.callback",
        "connector callback (IdP → Dex)",
        V::Idp,
        Some(70),
        true,
    ),
    spec(
        C::DexpodConnectorHost,
        "dexpod.connector_host",
        "Dex pod → connector's host",
        V::DexPod,
        Some(160),
        true,
    ),
    spec(
        C::DexpodConnectorFiles,
        "dexpod.connector_files",
        "Dex pod has the connector's files",
        V::DexPod,
        Some(170),
        true,
    ),
    spec(
        C::BrowserConnectorHost,
        "browser.connector_host",
        "browser → connector's sign-in page",
        V::Workstation,
        Some(180),
        true,
    ),
    spec(
        C::LdapBind,
        "ldap.bind",
        "LDAP server accepts the connector's bind",
        V::Workstation,
        Some(190),
        true,
    ),
    spec(
        C::BrowserIdpDiscovery,
        "browser.idp_discovery",
        "browser → upstream IdP discovery",
        V::Workstation,
        Some(90),
        true,
    ),
    spec(
        C::DexpodIdpDiscovery,
        "dexpod.idp_discovery",
        "Dex pod → upstream IdP discovery",
        V::DexPod,
        Some(80),
        true,
    ),
    Spec {
        depends_on: &[C::BrowserIdpDiscovery],
        ..spec(
            C::IdpAuthorize,
            "idp.authorize",
            "IdP accepts Dex's client and callback",
            V::Workstation,
            Some(100),
            true,
        )
    },
    Spec {
        depends_on: &[C::DexpodIdpDiscovery],
        ..spec(
            C::DexpodIdpClientAuth,
            "dexpod.idp_client_auth",
            "Dex pod → IdP token endpoint (client secret)",
            V::DexPod,
            Some(110),
            true,
        )
    },
    Spec {
        depends_on: &[C::BrowserIdpDiscovery],
        ..spec(
            C::IdpClientAuth,
            "idp.client_auth",
            "IdP accepts Dex's client secret",
            V::Workstation,
            Some(120),
            true,
        )
    },
    spec(
        C::DriftUrl,
        "drift.url",
        "file and cluster agree on URL",
        V::Config,
        None,
        false,
    ),
    spec(
        C::DriftConnector,
        "drift.connector",
        "file and cluster agree on the connector",
        V::Config,
        None,
        false,
    ),
    spec(
        C::DriftNotChecked,
        "drift.not_checked",
        "file and cluster agree",
        V::Config,
        None,
        false,
    ),
    spec(
        C::CompareAuthorizationEndpoint,
        "compare.authorization_endpoint",
        "discovery vs Dex: authorization endpoint path",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::CompareTokenEndpoint,
        "compare.token_endpoint",
        "discovery vs Dex: token endpoint path",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::CompareJwksUri,
        "compare.jwks_uri",
        "discovery vs Dex: keys path",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::CompareUserinfoEndpoint,
        "compare.userinfo_endpoint",
        "discovery vs Dex: userinfo path",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::CompareAlgorithms,
        "compare.algorithms",
        "discovery vs Dex: signing algorithms",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::CompareGrantTypes,
        "compare.grant_types",
        "discovery vs Dex: grant types",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::CompareResponseTypes,
        "compare.response_types",
        "discovery vs Dex: response types",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::ComparePkceMethods,
        "compare.pkce_methods",
        "discovery vs Dex: PKCE methods",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::DiscoveryEndpoints,
        "discovery.endpoints",
        "discovery: endpoints under the issuer",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::DiscoverySigningAlg,
        "discovery.signing_alg",
        "discovery: RS256 offered",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::DiscoveryResponseType,
        "discovery.response_type",
        "discovery: response type code",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::IdpClaims,
        "idp.claims",
        "IdP offers the claims Dex needs",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::ClockSkew,
        "clock.skew",
        "clocks agree within a token's leeway",
        V::Workstation,
        None,
        false,
    ),
    spec(
        C::DexReplicas,
        "dex.replicas",
        "Dex replicas share their state",
        V::DexPod,
        None,
        false,
    ),
    spec(
        C::PodsConfig,
        "pods.config",
        "app replicas run the same config",
        V::AppPod,
        None,
        false,
    ),
    spec(
        C::RouteServes,
        "route.serves",
        "the route behind URL reaches the app",
        V::Cluster,
        None,
        false,
    ),
    spec(
        C::RouteAllowList,
        "route.allow_list",
        "the route's allow-lists admit the app pod's nodes",
        V::Cluster,
        None,
        false,
    ),
    spec(
        C::RouteDns,
        "route.dns",
        "how pods resolve URL's host (CoreDNS)",
        V::Cluster,
        None,
        false,
    ),
    spec(
        C::RouteTls,
        "route.tls",
        "the edge certificate covers URL's host",
        V::Cluster,
        None,
        false,
    ),
    spec(
        C::RouteProxyProtocol,
        "route.proxy_protocol",
        "pods reach the load balancer without losing PROXY protocol",
        V::Cluster,
        None,
        false,
    ),
    spec(
        C::RouteHeaderBudget,
        "route.header_budget",
        "nginx's header buffer holds the login's token cookie",
        V::Cluster,
        None,
        false,
    ),
    spec(
        C::PodsNotRun,
        "pods.not_run",
        "probes from inside the pods",
        V::AppPod,
        None,
        false,
    ),
    spec(
        C::HarTrace,
        "har.trace",
        "the browser's HAR read",
        V::Browser,
        None,
        false,
    ),
    spec(
        C::HarLogin,
        "har.login",
        "browser → app login (HAR)",
        V::Browser,
        Some(52),
        true,
    ),
    spec(
        C::HarProvider,
        "har.provider",
        "browser → Dex authorize (HAR)",
        V::Browser,
        Some(62),
        true,
    ),
    spec(
        C::HarUpstream,
        "har.upstream",
        "browser → upstream IdP authorize (HAR)",
        V::Browser,
        Some(72),
        true,
    ),
    spec(
        C::HarSignin,
        "har.signin",
        "sign-in at the upstream IdP (HAR)",
        V::Browser,
        Some(74),
        true,
    ),
    spec(
        C::HarUpstreamCallback,
        "har.upstream_callback",
        "browser → Dex callback (HAR)",
        V::Browser,
        Some(200),
        true,
    ),
    spec(
        C::HarState,
        "har.state",
        "state returned unchanged (HAR)",
        V::Browser,
        Some(205),
        true,
    ),
    spec(
        C::HarCallbackHost,
        "har.callback_host",
        "callback on the login's host (HAR)",
        V::Browser,
        Some(206),
        true,
    ),
    spec(
        C::HarCallback,
        "har.callback",
        "browser → app callback (HAR)",
        V::Browser,
        Some(210),
        true,
    ),
    spec(
        C::HarCookies,
        "har.cookies",
        "cookies the browser keeps (HAR)",
        V::Browser,
        Some(214),
        true,
    ),
    spec(
        C::HarSession,
        "har.session",
        "session cookie set and sent back (HAR)",
        V::Browser,
        Some(216),
        true,
    ),
    spec(
        C::HarLoop,
        "har.loop",
        "the login ends (HAR)",
        V::Browser,
        Some(230),
        true,
    ),
    spec(
        C::HarSlow,
        "har.slow",
        "no slow hop (HAR)",
        V::Browser,
        None,
        false,
    ),
    spec(
        C::HarClock,
        "har.clock",
        "servers' clocks agree (HAR)",
        V::Browser,
        None,
        false,
    ),
    spec(
        C::HarDisagrees,
        "har.disagrees",
        "prediction and the browser's HAR agree",
        V::Browser,
        None,
        false,
    ),
];

impl CheckId {
    pub fn spec(self) -> &'static Spec {
        // The catalog is small; a linear scan is cheaper than any index over it.
        CATALOG.iter().find(|s| s.id == self).unwrap_or(&CATALOG[0])
    }
    pub fn name(self) -> &'static str {
        self.spec().name
    }
    /// The check's place in the report.
    pub fn rank(self) -> usize {
        CATALOG.iter().position(|s| s.id == self).unwrap_or(0)
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CheckId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CATALOG
            .iter()
            .find(|c| c.name == s)
            .map(|c| c.id)
            .ok_or_else(|| format!("unknown check {s:?}"))
    }
}

/// A check as reported: a catalog check, or the finding that its prediction did not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Id {
    Check(CheckId),
    /// `prediction.<id>`: the offline prediction and the live observation of a row disagree.
    Prediction(CheckId),
}

impl Id {
    pub fn check(self) -> CheckId {
        match self {
            Id::Check(c) | Id::Prediction(c) => c,
        }
    }
    /// The place in the report: catalog order, every prediction finding after the catalog.
    pub fn rank(self) -> usize {
        match self {
            Id::Check(c) => c.rank(),
            Id::Prediction(_) => CATALOG.len(),
        }
    }
}

impl PartialEq<CheckId> for Id {
    fn eq(&self, other: &CheckId) -> bool {
        *self == Id::Check(*other)
    }
}

impl From<CheckId> for Id {
    fn from(c: CheckId) -> Id {
        Id::Check(c)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Check(c) => f.write_str(c.name()),
            Id::Prediction(c) => write!(f, "prediction.{}", c.name()),
        }
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_is_in_the_catalog_once() {
        for (i, s) in CATALOG.iter().enumerate() {
            assert_eq!(s.id.rank(), i, "{} is listed twice", s.name);
            assert_eq!(s.name.parse::<CheckId>(), Ok(s.id));
        }
        let mut names: Vec<_> = CATALOG.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CATALOG.len());
    }

    #[test]
    fn flow_ranks_are_unique_and_only_on_matrix_rows() {
        let mut ranks: Vec<u8> = CATALOG.iter().filter_map(|s| s.flow).collect();
        ranks.sort();
        let n = ranks.len();
        ranks.dedup();
        assert_eq!(ranks.len(), n);
        assert!(CATALOG.iter().all(|s| s.flow.is_none() || s.matrix));
    }

    #[test]
    fn dependencies_come_first_in_the_flow() {
        for s in CATALOG {
            for d in s.depends_on {
                assert!(d.spec().flow < s.flow, "{} before {}", d.name(), s.name);
            }
        }
    }

    #[test]
    fn prediction_ids_name_their_row() {
        assert_eq!(
            Id::Prediction(CheckId::BrowserApp).to_string(),
            "prediction.browser.app"
        );
    }
}
