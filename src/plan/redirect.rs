//! The login `return_url` rule of Devtron and Argo CD (`isValidRedirectURL`), with Go semantics,
//! reporting which sub-rule decided.
//!
//! Upstream: an empty return URL is valid; it must parse; an empty path counts as `/`; a CR or LF
//! in the decoded path rejects it; then for some allowed URL (empty path → `/`), the lower-cased
//! schemes must be equal, the raw `host[:port]` strings must be equal byte for byte, and
//! `path.Clean(return.path)` must start with the allowed path (plain string prefix, allowed path
//! not cleaned).

use serde::Serialize;

use super::gourl::{GoUrl, clean};

/// The sub-rule that decided the outcome. Stable identifiers: they appear in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Valid: an empty return URL is accepted upstream.
    Empty,
    /// Valid: scheme, host and path prefix all matched.
    Match,
    /// The return URL does not parse as a Go URL.
    Parse,
    /// The decoded path holds a carriage return or line feed.
    Crlf,
    /// The return URL has no scheme and host, the allowed URL has.
    Relative,
    /// Schemes differ (after lower-casing).
    Scheme,
    /// `host[:port]` strings differ, and not only by a default port or letter case.
    Host,
    /// The hosts differ only by an explicit default port (`:443`, `:80`): Go does not normalise.
    HostDefaultPort,
    /// The hosts differ only by letter case: Go compares bytes.
    HostCase,
    /// The cleaned return path does not start with the allowed path.
    PathPrefix,
    /// As `PathPrefix`, caused by a trailing slash on the allowed URL (never cleaned upstream).
    PathTrailingSlash,
    /// No allowed URL parses.
    AllowedUnparseable,
}

impl Rule {
    pub fn id(self) -> &'static str {
        match self {
            Rule::Empty => "empty",
            Rule::Match => "match",
            Rule::Parse => "parse",
            Rule::Crlf => "crlf",
            Rule::Relative => "relative",
            Rule::Scheme => "scheme",
            Rule::Host => "host",
            Rule::HostDefaultPort => "host_default_port",
            Rule::HostCase => "host_case",
            Rule::PathPrefix => "path_prefix",
            Rule::PathTrailingSlash => "path_trailing_slash",
            Rule::AllowedUnparseable => "allowed_unparseable",
        }
    }
}

/// The decision with the two values that were compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedirectVerdict {
    pub valid: bool,
    pub rule: Rule,
    /// What the allowed side required (scheme, host or path of the allowed URL).
    pub expected: String,
    /// What the return URL had.
    pub actual: String,
    /// One sentence naming the sub-rule and both values.
    pub explanation: String,
}

/// The message Devtron and Argo CD (≥ 2.2) answer with, HTTP 400.
pub const INVALID_REDIRECT: &str = "Invalid redirect URL: the protocol and host (including port) must match and the path must be within allowed URLs if provided";

fn verdict(
    valid: bool,
    rule: Rule,
    expected: &str,
    actual: &str,
    explanation: String,
) -> RedirectVerdict {
    RedirectVerdict {
        valid,
        rule,
        expected: expected.to_string(),
        actual: actual.to_string(),
        explanation,
    }
}

/// Checks `return_url` against the allowed base URLs exactly as upstream does.
pub fn check(return_url: &str, allowed: &[&str]) -> RedirectVerdict {
    if return_url.is_empty() {
        return verdict(
            true,
            Rule::Empty,
            "",
            "",
            "an empty return URL is always accepted".into(),
        );
    }
    let mut r = match GoUrl::parse(return_url) {
        Ok(r) => r,
        Err(e) => {
            return verdict(
                false,
                Rule::Parse,
                "a URL Go can parse",
                return_url,
                format!("the return URL does not parse: {e}"),
            );
        }
    };
    if r.path.is_empty() {
        r.path = "/".into();
    }
    if r.path.contains(['\r', '\n']) {
        return verdict(
            false,
            Rule::Crlf,
            "no CR or LF in the path",
            &r.path,
            "the decoded return path contains CR or LF".into(),
        );
    }
    let mut first_failure: Option<RedirectVerdict> = None;
    for base in allowed {
        let Ok(mut b) = GoUrl::parse(base) else {
            continue;
        };
        if b.path.is_empty() {
            b.path = "/".into();
        }
        let outcome = compare(&r, &b);
        if outcome.valid {
            return outcome;
        }
        // Prefer the failure that got furthest (a path failure over a host failure).
        let better = match &first_failure {
            None => true,
            Some(f) => rank(outcome.rule) > rank(f.rule),
        };
        if better {
            first_failure = Some(outcome);
        }
    }
    first_failure.unwrap_or_else(|| {
        verdict(
            false,
            Rule::AllowedUnparseable,
            "a parseable allowed URL",
            &allowed.join(", "),
            "no allowed URL parses".into(),
        )
    })
}

fn rank(rule: Rule) -> u8 {
    match rule {
        Rule::PathPrefix | Rule::PathTrailingSlash => 3,
        Rule::Host | Rule::HostCase | Rule::HostDefaultPort => 2,
        _ => 1,
    }
}

fn compare(r: &GoUrl, b: &GoUrl) -> RedirectVerdict {
    if r.scheme.is_empty() && r.host.is_empty() && !(b.scheme.is_empty() && b.host.is_empty()) {
        let origin = format!("{}://{}", b.scheme, b.host);
        return verdict(
            false,
            Rule::Relative,
            &origin,
            &r.path,
            format!(
                "the return URL is relative ({:?}) but the allowed URL has scheme and host {origin:?}: upstream compares them and finds \"\" ≠ {:?}",
                r.path, b.scheme
            ),
        );
    }
    if r.scheme != b.scheme {
        return verdict(
            false,
            Rule::Scheme,
            &b.scheme,
            &r.scheme,
            format!("scheme {:?} ≠ allowed scheme {:?}", r.scheme, b.scheme),
        );
    }
    if r.host != b.host {
        let rule = host_rule(&r.scheme, &r.host, &b.host);
        let why = match rule {
            Rule::HostDefaultPort => {
                " (they differ only by an explicit default port, which Go does not normalise)"
            }
            Rule::HostCase => " (they differ only by letter case, and Go compares bytes)",
            _ => "",
        };
        return verdict(
            false,
            rule,
            &b.host,
            &r.host,
            format!("host {:?} ≠ allowed host {:?}{why}", r.host, b.host),
        );
    }
    let cleaned = clean(&r.path);
    if cleaned.starts_with(&b.path) {
        return verdict(
            true,
            Rule::Match,
            &b.path,
            &cleaned,
            format!(
                "scheme and host match, and path {cleaned:?} starts with {:?}",
                b.path
            ),
        );
    }
    let trailing = b.path.len() > 1
        && b.path.ends_with('/')
        && cleaned.starts_with(b.path.trim_end_matches('/'));
    if trailing {
        return verdict(
            false,
            Rule::PathTrailingSlash,
            &b.path,
            &cleaned,
            format!(
                "path {cleaned:?} does not start with allowed path {:?}: the allowed path keeps its trailing slash (it is not cleaned upstream)",
                b.path
            ),
        );
    }
    verdict(
        false,
        Rule::PathPrefix,
        &b.path,
        &cleaned,
        format!(
            "path {cleaned:?} (cleaned) does not start with allowed path {:?}",
            b.path
        ),
    )
}

fn strip_default_port<'a>(scheme: &str, host: &'a str) -> &'a str {
    let default = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return host,
    };
    host.strip_suffix(default).unwrap_or(host)
}

fn host_rule(scheme: &str, r: &str, b: &str) -> Rule {
    let (rs, bs) = (strip_default_port(scheme, r), strip_default_port(scheme, b));
    if rs == bs {
        Rule::HostDefaultPort
    } else if rs.eq_ignore_ascii_case(bs) {
        if r.eq_ignore_ascii_case(b) {
            Rule::HostCase
        } else {
            Rule::HostDefaultPort
        }
    } else {
        Rule::Host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A return URL, the allowed URLs, whether it is valid, and the rule that decides.
    type Vector = (&'static str, &'static [&'static str], bool, Rule);

    /// Reference §7.3: Argo CD's `TestIsValidRedirect` (`util/oidc/oidc_test.go`), the rule
    /// Devtron copies.
    const UPSTREAM_VECTORS: &[Vector] = &[
        (
            "https://localhost:4000",
            &["https://localhost:4000/"],
            true,
            Rule::Match,
        ),
        ("", &["https://localhost:4000/"], true, Rule::Empty),
        (
            "https://localhost:4000/",
            &["https://localhost:4000"],
            true,
            Rule::Match,
        ),
        (
            "https://localhost:4000",
            &["https://wherever:4000", "https://localhost:4000"],
            true,
            Rule::Match,
        ),
        (
            "https://localhost:4000",
            &["https://wherever:4000", "https://invalid:4000"],
            false,
            Rule::Host,
        ),
        (
            "https://localhost:4000/applications",
            &["https://localhost:4000/argocd"],
            false,
            Rule::PathPrefix,
        ),
        (
            "https://localhost:4000/argocd/applications",
            &["https://localhost:4000/argocd"],
            true,
            Rule::Match,
        ),
        (
            "https://localhost:4000/argocd/../applications",
            &["https://localhost:4000/argocd"],
            false,
            Rule::PathPrefix,
        ),
        (
            "http://localhost:4000",
            &["https://localhost:4000"],
            false,
            Rule::Scheme,
        ),
        (
            "https://localhost",
            &["https://localhost:80"],
            false,
            Rule::Host,
        ),
        (
            "https://localhost:80/argocd\r\n",
            &["https://localhost:80/argocd\r\n"],
            false,
            Rule::Parse,
        ),
    ];

    /// Reference §7.3's derived cases: the seed's port-forward and in-cluster URLs, and the shapes
    /// Go `net/url` keeps apart (default port, trailing slash, relative, scheme and host case).
    const DEVTRON_VECTORS: &[Vector] = &[
        (
            "http://localhost:8082/orchestrator/dashboard/app/list",
            &["http://devtron-service.devtroncd.svc.cluster.local/orchestrator"],
            false,
            Rule::Host,
        ),
        (
            "http://localhost:8082/orchestrator/dashboard/app/list",
            &["http://localhost:8082/orchestrator"],
            true,
            Rule::Match,
        ),
        (
            "https://devtron.example.com/orchestrator/dashboard",
            &["https://devtron.example.com:443/orchestrator"],
            false,
            Rule::HostDefaultPort,
        ),
        (
            "https://devtron.example.com/orchestrator",
            &["https://devtron.example.com/orchestrator/"],
            false,
            Rule::PathTrailingSlash,
        ),
        (
            "https://devtron.example.com/orchestratorX",
            &["https://devtron.example.com/orchestrator"],
            true,
            Rule::Match,
        ),
        (
            "/dashboard",
            &["https://devtron.example.com/orchestrator"],
            false,
            Rule::Relative,
        ),
        (
            "HTTPS://devtron.example.com/orchestrator/x",
            &["https://devtron.example.com/orchestrator"],
            true,
            Rule::Match,
        ),
        (
            "https://Devtron.example.com/orchestrator/x",
            &["https://devtron.example.com/orchestrator"],
            false,
            Rule::HostCase,
        ),
    ];

    #[test]
    fn reference_vectors() {
        for (ret, allowed, valid, rule) in UPSTREAM_VECTORS.iter().chain(DEVTRON_VECTORS) {
            let v = check(ret, allowed);
            assert_eq!(
                (v.valid, v.rule),
                (*valid, *rule),
                "{ret:?} against {allowed:?}: {}",
                v.explanation
            );
        }
    }

    #[test]
    fn crlf_after_decoding() {
        let v = check("https://h/orchestrator/%0d%0a", &["https://h/orchestrator"]);
        assert_eq!((v.valid, v.rule), (false, Rule::Crlf));
    }

    #[test]
    fn failure_names_both_values() {
        let v = check(
            "http://localhost:8082/orchestrator/dashboard/",
            &["http://devtron-service.devtroncd.svc.cluster.local/orchestrator"],
        );
        assert_eq!(v.expected, "devtron-service.devtroncd.svc.cluster.local");
        assert_eq!(v.actual, "localhost:8082");
        assert!(
            v.explanation.contains("localhost:8082") && v.explanation.contains("devtron-service")
        );
    }
}
