//! The workstation's probes: what the operator's machine (the browser's side) actually sees when
//! it reaches the app, Dex's discovery, keys, token and authorization endpoints, and the upstream
//! IdP. They run concurrently; a step that needs an earlier one's answer is skipped when it fails.

use std::time::Duration;

use serde_json::Value;

use super::http::{Fetched, Follow, Request, Response, Settings, fetch};
use super::outcome::{Class, Failure};
use crate::diagnosis::{Check, CheckId};
use crate::plan::endpoints::Endpoints;
use crate::plan::predict::{Outcome, Status};

/// What to probe.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// The app's base URL (`browser.app`).
    pub base: Option<String>,
    pub endpoints: Option<Endpoints>,
    /// The first connector dexcheck can probe at its IdP.
    pub idp: Option<super::idp::Upstream>,
    /// The Dex pods, with cluster access: their image is the release the document must be.
    pub dex_pods: crate::cluster::DexList,
}

/// A check observed from a fetch: its time, proxy and redirects.
fn from_fetch(id: CheckId, f: &Fetched, outcome: Outcome) -> Check {
    let mut o = Check::observed(id, &f.url, outcome);
    o.duration_ms = Some(f.elapsed.as_millis() as u64);
    o.proxy = f.proxy.clone();
    o.redirects = f.hops.clone();
    // The peer is URL's host only when nothing stood between: no proxy, no redirect.
    o.address = f
        .result
        .as_ref()
        .ok()
        .filter(|_| f.proxy.is_none() && f.hops.is_empty())
        .and_then(|r| r.peer)
        .map(|ip| ip.to_string());
    o.clock_ahead_s = f.result.as_ref().ok().and_then(clock_ahead);
    if !o.redirects.is_empty() {
        o.message = format!("{} (redirects: {})", o.message, o.redirects.join(", "));
    }
    if let Some(p) = &o.proxy {
        o.message = format!("{} (via proxy {p})", o.message);
    }
    o
}

/// How far the answering server's clock (its `Date` header) is ahead of this machine's, in
/// seconds; the header has one-second resolution.
pub fn clock_ahead(r: &Response) -> Option<i64> {
    let date = chrono::DateTime::parse_from_rfc2822(r.date.as_deref()?).ok()?;
    Some(date.timestamp() - chrono::Utc::now().timestamp())
}

fn fail(f: Failure, get: &str) -> Outcome {
    Outcome::fail(f.class, go_get(get, &f), f.note)
}

/// `Get "URL": err` as Go's client wraps transport errors; status errors stand alone.
fn go_get(url: &str, f: &Failure) -> String {
    match f.class {
        Class::HttpStatus(_)
        | Class::NotJson
        | Class::IssuerMismatch
        | Class::NoSigningKeys
        | Class::UnregisteredRedirectUri
        | Class::InvalidClientId => f.go_error.clone(),
        _ => format!("Get {url:?}: {}", f.go_error),
    }
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// Go's `encoding/json` first complaint about a body, close enough to recognise.
fn go_json_error(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.trim_start().chars().next() {
        None => "unexpected end of JSON input".into(),
        Some(c) if !matches!(c, '{' | '[' | '"' | '-' | '0'..='9' | 't' | 'f' | 'n') => {
            format!("invalid character '{c}' looking for beginning of value")
        }
        _ => match serde_json::from_slice::<Value>(body) {
            Err(e) if e.is_eof() => "unexpected end of JSON input".into(),
            Err(e) => e.to_string(),
            Ok(_) => "json: cannot unmarshal into the expected object".into(),
        },
    }
}

fn is_json_type(r: &Response) -> bool {
    r.content_type.as_deref().is_some_and(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/json")
    })
}

/// Parses a JSON object body, or says why not in go-oidc's words (`what` names the document).
fn json_object(r: &Response, what: &str) -> Result<serde_json::Map<String, Value>, Failure> {
    match serde_json::from_slice::<Value>(&r.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => {
            let ct = r.content_type.clone().unwrap_or_default();
            let json_err = go_json_error(&r.body);
            let go = if is_json_type(r) {
                format!("oidc: failed to decode {what}: {json_err}")
            } else {
                format!(
                    "oidc: failed to decode {what}: expected Content-Type = application/json, got {ct:?}: {json_err}"
                )
            };
            let looks = if ct.contains("html") {
                " (an HTML page: an ingress default backend, a login page or the app's UI answered instead of Dex)"
            } else {
                ""
            };
            Err(Failure::new(
                Class::NotJson,
                go,
                format!("the answer is not a JSON object (content type {ct:?}){looks}"),
            ))
        }
    }
}

/// Non-2xx as go-oidc reports it: `404 Not Found: <body>`.
fn status_failure(r: &Response, what: &str) -> Failure {
    let body = r.body_excerpt(200);
    let plain_to_tls = body.contains("Client sent an HTTP request to an HTTPS server")
        || body.contains("plain HTTP request was sent to HTTPS port");
    if plain_to_tls {
        return Failure::new(
            Class::HttpToHttps,
            format!("{}: {body}", r.status_line()),
            "this http URL points at a TLS port: use https://",
        );
    }
    let note = match r.status {
        404 => format!(
            "{what} is not served at this path (404): wrong path prefix, or the ingress does not route it to Dex"
        ),
        502..=504 => format!(
            "a proxy or ingress answered {} for {what}: it cannot reach the service behind it",
            r.status_line()
        ),
        401 | 403 => format!(
            "{what} is refused ({}): an auth proxy, WAF or an HTTP proxy stands in the way",
            r.status_line()
        ),
        _ => format!("{what} answered {}", r.status_line()),
    };
    Failure::new(
        Class::HttpStatus(r.status),
        format!("{}: {body}", r.status_line()),
        note,
    )
}

fn ok_2xx(f: &Fetched, what: &str) -> Result<Response, Failure> {
    let r = f.result.clone()?;
    if (200..300).contains(&r.status) {
        Ok(r)
    } else {
        Err(status_failure(&r, what))
    }
}

/// The same after normalising what people usually get wrong, for a hint next to a mismatch.
fn normalised_issuer(s: &str) -> String {
    let s = s.trim_end_matches('/');
    match url::Url::parse(s) {
        Ok(u) => format!(
            "{}://{}{}{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path().trim_end_matches('/')
        ),
        Err(_) => s.to_ascii_lowercase(),
    }
}

fn issuer_mismatch(expected: &str, got: &str, whose: &str) -> Failure {
    let mut note = format!(
        "{whose} says its issuer is {got:?}, but {expected:?} was expected: tokens would be refused"
    );
    if normalised_issuer(expected) == normalised_issuer(got) {
        note.push_str("; the two differ only in a default port, a trailing slash or letter case, which Go compares byte for byte");
    }
    Failure::new(
        Class::IssuerMismatch,
        format!(
            "oidc: issuer did not match the issuer returned by provider, expected {expected:?} got {got:?}"
        ),
        note,
    )
}

/// A discovery document that passed the issuer check.
struct Discovery {
    doc: serde_json::Map<String, Value>,
}

impl Discovery {
    fn str(&self, key: &str) -> Option<&str> {
        self.doc.get(key).and_then(Value::as_str)
    }
    fn list(&self, key: &str) -> Vec<&str> {
        self.doc
            .get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

fn check_discovery(
    f: &Fetched,
    expected_issuer: &str,
    whose: &str,
) -> Result<(Discovery, String), Failure> {
    let r = ok_2xx(f, "the discovery document")?;
    discovery_in(&r, expected_issuer, whose)
}

/// The discovery document in an answer, whose issuer must equal `expected_issuer` byte for byte.
fn discovery_in(
    r: &Response,
    expected_issuer: &str,
    whose: &str,
) -> Result<(Discovery, String), Failure> {
    let doc = json_object(r, "provider discovery object")?;
    let got = doc
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if got != expected_issuer {
        return Err(issuer_mismatch(expected_issuer, &got, whose));
    }
    Ok((Discovery { doc }, got))
}

/// Probes everything; the result is in matrix order with the document findings after.
/// `idp` receives the upstream IdP's endpoints as soon as its discovery is read.
pub async fn probe(
    s: &Settings,
    t: &Target,
    idp: Option<tokio::sync::oneshot::Sender<super::idp::IdpEndpoints>>,
) -> Vec<Check> {
    let app = async {
        match &t.base {
            Some(base) => Some(probe_app(s, base).await),
            None => None,
        }
    };
    let dex = async {
        match &t.endpoints {
            Some(e) => probe_dex(s, e, &t.dex_pods).await,
            None => Vec::new(),
        }
    };
    let idp = async {
        match &t.idp {
            Some(u) => probe_upstream(s, u, idp).await,
            None => Vec::new(),
        }
    };
    let (app, dex, idp) = tokio::join!(app, dex, idp);
    app.into_iter().chain(dex).chain(idp).collect()
}

/// The control: the bundled provider on this machine's loopback, probed exactly as the target.
pub async fn probe_control(s: &Settings, issuer: &str) -> Check {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let f = fetch(s, &Request::get(&url)).await;
    let outcome = match check_discovery(&f, issuer, "the reference provider") {
        Ok(_) => Outcome::pass(format!(
            "the reference provider dexcheck started on this machine answered in {}: this machine's own HTTP path (proxy settings included) works",
            ms(f.elapsed)
        )),
        Err(e) => {
            let mut o = fail(e, &url);
            o.note = format!(
                "even the reference provider dexcheck started on this machine cannot be reached: {}",
                o.note
            );
            o
        }
    };
    from_fetch(CheckId::ControlDiscovery, &f, outcome)
}

async fn probe_app(s: &Settings, base: &str) -> Check {
    let f = fetch(s, &Request::get(base)).await;
    let outcome = match &f.result {
        Err(e) => fail(e.clone(), base),
        Ok(r) if r.status >= 500 => fail(status_failure(r, "the app"), base),
        Ok(r) => Outcome::pass(format!(
            "the app answered {} in {}",
            r.status_line(),
            ms(f.elapsed)
        )),
    };
    from_fetch(CheckId::BrowserApp, &f, outcome)
}

async fn probe_dex(s: &Settings, e: &Endpoints, dex_pods: &crate::cluster::DexList) -> Vec<Check> {
    // Keys, token and authorization are probed at the URLs Dex derives from its issuer while
    // discovery is still in flight, so the run costs the slowest probe, not the sum. Where the
    // document names other URLs, those are probed again afterwards.
    let discovery = Request::get(&e.discovery);
    let (f, keys, token, auth) = tokio::join!(
        fetch(s, &discovery),
        probe_keys(s, &e.keys),
        probe_token(s, &e.token, &e.app_callback, &e.client_id),
        probe_auth(s, &e.authorization, &e.issuer, e),
    );
    let mut out = Vec::new();
    let disc = check_discovery(&f, &e.issuer, "Dex");
    let outcome = match &disc {
        Ok((doc, _)) => Outcome::pass(format!(
            "discovery answered with issuer {} in {}; its shape is {}'s",
            e.issuer,
            ms(f.elapsed),
            crate::knowledge::dex_pages::releases_like(&doc.doc)
        )),
        Err(err) => fail(err.clone(), &e.discovery),
    };
    let mut obs = from_fetch(CheckId::BrowserDiscovery, &f, outcome);
    obs.expected = Some(e.issuer.clone());
    if let Ok(r) = &f.result
        && let Ok(doc) = json_object(r, "")
    {
        obs.actual = doc
            .get("issuer")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    out.push(obs);

    let Ok((doc, issuer)) = disc else {
        let why = "depends on the discovery document, which the workstation could not get";
        out.push(Check::observed(
            CheckId::BrowserKeys,
            &e.keys,
            Outcome::skip(why),
        ));
        out.push(Check::observed(
            CheckId::BrowserToken,
            &e.token,
            Outcome::skip(why),
        ));
        out.push(Check::observed(
            CheckId::BrowserDexAuth,
            &e.authorization,
            Outcome::skip(why),
        ));
        return out;
    };
    let dex_image = dex_pods.image().await;
    out.extend(findings(&doc, &issuer, &e.discovery, dex_image.as_deref()));

    let named =
        |key: &str, derived: &str| doc.str(key).filter(|u| *u != derived).map(str::to_string);
    let keys = match named("jwks_uri", &e.keys) {
        Some(u) => probe_keys(s, &u).await,
        None => keys,
    };
    let token = match named("token_endpoint", &e.token) {
        Some(u) => probe_token(s, &u, &e.app_callback, &e.client_id).await,
        None => token,
    };
    let auth = match named("authorization_endpoint", &e.authorization) {
        Some(u) => probe_auth(s, &u, &issuer, e).await,
        None => auth,
    };
    out.push(keys);
    out.push(token);
    out.push(auth);
    out
}

/// The target's discovery document against the reference provider's for the same issuer (Dex
/// v2.45's defaults): endpoint paths, algorithms, grant and response types, PKCE methods, scopes.
fn compare_with_reference(doc: &Discovery, issuer: &str, url: &str) -> Vec<Check> {
    let reference = crate::provider::discovery_document(issuer);
    let rel = |v: Option<&str>| {
        v.map(|u| {
            u.strip_prefix(issuer.trim_end_matches('/'))
                .unwrap_or(u)
                .to_string()
        })
        .unwrap_or_else(|| "(absent)".into())
    };
    let mut out = Vec::new();
    let mut differ = |id: CheckId, field: &str, expected: String, actual: String| {
        if expected != actual {
            let o = differs_from_dex(
                id,
                url,
                format!(
                    "{field} differs from what every Dex release from v2.30 to v2.45 serves for this issuer (expected: v2.45's): other settings, or not Dex"
                ),
                expected,
                actual,
            );
            out.push(o);
        }
    };
    for (key, id) in [
        (
            "authorization_endpoint",
            CheckId::CompareAuthorizationEndpoint,
        ),
        ("token_endpoint", CheckId::CompareTokenEndpoint),
        ("jwks_uri", CheckId::CompareJwksUri),
        ("userinfo_endpoint", CheckId::CompareUserinfoEndpoint),
    ] {
        differ(id, key, rel(reference[key].as_str()), rel(doc.str(key)));
    }
    let list = |v: &Value| -> String {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    for (key, id) in [
        (
            "id_token_signing_alg_values_supported",
            CheckId::CompareAlgorithms,
        ),
        ("grant_types_supported", CheckId::CompareGrantTypes),
        ("response_types_supported", CheckId::CompareResponseTypes),
        (
            "code_challenge_methods_supported",
            CheckId::ComparePkceMethods,
        ),
    ] {
        let actual = doc
            .doc
            .get(key)
            .map(list)
            .unwrap_or_else(|| "(absent)".into());
        if !crate::knowledge::dex_pages::fits_dex(key, &actual) {
            differ(id, key, list(&reference[key]), actual);
        }
    }
    out
}

fn document_findings(doc: &Discovery, issuer: &str, url: &str) -> Vec<Check> {
    let mut out = Vec::new();
    let prefix = format!("{}/", issuer.trim_end_matches('/'));
    let outside: Vec<String> = [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
    ]
    .iter()
    .filter_map(|k| doc.str(k).map(|v| (k, v)))
    .filter(|(_, v)| !v.starts_with(&prefix))
    .map(|(k, v)| format!("{k} = {v}"))
    .collect();
    let o = if outside.is_empty() {
        Outcome::pass("every endpoint lies under the issuer, as Dex builds them")
    } else {
        Outcome {
            status: Status::Warn,
            class: Some(Class::EndpointOutsideIssuer),
            go_error: None,
            note: format!(
                "endpoints outside the issuer {prefix}: {}; Dex derives them from its issuer, so a proxy rewrote them or this is not the Dex you meant",
                outside.join(", ")
            ),
        }
    };
    let mut f = Check::observed(CheckId::DiscoveryEndpoints, url, o);
    f.expected = Some(format!("{prefix}…"));
    if !outside.is_empty() {
        f.actual = Some(outside.join(", "));
    }
    out.push(f);

    let algs = doc.list("id_token_signing_alg_values_supported");
    let o = if algs.contains(&"RS256") {
        Outcome::pass("RS256 offered for ID tokens")
    } else {
        Outcome::fail(
            Class::UnsupportedAlgorithm,
            format!("oidc: id_token_signing_alg_values_supported {algs:?} lacks RS256"),
            "RS256 is not offered: Devtron's and Argo CD's verifiers expect RS256 ID tokens",
        )
    };
    let mut f = Check::observed(CheckId::DiscoverySigningAlg, url, o);
    f.expected = Some("RS256".into());
    f.actual = Some(algs.join(", "));
    out.push(f);

    let types = doc.list("response_types_supported");
    let o = if types.contains(&"code") {
        Outcome::pass("response type code offered")
    } else {
        Outcome::fail(
            Class::UnsupportedResponseType,
            "unsupported_response_type: Unsupported response type \"code\"",
            "the authorization code flow (response type code), which the app uses, is not offered",
        )
    };
    let mut f = Check::observed(CheckId::DiscoveryResponseType, url, o);
    f.expected = Some("code".into());
    f.actual = Some(types.join(", "));
    out.push(f);
    out
}

/// The discovery document's checks on an answer already fetched: the issuer, then the
/// document's own findings and its differences from Dex's. For tests and fuzzing as well.
pub fn discovery_answer(r: &Response, issuer: &str, url: &str) -> Result<Vec<Check>, Failure> {
    let (doc, issuer) = discovery_in(r, issuer, "Dex")?;
    Ok(findings(&doc, &issuer, url, None))
}

/// A discovery document's own findings, then where it differs from what Dex serves.
fn findings(doc: &Discovery, issuer: &str, url: &str, dex_image: Option<&str>) -> Vec<Check> {
    let mut out = document_findings(doc, issuer, url);
    out.extend(compare_with_reference(doc, issuer, url));
    out.extend(compare_with_image(doc, url, dex_image));
    out
}

/// With the Dex pod's image known (its tag names a release): the document's grant types against
/// that release's. A document of another release means URL is served by another Dex than the
/// one in the cluster (another install, a stale ingress).
fn compare_with_image(doc: &Discovery, url: &str, image: Option<&str>) -> Option<Check> {
    use crate::knowledge::dex_pages;
    let image = image?;
    let release = dex_pages::release_of_image(image)?;
    let grants = doc
        .doc
        .get("grant_types_supported")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let expected = dex_pages::grants_of(release)?;
    if dex_pages::same_grants(&grants, expected) {
        return None;
    }
    Some(differs_from_dex(
        CheckId::CompareGrantTypes,
        url,
        format!(
            "the Dex pod runs {image}, whose discovery lists other grant types than the document at URL: URL may be served by another Dex than this cluster's (another install, a stale ingress or cache)"
        ),
        expected.join(" "),
        grants,
    ))
}

/// A `compare.*` finding: the document differs from Dex's, as `note` says.
fn differs_from_dex(
    id: CheckId,
    url: &str,
    note: String,
    expected: String,
    actual: String,
) -> Check {
    let mut c = Check::observed(
        id,
        url,
        Outcome {
            status: Status::Warn,
            class: Some(Class::DiffersFromDex),
            go_error: None,
            note,
        },
    );
    c.expected = Some(expected);
    c.actual = Some(actual);
    c
}

/// The usable RSA signing keys (with a `kid`) in a key set answer.
pub fn key_set_answer(r: &Response) -> Result<usize, Failure> {
    let doc = json_object(r, "keys")?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let usable = keys
        .iter()
        .filter(|k| {
            k.get("kty").and_then(Value::as_str) == Some("RSA")
                && k.get("kid")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
                && k.get("use")
                    .and_then(Value::as_str)
                    .is_none_or(|u| u == "sig")
                && k.get("n").is_some()
                && k.get("e").is_some()
        })
        .count();
    if usable == 0 {
        return Err(Failure::new(
            Class::NoSigningKeys,
            "failed to verify signature: fetching keys oidc: no RSA signing key with a kid in the key set",
            format!(
                "the key set has {} key(s) but no RSA signing key with a kid: ID tokens cannot be verified",
                keys.len()
            ),
        ));
    }
    Ok(usable)
}

async fn probe_keys(s: &Settings, url: &str) -> Check {
    let f = fetch(s, &Request::get(url)).await;
    let res = ok_2xx(&f, "the key set").and_then(|r| key_set_answer(&r));
    let outcome = match res {
        Ok(n) => Outcome::pass(format!(
            "{n} RSA signing key(s) with kid in {}",
            ms(f.elapsed)
        )),
        Err(e) => {
            let mut e = e;
            if let Class::HttpStatus(_) = e.class {
                e.go_error = format!(
                    "oidc: get keys failed: {}",
                    e.go_error.replacen(": ", " ", 1)
                );
            }
            fail(e, url)
        }
    };
    from_fetch(CheckId::BrowserKeys, &f, outcome)
}

async fn probe_token(s: &Settings, url: &str, callback: &str, client: &str) -> Check {
    let req = Request {
        url: url.to_string(),
        form: Some(vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), "dexcheck-probe-not-a-code".into()),
            ("redirect_uri".into(), callback.into()),
            ("client_id".into(), client.into()),
        ]),
        follow: Follow::None,
        basic: None,
        origin: None,
    };
    let f = fetch(s, &req).await;
    let outcome = match &f.result {
        Err(e) => fail(e.clone(), url),
        Ok(r) => match json_object(r, "token response") {
            Ok(doc) if doc.get("error").and_then(Value::as_str).is_some() => {
                Outcome::pass(format!(
                    "the token endpoint answered an invalid code with the OAuth error {:?} ({}), as it should, in {}",
                    doc.get("error").and_then(Value::as_str).unwrap_or(""),
                    r.status,
                    ms(f.elapsed)
                ))
            }
            _ if !(200..300).contains(&r.status) && !(400..=401).contains(&r.status) => {
                fail(status_failure(r, "the token endpoint"), url)
            }
            Ok(_) => Outcome::fail(
                Class::NotOauth,
                format!(
                    "oauth2: server response missing error for an invalid code: {}",
                    r.body_excerpt(120)
                ),
                "the token endpoint accepted a made-up code or answered without an OAuth error: this is not Dex's token endpoint",
            ),
            Err(e) => fail(e, url),
        },
    };
    from_fetch(CheckId::BrowserToken, &f, outcome)
}

fn auth_url(endpoint: &str, callback: &str, client: &str) -> String {
    let mut u = match url::Url::parse(endpoint) {
        Ok(u) => u,
        Err(_) => return endpoint.to_string(),
    };
    u.query_pairs_mut()
        .append_pair("client_id", client)
        .append_pair("redirect_uri", callback)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile email groups")
        .append_pair("state", "dexcheck");
    u.to_string()
}

/// Dex's authorization endpoint asked as the app's login asks it (its client and callback).
async fn probe_auth(s: &Settings, endpoint: &str, issuer: &str, e: &Endpoints) -> Check {
    let (callback, client) = (e.app_callback.as_str(), e.client_id.as_str());
    let first = auth_url(endpoint, callback, client);
    let mut f = fetch(
        s,
        &Request {
            url: first.clone(),
            form: None,
            follow: Follow::None,
            basic: None,
            origin: None,
        },
    )
    .await;
    let mut elapsed = f.elapsed;
    let mut hops = Vec::new();
    // Dex's /auth with a single connector redirects to /auth/<connector>, where the client and
    // its redirect URI are checked. Follow that one step, only while it stays under the issuer.
    if let Ok(r) = &f.result
        && (300..400).contains(&r.status)
        && let Some(loc) = &r.location
        && let Ok(next) = url::Url::parse(&first).and_then(|b| b.join(loc))
        && next
            .as_str()
            .starts_with(&format!("{}/auth/", issuer.trim_end_matches('/')))
    {
        hops.push(format!("{} → {next}", r.status));
        f = fetch(
            s,
            &Request {
                url: next.to_string(),
                form: None,
                follow: Follow::None,
                basic: None,
                origin: None,
            },
        )
        .await;
        elapsed += f.elapsed;
    }
    let outcome = auth_outcome(&f, callback, client);
    let mut o = from_fetch(CheckId::BrowserDexAuth, &f, outcome);
    o.url = Some(first);
    o.duration_ms = Some(elapsed.as_millis() as u64);
    hops.extend(o.redirects);
    o.redirects = hops;
    o
}

/// What Dex's authorization endpoint said to the app's client: its refusals in its words, or
/// the login page, or the redirect onward to the connector's IdP.
fn auth_outcome(f: &Fetched, callback: &str, client: &str) -> Outcome {
    match &f.result {
        Err(e) => fail(e.clone(), &f.url),
        Ok(r) => {
            // Dex writes the refusal after its page header, in each release's words.
            let refused = crate::knowledge::dex_pages::refusal(&r.body);
            if let Some((Class::UnregisteredRedirectUri, words)) = refused {
                Outcome::fail(
                    Class::UnregisteredRedirectUri,
                    words,
                    format!(
                        "Dex does not accept {callback} for client {client}: its staticClients redirectURIs must list exactly this URL (the app writes it from URL; restart Dex or the app after changing URL)"
                    ),
                )
            } else if let Some((Class::InvalidClientId, words)) = refused {
                Outcome::fail(
                    Class::InvalidClientId,
                    words,
                    format!(
                        "Dex has no client {client}: the app's generated Dex config is missing (the app did not write dex.config, or this is another Dex)"
                    ),
                )
            } else if (300..400).contains(&r.status) {
                let to = r.location.clone().unwrap_or_default();
                let host = url::Url::parse(&f.url)
                    .ok()
                    .and_then(|b| b.join(&to).ok())
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_default();
                Outcome::pass(format!(
                    "Dex accepted the client and {callback}, and sends the browser on to {host} to sign in"
                ))
            } else if (200..300).contains(&r.status) {
                Outcome::pass(format!(
                    "Dex showed its login page ({}) for client {client}",
                    r.status_line()
                ))
            } else {
                fail(status_failure(r, "the authorization endpoint"), &f.url)
            }
        }
    }
}

/// The upstream IdP: its discovery (for connectors that discover), then the authorization and
/// client-authentication probes against the endpoints it names, and the claims it offers.
async fn probe_upstream(
    s: &Settings,
    u: &super::idp::Upstream,
    tx: Option<tokio::sync::oneshot::Sender<super::idp::IdpEndpoints>>,
) -> Vec<Check> {
    use super::idp::{self, IdpEndpoints};
    let Some(issuer) = &u.issuer else {
        return match IdpEndpoints::fixed(u) {
            Some(e) => idp::probe(s, u, &e).await,
            None => Vec::new(),
        };
    };
    let (check, doc) = probe_idp(s, &u.connector_id, issuer).await;
    let mut out = vec![check];
    if let Some(doc) = doc {
        let e = IdpEndpoints::from_discovery(&doc.doc);
        if let Some(tx) = tx {
            let _ = tx.send(e.clone());
        }
        out.extend(idp::probe(s, u, &e).await);
        out.extend(idp::claims_check(u, &e));
    }
    out
}

/// Argo CD's direct OIDC: the IdP's discovery from this machine (where the browser is sent),
/// its failure in the words of the client that fetches it (`failed to query provider …`); then
/// Argo CD's own client at the authorization and token endpoints the discovery names.
pub async fn direct_idp(
    s: &Settings,
    issuer: &str,
    app: &crate::app::Install,
    client: Option<&super::idp::Upstream>,
    extra_callbacks: &[String],
) -> Vec<Check> {
    use super::idp::{self, IdpEndpoints};
    let (mut c, doc) = probe_idp(s, "oidc.config", issuer).await;
    if let Some(e) = c.error.take() {
        c.error = Some(match e.strip_prefix("failed to get provider: ") {
            Some(go) => app.discovery_failed(issuer, go),
            None => e,
        });
    }
    let mut out = vec![c];
    if let (Some(doc), Some(u)) = (doc, client) {
        let e = IdpEndpoints::from_discovery(&doc.doc);
        out.extend(idp::probe(s, u, &e).await);
        out.extend(idp::claims_check(u, &e));
        // Each additionalUrls callback is its own redirect_uri at the same client.
        let others = extra_callbacks.iter().map(|cb| {
            let u = idp::Upstream {
                callback: cb.clone(),
                ..u.clone()
            };
            let e = e.clone();
            async move { idp::authorize(s, &u, &e).await }
        });
        out.extend(futures_util::future::join_all(others).await);
    }
    out
}

async fn probe_idp(s: &Settings, connector: &str, issuer: &str) -> (Check, Option<Discovery>) {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let f = fetch(s, &Request::get(&url)).await;
    let (outcome, doc) = match check_discovery(&f, issuer, "the upstream IdP") {
        Ok((doc, _)) => (
            Outcome::pass(format!(
                "the upstream IdP's discovery answered with issuer {issuer} in {}",
                ms(f.elapsed)
            )),
            Some(doc),
        ),
        Err(e) => {
            let mut o = fail(e, &url);
            o.go_error = o.go_error.map(|g| format!("failed to get provider: {g}"));
            o.note = format!("connector {connector:?}: {}", o.note);
            (o, None)
        }
    };
    let mut o = from_fetch(CheckId::BrowserIdpDiscovery, &f, outcome);
    o.expected = Some(issuer.to_string());
    (o, doc)
}
