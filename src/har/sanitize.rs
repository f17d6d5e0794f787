//! Redacting a HAR entry so it can be shared: every secret a login carries is replaced by
//! `REDACTED(N)` (N: its length in bytes), while names, attributes and sizes stay, so a sanitized
//! HAR still shows which cookie was too large and which parameter was sent. Redacted: cookie
//! values (`Cookie`, `Set-Cookie`, the cookie lists), `Authorization`, codes and tokens in URLs,
//! fragments, form posts and JSON bodies, the password typed at the IdP, client secrets and
//! assertions, base64 bodies, and anything shaped like a JWT wherever it appears. Kept:
//! `state`, `nonce`, `client_id`, `redirect_uri`, `scope` and every other name (what a login's
//! hops are compared by).

use std::sync::LazyLock;

use serde_json::Value;

/// Parameters whose values are secrets, in URLs, forms and JSON (lower case).
const SECRET_KEYS: &[&str] = &[
    "code",
    "id_token",
    "access_token",
    "refresh_token",
    "token",
    "client_secret",
    "code_verifier",
    "client_assertion",
    "assertion",
    "samlresponse",
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "otp",
    "totp",
    "session_state",
];

/// A JWS or JWE compact serialization (what ID and access tokens look like).
static JWT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?")
        .unwrap_or_else(|_| unreachable!("a fixed pattern"))
});

/// A hidden form field carrying a secret (a `form_post` answer, a SAML POST).
static HIDDEN: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"(?i)(name="(?:code|id_token|access_token|refresh_token|SAMLResponse|password)"[^>]*?value=")([^"]*)(")"#)
        .unwrap_or_else(|_| unreachable!("a fixed pattern"))
});

/// The marker that replaces a secret: its length stays visible.
pub fn mark(s: &str) -> String {
    format!("REDACTED({})", s.len())
}

fn secret_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    SECRET_KEYS.contains(&k.as_str())
}

/// `k=v&…` with the secret values marked (keys and order kept).
fn pairs(s: &str, sep: char) -> String {
    s.split(sep)
        .map(|p| match p.split_once('=') {
            Some((k, v)) if secret_key(k.trim()) && !v.is_empty() => format!("{k}={}", mark(v)),
            _ => p.to_string(),
        })
        .collect::<Vec<_>>()
        .join(&sep.to_string())
}

/// A URL with secret query and fragment parameters marked.
pub fn url(u: &str) -> String {
    let (before_frag, frag) = match u.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (u, None),
    };
    let mut out = match before_frag.split_once('?') {
        Some((base, q)) => format!("{base}?{}", pairs(q, '&')),
        None => before_frag.to_string(),
    };
    if let Some(f) = frag {
        out.push('#');
        out.push_str(&pairs(f, '&'));
    }
    jwts(&out)
}

/// Every JWT-shaped run in `s` marked.
pub fn jwts(s: &str) -> String {
    JWT.replace_all(s, |c: &regex::Captures| mark(&c[0]))
        .into_owned()
}

/// `Cookie: a=1; b=2` → `a=REDACTED(1); b=REDACTED(1)`.
fn cookie_header(v: &str) -> String {
    v.split(';')
        .map(|p| match p.split_once('=') {
            Some((k, val)) => format!("{k}={}", mark(val)),
            None => p.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// `Set-Cookie: n=v; Path=/; Secure` → the value marked, the attributes kept.
fn set_cookie_header(v: &str) -> String {
    match v.split_once(';') {
        Some((first, attrs)) => format!("{};{attrs}", cookie_header(first)),
        None => cookie_header(v),
    }
}

fn header(name: &str, value: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "authorization" | "proxy-authorization" => match value.split_once(' ') {
            Some((scheme, cred)) => format!("{scheme} {}", mark(cred)),
            None => mark(value),
        },
        "cookie" => cookie_header(value),
        "set-cookie" => set_cookie_header(value),
        "location" | "referer" | "origin" => url(value),
        n if n.contains("token") || n.contains("secret") || n.contains("api-key") => mark(value),
        _ => jwts(value),
    }
}

/// A JSON value with the values of secret keys marked, recursively.
fn json_keys(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match x {
                    Value::String(s) if secret_key(k) => *s = mark(s),
                    _ => json_keys(x),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(json_keys),
        Value::String(s) => *s = jwts(s),
        _ => {}
    }
}

/// A body by its type: forms and JSON by key, HTML by its hidden fields, all by JWT shape.
fn body(text: &str, mime: &str) -> String {
    let mime = mime.to_ascii_lowercase();
    if mime.contains("x-www-form-urlencoded") {
        return jwts(&pairs(text, '&'));
    }
    if mime.contains("json")
        && let Ok(mut v) = serde_json::from_str::<Value>(text)
    {
        json_keys(&mut v);
        return serde_json::to_string(&v).unwrap_or_else(|_| mark(text));
    }
    let html = HIDDEN.replace_all(text, |c: &regex::Captures| {
        format!("{}{}{}", &c[1], mark(&c[2]), &c[3])
    });
    jwts(&html)
}

fn headers(list: Option<&mut Value>) {
    for h in list.and_then(Value::as_array_mut).into_iter().flatten() {
        let name = h["name"].as_str().unwrap_or_default().to_string();
        if let Some(Value::String(v)) = h.get_mut("value") {
            *v = header(&name, v);
        }
    }
}

fn cookies(list: Option<&mut Value>) {
    for c in list.and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(Value::String(v)) = c.get_mut("value") {
            *v = mark(v);
        }
    }
}

fn params(list: Option<&mut Value>) {
    for p in list.and_then(Value::as_array_mut).into_iter().flatten() {
        let secret = p["name"].as_str().is_some_and(secret_key);
        if let Some(Value::String(v)) = p.get_mut("value") {
            *v = if secret { mark(v) } else { jwts(v) };
        }
    }
}

fn string_at(v: &mut Value, key: &str, f: impl Fn(&str) -> String) {
    if let Some(Value::String(s)) = v.get_mut(key) {
        *s = f(s);
    }
}

/// Redacts one HAR entry in place.
pub fn entry(e: &mut Value) {
    if let Some(req) = e.get_mut("request") {
        string_at(req, "url", url);
        headers(req.get_mut("headers"));
        cookies(req.get_mut("cookies"));
        params(req.get_mut("queryString"));
        if let Some(post) = req.get_mut("postData") {
            let mime = post["mimeType"].as_str().unwrap_or_default().to_string();
            string_at(post, "text", |t| body(t, &mime));
            params(post.get_mut("params"));
        }
    }
    if let Some(res) = e.get_mut("response") {
        string_at(res, "redirectURL", url);
        headers(res.get_mut("headers"));
        cookies(res.get_mut("cookies"));
        if let Some(content) = res.get_mut("content") {
            let mime = content["mimeType"].as_str().unwrap_or_default().to_string();
            let base64 = content["encoding"] == "base64";
            string_at(content, "text", |t| {
                if base64 { mark(t) } else { body(t, &mime) }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_go_and_names_and_sizes_stay() {
        assert_eq!(
            url(
                "https://app/auth/callback?code=abc123&state=xyz#id_token=eyJhbGciOi.eyJzdWIiOi.c2ln&x=1"
            ),
            "https://app/auth/callback?code=REDACTED(6)&state=xyz#id_token=REDACTED(26)&x=1"
        );
        assert_eq!(
            cookie_header("argocd.token=abc; other=12345"),
            "argocd.token=REDACTED(3); other=REDACTED(5)"
        );
        assert_eq!(
            set_cookie_header("argocd.token=aaaa; path=/; SameSite=lax; Secure"),
            "argocd.token=REDACTED(4); path=/; SameSite=lax; Secure"
        );
        assert_eq!(header("Authorization", "Bearer xyz"), "Bearer REDACTED(3)");
        assert_eq!(
            body(
                "username=ann&password=hunter2",
                "application/x-www-form-urlencoded"
            ),
            "username=ann&password=REDACTED(7)"
        );
        assert_eq!(
            body(
                r#"{"access_token":"at","token_type":"bearer","id_token":"x"}"#,
                "application/json"
            ),
            r#"{"access_token":"REDACTED(2)","token_type":"bearer","id_token":"REDACTED(1)"}"#
        );
        assert!(
            body(
                r#"<input type="hidden" name="code" value="s3cr3t">"#,
                "text/html"
            )
            .contains("value=\"REDACTED(6)\"")
        );
    }
}
