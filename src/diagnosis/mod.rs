//! Setup + plan → checks, a verdict and what-if columns. Renderers only draw what this decides.

pub mod catalog;
mod check;
mod observed;

pub use catalog::{CheckId, Id, Vantage};
pub use check::Check;

pub use observed::{
    apply_observations, conclude, drift, drift_not_checked, merge, note_pods_not_run,
};

use serde::Serialize;

use crate::app::{App, DexCall, Install, Seen};
use crate::plan::endpoints::{self, Endpoints};
use crate::plan::gourl::GoUrl;
use crate::plan::predict::{self, HostKind, Outcome, Status, host_kind};
use crate::plan::redirect::{self, INVALID_REDIRECT};
use crate::probe::class::Class;
use crate::setup::Setup;

/// Options that shape a diagnosis.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub browser_url: Option<String>,
    pub return_url: Option<String>,
    pub internal_dex: Option<String>,
    pub candidates: Vec<String>,
    pub auto_candidates: bool,
    /// The namespace in use (`-n`, or the cluster's); else the manifest's, else the app's default.
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BrowserOrigin {
    pub origin: String,
    pub source: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub status: Status,
    /// The check that blocks login first, in login-flow order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocking_check: Option<String>,
    pub summary: String,
}

/// One what-if column.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub url: String,
    pub browser: Cell,
    pub pod: Cell,
    pub return_url: Cell,
    pub result: Cell,
    pub recommended: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires: Option<String>,
}

/// A cell: status plus a short label.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub status: Status,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub app: App,
    /// The app in the namespace in use: what remedies name.
    #[serde(skip)]
    pub install: Install,
    pub source: String,
    pub input: &'static str,
    pub url: Option<String>,
    pub url_source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Endpoints>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_origin: Option<BrowserOrigin>,
    pub checks: Vec<Check>,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
    /// How the live probes ran; absent offline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<Live>,
}

impl Diagnosis {
    /// The worst status of any check.
    pub fn worst(&self) -> Status {
        self.checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(Status::Pass)
    }
}

/// The conditions of the live probes, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Live {
    pub timeout_ms: u64,
    pub elapsed_ms: u64,
    /// The proxy environment as the probes (and a Go app) read it, credentials removed.
    #[serde(skip_serializing_if = "crate::probe::proxy::ProxyEnv::is_empty")]
    pub proxy_env: crate::probe::proxy::ProxyEnv,
    /// `--resolve` pins in effect.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resolve: Vec<String>,
    /// What ran inside which pod (or why nothing did).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<String>,
}

fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    match u.origin() {
        o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// Accepts what the operator copies: the bare return URL, its percent-encoded form, or the whole
/// `/auth/login?return_url=…` address. Returns the value the server would see after decoding.
/// Only the login request's own address gives up its `return_url` parameter: a return URL that
/// carries one of its own is checked as given.
pub fn normalise_return_url(input: &str) -> (String, Option<&'static str>) {
    if let Ok(u) = url::Url::parse(input) {
        let login = u.path().trim_end_matches('/').ends_with("/auth/login");
        if let Some((_, v)) = u
            .query_pairs()
            .find(|(k, _)| k == "return_url")
            .filter(|_| login)
        {
            return (
                v.into_owned(),
                Some("taken from the return_url parameter of the address given"),
            );
        }
        return (input.to_string(), None);
    }
    if !input.contains("://") && input.contains('%') {
        let decoded: String = url::form_urlencoded::parse(format!("v={input}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if decoded != input {
            return (
                decoded,
                Some("percent-decoded once, as the server decodes the query"),
            );
        }
    }
    (input.to_string(), None)
}

pub fn diagnose(setup: &Setup, opts: &Options) -> Diagnosis {
    let app = setup.app;
    let install = Install::new(
        app,
        opts.namespace.as_deref().or(setup.namespace.as_deref()),
    );
    let internal = opts
        .internal_dex
        .clone()
        .unwrap_or_else(|| install.internal_dex());
    let mut checks: Vec<Check> = Vec::new();
    let url_text = setup.url.clone().unwrap_or_default();
    let base = setup.url.as_deref().and_then(|u| GoUrl::parse(u).ok());
    let eps = endpoints::derive(&install, &url_text, &internal).ok();

    static_checks(setup, &install, base.as_ref(), &mut checks);

    let connector = setup.connectors.first();
    let redirect_origin = connector
        .and_then(|c| c.config.redirect_uri.as_deref())
        .and_then(origin_of);
    let url_origin = setup.url.as_deref().and_then(origin_of);
    let browser_origin = if let Some(b) = &opts.browser_url {
        origin_of(b).map(|origin| BrowserOrigin {
            origin,
            source: "from --browser-url",
        })
    } else if redirect_origin.is_some() && redirect_origin != url_origin {
        redirect_origin.map(|origin| BrowserOrigin {
            origin,
            source: "from the connector's redirectURI, which names another origin than URL",
        })
    } else {
        url_origin.map(|origin| BrowserOrigin {
            origin,
            source: "the origin a browser shows for URL",
        })
    };

    // browser → app
    match browser_origin
        .as_ref()
        .and_then(|o| GoUrl::parse(&o.origin).ok())
    {
        Some(o) => {
            let outcome = predict::workstation(&o);
            let rem = crate::knowledge::remedy::workstation(&install, &outcome, &o);
            checks.push(
                Check::new(CheckId::BrowserApp, outcome)
                    .url(&o.to_go_string())
                    .remedy(rem),
            );
        }
        None => checks.push(Check::new(
            CheckId::BrowserApp,
            Outcome::skip("no browser origin: URL is missing and no --browser-url was given"),
        )),
    }

    // app pod → discovery, token and keys
    let discovery = eps
        .as_ref()
        .map(|e| e.discovery.clone())
        .unwrap_or_default();
    let mut pod = pod_to_dex(&install, eps.as_ref(), base.as_ref());
    let issuer = eps
        .as_ref()
        .map(|e| e.issuer.clone())
        .unwrap_or_else(|| "api/dex".into());
    let fetched = match app.profile().dex_call {
        DexCall::PublicUrl => discovery.clone(),
        DexCall::Rewrite => eps
            .as_ref()
            .map(|e| e.internal_discovery.clone())
            .unwrap_or_default(),
    };
    if let Some(e) = pod.go_error.take() {
        pod.go_error = Some(install.query_provider_error(&issuer, &fetched, &e));
    }
    let pod_rem = crate::knowledge::remedy::pod(&install, &pod, base.as_ref());
    let pod_check = Check::new(CheckId::PodDiscovery, pod.clone())
        .url(&fetched)
        .remedy(pod_rem.clone());
    checks.push(pod_check);
    let mut token_keys = pod.clone();
    token_keys.note = format!("same host as discovery: {}", token_keys.note);
    let tk_url = eps
        .as_ref()
        .map(|e| format!("{} , {}", e.token, e.keys))
        .unwrap_or_default();
    checks.push(
        Check::new(CheckId::PodTokenKeys, token_keys)
            .url(&tk_url)
            .remedy(pod_rem),
    );

    // return-URL rule
    let allowed: Vec<&str> = setup
        .url
        .iter()
        .map(String::as_str)
        .chain(setup.additional_urls.iter().map(String::as_str))
        .collect();
    let (return_url, return_note) = match (&opts.return_url, &browser_origin) {
        (Some(r), _) => {
            let (v, note) = normalise_return_url(r);
            (
                Some(v),
                note.map(str::to_string)
                    .or(Some("given with --return-url".into())),
            )
        }
        (None, Some(o)) => (
            Some(install.return_url_for(&o.origin, base.as_ref())),
            Some(format!(
                "what the login page sends for a browser at {}",
                o.origin
            )),
        ),
        (None, None) => (None, None),
    };
    match (&return_url, allowed.is_empty()) {
        (Some(r), false) => {
            let v = redirect::check(r, &allowed);
            let outcome = if v.valid {
                Outcome::pass(v.explanation.clone())
            } else {
                Outcome::fail(
                    Class::InvalidRedirect,
                    INVALID_REDIRECT,
                    v.explanation.clone(),
                )
            };
            let rem = (!v.valid)
                .then(|| crate::knowledge::remedy::redirect(&install, &v, browser_origin.as_ref()));
            let mut c = Check::new(CheckId::BrowserReturnUrl, outcome)
                .url(r)
                .values(&v.expected, &v.actual)
                .remedy(rem);
            c.rule = Some(v.rule.id());
            if let Some(n) = return_note {
                c.message = format!("{} (return URL {n})", c.message);
            }
            checks.push(c);
        }
        _ => checks.push(Check::new(
            CheckId::BrowserReturnUrl,
            Outcome::skip("no URL to compare the return URL with"),
        )),
    }

    // browser → Dex authorization endpoint
    match eps
        .as_ref()
        .and_then(|e| GoUrl::parse(&e.authorization).ok())
    {
        Some(auth) if !auth.host.is_empty() => {
            let mut outcome = predict::workstation(&auth);
            if outcome.status != Status::Fail && !install.path_ok(base.as_ref()) {
                outcome = Outcome::fail(
                    Class::NOT_FOUND,
                    "404 page not found",
                    format!(
                        "{} routes only {}/... to {}; Dex is not served at this path",
                        app.name(),
                        app.profile().path_prefix.unwrap_or(""),
                        app.profile().server_name
                    ),
                );
            }
            let rem = crate::knowledge::remedy::workstation(&install, &outcome, &auth);
            checks.push(
                Check::new(CheckId::BrowserDexAuth, outcome)
                    .url(&auth.to_go_string())
                    .remedy(rem),
            );
        }
        _ => checks.push(
            Check::new(
                CheckId::BrowserDexAuth,
                Outcome::fail(
                    Class::UnsupportedScheme,
                    "unsupported protocol scheme \"\"",
                    "no absolute authorization endpoint: URL is missing or relative",
                ),
            )
            .url(eps.as_ref().map(|e| e.authorization.as_str()).unwrap_or("")),
        ),
    }

    // connector callback
    connector_callback(setup, eps.as_ref(), &mut checks);

    skip_dependents(&mut checks);
    let verdict = verdict(&checks);
    let candidates = what_if(setup, &install, opts, browser_origin.as_ref(), &internal);
    Diagnosis {
        app,
        install,
        source: setup.source.clone(),
        input: setup.input_kind.describe(),
        url: setup.url.clone(),
        url_source: setup.url_source.describe(),
        endpoints: eps,
        browser_origin,
        checks,
        verdict,
        candidates,
        live: None,
    }
}

/// The app pod's step to Dex's discovery; for Devtron also the path rule: the orchestrator and
/// Dex serve Dex only under `/orchestrator/api/dex`.
fn pod_to_dex(install: &Install, eps: Option<&Endpoints>, base: Option<&GoUrl>) -> Outcome {
    let parse = |u: Option<&String>| u.and_then(|u| GoUrl::parse(u).ok()).unwrap_or_default();
    let discovery = parse(eps.map(|e| &e.discovery));
    let internal = parse(eps.map(|e| &e.internal_discovery));
    let p = install.profile();
    let pod = predict::app_to_dex(p, &discovery, &internal);
    if pod.status == Status::Pass && !install.path_ok(base) {
        let prefix = p.path_prefix.unwrap_or("");
        return Outcome::fail(
            Class::NOT_FOUND,
            "404 Not Found: 404 page not found",
            format!(
                "{} and Dex serve Dex only under {prefix}/api/dex; this URL's path puts the issuer elsewhere",
                p.server_name
            ),
        );
    }
    pod
}

fn static_checks(setup: &Setup, install: &Install, base: Option<&GoUrl>, checks: &mut Vec<Check>) {
    let p = install.profile();
    let Some(url) = setup.url.as_deref() else {
        let why = match setup.url_source {
            crate::setup::UrlSource::UrlKey => "the url key is present but empty",
            _ => "no URL: give --url, a url: key or a # URL: comment",
        };
        let go = install.query_provider_error(
            "api/dex",
            "api/dex/.well-known/openid-configuration",
            "unsupported protocol scheme \"\"",
        );
        let rem = format!(
            "Set {} in {} to the address users open (e.g. {}), then restart: {}",
            p.url_setting,
            p.url_where,
            p.example_url,
            install.restart()
        );
        checks.push(
            Check::new(
                CheckId::UrlMissing,
                Outcome::fail(Class::UnsupportedScheme, go, why),
            )
            .remedy(Some(rem)),
        );
        return;
    };
    let Some(b) = base else {
        let e = GoUrl::parse(url)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        checks.push(
            Check::new(
                CheckId::UrlInvalid,
                Outcome::fail(
                    Class::UnsupportedScheme,
                    e,
                    format!("URL {url:?} does not parse as a URL"),
                ),
            )
            .url(url),
        );
        return;
    };
    if b.scheme.is_empty() || b.host.is_empty() {
        checks.push(Check::new(CheckId::UrlRelative, Outcome::fail(
            Class::UnsupportedScheme,
            "unsupported protocol scheme \"\"",
            format!("URL {url:?} has no scheme and host; the app cannot fetch a relative URL"),
        )).url(url).remedy(Some("Write URL as scheme://host[:port]/path, e.g. https://devtron.example.com/orchestrator".into())));
    } else if b.scheme != "http" && b.scheme != "https" {
        checks.push(
            Check::new(
                CheckId::UrlScheme,
                Outcome::fail(
                    Class::UnsupportedScheme,
                    format!("unsupported protocol scheme {:?}", b.scheme),
                    format!("URL scheme {:?} is not http or https", b.scheme),
                ),
            )
            .url(url)
            .remedy(Some("Use http:// or https://".into())),
        );
    }
    if b.host.is_empty() {
        return;
    }
    if let Some(prefix) = p.path_prefix {
        let server = p.server_name;
        let outcome = if install.path_ok(Some(b)) {
            Outcome::pass(format!("the path is {prefix}, where {server} serves Dex"))
        } else {
            Outcome::fail(
                Class::NOT_FOUND,
                "404 Not Found: 404 page not found",
                format!(
                    "the path {:?} is not {prefix}: Dex's issuer would be {}, which neither the ingress nor {server} routes",
                    b.path,
                    crate::plan::gourl::join(&[&b.path, "api/dex"])
                ),
            )
        };
        let rem = Some(format!(
            "End URL in {prefix}: {}",
            install.base_on(&b.scheme, &b.host)
        ));
        checks.push(
            Check::new(CheckId::UrlPath, outcome)
                .title(format!("URL path is {prefix}"))
                .url(url)
                .remedy(rem),
        );
    }
    if let Some(port) = b.port()
        && ((b.scheme == "https" && port == "443") || (b.scheme == "http" && port == "80"))
    {
        checks.push(Check::new(CheckId::UrlDefaultPort, Outcome::fail(
                Class::InvalidRedirect,
                INVALID_REDIRECT,
                format!("URL names the default port :{port}; a browser never shows it in its origin, and the return-URL rule compares host[:port] as raw strings"),
            )).url(url).values(b.hostname(), &b.host).remedy(Some(format!("Drop the port: {}://{}{}", b.scheme, b.hostname(), b.path))));
    }
    if b.hostname().chars().any(|c| c.is_ascii_uppercase()) {
        let lower = b.host.to_ascii_lowercase();
        checks.push(Check::new(CheckId::UrlHostCase, Outcome::fail(
            Class::InvalidRedirect,
            INVALID_REDIRECT,
            format!("URL host {:?} has upper-case letters; browsers lower-case the origin and the return-URL rule compares bytes", b.host),
        )).url(url).values(&lower, &b.host).remedy(Some(format!("Write the host in lower case: {}://{}{}", b.scheme, lower, b.path))));
    }
    if b.path.len() > 1 && b.path.ends_with('/') {
        checks.push(Check::new(CheckId::UrlTrailingSlash, Outcome {
            status: Status::Warn,
            class: None,
            go_error: None,
            note: format!("URL ends in '/': the issuer is unaffected, but the return-URL rule does not clean the allowed path, so a return URL of exactly {} is refused", b.path.trim_end_matches('/')),
        }).url(url).remedy(Some(format!("Drop the trailing slash: {}", url.trim_end_matches('/')))));
    }
    if b.scheme == "http" && host_kind(b.hostname()) == HostKind::Public {
        checks.push(Check::new(CheckId::UrlPlainHttp, Outcome {
            status: Status::Warn,
            class: None,
            go_error: None,
            note: format!("URL uses plain http for {}: the session cookie is not Secure, and many IdPs refuse http callbacks other than localhost", b.hostname()),
        }).url(url).remedy(Some(format!("Serve it over TLS and use https://{}{}", b.host, b.path))));
    }
    for c in &setup.connectors {
        let Some(scopes) = &c.config.scopes else {
            continue;
        };
        if !scopes.iter().any(|s| s == "openid") {
            let (status, note) = if c.kind == "oidc" {
                (
                    Status::Warn,
                    format!(
                        "connector {:?} lists scopes without openid; Dex's oidc connector prepends it, but other tools reading this config will not",
                        c.id
                    ),
                )
            } else {
                (
                    Status::Warn,
                    format!(
                        "connector {:?} (type {}) lists scopes without openid",
                        c.id, c.kind
                    ),
                )
            };
            checks.push(
                Check::new(
                    CheckId::ConnectorScopes,
                    Outcome {
                        status,
                        class: None,
                        go_error: None,
                        note,
                    },
                )
                .values("openid", &scopes.join(" "))
                .remedy(Some("Add openid to scopes".into())),
            );
        }
    }
}

fn connector_callback(setup: &Setup, eps: Option<&Endpoints>, checks: &mut Vec<Check>) {
    let Some(c) = setup.connectors.first() else {
        return;
    };
    let Some(eps) = eps.filter(|e| e.connector_callback.contains("://")) else {
        checks.push(Check::new(
            CheckId::IdpCallback,
            Outcome::skip("no absolute issuer to derive the callback from"),
        ));
        return;
    };
    let expected = eps.connector_callback.as_str();
    let overwritten = setup.app.overwrites_redirect_uri(&c.kind);
    let configured = c.config.redirect_uri.as_deref();
    let outcome = match (configured, overwritten) {
        (Some(r), _) if r == expected => Outcome::pass(format!(
            "redirectURI equals issuer + /callback; register {expected} at the IdP"
        )),
        (None, true) => Outcome::pass(format!(
            "{} fills in redirectURI for type {}; register {expected} at the IdP",
            setup.app, c.kind
        )),
        (Some(r), true) => Outcome {
            status: Status::Warn,
            class: None,
            go_error: None,
            note: format!(
                "{} overwrites redirectURI for type {} with {expected} (the config says {r}); the IdP must have {expected} registered",
                setup.app, c.kind
            ),
        },
        (r, false) => Outcome::fail(
            Class::CallbackMismatch,
            format!(
                "expected callback URL {expected:?} did not match the URL in the config {:?}",
                r.unwrap_or("")
            ),
            format!(
                "Dex compares the connector's redirectURI with issuer + /callback byte for byte and {} does not rewrite it for type {}: login ends in \"Login error.\"",
                setup.app, c.kind
            ),
        ),
    };
    let rem = Some(format!(
        "Set redirectURI to {expected} and register exactly that URL as a callback at the IdP"
    ));
    checks.push(
        Check::new(CheckId::IdpCallback, outcome)
            .url(expected)
            .values(expected, configured.unwrap_or(""))
            .remedy(rem),
    );
}

/// A predicted check whose dependency (catalog `depends_on`) fails is skipped, not failed.
fn skip_dependents(checks: &mut [Check]) {
    for i in 0..checks.len() {
        let Id::Check(id) = checks[i].id else {
            continue;
        };
        let failed = id.spec().depends_on.iter().find(|d| {
            checks
                .iter()
                .any(|c| c.id == **d && c.status == Status::Fail)
        });
        if let Some(dep) = failed {
            let c = &mut checks[i];
            c.status = Status::Skip;
            c.class = None;
            c.error = None;
            c.remedy = None;
            c.message = format!("depends on {}, which fails", dep.spec().title);
        }
    }
}

/// The verdict, computed once per diagnosis: the first failing check in login-flow order (else in
/// report order) blocks the login.
fn verdict(checks: &[Check]) -> Verdict {
    let failing = || checks.iter().filter(|c| c.status == Status::Fail);
    let blocking = failing()
        .filter_map(|c| match c.id {
            Id::Check(id) => id.spec().flow.map(|rank| (rank, c)),
            Id::Prediction(_) => None,
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, c)| c)
        .or_else(|| failing().next());
    let worst = checks
        .iter()
        .map(|c| c.status)
        .max()
        .unwrap_or(Status::Pass);
    match blocking {
        Some(c) => Verdict {
            status: Status::Fail,
            blocking_check: Some(c.id.to_string()),
            summary: format!(
                "SSO login fails at {} ({}): {}",
                c.title,
                c.vantage.label(),
                c.error.clone().unwrap_or_else(|| c.message.clone())
            ),
        },
        None => {
            let unknown = checks
                .iter()
                .filter(|c| c.status == Status::Unknown)
                .count();
            let warns = checks.iter().filter(|c| c.status == Status::Warn).count();
            let mut summary = "no failure predicted".to_string();
            if unknown > 0 {
                summary.push_str(&format!("; {unknown} path(s) need a live check"));
            }
            if warns > 0 {
                summary.push_str(&format!("; {warns} warning(s)"));
            }
            Verdict {
                status: worst.min(Status::Warn),
                blocking_check: None,
                summary,
            }
        }
    }
}

fn cell(status: Status, label: impl Into<String>) -> Cell {
    Cell {
        status,
        label: label.into(),
    }
}

fn short(o: &Outcome) -> String {
    match o.status {
        Status::Pass => "ok".into(),
        Status::Unknown => "needs live check".into(),
        Status::Skip => "skipped".into(),
        _ => match o.class {
            Some(c) => c.label(),
            None => o.note.clone(),
        },
    }
}

fn what_if(
    setup: &Setup,
    install: &Install,
    opts: &Options,
    origin: Option<&BrowserOrigin>,
    internal: &str,
) -> Vec<Candidate> {
    let mut urls: Vec<String> = Vec::new();
    let push = |u: String, urls: &mut Vec<String>| {
        if !urls.contains(&u) {
            urls.push(u);
        }
    };
    if opts.auto_candidates {
        for u in auto_candidates(setup, install, origin) {
            push(u, &mut urls);
        }
    }
    for u in &opts.candidates {
        push(u.clone(), &mut urls);
    }
    let mut out: Vec<Candidate> = urls
        .iter()
        .map(|u| candidate(install, opts, origin, internal, u))
        .collect();
    // Recommend the first candidate that works outright, else the first that may work.
    let pick = out
        .iter()
        .position(|c| c.result.status == Status::Pass)
        .or_else(|| out.iter().position(|c| c.result.status == Status::Unknown));
    if let Some(i) = pick {
        out[i].recommended = true;
    }
    out
}

fn auto_candidates(
    setup: &Setup,
    install: &Install,
    origin: Option<&BrowserOrigin>,
) -> Vec<String> {
    let seen = Seen {
        urls: [
            setup.url.clone(),
            origin.map(|o| o.origin.clone()),
            setup
                .connectors
                .first()
                .and_then(|c| c.config.redirect_uri.clone()),
        ]
        .into_iter()
        .flatten()
        .filter_map(|u| GoUrl::parse(&u).ok())
        .filter(|u| !u.host.is_empty())
        .collect(),
    };
    setup
        .url
        .iter()
        .cloned()
        .chain(install.candidates(&seen))
        .collect()
}

fn candidate(
    install: &Install,
    opts: &Options,
    origin: Option<&BrowserOrigin>,
    internal: &str,
    url: &str,
) -> Candidate {
    let parsed = GoUrl::parse(url).unwrap_or_default();
    let browser = predict::workstation(&parsed);
    let eps = endpoints::derive(install, url, internal).ok();
    let pod = pod_to_dex(install, eps.as_ref(), Some(&parsed));
    // The browser opens the candidate itself when it can reach it, else it stays where it is.
    let browser_origin = match (&opts.browser_url, browser.status) {
        (Some(b), _) => origin_of(b),
        (None, Status::Fail) => origin.map(|o| o.origin.clone()).or_else(|| origin_of(url)),
        (None, _) => origin_of(url),
    };
    let ret = match browser_origin {
        Some(o) => {
            let v = redirect::check(&install.return_url_for(&o, Some(&parsed)), &[url]);
            if v.valid {
                cell(Status::Pass, format!("ok ({o})"))
            } else {
                cell(
                    Status::Fail,
                    format!(
                        "{} {} ≠ {}",
                        v.rule.id().replace('_', " "),
                        v.actual,
                        v.expected
                    ),
                )
            }
        }
        None => cell(Status::Skip, "no browser origin"),
    };
    let first_fail = if pod.status == Status::Fail {
        Some(short(&pod))
    } else if ret.status == Status::Fail {
        Some("Invalid redirect URL".into())
    } else if browser.status == Status::Fail {
        Some(format!("browser: {}", short(&browser)))
    } else {
        None
    };
    let result = match first_fail {
        Some(f) => cell(Status::Fail, f),
        None if browser.status == Status::Unknown || pod.status == Status::Unknown => {
            cell(Status::Unknown, "may work: needs live check")
        }
        None => cell(Status::Pass, "works"),
    };
    let requires = (host_kind(parsed.hostname()) == HostKind::Loopback
        && result.status != Status::Fail)
        .then(|| {
            let port = install.profile().server.service_port;
            install.port_forward(parsed.effective_port().unwrap_or(port))
        });
    Candidate {
        url: url.to_string(),
        browser: cell(browser.status, short(&browser)),
        pod: cell(pod.status, short(&pod)),
        return_url: ret,
        result,
        recommended: false,
        requires,
    }
}

#[cfg(test)]
mod tests;
