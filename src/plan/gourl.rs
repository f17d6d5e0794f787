//! The part of Go's `net/url` (and `path`) that Devtron's and Argo CD's URL handling depends on.
//!
//! The WHATWG `url` crate normalises what Go keeps raw: it lower-cases hosts and drops default
//! ports, so `https://Host:443` and `https://host` become equal there while Go compares the raw
//! `host[:port]` strings and finds them different. Login redirect validation upstream is built on
//! Go's behaviour, so this module reproduces `url.Parse`, `URL.String`, `path.Clean` and
//! `path.Join` for the inputs that matter here (absolute and relative http(s) URLs).

use thiserror::Error;

/// A URL split the way Go's `url.Parse` splits it. `host` is the raw `host[:port]` string
/// (percent-decoded, never lower-cased, no default-port handling); `path` is decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoUrl {
    pub scheme: String,
    pub opaque: String,
    pub userinfo: Option<String>,
    pub host: String,
    pub path: String,
    /// The path as written, when it differs from the default escaping of `path` (Go's
    /// `RawPath`, from `setPath`); printing uses it only while it still decodes to `path`.
    pub raw_path: String,
    pub raw_query: String,
    pub force_query: bool,
    pub fragment: String,
}

/// Errors in the words Go prints: `parse "<url>": <reason>`.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("parse {url:?}: {reason}")]
pub struct GoUrlError {
    pub url: String,
    pub reason: String,
}

fn fail(url: &str, reason: impl Into<String>) -> GoUrlError {
    GoUrlError {
        url: url.to_string(),
        reason: reason.into(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Fragment,
}

impl GoUrl {
    /// Go's `url.Parse`.
    pub fn parse(raw: &str) -> Result<GoUrl, GoUrlError> {
        let (u, frag) = match raw.split_once('#') {
            Some((u, f)) => (u, Some(f)),
            None => (raw, None),
        };
        let mut url = parse_no_fragment(u).map_err(|reason| fail(u, reason))?;
        if let Some(f) = frag {
            url.fragment = unescape(f, Mode::Fragment).map_err(|reason| fail(raw, reason))?;
        }
        Ok(url)
    }

    /// Go's `EscapedPath()`: the raw path while it is a valid encoding of `path`, else `path`
    /// escaped (so a path assigned after parsing, as Devtron's `path.Join`, prints escaped).
    pub fn escaped_path(&self) -> String {
        if !self.raw_path.is_empty()
            && valid_encoded(&self.raw_path)
            && unescape(&self.raw_path, Mode::Path).is_ok_and(|p| p == self.path)
        {
            return self.raw_path.clone();
        }
        if self.path == "*" {
            return "*".into();
        }
        escape(&self.path, Mode::Path)
    }

    /// Go's `URL.String()`.
    pub fn to_go_string(&self) -> String {
        let mut buf = String::new();
        if !self.scheme.is_empty() {
            buf.push_str(&self.scheme);
            buf.push(':');
        }
        if !self.opaque.is_empty() {
            buf.push_str(&self.opaque);
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.userinfo.is_some() {
                if !self.host.is_empty() || !self.path.is_empty() || self.userinfo.is_some() {
                    buf.push_str("//");
                }
                if let Some(ui) = &self.userinfo {
                    buf.push_str(ui);
                    buf.push('@');
                }
                buf.push_str(&escape(&self.host, Mode::Host));
            }
            let path = self.escaped_path();
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                buf.push('/');
            }
            if buf.is_empty() {
                let segment = path.split('/').next().unwrap_or("");
                if segment.contains(':') {
                    buf.push_str("./");
                }
            }
            buf.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            buf.push('?');
            buf.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            buf.push('#');
            buf.push_str(&escape(&self.fragment, Mode::Fragment));
        }
        buf
    }

    /// The host without its port (brackets of an IPv6 literal removed), as Go's `Hostname()`.
    pub fn hostname(&self) -> &str {
        let h = self.host.as_str();
        if let Some(rest) = h.strip_prefix('[') {
            return rest.split(']').next().unwrap_or(rest);
        }
        match h.rfind(':') {
            Some(i) => &h[..i],
            None => h,
        }
    }

    /// The explicit port, if the URL names one (Go's `Port()`).
    pub fn port(&self) -> Option<&str> {
        let h = self.host.as_str();
        let after = match h.rfind(']') {
            Some(i) => &h[i + 1..],
            None => h,
        };
        after
            .rfind(':')
            .map(|i| &after[i + 1..])
            .filter(|p| !p.is_empty())
    }

    /// The port a client dials: explicit, or the scheme's default.
    pub fn effective_port(&self) -> Option<u16> {
        match self.port() {
            Some(p) => p.parse().ok(),
            None => match self.scheme.as_str() {
                "http" => Some(80),
                "https" => Some(443),
                _ => None,
            },
        }
    }
}

fn parse_no_fragment(raw: &str) -> Result<GoUrl, String> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut url = GoUrl::default();
    if raw == "*" {
        url.path = "*".into();
        return Ok(url);
    }
    let (scheme, mut rest) = get_scheme(raw)?;
    url.scheme = scheme.to_ascii_lowercase();
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        url.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some((r, q)) = rest.split_once('?') {
        url.raw_query = q.to_string();
        rest = r;
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_string();
            return Ok(url);
        }
        let segment = rest.split('/').next().unwrap_or("");
        if segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let authority_and_rest = &rest[2..];
        let (authority, r) = match authority_and_rest.find('/') {
            Some(i) => (&authority_and_rest[..i], &authority_and_rest[i..]),
            None => (authority_and_rest, ""),
        };
        let (userinfo, host) = parse_authority(authority)?;
        url.userinfo = userinfo;
        url.host = host;
        rest = r;
    }
    url.path = unescape(rest, Mode::Path)?;
    if escape(&url.path, Mode::Path) != rest {
        url.raw_path = rest.to_string();
    }
    Ok(url)
}

/// Go's `validEncoded` for paths: only bytes a path may hold unescaped, and `%`.
fn valid_encoded(s: &str) -> bool {
    s.bytes()
        .all(|c| b"!$&'()*+,;=:@[]%".contains(&c) || !should_escape(c, Mode::Path))
}

fn get_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err("missing protocol scheme".into());
                }
                return Ok((&raw[..i], &raw[i + 1..]));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_authority(authority: &str) -> Result<(Option<String>, String), String> {
    match authority.rfind('@') {
        None => Ok((None, parse_host(authority)?)),
        Some(i) => {
            let host = parse_host(&authority[i + 1..])?;
            let userinfo = &authority[..i];
            if !userinfo.bytes().all(valid_userinfo_byte) {
                return Err("net/url: invalid userinfo".into());
            }
            Ok((Some(userinfo.to_string()), host))
        }
    }
}

fn valid_userinfo_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b) || b >= 0x80
}

fn valid_optional_port(port: &str) -> bool {
    if port.is_empty() {
        return true;
    }
    match port.strip_prefix(':') {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        let colon_port = &host[i + 1..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {colon_port:?} after host"));
        }
    } else if let Some(i) = host.rfind(':') {
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {colon_port:?} after host"));
        }
    }
    unescape(host, Mode::Host)
}

fn unhex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if mode == Mode::Host {
        return !b"!$&'()*+,;=:[]<>\"-_.~".contains(&c);
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => c == b'?',
            _ => false,
        },
        _ => {
            if mode == Mode::Fragment {
                !matches!(c, b'!' | b'(' | b')' | b'*')
            } else {
                true
            }
        }
    }
}

fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let (hi, lo) = match (b.get(i + 1).copied(), b.get(i + 2).copied()) {
                    (Some(h), Some(l)) => (unhex(h), unhex(l)),
                    _ => (None, None),
                };
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    let end = (i + 3).min(b.len());
                    return Err(format!(
                        "invalid URL escape {:?}",
                        String::from_utf8_lossy(&b[i..end])
                    ));
                };
                if mode == Mode::Host && hi < 8 && &b[i..i + 3] != b"%25" {
                    return Err(format!(
                        "invalid URL escape {:?}",
                        String::from_utf8_lossy(&b[i..i + 3])
                    ));
                }
                out.push(hi << 4 | lo);
                i += 3;
            }
            c => {
                if mode == Mode::Host && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {:?} in host name",
                        (c as char).to_string()
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn escape(s: &str, mode: Mode) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    for &c in s.as_bytes() {
        // Go keeps non-ASCII bytes of a host as they are and percent-encodes them elsewhere.
        let keep = if mode == Mode::Host && c >= 0x80 {
            true
        } else {
            c < 0x80 && !should_escape(c, mode)
        };
        if keep {
            out.push(c);
        } else {
            out.extend_from_slice(format!("%{c:02X}").as_bytes());
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's `path.Clean`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if matches!(parts.last(), Some(last) if *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `path.Join`: empty elements are ignored, the result is cleaned, all-empty gives "".
pub fn join(elems: &[&str]) -> String {
    let parts: Vec<&str> = elems.iter().copied().filter(|e| !e.is_empty()).collect();
    if parts.is_empty() {
        return String::new();
    }
    clean(&parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (fuzz/fuzz_targets/go_url.rs): `/%2F` decodes to `//`, which printed
    /// bare reads back as an empty authority. Go keeps the raw path and prints `/%2F`.
    #[test]
    fn an_escaped_slash_round_trips_through_the_raw_path() {
        let u = GoUrl::parse("/%2F").unwrap();
        assert_eq!(u.path, "//");
        assert_eq!(u.to_go_string(), "/%2F");
        assert_eq!(GoUrl::parse(&u.to_go_string()).unwrap(), u);
        // A path assigned after parsing prints escaped (Devtron's path.Join).
        let mut v = GoUrl::parse("https://h/a%2Fb").unwrap();
        assert_eq!(v.to_go_string(), "https://h/a%2Fb");
        v.path = join(&[&v.path, "api/dex"]);
        assert_eq!(v.to_go_string(), "https://h/a/b/api/dex");
    }

    #[test]
    fn keeps_host_raw() {
        let u = GoUrl::parse("HTTPS://Devtron.Example.com:443/orchestrator").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.host, "Devtron.Example.com:443");
        assert_eq!(u.path, "/orchestrator");
        assert_eq!(u.hostname(), "Devtron.Example.com");
        assert_eq!(u.port(), Some("443"));
    }

    #[test]
    fn ipv6_hosts() {
        let u = GoUrl::parse("http://[::1]:8082/x").unwrap();
        assert_eq!(u.host, "[::1]:8082");
        assert_eq!(u.hostname(), "::1");
        assert_eq!(u.effective_port(), Some(8082));
    }

    #[test]
    fn errors_like_go() {
        assert_eq!(
            GoUrl::parse("http://h:80x/").unwrap_err().to_string(),
            r#"parse "http://h:80x/": invalid port ":80x" after host"#
        );
        assert!(
            GoUrl::parse("http://h/\r\n")
                .unwrap_err()
                .reason
                .contains("control character")
        );
        assert_eq!(
            GoUrl::parse(":foo").unwrap_err().reason,
            "missing protocol scheme"
        );
        assert!(GoUrl::parse("http://h/%zz").is_err());
    }

    #[test]
    fn relative_and_query() {
        let u = GoUrl::parse("/dashboard?x=1#f").unwrap();
        assert_eq!(u.scheme, "");
        assert_eq!(u.host, "");
        assert_eq!(u.path, "/dashboard");
        assert_eq!(u.raw_query, "x=1");
        assert_eq!(u.fragment, "f");
    }

    #[test]
    fn clean_and_join_like_go() {
        assert_eq!(clean("/argocd/../applications"), "/applications");
        assert_eq!(clean("/orchestrator/"), "/orchestrator");
        assert_eq!(clean(""), ".");
        assert_eq!(clean("a/../.."), "..");
        assert_eq!(clean("/../x"), "/x");
        assert_eq!(join(&["", "api/dex"]), "api/dex");
        assert_eq!(
            join(&["/orchestrator/", "api/dex"]),
            "/orchestrator/api/dex"
        );
    }

    #[test]
    fn string_round_trip_after_path_assignment() {
        let mut u = GoUrl::parse("https://h").unwrap();
        u.path = join(&[&u.path, "api/dex"]);
        assert_eq!(u.to_go_string(), "https://h/api/dex");
        let mut e = GoUrl::parse("").unwrap();
        e.path = join(&[&e.path, "api/dex"]);
        assert_eq!(e.to_go_string(), "api/dex");
        let mut s = GoUrl::parse("http://h/a b").unwrap();
        s.path = join(&[&s.path, "api/dex"]);
        assert_eq!(s.to_go_string(), "http://h/a%20b/api/dex");
    }
}
