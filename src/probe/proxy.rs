//! Which proxy a Go program would use for a URL: `golang.org/x/net/http/httpproxy` semantics.
//!
//! Written out on purpose rather than taken from reqwest: the report must say what the *app*
//! (a Go program) does with the same environment, and Go's rules differ from reqwest's (Go never
//! proxies `localhost` or a loopback IP, reads upper-case variables first, matches `NO_PROXY`
//! domains as suffixes with an optional port). The probes then use exactly this decision.

use std::net::IpAddr;

use serde::Serialize;

/// The proxy variables as read from the environment, credentials removed for display.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProxyEnv {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_proxy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub https_proxy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_proxy: Option<String>,
    /// The values as set, credentials included: redacted in Debug, never serialised.
    #[serde(skip)]
    raw_http: Option<crate::secret::Secret>,
    #[serde(skip)]
    raw_https: Option<crate::secret::Secret>,
}

fn env_any(names: &[&str], get: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    names.iter().find_map(|n| get(n).filter(|v| !v.is_empty()))
}

/// `http://user:pass@proxy:3128` → `http://proxy:3128`: proxy credentials are secrets.
pub fn redact_userinfo(proxy: &str) -> String {
    match proxy.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://{host}{tail}"),
                None => proxy.to_string(),
            }
        }
        None => match proxy.rsplit_once('@') {
            Some((_, host)) => host.to_string(),
            None => proxy.to_string(),
        },
    }
}

impl ProxyEnv {
    pub fn from_env() -> Self {
        Self::from_lookup(&|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Self {
        let raw_http = env_any(&["HTTP_PROXY", "http_proxy"], get);
        let raw_https = env_any(&["HTTPS_PROXY", "https_proxy"], get);
        let no_proxy = env_any(&["NO_PROXY", "no_proxy"], get);
        ProxyEnv {
            http_proxy: raw_http.as_deref().map(redact_userinfo),
            https_proxy: raw_https.as_deref().map(redact_userinfo),
            no_proxy,
            raw_http: raw_http.map(crate::secret::Secret::new),
            raw_https: raw_https.map(crate::secret::Secret::new),
        }
    }

    /// Makes `b` use exactly this decision for every request (and each redirect hop).
    pub fn configure(&self, b: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let b = b.no_proxy();
        if self.is_empty() {
            return b;
        }
        let env = self.clone();
        b.proxy(reqwest::Proxy::custom(move |u| {
            env.proxy_for(u.scheme(), &super::http::host_of(u), u.port())
        }))
    }

    pub fn is_empty(&self) -> bool {
        self.raw_http.is_none() && self.raw_https.is_none()
    }

    /// The proxy URL Go would use for a request to `scheme://host[:port]`, if any. `host` is the
    /// URL's host without brackets.
    pub fn proxy_for(&self, scheme: &str, host: &str, port: Option<u16>) -> Option<String> {
        let raw = match scheme {
            "http" => self.raw_http.as_ref()?.expose(),
            "https" => self.raw_https.as_ref()?.expose(),
            _ => return None,
        };
        let port = port.or(match scheme {
            "https" => Some(443),
            _ => Some(80),
        });
        if !use_proxy(self.no_proxy.as_deref().unwrap_or(""), host, port) {
            return None;
        }
        // Go: a value without a scheme is taken as http://.
        Some(if raw.contains("://") {
            raw.to_string()
        } else {
            format!("http://{raw}")
        })
    }
}

/// `useProxy` from httpproxy: false when the host must be reached directly.
fn use_proxy(no_proxy: &str, host: &str, port: Option<u16>) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return true;
    }
    if host == "localhost" {
        return false;
    }
    let ip: Option<IpAddr> = host.parse().ok();
    if ip.is_some_and(|i| i.is_loopback()) {
        return false;
    }
    let port = port.map(|p| p.to_string()).unwrap_or_default();
    for entry in no_proxy.split(',') {
        let entry = entry.trim().to_ascii_lowercase();
        if entry.is_empty() {
            continue;
        }
        if entry == "*" {
            return false;
        }
        if let Some((net, bits)) = entry.split_once('/') {
            if let (Some(ip), Ok(net), Ok(bits)) = (ip, net.parse::<IpAddr>(), bits.parse::<u8>())
                && cidr_contains(net, bits, ip)
            {
                return false;
            }
            continue;
        }
        let (ehost, eport) = split_host_port(&entry);
        if let Ok(eip) = ehost.parse::<IpAddr>() {
            if ip == Some(eip) && (eport.is_empty() || eport == port) {
                return false;
            }
            continue;
        }
        let ehost = ehost.strip_prefix('*').unwrap_or(ehost);
        let (suffix, match_host) = match ehost.strip_prefix('.') {
            Some(_) => (ehost.to_string(), false),
            None => (format!(".{ehost}"), true),
        };
        if (host.ends_with(&suffix) || (match_host && host == suffix[1..]))
            && (eport.is_empty() || eport == port)
        {
            return false;
        }
    }
    true
}

fn split_host_port(entry: &str) -> (&str, &str) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':').unwrap_or("")),
            None => (entry, ""),
        };
    }
    match entry.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => (h, p),
        _ => (entry, ""),
    }
}

fn cidr_contains(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ProxyEnv {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxyEnv::from_lookup(&move |k| owned.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn go_rules() {
        let e = env(&[
            ("HTTP_PROXY", "proxy:3128"),
            ("https_proxy", "http://u:secret@proxy:3129"),
            (
                "NO_PROXY",
                "example.com, .svc,10.0.0.0/8,192.168.1.1,*.corp:8443",
            ),
        ]);
        assert_eq!(
            e.proxy_for("http", "devtron.test", None).as_deref(),
            Some("http://proxy:3128")
        );
        assert_eq!(e.https_proxy.as_deref(), Some("http://proxy:3129"));
        assert_eq!(e.proxy_for("http", "localhost", Some(8082)), None);
        assert_eq!(e.proxy_for("http", "127.0.0.1", Some(8082)), None);
        assert_eq!(e.proxy_for("http", "::1", None), None);
        assert_eq!(e.proxy_for("http", "example.com", None), None);
        assert_eq!(e.proxy_for("http", "a.example.com", None), None);
        assert!(e.proxy_for("http", "notexample.com", None).is_some());
        assert!(e.proxy_for("http", "svc", None).is_some());
        assert_eq!(e.proxy_for("http", "dex.devtroncd.svc", None), None);
        assert_eq!(e.proxy_for("http", "10.1.2.3", None), None);
        assert_eq!(e.proxy_for("http", "192.168.1.1", None), None);
        assert!(e.proxy_for("http", "192.168.1.2", None).is_some());
        assert_eq!(e.proxy_for("https", "x.corp", Some(8443)), None);
        assert!(e.proxy_for("https", "x.corp", None).is_some());
        assert_eq!(e.proxy_for("ftp", "x", None), None);
    }

    #[test]
    fn star_and_empty() {
        let e = env(&[("HTTP_PROXY", "http://p:1"), ("NO_PROXY", "*")]);
        assert_eq!(e.proxy_for("http", "a.test", None), None);
        assert!(env(&[]).is_empty());
        assert_eq!(
            env(&[("HTTPS_PROXY", "x")]).proxy_for("http", "a", None),
            None
        );
    }
}
