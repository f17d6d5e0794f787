//! Argo CD's direct OIDC (`oidc.config`): no Dex; the browser goes to the IdP's authorization
//! endpoint, the `argocd-server` pod fetches the IdP's discovery, keys and token endpoint
//! itself, and the callback is `URL/auth/callback`. The seed's problem moves to the IdP: an
//! issuer that only the cluster resolves breaks the browser, one on the workstation's
//! loopback breaks the pod; the issuer string must be the same from both sides.

use super::paths::{self, Plan};
use super::{Callback, Check, CheckId, config, idp_rules};
use crate::knowledge::idp;
use crate::plan::gourl::{GoUrl, join};
use crate::plan::predict::{self, Outcome, Status};
use crate::probe::class::Class;
use crate::setup::{Direct, DirectOidc, RefIn};

/// The checks of a config whose `oidc.config` Argo CD reads.
pub(super) fn checks(p: &Plan, d: &DirectOidc) -> Vec<Check> {
    let mut out = url_checks(p);
    out.push(mode(p, d));
    out.extend(super::secret_refs::row(
        p.setup,
        RefIn::OidcConfig,
        p.install,
    ));
    out.push(paths::browser_app(p));
    out.push(paths::return_url_row(p));
    let issuer = d.issuer.as_deref().unwrap_or("");
    out.extend(idp_rules::issuer_form(issuer, "oidc"));
    out.extend(reach(p, issuer));
    out.extend(page_cors(p, issuer));
    out.extend(client(d, p.install));
    out
}

/// An app whose page runs OIDC itself (Kargo's UI) reads the IdP's answers from the browser:
/// the IdP must allow the page's origin. Only a live check sees its headers.
fn page_cors(p: &Plan, issuer: &str) -> Option<Check> {
    let profile = p.install.profile();
    if !profile.browser_runs_oidc || issuer.is_empty() {
        return None;
    }
    let origin = p
        .origin
        .as_ref()
        .map(|o| o.origin.as_str())
        .unwrap_or("the app's origin");
    Some(
        Check::new(
            CheckId::BrowserIdpCors,
            Outcome::unknown(format!(
                "{}'s page fetches the IdP's discovery and token endpoint itself: the IdP must allow {origin} (Access-Control-Allow-Origin); needs a live check",
                profile.name
            )),
        )
        .url(issuer)
        .remedy(Some(format!(
            "Allow {origin} as a web origin of the client at the IdP (Keycloak: the client's Web origins; Okta: Security → API → Trusted Origins, CORS; Entra ID: a Single-page application redirect URI)"
        ))),
    )
}

/// The URL's checks, unless the app has no URL of its own: a relying party whose redirect URI
/// comes from the request (argo-server without `redirectUrl`) needs none.
pub(super) fn url_checks(p: &Plan) -> Vec<Check> {
    let from_request = p.install.profile().redirect_uri == crate::app::RedirectUri::FromRequest;
    if p.setup.url.is_none() && from_request {
        return Vec::new();
    }
    config::checks(p.setup, p.install, p.base.as_ref())
}

/// Argo CD's `oidc.config` (not another app's relying-party settings): its rows keep Argo CD's
/// words and its callbacks (`URL/auth/callback` and each `additionalUrls` one).
fn argo_oidc_config(p: &Plan) -> bool {
    p.setup.input_kind == crate::setup::InputKind::ArgocdCm
}

/// The app's name for its direct OIDC config in a row's title.
fn reads(install: &crate::app::Install) -> String {
    let p = install.profile();
    format!("{} reads its OIDC settings", p.server_name)
}

/// `oidc.config` that Argo CD cannot read: with a `dex.config` it logs in through Dex; without,
/// its SSO is off. An app that exits on a config it cannot read (argo-server) is down.
pub(super) fn refused(error: &str, dex_used: bool, install: &crate::app::Install) -> Check {
    let p = install.profile();
    if p.discovery_error == crate::app::DiscoveryError::Exit {
        let outcome = Outcome::fail(
            Class::ConnectorField,
            format!("Error: {error}"),
            format!(
                "{} exits at start-up with this error (the pod restarts in CrashLoopBackOff): SSO, the UI and the API are down",
                p.server_name
            ),
        );
        return Check::new(CheckId::OidcConfig, outcome)
            .title(reads(install))
            .remedy(Some(format!(
                "Fix the OIDC settings in {} {} (an issuer, the client's id and secret, and only the keys {} knows), then {}",
                p.config.kind(),
                p.config.name(),
                p.server_name,
                install.restart()
            )));
    }
    let logged = format!("invalid oidc config: {error}");
    let outcome = if dex_used {
        Outcome {
            status: Status::Warn,
            class: Some(Class::ConnectorField),
            go_error: Some(logged),
            note: "Argo CD cannot read oidc.config and logs in through dex.config instead".into(),
        }
    } else {
        Outcome::fail(
            Class::ConnectorField,
            logged,
            "Argo CD cannot read oidc.config and has no dex.config: SSO is off (no \"Log in via\" button)",
        )
    };
    Check::new(CheckId::OidcConfig, outcome).remedy(Some(
        "Write oidc.config as YAML Argo CD reads: a string where a string is meant (quote values such as {client_id}), true or false for a flag, no // comments".into(),
    ))
}

fn mode(p: &Plan, d: &DirectOidc) -> Check {
    let profile = p.install.profile();
    if !argo_oidc_config(p) {
        let alias = d
            .issuer_alias
            .as_deref()
            .map(|a| format!("; issuerAlias {a}: the discovery's issuer is not compared, and tokens must carry {a}"))
            .unwrap_or_default();
        let keys = if d.secret_keys.is_empty() {
            String::new()
        } else {
            format!("; {}", d.secret_keys.join(", "))
        };
        return Check::new(
            CheckId::OidcConfig,
            Outcome::pass(format!(
                "{} signs in with OIDC straight to {}{alias}{keys}",
                profile.server_name,
                d.issuer.as_deref().unwrap_or("(no issuer)")
            )),
        )
        .title(reads(p.install));
    }
    let mut ignored = if p.setup.connectors.is_empty() {
        String::new()
    } else {
        "; dex.config is not used while oidc.config is set".into()
    };
    // The CLI's SSO login (`argocd login --sso`) listens on localhost:8085 (`--sso-port`) and
    // uses cliClientID when set, else clientID.
    if let Some(cli) = d.cli_client_id.as_deref().filter(|c| !c.is_empty()) {
        ignored.push_str(&format!(
            "; the CLI (argocd login --sso) signs in as client {cli} with the callback http://localhost:8085/auth/callback, which that client must allow"
        ));
    }
    Check::new(
        CheckId::OidcConfig,
        Outcome::pass(format!(
            "Argo CD signs in with oidc.config{}: OIDC straight to {}{ignored}",
            d.name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            d.issuer.as_deref().unwrap_or("(no issuer)")
        )),
    )
}

/// The IdP's discovery from the argocd-server pod, and the browser's way to the IdP.
fn reach(p: &Plan, issuer: &str) -> Vec<Check> {
    if super::connector_legs::placeholder(issuer) {
        let note = format!("the issuer {issuer:?} is a placeholder: fill it in to check it");
        return vec![
            Check::new(CheckId::PodIdpDiscovery, Outcome::unknown(note.clone())).url(issuer),
            Check::new(CheckId::BrowserIdpDiscovery, Outcome::unknown(note)).url(issuer),
        ];
    }
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let parsed = GoUrl::parse(&discovery).unwrap_or_default();
    let mut pod = predict::app_pod(p.install.profile(), &parsed);
    if let Some(e) = pod.go_error.take() {
        pod.go_error = Some(p.install.query_provider_error(issuer, &discovery, &e));
    }
    let pod_row = Check::new(CheckId::PodIdpDiscovery, pod)
        .url(&discovery)
        .remedy(Some(format!(
            "Give {} an issuer that the {} pod reaches and the browser reaches under the same name (an ingress host both resolve), or run the IdP so that it names one issuer for both sides (Keycloak: hostname with hostname-backchannel-dynamic); then {}",
            if argo_oidc_config(p) { "oidc.config" } else { "the OIDC settings" },
            p.install.profile().server_name,
            p.install.restart()
        )));
    let browser = GoUrl::parse(issuer)
        .ok()
        .filter(|u| !u.host.is_empty())
        .map(|u| predict::workstation(&u))
        .unwrap_or_else(|| {
            Outcome::fail(
                Class::UnsupportedScheme,
                "unsupported protocol scheme \"\"",
                "oidc.config has no absolute issuer",
            )
        });
    let browser_row = Check::new(CheckId::BrowserIdpDiscovery, browser)
        .url(issuer)
        .remedy(Some(
            "The browser is sent to the IdP's authorization endpoint under the issuer's host: use an issuer name the users' browsers resolve and reach".into(),
        ));
    vec![pod_row, browser_row]
}

/// The client Argo CD is to the IdP: an id, and a secret or PKCE.
fn client(d: &DirectOidc, install: &crate::app::Install) -> Option<Check> {
    if !d.secret_keys.is_empty() {
        return None; // read from Secrets at start-up: argo-server refuses to start without them
    }
    let mut problems = Vec::new();
    if d.client_id.as_deref().is_none_or(|c| c.trim().is_empty()) {
        problems.push((
            Status::Fail,
            "clientID is missing: the IdP cannot know Argo CD's client",
        ));
    }
    if d.client_secret.as_ref().is_none_or(|s| s.is_empty()) && !d.pkce {
        problems.push((
            Status::Warn,
            "no clientSecret and no enablePKCEAuthentication: the IdP must accept Argo CD as a public client without PKCE",
        ));
    }
    let worst = problems.iter().map(|p| p.0).max()?;
    let note = problems.iter().map(|p| p.1).collect::<Vec<_>>().join("; ");
    let outcome = Outcome {
        status: worst,
        class: Some(Class::ConnectorField),
        go_error: None,
        note,
    };
    Some(
        Check::new(CheckId::IdpConnector, outcome)
            .title(format!("{}'s OIDC client", install.profile().name)),
    )
}

/// `url` with `/auth/callback` appended as Argo CD appends it (`appendURLPath`: the URL's path
/// and the endpoint joined with Go's `path.Join`).
pub fn callback_of(url: &str) -> String {
    match GoUrl::parse(url) {
        Ok(mut u) if !u.host.is_empty() => {
            u.path = join(&[&u.path, "/auth/callback"]);
            u.to_go_string()
        }
        _ => format!("{}/auth/callback", url.trim_end_matches('/')),
    }
}

/// The callback to register at the IdP: `URL/auth/callback` (and each `additionalUrls` one).
pub(super) fn callback(p: &Plan, d: &DirectOidc) -> Option<Callback> {
    if !argo_oidc_config(p) {
        let base = p.setup.url.as_deref();
        let url = d.redirect_url.clone().or_else(|| {
            base.map(|b| {
                p.install
                    .app_callback(b, &GoUrl::parse(b).unwrap_or_default())
            })
        })?;
        return Some(Callback {
            url,
            register_at: idp::register_at(d.issuer.as_deref().unwrap_or(""), "oidc"),
        });
    }
    let base = p.setup.url.as_deref()?;
    let all: Vec<String> = std::iter::once(base)
        .chain(p.setup.additional_urls.iter().map(String::as_str))
        .map(callback_of)
        .collect();
    Some(Callback {
        url: all.join(", "),
        register_at: idp::register_at(d.issuer.as_deref().unwrap_or(""), "oidc"),
    })
}

/// Which mode the setup is in: direct OIDC with its config, or not.
pub(super) fn active(setup: &crate::setup::Setup) -> Option<&DirectOidc> {
    match &setup.direct {
        Some(Direct::Active(d)) => Some(d),
        _ => None,
    }
}
