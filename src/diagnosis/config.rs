//! Config checks: the base URL's form, each connector's callback.

use super::{Check, CheckId};
use crate::app::Install;
use crate::knowledge::connectors;
use crate::plan::endpoints::Endpoints;
use crate::plan::gourl::GoUrl;
use crate::plan::predict::{HostKind, Outcome, Status, host_kind};
use crate::plan::redirect::INVALID_REDIRECT;
use crate::probe::class::Class;
use crate::setup::{Connector, Setup};

/// The config checks, in report order. A missing or unparsable URL stops the rest.
pub(super) fn checks(setup: &Setup, install: &Install, base: Option<&GoUrl>) -> Vec<Check> {
    let Some(url) = setup.url.as_deref() else {
        return vec![url_missing(setup, install)];
    };
    let Some(b) = base else {
        return vec![url_invalid(url)];
    };
    let mut out: Vec<Check> = url_absolute(url, b, install).into_iter().collect();
    if b.host.is_empty() {
        return out;
    }
    out.extend(url_path(url, b, install));
    out.extend(url_spelling(url, b));
    out
}

/// A `staticClients` entry of the app's own id replaces the app's client: the app writes its
/// clients first and Dex keeps the last client of an id (`storage/static.go`,
/// `WithStaticClients`), so the app's redirect URI and secret are gone.
pub(super) fn static_clients(setup: &Setup, install: &Install) -> Option<Check> {
    let own = install.profile().own_clients;
    let taken: Vec<(usize, &String)> = setup
        .static_clients
        .iter()
        .enumerate()
        .filter(|(_, id)| own.contains(&id.as_str()))
        .collect();
    let (i, id) = *taken.first()?;
    let app = install.profile().name;
    let outcome = Outcome {
        status: Status::Fail,
        class: Some(Class::ConnectorField),
        go_error: None,
        note: format!(
            "dex.config's staticClients[{i}] has the id {id:?}, which {app} writes for itself first; Dex keeps the last client of an id, so this entry replaces {app}'s (its secret and redirect URIs): the login fails at Dex's /auth (Unregistered redirect_uri) or at the token exchange (invalid_client)"
        ),
    };
    Some(
        Check::new(CheckId::ConfigStaticClients, outcome).remedy(Some(format!(
            "Remove the staticClients entry {id:?} from dex.config (or give it another id): {app} writes its own client {id:?} itself; then {}",
            install.restart()
        ))),
    )
}

/// Keys beside a connector's `type`, `id`, `name` and `config`: Dex's Connector.UnmarshalJSON
/// (cmd/dex/config.go) reads those four and Go's encoding/json drops the rest, so a setting
/// written there (`insecureNoSSL` beside `type`, dexidp/dex#1675) is not applied.
pub(super) fn connector_fields(setup: &Setup) -> Option<Check> {
    let stray: Vec<&Connector> = setup
        .connectors
        .iter()
        .filter(|c| !c.stray.is_empty())
        .collect();
    let first = stray.first()?;
    let each =
        |c: &&Connector| format!("connector {:?} ({}): {}", c.id, c.kind, c.stray.join(", "));
    let list = stray.iter().map(each).collect::<Vec<_>>().join("; ");
    let ldap_tls = stray.iter().any(|c| {
        c.kind == "ldap"
            && c.stray.iter().any(|k| {
                k.eq_ignore_ascii_case("insecureNoSSL") || k.eq_ignore_ascii_case("startTLS")
            })
    });
    let effect = if ldap_tls {
        "; so Dex speaks TLS to the LDAP host (its default), and a plain port such as 389 closes the connection (LDAP Result Code 200 \"Network Error\": EOF)"
    } else {
        ""
    };
    let outcome = Outcome {
        status: Status::Warn,
        class: Some(Class::ConnectorField),
        go_error: None,
        note: format!(
            "settings beside type, id and name, where Dex ignores them (it reads a connector's settings only under config): {list}{effect}"
        ),
    };
    Some(
        Check::new(CheckId::ConfigConnectorFields, outcome).remedy(Some(format!(
            "Move {} under its connector's config:, then restart Dex",
            first.stray.join(", ")
        ))),
    )
}

fn url_missing(setup: &Setup, install: &Install) -> Check {
    let p = install.profile();
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
    Check::new(
        CheckId::UrlMissing,
        Outcome::fail(Class::UnsupportedScheme, go, why),
    )
    .remedy(Some(rem))
}

fn url_invalid(url: &str) -> Check {
    let e = GoUrl::parse(url)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    Check::new(
        CheckId::UrlInvalid,
        Outcome::fail(
            Class::UnsupportedScheme,
            e,
            format!("URL {url:?} does not parse as a URL"),
        ),
    )
    .url(url)
}

/// A relative URL, or a scheme other than http(s).
fn url_absolute(url: &str, b: &GoUrl, install: &Install) -> Option<Check> {
    if b.scheme.is_empty() || b.host.is_empty() {
        let example = install.profile().example_url;
        return Some(
            Check::new(
                CheckId::UrlRelative,
                Outcome::fail(
                    Class::UnsupportedScheme,
                    "unsupported protocol scheme \"\"",
                    format!(
                        "URL {url:?} has no scheme and host; the app cannot fetch a relative URL"
                    ),
                ),
            )
            .url(url)
            .remedy(Some(format!(
                "Write URL as scheme://host[:port]/path, e.g. {example}"
            ))),
        );
    }
    (b.scheme != "http" && b.scheme != "https").then(|| {
        Check::new(
            CheckId::UrlScheme,
            Outcome::fail(
                Class::UnsupportedScheme,
                format!("unsupported protocol scheme {:?}", b.scheme),
                format!("URL scheme {:?} is not http or https", b.scheme),
            ),
        )
        .url(url)
        .remedy(Some("Use http:// or https://".into()))
    })
}

/// Where the app serves Dex only under its path prefix (Devtron's `/orchestrator`).
fn url_path(url: &str, b: &GoUrl, install: &Install) -> Option<Check> {
    let p = install.profile();
    let prefix = p.path_prefix?;
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
    Some(
        Check::new(CheckId::UrlPath, outcome)
            .title(format!("URL path is {prefix}"))
            .url(url)
            .remedy(rem),
    )
}

fn warn(note: String) -> Outcome {
    Outcome {
        status: Status::Warn,
        class: None,
        go_error: None,
        note,
    }
}

/// The spellings the return-URL rule compares byte for byte: a default port, upper case, a
/// trailing slash; and plain http for a public host.
fn url_spelling(url: &str, b: &GoUrl) -> Vec<Check> {
    let mut out = Vec::new();
    if let Some(port) = b.port()
        && ((b.scheme == "https" && port == "443") || (b.scheme == "http" && port == "80"))
    {
        out.push(Check::new(CheckId::UrlDefaultPort, Outcome::fail(
            Class::InvalidRedirect,
            INVALID_REDIRECT,
            format!("URL names the default port :{port}; a browser never shows it in its origin, and the return-URL rule compares host[:port] as raw strings"),
        )).url(url).values(b.hostname(), &b.host).remedy(Some(format!("Drop the port: {}://{}{}", b.scheme, b.hostname(), b.path))));
    }
    if b.hostname().chars().any(|c| c.is_ascii_uppercase()) {
        let lower = b.host.to_ascii_lowercase();
        out.push(Check::new(CheckId::UrlHostCase, Outcome::fail(
            Class::InvalidRedirect,
            INVALID_REDIRECT,
            format!("URL host {:?} has upper-case letters; browsers lower-case the origin and the return-URL rule compares bytes", b.host),
        )).url(url).values(&lower, &b.host).remedy(Some(format!("Write the host in lower case: {}://{}{}", b.scheme, lower, b.path))));
    }
    if b.path.len() > 1 && b.path.ends_with('/') {
        out.push(Check::new(CheckId::UrlTrailingSlash, warn(format!("URL ends in '/': the issuer is unaffected, but the return-URL rule does not clean the allowed path, so a return URL of exactly {} is refused", b.path.trim_end_matches('/'))))
            .url(url).remedy(Some(format!("Drop the trailing slash: {}", url.trim_end_matches('/')))));
    }
    if b.scheme == "http" && host_kind(b.hostname()) == HostKind::Public {
        out.push(Check::new(CheckId::UrlPlainHttp, warn(format!("URL uses plain http for {}: the session cookie is not Secure, and many IdPs refuse http callbacks other than localhost", b.hostname())))
            .url(url).remedy(Some(format!("Serve it over TLS and use https://{}{}", b.host, b.path))));
    }
    out
}

/// Each connector's callback: for a type that has one (the connector-type table), its
/// redirectURI against issuer + `/callback`, which Dex compares byte for byte. Types without a
/// callback (password, header and token-exchange connectors) get no row.
pub(super) fn connector_callbacks(setup: &Setup, eps: Option<&Endpoints>) -> Vec<Check> {
    let several = setup.several_connectors();
    setup
        .connectors
        .iter()
        .filter_map(|c| {
            let t = connectors::of(&c.kind).filter(|t| t.has_callback())?;
            if connectors::token_exchange_only(c) {
                return None;
            }
            Some(connector_callback(setup, c, t, eps).for_connector(&c.id, several))
        })
        .collect()
}

fn connector_callback(
    setup: &Setup,
    c: &Connector,
    t: &connectors::Type,
    eps: Option<&Endpoints>,
) -> Check {
    let Some(eps) = eps.filter(|e| e.connector_callback.contains("://")) else {
        return Check::new(
            CheckId::IdpCallback,
            Outcome::skip("no absolute issuer to derive the callback from"),
        );
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
        (Some(r), false) if super::connector_legs::placeholder(r) => Outcome::unknown(format!(
            "redirectURI {r:?} is a placeholder: it must be {expected}"
        )),
        (r, false) => callback_mismatch(setup, c, t, expected, r.unwrap_or("")),
    };
    let rem = Some(format!(
        "Set redirectURI to {expected} and register exactly that URL as a callback at the IdP"
    ));
    Check::new(CheckId::IdpCallback, outcome)
        .url(expected)
        .values(expected, configured.unwrap_or(""))
        .remedy(rem)
}

/// A redirectURI the app keeps as written and that is not issuer + `/callback`: the login fails,
/// in the words of the connector's own source where it compares (argument order included).
fn callback_mismatch(
    setup: &Setup,
    c: &Connector,
    t: &connectors::Type,
    expected: &str,
    configured: &str,
) -> Outcome {
    match t.login {
        connectors::Login::Callback(order) => Outcome::fail(
            Class::CallbackMismatch,
            connectors::callback_error(order, expected, configured),
            format!(
                "Dex compares the connector's redirectURI with issuer + /callback byte for byte ({}) and {} does not rewrite it for type {}: login ends in \"Login error.\"",
                t.source, setup.app, c.kind
            ),
        ),
        _ => {
            let mut o = Outcome::fail(
                Class::CallbackMismatch,
                String::new(),
                format!(
                    "the IdP posts its SAML response to redirectURI {configured:?}, but Dex receives it at {expected} and {} does not rewrite it for type {}",
                    setup.app, c.kind
                ),
            );
            o.go_error = None;
            o
        }
    }
}
