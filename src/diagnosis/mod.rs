//! Setup + plan → checks, a verdict and what-if columns. Renderers only draw what this decides.

pub mod catalog;
mod check;
mod clock;
mod config;
mod connector_legs;
mod direct;
mod har;
mod idp_rules;
mod observed;
mod paths;
pub mod repeat;
mod secret_refs;

/// Argo CD's own callback for `url` with `oidc.config`: `URL/auth/callback`.
pub use direct::callback_of as argo_callback;
mod what_if;

pub use catalog::{CheckId, Id, Vantage};
pub use check::Check;
pub use connector_legs::{BrowserPage, browser_pages, pod_probes};
pub use har::{add_har, from_har};

pub use observed::{
    apply_observations, conclude, drift, drift_not_checked, merge, note_pods_not_run,
};

use serde::Serialize;

use crate::app::{App, Install};
use crate::plan::endpoints::{self, Endpoints};
use crate::plan::gourl::GoUrl;
use crate::plan::predict::Status;
use crate::setup::{RefIn, Setup};

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
    /// The callback the upstream IdP must have registered, and where its console keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback: Option<Callback>,
    /// Argo CD's direct OIDC (`oidc.config`), when it is the mode in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc: Option<DirectSummary>,
    /// Every connector, with how it signs a user in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connectors: Vec<ConnectorInfo>,
    pub checks: Vec<Check>,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
    /// How the live probes ran; absent offline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<Live>,
    /// The kubeconfig context the live config and the pod probes came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// What the route behind URL was read from, and what could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<crate::route::Summary>,
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

/// The callback to register at the IdP (Dex's `issuer/callback`, as Dex sends it).
#[derive(Debug, Clone, Serialize)]
pub struct Callback {
    pub url: String,
    /// Where the IdP's console registers it, when the IdP is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub register_at: Option<String>,
}

/// Argo CD's own OIDC client, as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DirectSummary {
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// One connector as the report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectorInfo {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// `callback`, `saml`, `password`, `header`, `token_exchange` or `mock`.
    pub login: &'static str,
    /// issuer + `/callback`, where the connector has a callback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
}

fn connector_infos(setup: &Setup, eps: Option<&Endpoints>) -> Vec<ConnectorInfo> {
    use crate::knowledge::connectors::{self, Login};
    setup
        .connectors
        .iter()
        .map(|c| {
            let t = connectors::of(&c.kind);
            let login = match t.map(|t| t.login) {
                _ if connectors::token_exchange_only(c) => "token_exchange",
                Some(Login::Callback(_)) => "callback",
                Some(Login::SamlPost) => "saml",
                Some(Login::Password) => "password",
                Some(Login::Header) => "header",
                Some(Login::Mock) | None => "mock",
            };
            let callback = matches!(login, "callback" | "saml")
                .then(|| eps.map(|e| e.connector_callback.clone()))
                .flatten()
                .filter(|u| u.contains("://"));
            ConnectorInfo {
                id: c.id.clone(),
                kind: c.kind.clone(),
                login,
                callback,
            }
        })
        .collect()
}

/// The offline diagnosis: config checks, the path matrix, what-if columns and the verdict.
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
    let url_text = setup.url.clone().unwrap_or_default();
    let plan = paths::Plan {
        setup,
        opts,
        install: &install,
        base: setup.url.as_deref().and_then(|u| GoUrl::parse(u).ok()),
        eps: endpoints::derive(&install, &url_text, &internal)
            .ok()
            .map(|mut e| {
                // A client the input registers for the app (Kargo's `<api.host>`) is its login.
                if let Some(r) = setup.registrations.first() {
                    e.client_id = r.client.clone();
                }
                e
            }),
        origin: paths::browser_origin(setup, opts),
    };
    let direct = direct::active(setup);
    let mut checks = mode_checks(&plan, direct);
    checks.sort_by_key(|c| c.id.rank());
    skip_dependents(&mut checks);
    let callback = match direct {
        Some(d) => direct::callback(&plan, d),
        None => idp_rules::callback(setup, plan.eps.as_ref()),
    };
    let connectors = match direct {
        Some(_) => Vec::new(),
        None => connector_infos(setup, plan.eps.as_ref()),
    };
    let verdict = verdict(&checks);
    let candidates = match direct {
        Some(d) => what_if::issuer_candidates(&install, opts, d.issuer.as_deref().unwrap_or("")),
        None => what_if::candidates(setup, &install, opts, plan.origin.as_ref(), &internal),
    };
    let oidc = direct.map(|d| DirectSummary {
        issuer: d.issuer.clone().unwrap_or_default(),
        client_id: d.client_id.clone(),
    });
    let paths::Plan { eps, origin, .. } = plan;
    // Dex's endpoints mean nothing where Argo CD talks to the IdP itself.
    let eps = eps.filter(|_| direct.is_none());
    Diagnosis {
        app,
        install,
        source: setup.source.clone(),
        input: setup.input_kind.describe(),
        url: setup.url.clone(),
        url_source: setup.url_source.describe(),
        endpoints: eps,
        browser_origin: origin,
        callback,
        oidc,
        connectors,
        checks,
        verdict,
        candidates,
        live: None,
        cluster: None,
        route: None,
    }
}

/// Adds the route's rows (read live or from a dump) and lets them name the cause of what the app
/// pod saw; the verdict is drawn again.
pub fn add_route(d: &mut Diagnosis, rows: Vec<Check>, summary: crate::route::Summary) {
    observed::merge(d, rows);
    crate::route::join(&mut d.checks);
    d.route = Some(summary);
    d.verdict = verdict(&d.checks);
}

/// The checks of the mode Argo CD or Devtron logs in with: direct OIDC, SSO off (an
/// `oidc.config` Argo CD cannot read and no `dex.config`), or Dex.
fn mode_checks(plan: &paths::Plan, direct: Option<&crate::setup::DirectOidc>) -> Vec<Check> {
    let mut checks = mode_rows(plan, direct);
    checks.extend(app_settings(plan.setup));
    checks
}

/// What the app makes of its own settings (a connector it drops, SSO it leaves off), one row.
fn app_settings(setup: &Setup) -> Option<Check> {
    use crate::plan::predict::Outcome;
    let first = setup.app_notes.first()?;
    let fail = setup.app_notes.iter().any(|n| n.fail);
    let note = setup
        .app_notes
        .iter()
        .map(|n| n.text.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let outcome = Outcome {
        status: if fail { Status::Fail } else { Status::Warn },
        class: Some(crate::probe::class::Class::ConnectorField),
        go_error: first.error.clone(),
        note,
    };
    Some(Check::new(CheckId::AppSettings, outcome))
}

fn mode_rows(plan: &paths::Plan, direct: Option<&crate::setup::DirectOidc>) -> Vec<Check> {
    let setup = plan.setup;
    if setup.no_sso {
        return config::checks(setup, plan.install, plan.base.as_ref());
    }
    match (direct, &setup.direct) {
        (Some(d), _) => direct::checks(plan, d),
        (None, Some(crate::setup::Direct::Refused(e))) if setup.connectors.is_empty() => {
            let mut c = direct::url_checks(plan);
            c.push(direct::refused(e, false, plan.install));
            c
        }
        (None, refused) => {
            let mut c = dex_checks(plan);
            if let Some(crate::setup::Direct::Refused(e)) = refused {
                c.push(direct::refused(e, true, plan.install));
            }
            c
        }
    }
}

/// The Dex login's checks: the URL, the path matrix, every connector.
fn dex_checks(plan: &paths::Plan) -> Vec<Check> {
    let setup = plan.setup;
    let mut checks = config::checks(setup, plan.install, plan.base.as_ref());
    checks.push(paths::browser_app(plan));
    checks.extend(paths::app_pod(plan));
    checks.push(paths::return_url_row(plan));
    checks.push(paths::dex_auth(plan));
    checks.extend(config::connector_callbacks(setup, plan.eps.as_ref()));
    checks.extend(idp_rules::checks(setup));
    checks.extend(connector_legs::checks(setup));
    checks.extend(config::static_clients(setup, plan.install));
    checks.extend(config::connector_fields(setup));
    checks.extend(secret_refs::row(setup, RefIn::DexConfig, plan.install));
    checks
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
                "SSO login fails at {} ({}): {}{}",
                c.title,
                c.vantage.label(),
                c.error.clone().unwrap_or_else(|| c.message.clone()),
                c.cause
                    .as_ref()
                    .map(|x| format!(" — because {x}"))
                    .unwrap_or_default()
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
                summary.push_str(&format!(
                    "; {}",
                    crate::report::count(unknown, "path needs", "paths need")
                ));
                summary.push_str(" a live check");
            }
            if warns > 0 {
                summary.push_str(&format!(
                    "; {}",
                    crate::report::count(warns, "warning", "warnings")
                ));
            }
            Verdict {
                status: worst.min(Status::Warn),
                blocking_check: None,
                summary,
            }
        }
    }
}

#[cfg(test)]
mod tests;
