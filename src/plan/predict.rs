//! Offline predictions: what a vantage will see when it fetches a URL, from the URL alone.
//!
//! - A loopback host seen from a pod is the pod itself: connection refused, unless the port is
//!   the orchestrator's own container port 8080, where the orchestrator answers.
//! - Cluster-internal names (`*.svc`, `*.svc.cluster.local`, bare service names) resolve only
//!   inside the cluster.
//! - A public name from a pod needs in-cluster DNS and hairpin routing: unknown until probed.

use serde::Serialize;

use super::gourl::GoUrl;
use crate::app::{DexCall, Profile};
use crate::probe::class::Class;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Unknown,
    Skip,
    Warn,
    Fail,
}

impl Status {
    /// The name every output format uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Unknown => "unknown",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// A predicted or observed outcome of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    /// The failure class, `None` on a pass.
    pub class: Option<Class>,
    /// The low-level error in Go's words, as the app would log it.
    pub go_error: Option<String>,
    /// A sentence for people.
    pub note: String,
}

impl Outcome {
    pub fn pass(note: impl Into<String>) -> Self {
        Outcome {
            status: Status::Pass,
            class: None,
            go_error: None,
            note: note.into(),
        }
    }
    pub fn unknown(note: impl Into<String>) -> Self {
        Outcome {
            status: Status::Unknown,
            class: None,
            go_error: None,
            note: note.into(),
        }
    }
    pub fn skip(note: impl Into<String>) -> Self {
        Outcome {
            status: Status::Skip,
            class: None,
            go_error: None,
            note: note.into(),
        }
    }
    pub fn fail(class: Class, go_error: impl Into<String>, note: impl Into<String>) -> Self {
        Outcome {
            status: Status::Fail,
            class: Some(class),
            go_error: Some(go_error.into()),
            note: note.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Loopback,
    Cluster,
    Public,
}

/// Classifies a hostname (no port, no brackets).
pub fn host_kind(hostname: &str) -> HostKind {
    let h = hostname.trim_end_matches('.').to_ascii_lowercase();
    if h == "localhost"
        || h.ends_with(".localhost")
        || h == "::1"
        || h.starts_with("127.") && h.parse::<std::net::Ipv4Addr>().is_ok()
    {
        return HostKind::Loopback;
    }
    if h.parse::<std::net::IpAddr>().is_ok() {
        return HostKind::Public;
    }
    if h.ends_with(".svc")
        || h.ends_with(".svc.cluster.local")
        || h.ends_with(".cluster.local")
        || !h.contains('.')
    {
        return HostKind::Cluster;
    }
    HostKind::Public
}

/// The address Go prints in `dial tcp <addr>: …` for a loopback host.
pub fn dial_addr(hostname: &str, port: u16) -> String {
    if hostname.eq_ignore_ascii_case("localhost") || hostname.contains(':') {
        // Go tries ::1 first for localhost and reports it (the seed's `dial tcp [::1]:8082`).
        let ip = if hostname.contains(':') {
            hostname
        } else {
            "::1"
        };
        format!("[{ip}]:{port}")
    } else {
        format!("{hostname}:{port}")
    }
}

/// What the workstation's browser sees when it opens `url`.
pub fn workstation(url: &GoUrl) -> Outcome {
    if let Some(o) = scheme_problem(url) {
        return o;
    }
    let host = url.hostname();
    let port = url.effective_port().unwrap_or(80);
    match host_kind(host) {
        HostKind::Loopback => Outcome::pass(format!(
            "{host}:{port} is this workstation: reachable while a port-forward listens on local port {port}"
        )),
        // A single label is a placeholder or a name a search domain completes: not knowable here.
        HostKind::Cluster if !host.contains('.') => Outcome::unknown(format!(
            "{host} is a single-label name (a placeholder, or a name only a DNS search domain completes): needs a live check"
        )),
        HostKind::Cluster => Outcome::fail(
            Class::Dns,
            format!("dial tcp: lookup {host}: no such host"),
            format!(
                "{host} is a cluster-internal name: it resolves only inside the cluster, not on a workstation"
            ),
        ),
        HostKind::Public => Outcome::unknown(format!(
            "{host} is a public name: whether this workstation reaches it needs a live check"
        )),
    }
}

fn scheme_problem(url: &GoUrl) -> Option<Outcome> {
    match url.scheme.as_str() {
        "http" | "https" if !url.host.is_empty() => None,
        "http" | "https" => Some(Outcome::fail(
            Class::UnsupportedScheme,
            "http: no Host in request URL",
            "the URL has no host",
        )),
        s => Some(Outcome::fail(
            Class::UnsupportedScheme,
            format!("unsupported protocol scheme {s:?}"),
            if s.is_empty() {
                "the URL has no scheme: Go's HTTP client cannot fetch it".to_string()
            } else {
                format!("scheme {s:?} is not http or https")
            },
        )),
    }
}

/// What the app pod sees when it fetches `url` itself (Devtron's login path: no rewrite).
pub fn app_pod(p: &Profile, url: &GoUrl) -> Outcome {
    if let Some(o) = scheme_problem(url) {
        return o;
    }
    let host = url.hostname();
    let Some(port) = url.effective_port() else {
        return Outcome::fail(
            Class::UnsupportedScheme,
            format!("dial tcp: address {}: invalid port", url.host),
            "the port is not a number",
        );
    };
    let server = p.server_name;
    let own_port = p.container_port == Some(port);
    match host_kind(host) {
        HostKind::Loopback if own_port && url.scheme == "http" => Outcome::pass(format!(
            "inside the pod {host}:{port} is {server} container itself, which proxies {}/api/dex to Dex",
            p.path_prefix.unwrap_or("")
        )),
        HostKind::Loopback if own_port => Outcome::fail(
            Class::HttpToHttps,
            "http: server gave HTTP response to HTTPS client",
            format!("inside the pod {host}:{port} is {server}, which speaks plain HTTP, not TLS"),
        ),
        HostKind::Loopback => Outcome::fail(
            Class::Refused,
            format!(
                "dial tcp {}: connect: connection refused",
                dial_addr(host, port)
            ),
            format!(
                "inside the pod {host} is the pod itself, and nothing listens on port {port} there{}",
                p.container_port
                    .map(|cp| format!(" ({server} listens on {cp})"))
                    .unwrap_or_default()
            ),
        ),
        HostKind::Cluster if port == 80 && url.scheme == "http" => Outcome::pass(format!(
            "{host} resolves inside the cluster; assumes a Service there on port 80 that routes to {server}"
        )),
        HostKind::Cluster => Outcome::unknown(format!(
            "{host} resolves inside the cluster; whether a Service answers {} on port {port} needs a live check",
            url.scheme
        )),
        HostKind::Public => Outcome::unknown(format!(
            "from a pod, {host} needs cluster DNS to resolve it and a route back in (hairpin): needs a live check"
        )),
    }
}

/// The step an app's server takes to reach Dex: Devtron fetches the public URL itself,
/// Argo CD rewrites the call to the in-cluster Dex service.
pub fn app_to_dex(p: &Profile, discovery: &GoUrl, internal: &GoUrl) -> Outcome {
    match p.dex_call {
        DexCall::PublicUrl => app_pod(p, discovery),
        DexCall::Rewrite => {
            let host = internal.hostname();
            if host_kind(host) == HostKind::Loopback {
                // Concourse: Dex runs in the web node, reached over the pod's own loopback.
                return Outcome::pass(format!(
                    "{} sends its own calls to its Dex over the pod's loopback ({}), so the public URL need not be reachable from the pod",
                    p.name, internal.host
                ));
            }
            Outcome::pass(format!(
                "{} rewrites server→Dex calls to {}, so the public URL need not be reachable from the pod; assumes the {host} Service answers",
                p.name, internal.host
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::devtron::PROFILE as DEVTRON;

    fn u(s: &str) -> GoUrl {
        GoUrl::parse(s).unwrap()
    }

    #[test]
    fn loopback_from_pod() {
        let o = app_pod(
            &DEVTRON,
            &u("http://localhost:8082/orchestrator/api/dex/.well-known/openid-configuration"),
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.go_error.as_deref(),
            Some("dial tcp [::1]:8082: connect: connection refused")
        );
        assert_eq!(
            app_pod(&DEVTRON, &u("http://localhost:8080/orchestrator")).status,
            Status::Pass
        );
        assert_eq!(
            app_pod(&DEVTRON, &u("http://127.0.0.1:9000/x"))
                .go_error
                .as_deref(),
            Some("dial tcp 127.0.0.1:9000: connect: connection refused")
        );
    }

    #[test]
    fn cluster_names_from_workstation() {
        let o = workstation(&u(
            "http://devtron-service.devtroncd.svc.cluster.local/orchestrator",
        ));
        assert_eq!(o.class, Some(Class::Dns));
        assert_eq!(
            app_pod(
                &DEVTRON,
                &u("http://devtron-service.devtroncd.svc.cluster.local/orchestrator")
            )
            .status,
            Status::Pass
        );
    }

    #[test]
    fn public_from_pod_is_never_a_pass() {
        assert_eq!(
            app_pod(&DEVTRON, &u("https://devtron.example.com/orchestrator")).status,
            Status::Unknown
        );
    }

    #[test]
    fn empty_url_is_unsupported_scheme() {
        let o = app_pod(&DEVTRON, &u("api/dex/.well-known/openid-configuration"));
        assert_eq!(
            o.go_error.as_deref(),
            Some("unsupported protocol scheme \"\"")
        );
    }
}
