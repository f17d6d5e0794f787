//! An app whose page runs OIDC itself (Kargo's UI: oauth4webapi's `fetch`) reads the IdP's
//! discovery document and token answers from the browser, so the IdP must allow the app's
//! origin (`Access-Control-Allow-Origin`). Both requests are sent as the page sends them, with
//! its `Origin`; the token request carries a made-up code and no secret.

use super::http::{Follow, Request, Settings, fetch};
use crate::diagnosis::{Check, CheckId};
use crate::plan::predict::Outcome;
use crate::probe::class::Class;

/// Whether an answer's `Access-Control-Allow-Origin` lets a page at `origin` read it.
fn allows(allow: Option<&str>, origin: &str) -> bool {
    allow.is_some_and(|a| a.trim() == "*" || a.trim().trim_end_matches('/') == origin)
}

/// The browser's view of the IdP's discovery and token endpoint from a page at `origin`.
pub async fn check(s: &Settings, issuer: &str, client_id: &str, origin: &str) -> Check {
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let mut get = Request::get(&discovery);
    get.origin = Some(origin.to_string());
    let d = fetch(s, &get).await;
    let token = d
        .result
        .as_ref()
        .ok()
        .and_then(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
        .and_then(|v| v["token_endpoint"].as_str().map(str::to_string));
    let t = match token {
        Some(url) => Some(fetch(s, &token_request(&url, client_id, origin)).await),
        None => None,
    };
    let blocked = |f: &super::http::Fetched| {
        f.result
            .as_ref()
            .is_ok_and(|r| !allows(r.allow_origin.as_deref(), origin))
    };
    let words = |url: &str| {
        format!(
            "Access to fetch at '{url}' from origin '{origin}' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource."
        )
    };
    let answered = d
        .result
        .as_ref()
        .is_ok_and(|r| (200..300).contains(&r.status));
    let outcome = match &t {
        // No discovery to judge: browser.idp_discovery says why.
        _ if !answered => Outcome::skip(
            "depends on the IdP's discovery document, which this machine could not get (see browser.idp_discovery)",
        ),
        _ if blocked(&d) => Outcome::fail(
            Class::Cors,
            words(&d.url),
            format!(
                "the app's page fetches the IdP's discovery itself, and the IdP does not allow {origin}: the login cannot start"
            ),
        ),
        // An answer to a made-up code may lack the header where a real exchange gets it (the
        // IdP may decide CORS by the client once it is authenticated): a warning.
        Some(f) if blocked(f) => Outcome {
            status: crate::plan::predict::Status::Warn,
            class: Some(Class::Cors),
            go_error: Some(words(&f.url)),
            note: format!(
                "the IdP allows {origin} for its discovery, but its token endpoint's answer to a made-up code does not: if the login fails after signing in at the IdP (\"Failed to fetch\"), allow the origin for the token endpoint too"
            ),
        },
        _ => Outcome::pass(format!(
            "the IdP lets a page at {origin} read its discovery{} (Access-Control-Allow-Origin)",
            if t.is_some() {
                " and token answers"
            } else {
                ""
            }
        )),
    };
    let mut c = Check::observed(CheckId::BrowserIdpCors, &discovery, outcome);
    c.duration_ms = Some(d.elapsed.as_millis() as u64);
    c
}

/// The page's token request: a made-up code, no secret (the UI is a public client).
fn token_request(url: &str, client_id: &str, origin: &str) -> Request {
    Request {
        url: url.to_string(),
        form: Some(vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), "dexcheck-cors-probe".into()),
            ("client_id".into(), client_id.into()),
            ("redirect_uri".into(), format!("{origin}/login")),
        ]),
        follow: Follow::None,
        basic: None,
        origin: Some(origin.to_string()),
    }
}
