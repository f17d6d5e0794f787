//! Dex's error pages, read where Dex writes them. Dex renders a refusal into its page template
//! (`<h2 class="theme-heading">Bad Request</h2><p>MESSAGE</p>`), after about 690 bytes of header;
//! the message's words differ by release (`server/oauth2.go`, `server/authflow/authorize.go`):
//!
//! | refusal | v2.30.2 | v2.45.1 | HEAD |
//! |---|---|---|---|
//! | redirect URI | `Unregistered redirect_uri ("URL").` (HTML-escaped) | `Unregistered redirect_uri.` | same |
//! | client id | `Invalid client_id ("ID").` after the connector redirect, 404 | `Invalid client_id.`, 404 | `Invalid client_id provided.` at `/auth` itself, 400 |
//! | connector | `Connector ID does not match a valid Connector`, 400 | same | same |

use crate::probe::class::Class;

/// The refusals a client can meet on Dex's authorization pages: the words every release starts
/// with, and the class.
const REFUSALS: &[(&str, Class)] = &[
    ("Unregistered redirect_uri", Class::UnregisteredRedirectUri),
    ("Invalid client_id", Class::InvalidClientId),
];

/// A refusal on Dex's authorization page in a release's words: releases before 2.45 quote the
/// value (`Unregistered redirect_uri ("URL").`), 2.45 and later do not (`server/oauth2.go`).
pub fn refusal_words(release: (u16, u16, u16), what: &str, value: &str) -> String {
    if release < (2, 45, 0) {
        format!("{what} ({value:?}).")
    } else {
        format!("{what}.")
    }
}

/// The text of an HTML page with Go's `html/template` escapes undone (`&#34;` for `"`, …).
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| entity(&tail[1..e]));
        match (end, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &tail[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "quot" => Some('"'),
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "apos" => Some('\''),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// A refusal anywhere in the page, and Dex's sentence as it reads on screen (up to the end of
/// its paragraph, at most 300 characters).
pub fn refusal(body: &[u8]) -> Option<(Class, String)> {
    let text = decode_entities(&String::from_utf8_lossy(body));
    REFUSALS.iter().find_map(|(phrase, class)| {
        let i = text.find(phrase)?;
        let sentence: String = text[i..]
            .chars()
            .take_while(|c| *c != '<' && *c != '\n')
            .take(300)
            .collect();
        Some((*class, sentence.trim().to_string()))
    })
}

/// Dex's `grant_types_supported` by release (`server/server.go`, stock settings): the
/// `token-exchange` grant from v2.38. `password` (a `passwordConnector`) is a setting, not a
/// release, and is left out before comparing.
const GRANTS: &[(&str, &[&str])] = &[
    (
        "v2.30–v2.37",
        &[
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
    ),
    (
        "v2.38–v2.45",
        &[
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ],
    ),
];

/// A release `(minor)` from an image tag such as `quay.io/devtron/dex:v2.30.2` or
/// `ghcr.io/dexidp/dex:v2.45.1-distroless`; `None` for a digest or an unversioned tag.
pub fn release_of_image(image: &str) -> Option<u32> {
    let tag = image.rsplit_once(':')?.1;
    let v = tag.strip_prefix('v').unwrap_or(tag);
    let mut parts = v.split(['.', '-']);
    (parts.next()? == "2").then_some(())?;
    parts.next()?.parse().ok()
}

/// The grant types Dex 2.`minor` serves with stock settings, for the releases known here.
pub fn grants_of(minor: u32) -> Option<&'static [&'static str]> {
    match minor {
        30..=37 => Some(GRANTS[0].1),
        38..=45 => Some(GRANTS[1].1),
        _ => None,
    }
}

/// The same grant types, order and `password` aside.
pub fn same_grants(value: &str, release: &[&str]) -> bool {
    fn norm<'a>(v: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
        let mut v: Vec<&str> = v.filter(|x| *x != "password").collect();
        v.sort_unstable();
        v
    }
    norm(value.split_whitespace()) == norm(release.iter().copied())
}

/// Whether a discovery list (space-separated) is one Dex serves, as far as the app's login can
/// tell: the grant types of some release (order and `password` aside); response types with
/// `code`; signing algorithms with `RS256`; PKCE methods do not matter to the apps' Dex login.
pub fn fits_dex(field: &str, value: &str) -> bool {
    let mut actual: Vec<&str> = value
        .split_whitespace()
        .filter(|x| *x != "password")
        .collect();
    actual.sort_unstable();
    match field {
        "grant_types_supported" => GRANTS.iter().any(|(_, g)| same_grants(value, g)),
        "response_types_supported" => actual.contains(&"code"),
        "id_token_signing_alg_values_supported" => actual.contains(&"RS256"),
        _ => true,
    }
}

/// Which Dex releases a discovery document looks like, from its own shape.
pub fn releases_like(doc: &serde_json::Map<String, serde_json::Value>) -> &'static str {
    let grants = doc
        .get("grant_types_supported")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .any(|g| g.as_str().is_some_and(|g| g.ends_with(":token-exchange")))
        })
        .unwrap_or(false);
    match (grants, doc.contains_key("introspection_endpoint")) {
        (_, true) => "Dex v2.40 or later",
        (true, false) => "Dex v2.38–v2.39",
        (false, false) => "Dex v2.37 or earlier (Devtron ships v2.30.2)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_after_the_page_header_in_each_release_s_words() {
        let header = format!("<!DOCTYPE html><html><head>{}</head>", " ".repeat(700));
        let page = |msg: &str| {
            format!("{header}<h2 class=\"theme-heading\">Bad Request</h2>\n  <p>{msg}</p>\n</div>")
        };
        assert_eq!(
            refusal(page("Unregistered redirect_uri (&#34;http://evil/cb&#34;).").as_bytes()),
            Some((
                Class::UnregisteredRedirectUri,
                "Unregistered redirect_uri (\"http://evil/cb\").".into()
            ))
        );
        assert_eq!(
            refusal(page("Invalid client_id.").as_bytes()),
            Some((Class::InvalidClientId, "Invalid client_id.".into()))
        );
        assert_eq!(
            refusal(page("Invalid client_id provided.").as_bytes()).map(|r| r.1),
            Some("Invalid client_id provided.".into())
        );
        assert_eq!(refusal(page("Login with Example").as_bytes()), None);
    }

    #[test]
    fn every_release_s_lists_are_dex_s() {
        let v230 = "authorization_code refresh_token urn:ietf:params:oauth:grant-type:device_code";
        assert!(fits_dex("grant_types_supported", v230));
        assert!(fits_dex(
            "grant_types_supported",
            &format!("password {v230}")
        ));
        assert!(!fits_dex("grant_types_supported", "authorization_code"));
        assert!(fits_dex("response_types_supported", "code token"));
        assert!(!fits_dex("response_types_supported", "token"));
    }

    #[test]
    fn the_release_from_the_image_tag() {
        assert_eq!(release_of_image("quay.io/devtron/dex:v2.30.2"), Some(30));
        assert_eq!(
            release_of_image("ghcr.io/dexidp/dex:v2.45.1-distroless"),
            Some(45)
        );
        assert_eq!(release_of_image("registry:5000/dex@sha256:abc"), None);
        assert_eq!(release_of_image("dex:latest"), None);
        assert!(same_grants(
            "refresh_token authorization_code urn:ietf:params:oauth:grant-type:device_code",
            grants_of(30).unwrap()
        ));
        assert!(!same_grants(
            "refresh_token authorization_code urn:ietf:params:oauth:grant-type:device_code",
            grants_of(45).unwrap()
        ));
    }

    #[test]
    fn entities_as_go_writes_them() {
        assert_eq!(
            decode_entities("a &amp; b &#39;c&#39; &#x22;d&#34; &bogus; &"),
            "a & b 'c' \"d\" &bogus; &"
        );
    }
}
