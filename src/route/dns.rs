//! How pods resolve URL's host: CoreDNS's Corefile (kube-system ConfigMap `coredns`), its
//! `rewrite name` rules and `hosts` entries, and whether NodeLocal DNSCache answers pods first
//! (it forwards names outside the cluster domain to the node's resolvers, past CoreDNS).

use crate::diagnosis::{Check, Vantage};
use crate::probe::class::Class;

/// A Corefile rule that answers for the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `rewrite` or `hosts`.
    pub kind: &'static str,
    /// The rule as written.
    pub line: String,
    /// What the host becomes: the rewritten name, or the address.
    pub target: String,
}

const MATCH_KINDS: &[&str] = &["exact", "prefix", "suffix", "substring", "regex"];

/// `rewrite … name [KIND] FROM TO …` (inline, or the `name` line of a `rewrite … {` block), if
/// it rewrites `host`.
fn rewrite(tokens: &[&str], host: &str) -> Option<String> {
    let at = tokens.iter().position(|t| *t == "name")?;
    let rest = &tokens[at + 1..];
    let (kind, rest) = match rest.first() {
        Some(k) if MATCH_KINDS.contains(k) => (*k, &rest[1..]),
        _ => ("exact", rest),
    };
    let (from, to) = (rest.first()?, rest.get(1)?);
    let from_n = from.trim_end_matches('.');
    let hit = match kind {
        "exact" => from_n.eq_ignore_ascii_case(host),
        "prefix" => host.starts_with(from_n),
        "suffix" => host.ends_with(from_n),
        "substring" => host.contains(from_n),
        _ => {
            let re = regex::Regex::new(from).ok()?;
            let host_dot = format!("{host}.");
            let caps = re.captures(&host_dot).or_else(|| re.captures(host))?;
            let mut t = to.to_string();
            for i in 1..caps.len() {
                let v = caps.get(i).map(|m| m.as_str()).unwrap_or_default();
                t = t.replace(&format!("{{{i}}}"), v);
            }
            return Some(t.trim_end_matches('.').to_string());
        }
    };
    hit.then(|| to.trim_end_matches('.').to_string())
}

/// The rules of `corefile` that answer for `host`.
pub fn rules_for(corefile: &str, host: &str) -> Vec<Rule> {
    let host = host.trim_end_matches('.');
    let mut out = Vec::new();
    let mut block: Option<&'static str> = None;
    for raw in corefile.lines() {
        let line = raw.split('#').next().unwrap_or_default().trim();
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.is_empty() {
            continue;
        }
        match (block, tokens[0]) {
            (Some(_), "}") => block = None,
            (None, "rewrite") if line.ends_with('{') => block = Some("rewrite"),
            (None, "hosts") if line.ends_with('{') => block = Some("hosts"),
            (None, "rewrite") | (Some("rewrite"), "name") => {
                if let Some(target) = rewrite(&tokens, host) {
                    out.push(Rule {
                        kind: "rewrite",
                        line: line.to_string(),
                        target,
                    });
                }
            }
            (Some("hosts"), ip)
                if tokens[1..]
                    .iter()
                    .any(|n| n.trim_end_matches('.').eq_ignore_ascii_case(host)) =>
            {
                out.push(Rule {
                    kind: "hosts",
                    line: line.to_string(),
                    target: ip.to_string(),
                });
            }
            _ => {}
        }
    }
    out
}

/// How this machine and the app pod resolved `host`, when they disagree: each side's address
/// as its observed requests to `host` met it (the pod's from `getent hosts`), or the pod's DNS
/// failure. `None` when they agree or either side is unknown.
pub fn resolved_apart(checks: &[Check], host: &str) -> Option<Apart> {
    let to_host = |c: &&Check| {
        c.observed
            && c.url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .is_some_and(|u| u.host_str() == Some(host))
    };
    let here = checks
        .iter()
        .filter(|c| c.vantage == Vantage::Workstation)
        .filter(to_host)
        .find_map(|c| c.address.clone())?;
    let pod_rows: Vec<&Check> = checks
        .iter()
        .filter(|c| c.vantage == Vantage::AppPod)
        .filter(to_host)
        .collect();
    let pod = match pod_rows.iter().find_map(|c| c.address.clone()) {
        Some(a) if a == here => return None,
        Some(a) => a,
        None if pod_rows.iter().any(|c| c.class == Some(Class::Dns)) => String::new(),
        None => return None,
    };
    Some(Apart {
        host: host.to_string(),
        here,
        pod,
    })
}

/// Two answers for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apart {
    pub host: String,
    /// This machine's address for the host.
    pub here: String,
    /// The app pod's; empty when the pod got no address.
    pub pod: String,
}

impl std::fmt::Display for Apart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Apart { host, here, pod } = self;
        if pod.is_empty() {
            write!(
                f,
                "this machine resolves {host} to {here}; the app pod gets no address for it"
            )
        } else {
            write!(
                f,
                "this machine resolves {host} to {here}; the app pod to {pod}"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COREFILE: &str = ".:53 {\n    errors\n    health\n    rewrite name exact devtron.example.com ingress-nginx-controller.ingress-nginx.svc.cluster.local\n    rewrite stop {\n        name regex (.*)\\.apps\\.example\\.com {1}.default.svc.cluster.local\n        answer auto\n    }\n    hosts {\n        10.0.0.9 argocd.example.com\n        fallthrough\n    }\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n    forward . /etc/resolv.conf\n}\n";

    #[test]
    fn rewrites_and_hosts_entries_answer_as_coredns_would() {
        let r = rules_for(COREFILE, "devtron.example.com");
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].target,
            "ingress-nginx-controller.ingress-nginx.svc.cluster.local"
        );
        let r = rules_for(COREFILE, "grafana.apps.example.com");
        assert_eq!(r[0].target, "grafana.default.svc.cluster.local");
        let r = rules_for(COREFILE, "argocd.example.com");
        assert_eq!((r[0].kind, r[0].target.as_str()), ("hosts", "10.0.0.9"));
        assert!(rules_for(COREFILE, "other.example.org").is_empty());
    }

    fn seen(
        id: crate::diagnosis::CheckId,
        url: &str,
        addr: Option<&str>,
        class: Option<Class>,
    ) -> Check {
        let outcome = match class {
            Some(c) => crate::plan::predict::Outcome::fail(c, String::new(), String::new()),
            None => crate::plan::predict::Outcome::pass(String::new()),
        };
        let mut c = Check::observed(id, url, outcome);
        c.address = addr.map(String::from);
        c
    }

    #[test]
    fn two_answers_for_the_host_are_shown_only_when_they_differ() {
        use crate::diagnosis::CheckId::{BrowserApp, PodDiscovery};
        let here = seen(
            BrowserApp,
            "https://d.example.com/orchestrator",
            Some("203.0.113.7"),
            None,
        );
        let pod = |a, class| {
            seen(
                PodDiscovery,
                "https://d.example.com/orchestrator/api/dex/.well-known/openid-configuration",
                a,
                class,
            )
        };
        let host = "d.example.com";
        assert_eq!(
            resolved_apart(&[here.clone(), pod(Some("203.0.113.7"), None)], host),
            None
        );
        let apart = resolved_apart(&[here.clone(), pod(Some("10.96.0.12"), None)], host);
        assert_eq!(
            apart.map(|a| a.to_string()).as_deref(),
            Some("this machine resolves d.example.com to 203.0.113.7; the app pod to 10.96.0.12")
        );
        let none = resolved_apart(&[here.clone(), pod(None, Some(Class::Dns))], host);
        assert_eq!(none.map(|a| a.pod), Some(String::new()));
        // A pod that failed otherwise, without an address, says nothing about DNS.
        assert_eq!(
            resolved_apart(
                &[here.clone(), pod(None, Some(Class::ConnectTimeout))],
                host
            ),
            None
        );
        // Another host's rows are not compared.
        assert_eq!(
            resolved_apart(&[here, pod(Some("10.96.0.12"), None)], "other.example.com"),
            None
        );
    }
}
