//! One HAR entry reduced to what a login's diagnosis reads: the request line, the answer's
//! status, `Location` and `Date`, the cookies each way (the names sent; the names, sizes and
//! attributes set, a value only as far as Argo CD's chunk count `N:` at its start), the text of
//! an error answer, and the names of a form's fields. A value that could be a secret is never kept whole, except the request URL,
//! whose `state`, `nonce` and `code` are compared between hops and never printed.

use serde_json::Value;

/// A cookie an answer set (`Set-Cookie`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetCookie {
    pub name: String,
    /// Bytes of the value (from `REDACTED(N)` for a sanitized value).
    pub value_len: usize,
    /// Bytes of the whole header value (`name=value; attributes`).
    pub line_len: usize,
    /// Argo CD's chunk count: the first chunk's value starts `N:` (unknown when redacted).
    pub chunks: Option<usize>,
    pub secure: bool,
    pub same_site: Option<String>,
    /// `Max-Age` ≤ 0 or an empty value: the cookie is being removed.
    pub removes: bool,
    /// The value was redacted (`REDACTED(N)`): its size is known, its content is not.
    pub redacted: bool,
}

impl SetCookie {
    /// What the browser's limit counts: name and value (RFC 6265bis, 4,096 bytes).
    pub fn size(&self) -> usize {
        self.name.len() + self.value_len
    }
}

/// One request and its answer, as the diagnosis reads them.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// `startedDateTime`, in milliseconds since the Unix epoch.
    pub started_ms: Option<i64>,
    /// `time`: the whole exchange, in milliseconds.
    pub time_ms: f64,
    pub method: String,
    pub url: String,
    /// The answer's status; 0 when none came (Chrome, Firefox; Playwright writes -1).
    pub status: i64,
    /// Why no answer came (`_error`, `_failureText`): `net::ERR_CONNECTION_REFUSED`.
    pub failure: Option<String>,
    pub location: Option<String>,
    /// The answer's `Date` header, as seconds since the Unix epoch.
    pub date_s: Option<i64>,
    /// The names of the cookies the browser sent (`Cookie`).
    pub sent: Vec<String>,
    pub set: Vec<SetCookie>,
    /// Whether the entry carries any `Cookie` or `Set-Cookie` at all (a sanitized export has
    /// none).
    pub has_cookie_headers: bool,
    /// The answer's text (a page, as text), when it is an error or a small page: at most 4 KiB.
    pub page: Option<String>,
    /// The names of a posted form's fields.
    pub form_fields: Vec<String>,
}

/// Most of an answer's text kept, for an error page's words.
const PAGE_MAX: usize = 4096;

/// The size a redacted value stood for (`REDACTED(N)`, as `har sanitize` writes it).
pub fn redacted_len(v: &str) -> Option<usize> {
    v.strip_prefix("REDACTED(")?.strip_suffix(')')?.parse().ok()
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_str()
        .unwrap_or_default()
}

/// `(name, value)` of a HAR `headers` list.
fn headers(v: &Value) -> impl Iterator<Item = (&str, &str)> {
    v.as_array().into_iter().flatten().map(|h| {
        (
            h["name"].as_str().unwrap_or_default(),
            h["value"].as_str().unwrap_or_default(),
        )
    })
}

fn header<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    headers(v)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Reads one entry; `None` when it has no request URL.
pub fn read(e: &Value) -> Option<Exchange> {
    let req = &e["request"];
    let resp = &e["response"];
    let url = s(req, &["url"]);
    if url.is_empty() {
        return None;
    }
    let failure = ["_error", "_failureText"]
        .iter()
        .find_map(|k| e[*k].as_str().or_else(|| resp[*k].as_str()))
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let status = resp["status"].as_i64().unwrap_or(0);
    let (sent, sent_headers) = sent_cookies(req);
    let (set, set_headers) = set_cookies(resp);
    Some(Exchange {
        started_ms: chrono::DateTime::parse_from_rfc3339(s(e, &["startedDateTime"]))
            .ok()
            .map(|d| d.timestamp_millis()),
        time_ms: e["time"].as_f64().unwrap_or(0.0),
        method: s(req, &["method"]).to_string(),
        url: url.to_string(),
        status,
        failure,
        location: header(&resp["headers"], "location")
            .or_else(|| Some(s(resp, &["redirectURL"])))
            .filter(|l| !l.is_empty())
            .map(str::to_string),
        date_s: header(&resp["headers"], "date")
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.timestamp()),
        sent,
        set,
        has_cookie_headers: sent_headers || set_headers,
        page: page(resp, status),
        form_fields: form_fields(req),
    })
}

/// The names of the cookies a request sent: its `Cookie` header, else its `cookies` list.
fn sent_cookies(req: &Value) -> (Vec<String>, bool) {
    if let Some(h) = header(&req["headers"], "cookie") {
        let list = h
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .map(|(n, _)| n.to_string())
            .collect();
        return (list, true);
    }
    let list: Vec<String> = req["cookies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| s(c, &["name"]).to_string())
        .collect();
    let any = !list.is_empty();
    (list, any)
}

/// The cookies an answer set: its `Set-Cookie` headers (Firefox joins several with newlines),
/// else its `cookies` list.
fn set_cookies(resp: &Value) -> (Vec<SetCookie>, bool) {
    let lines: Vec<&str> = headers(&resp["headers"])
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .flat_map(|(_, v)| v.split('\n'))
        .filter(|l| !l.trim().is_empty())
        .collect();
    if !lines.is_empty() {
        return (
            lines.into_iter().filter_map(parse_set_cookie).collect(),
            true,
        );
    }
    let list: Vec<SetCookie> = resp["cookies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(from_cookie_object)
        .collect();
    let any = !list.is_empty();
    (list, any)
}

/// One `Set-Cookie` header value.
pub fn parse_set_cookie(line: &str) -> Option<SetCookie> {
    let mut parts = line.split(';');
    let (name, value) = parts.next()?.trim().split_once('=')?;
    let mut c = value_facts(name.trim(), value.trim());
    // The line as the browser got it: a redacted value counts as the bytes it stood for.
    c.line_len = line.trim().len() - value.trim().len() + c.value_len;
    for attr in parts {
        let (k, v) = attr.trim().split_once('=').unwrap_or((attr.trim(), ""));
        match k.to_ascii_lowercase().as_str() {
            "secure" => c.secure = true,
            "samesite" => c.same_site = Some(v.to_string()),
            "max-age" => c.removes |= v.trim().parse::<i64>().is_ok_and(|n| n <= 0),
            _ => {}
        }
    }
    Some(c)
}

/// A HAR `cookies` entry of an answer.
fn from_cookie_object(c: &Value) -> SetCookie {
    let mut out = value_facts(s(c, &["name"]), s(c, &["value"]));
    out.line_len = out.size() + 1;
    out.secure = c["secure"].as_bool().unwrap_or(false);
    out.same_site = c["sameSite"].as_str().map(str::to_string);
    out
}

fn value_facts(name: &str, value: &str) -> SetCookie {
    let redacted = redacted_len(value);
    let chunks = match redacted {
        Some(_) => None,
        None => value
            .split_once(':')
            .and_then(|(n, _)| n.parse::<usize>().ok())
            .filter(|n| *n > 1),
    };
    SetCookie {
        name: name.to_string(),
        value_len: redacted.unwrap_or(value.len()),
        line_len: 0,
        chunks,
        secure: false,
        same_site: None,
        removes: value.is_empty(),
        redacted: redacted.is_some(),
    }
}

/// An answer's text as a page reads: kept for an error (4xx, 5xx) or a small text answer.
fn page(resp: &Value, status: i64) -> Option<String> {
    let content = &resp["content"];
    let text = content["text"].as_str()?;
    if content["encoding"].as_str() == Some("base64") || text.is_empty() {
        return None;
    }
    let mime = s(content, &["mimeType"]).to_ascii_lowercase();
    let textual = mime.is_empty() || mime.contains("text") || mime.contains("json");
    if !textual || (status < 400 && text.len() > PAGE_MAX) {
        return None;
    }
    if text.len() <= PAGE_MAX {
        return Some(text.to_string());
    }
    // A long error page: its start and its end (an error appended after a long dump).
    let mut head = PAGE_MAX * 3 / 4;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - PAGE_MAX / 4;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    Some(format!("{}\n…\n{}", &text[..head], &text[tail..]))
}

/// The names of a posted form's fields (its `params`, else its urlencoded text).
fn form_fields(req: &Value) -> Vec<String> {
    let post = &req["postData"];
    let from_params: Vec<String> = post["params"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| s(p, &["name"]).to_string())
        .collect();
    if !from_params.is_empty() {
        return from_params;
    }
    if !s(post, &["mimeType"]).contains("x-www-form-urlencoded") {
        return Vec::new();
    }
    url::form_urlencoded::parse(s(post, &["text"]).as_bytes())
        .map(|(k, _)| k.into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_facts_are_read_without_keeping_the_value() {
        let c =
            parse_set_cookie("argocd.token=3:eyJhbGciOi; path=/; SameSite=lax; httpOnly; Secure")
                .unwrap();
        assert_eq!(c.name, "argocd.token");
        assert_eq!(c.value_len, "3:eyJhbGciOi".len());
        assert_eq!(c.chunks, Some(3));
        assert!(c.secure);
        assert_eq!(c.same_site.as_deref(), Some("lax"));
        let r = parse_set_cookie("argocd.token=REDACTED(4093); path=/").unwrap();
        assert_eq!((r.value_len, r.redacted, r.chunks), (4093, true, None));
        assert_eq!(r.line_len, "argocd.token=; path=/".len() + 4093);
        let gone = parse_set_cookie("oauthstate=; Max-Age=0").unwrap();
        assert!(gone.removes);
    }
}
