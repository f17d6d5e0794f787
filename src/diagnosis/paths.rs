//! The path matrix predicted from the config: browser → app, app pod → Dex, the return-URL rule,
//! browser → Dex's authorization endpoint.

use super::{BrowserOrigin, Check, CheckId, Options, normalise_return_url, origin_of};
use crate::app::{DexCall, Install, RedirectUri};
use crate::knowledge::remedy;
use crate::plan::endpoints::Endpoints;
use crate::plan::gourl::GoUrl;
use crate::plan::predict::{self, Outcome, Status};
use crate::plan::redirect::{self, INVALID_REDIRECT};
use crate::probe::class::Class;
use crate::setup::{Registration, Setup};

/// What every row is predicted from.
pub(super) struct Plan<'a> {
    pub setup: &'a Setup,
    pub opts: &'a Options,
    pub install: &'a Install,
    pub base: Option<GoUrl>,
    pub eps: Option<Endpoints>,
    pub origin: Option<BrowserOrigin>,
}

/// The browser's origin, as a fact: `--browser-url`, else the origin of `--return-url` (what
/// the login page sent), else URL's own. A connector's `redirectURI` never decides it: the app
/// overwrites that field for most types, and where it does not, Dex refuses any value but
/// issuer + `/callback` (`idp.callback`), so its origin tells nothing about where the browser is.
pub(super) fn browser_origin(setup: &Setup, opts: &Options) -> Option<BrowserOrigin> {
    let given_return = opts
        .return_url
        .as_deref()
        .map(|r| normalise_return_url(r).0)
        .and_then(|r| origin_of(&r));
    let (origin, source) = if let Some(b) = &opts.browser_url {
        (origin_of(b), "from --browser-url")
    } else if given_return.is_some() {
        (given_return, "from the origin of --return-url")
    } else {
        (
            setup.url.as_deref().and_then(origin_of),
            "URL's own origin; give --browser-url if the browser uses another address",
        )
    };
    origin.map(|origin| BrowserOrigin { origin, source })
}

pub(super) fn browser_app(p: &Plan) -> Check {
    let Some(o) = p.origin.as_ref().and_then(|o| GoUrl::parse(&o.origin).ok()) else {
        return Check::new(
            CheckId::BrowserApp,
            Outcome::skip("no browser origin: URL is missing and no --browser-url was given"),
        );
    };
    let outcome = predict::workstation(&o);
    let rem = remedy::workstation(p.install, &outcome, &o);
    Check::new(CheckId::BrowserApp, outcome)
        .url(&o.to_go_string())
        .remedy(rem)
}

/// Discovery, and token and keys on the same host, as the app's server fetches them.
pub(super) fn app_pod(p: &Plan) -> [Check; 2] {
    let eps = p.eps.as_ref();
    let mut pod = pod_to_dex(p.install, eps, p.base.as_ref());
    let issuer = eps
        .map(|e| e.issuer.clone())
        .unwrap_or_else(|| "api/dex".into());
    let fetched = match p.install.profile().dex_call {
        DexCall::PublicUrl => eps.map(|e| e.discovery.clone()),
        DexCall::Rewrite => eps.map(|e| e.internal_discovery.clone()),
    }
    .unwrap_or_default();
    if let Some(e) = pod.go_error.take() {
        pod.go_error = Some(p.install.query_provider_error(&issuer, &fetched, &e));
    }
    let rem = remedy::pod(p.install, &pod, p.base.as_ref());
    let mut token_keys = pod.clone();
    token_keys.note = format!("same host as discovery: {}", token_keys.note);
    let tk_url = eps
        .map(|e| format!("{} , {}", e.token, e.keys))
        .unwrap_or_default();
    [
        Check::new(CheckId::PodDiscovery, pod)
            .url(&fetched)
            .remedy(rem.clone()),
        Check::new(CheckId::PodTokenKeys, token_keys)
            .url(&tk_url)
            .remedy(rem),
    ]
}

/// The app pod's step to Dex's discovery; where the app serves Dex only under its path prefix
/// (Devtron's `/orchestrator/api/dex`), also that rule.
pub(super) fn pod_to_dex(
    install: &Install,
    eps: Option<&Endpoints>,
    base: Option<&GoUrl>,
) -> Outcome {
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

/// The return URL to check (given, or what the login page sends) and where it came from.
fn return_url(p: &Plan) -> Option<(String, String)> {
    match (&p.opts.return_url, &p.origin) {
        (Some(r), _) => {
            let (v, note) = normalise_return_url(r);
            Some((v, note.unwrap_or("given with --return-url").to_string()))
        }
        (None, Some(o)) => Some((
            p.install.return_url_for(&o.origin, p.base.as_ref())?,
            format!("what the login page sends for a browser at {}", o.origin),
        )),
        (None, None) => None,
    }
}

/// The app's return-URL rule on the login's `return_url`, naming the sub-rule that decided; for
/// an app without one, the `redirect_uri` it sends for this browser.
pub(super) fn return_url_row(p: &Plan) -> Check {
    if p.install.profile().return_path.is_none() {
        return redirect_uri_row(p);
    }
    let allowed: Vec<&str> = p
        .setup
        .url
        .iter()
        .chain(p.setup.additional_urls.iter())
        .map(String::as_str)
        .collect();
    let Some((r, note)) = return_url(p).filter(|_| !allowed.is_empty()) else {
        return Check::new(
            CheckId::BrowserReturnUrl,
            Outcome::skip("no URL to compare the return URL with"),
        );
    };
    let v = redirect::check(&r, &allowed);
    let outcome = if v.valid {
        Outcome::pass(v.explanation.clone())
    } else {
        Outcome::fail(
            Class::InvalidRedirect,
            INVALID_REDIRECT,
            v.explanation.clone(),
        )
    };
    let rem = (!v.valid).then(|| remedy::redirect(p.install, &v, p.origin.as_ref()));
    let mut c = Check::new(CheckId::BrowserReturnUrl, outcome)
        .url(&r)
        .values(&v.expected, &v.actual)
        .remedy(rem);
    c.rule = Some(v.rule.id());
    c.message = format!("{} (return URL {note})", c.message);
    c
}

/// The browser at Dex's authorization endpoint; the app's path rule applies there too.
pub(super) fn dex_auth(p: &Plan) -> Check {
    let auth = p
        .eps
        .as_ref()
        .and_then(|e| GoUrl::parse(&e.authorization).ok())
        .filter(|a| !a.host.is_empty());
    let Some(auth) = auth else {
        let url = p
            .eps
            .as_ref()
            .map(|e| e.authorization.as_str())
            .unwrap_or("");
        return Check::new(
            CheckId::BrowserDexAuth,
            Outcome::fail(
                Class::UnsupportedScheme,
                "unsupported protocol scheme \"\"",
                "no absolute authorization endpoint: URL is missing or relative",
            ),
        )
        .url(url);
    };
    let mut outcome = predict::workstation(&auth);
    if outcome.status != Status::Fail && !p.install.path_ok(p.base.as_ref()) {
        let profile = p.install.profile();
        outcome = Outcome::fail(
            Class::NOT_FOUND,
            "404 page not found",
            format!(
                "{} routes only {}/... to {}; Dex is not served at this path",
                profile.name,
                profile.path_prefix.unwrap_or(""),
                profile.server_name
            ),
        );
    }
    let rem = remedy::workstation(p.install, &outcome, &auth);
    Check::new(CheckId::BrowserDexAuth, outcome)
        .url(&auth.to_go_string())
        .remedy(rem)
}

/// The `redirect_uri` an app without a return-URL rule sends for a browser at `origin`, and what
/// its provider makes of it: registered clients from `regs` (none known: unknown).
pub(super) fn redirect_for(
    install: &Install,
    origin: &str,
    base: &str,
    configured: Option<&str>,
    regs: &[Registration],
) -> (String, Outcome) {
    let p = install.profile();
    let base_origin = origin_of(base).unwrap_or_default();
    match p.redirect_uri {
        RedirectUri::FromBase => {
            let uri = install.app_callback(base, &GoUrl::parse(base).unwrap_or_default());
            if origin == base_origin {
                return (
                    uri.clone(),
                    Outcome::pass(format!(
                        "{} sends the browser to {base_origin} and back to {uri}, which it registers with its Dex itself",
                        p.name
                    )),
                );
            }
            let here = install.app_callback(origin, &GoUrl::parse(origin).unwrap_or_default());
            let outcome = Outcome::fail(
                Class::UnregisteredRedirectUri,
                unregistered(p.dex_version, &here),
                format!(
                    "{} sends the browser to its {} {base_origin}, not to {origin} where the browser is: that address is another server, or none; taken by hand to {origin}, the login ends at Dex's refusal, as only {uri} is registered",
                    p.name, p.url_setting
                ),
            );
            (uri, outcome)
        }
        RedirectUri::FromRequest => from_request(install, origin, base, configured, regs),
    }
}

/// argo-server's `redirectUrl` (else the request's scheme and Host), Kargo's
/// `origin + basePath + /login`: the browser must come back to where it started, and the
/// provider must list the URI.
fn from_request(
    install: &Install,
    origin: &str,
    base: &str,
    configured: Option<&str>,
    regs: &[Registration],
) -> (String, Outcome) {
    let p = install.profile();
    let path = GoUrl::parse(base).map(|b| b.path).unwrap_or_default();
    let here = format!("{origin}{}", path.trim_end_matches('/'));
    let uri = configured
        .map(str::to_string)
        .unwrap_or_else(|| install.app_callback(&here, &GoUrl::parse(&here).unwrap_or_default()));
    let back = origin_of(&uri).unwrap_or_default();
    if back != origin {
        return (
            uri.clone(),
            Outcome::fail(
                Class::State,
                "failed to get cookie",
                format!(
                    "{} sends redirect_uri {uri}: the provider returns the browser to {back}, and the state cookie {} set at {origin} is not sent there; the callback answers 400",
                    p.name, p.server_name
                ),
            ),
        );
    }
    let from = regs.first().map(|r| r.from.as_str()).unwrap_or("");
    let outcome = match regs.iter().find(|r| r.accepts(&uri)) {
        Some(r) => Outcome::pass(format!(
            "{uri} is registered for client {:?} ({from})",
            r.client
        )),
        None if regs.is_empty() => Outcome::unknown(format!(
            "{} sends redirect_uri {uri}: the provider must list it for {}'s client (the provider's clients are not in this input)",
            p.name, p.name
        )),
        None => {
            let listed: Vec<String> = regs
                .iter()
                .map(|r| format!("{} [{}]", r.client, r.redirect_uris.join(", ")))
                .collect();
            Outcome::fail(
                Class::UnregisteredRedirectUri,
                unregistered(p.dex_version, &uri),
                format!(
                    "{} sends redirect_uri {uri}, which no client lists in {from}: {}",
                    p.name,
                    listed.join("; ")
                ),
            )
        }
    };
    (uri, outcome)
}

/// Dex's refusal of a redirect URI in the words of the release the app ships.
fn unregistered(dex: (u16, u16, u16), uri: &str) -> String {
    crate::knowledge::dex_pages::refusal_words(dex, "Unregistered redirect_uri", uri)
}

/// The row of [`redirect_for`] for the browser's origin.
fn redirect_uri_row(p: &Plan) -> Check {
    // A callback built from the request needs no URL of the app's own: the browser's is it.
    let from_request = p.install.profile().redirect_uri == RedirectUri::FromRequest;
    let base = p.setup.url.as_deref().or_else(|| {
        p.origin
            .as_ref()
            .map(|o| o.origin.as_str())
            .filter(|_| from_request)
    });
    let (Some(origin), Some(base)) = (p.origin.as_ref(), base) else {
        let why = match p.install.profile().redirect_uri {
            RedirectUri::FromRequest => {
                "the redirect_uri is built from the browser's address: give --browser-url (or the app's redirect URL) to check it"
            }
            RedirectUri::FromBase => "no URL to build the redirect_uri from",
        };
        return Check::new(CheckId::BrowserRedirectUri, Outcome::unknown(why));
    };
    let configured = super::direct::active(p.setup).and_then(|d| d.redirect_url.as_deref());
    let (uri, outcome) = redirect_for(
        p.install,
        &origin.origin,
        base,
        configured,
        &p.setup.registrations,
    );
    let rem = (outcome.status == Status::Fail)
        .then(|| remedy::redirect_uri(p.install, &origin.origin, &uri, base));
    Check::new(CheckId::BrowserRedirectUri, outcome)
        .url(&uri)
        .remedy(rem)
}
