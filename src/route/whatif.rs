//! The what-if the route allows: an ingress host that already reaches the app, as a URL both
//! sides could use, with the objects to add or change for the pod's side (CoreDNS, the
//! allow-list) named.

use super::allow;
use super::chain::{self, End};
use super::dns;
use super::objects::Objects;
use super::serves::{self, Served};
use crate::app::Install;
use crate::diagnosis::{Candidate, Cell};
use crate::plan::predict::Status;

fn cell(status: Status, label: impl Into<String>) -> Cell {
    Cell {
        status,
        label: label.into(),
    }
}

/// The hosts of Ingress rules (no wildcards), each once.
fn ingress_hosts(o: &Objects) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for ing in &o.ingresses {
        let spec = ing.spec.clone().unwrap_or_default();
        let tls_hosts: Vec<String> = spec
            .tls
            .iter()
            .flatten()
            .flat_map(|t| t.hosts.clone().unwrap_or_default())
            .collect();
        for h in spec.rules.iter().flatten().filter_map(|r| r.host.clone()) {
            if !h.starts_with('*') && !out.iter().any(|(x, _)| *x == h) {
                let tls = tls_hosts.iter().any(|t| serves::host_matches(t, &h));
                out.push((h, tls));
            }
        }
    }
    out
}

/// What serves `host`'s `path`, when it reaches the app's Service on its listen port.
fn reaches_app<'o>(
    o: &'o Objects,
    install: &Install,
    host: &str,
    path: &str,
) -> Option<Served<'o>> {
    let p = install.profile();
    let served = serves::served(o, host, 443, path);
    let b = served.backend()?;
    if b.service != p.server.service || b.namespace != install.namespace {
        return None;
    }
    match chain::follow(o, b) {
        End::Reached { target_port, .. }
            if target_port.is_none_or(|t| t == i32::from(p.listen_port)) =>
        {
            Some(served)
        }
        _ => None,
    }
}

/// How the app pod would fare at `host`: CoreDNS's answer and the allow-list.
fn pod_side(o: &Objects, install: &Install, host: &str, served: &Served) -> (Cell, Vec<String>) {
    let mut todo = Vec::new();
    let p = install.profile();
    let corefile = o
        .configmap("kube-system", "coredns")
        .and_then(|c| c.get("Corefile"));
    let rule = corefile.and_then(|c| dns::rules_for(c, host).into_iter().next());
    let mut pod = match &rule {
        Some(r) => cell(Status::Pass, format!("ok (CoreDNS {})", r.kind)),
        None => {
            todo.push(format!(
                "pods: {}",
                crate::knowledge::remedy::coredns_rewrite(host)
            ));
            cell(Status::Unknown, "needs live check")
        }
    };
    if let Served::Ingress { ingress, .. } = served {
        let sources = allow::sources(o, p.server.selector, &install.namespace);
        for l in allow::of_ingress(o, ingress) {
            let outside = l.outside(&sources);
            if !outside.is_empty() && rule.is_none() {
                pod = cell(Status::Fail, "allow_list");
                todo.push(format!("allow-list: {}", l.fix_adding(&outside)));
            }
        }
    }
    (pod, todo)
}

/// Each ingress host that reaches the app, as a what-if column (the URL in use left out).
pub fn candidates(o: &Objects, install: &Install, current: Option<&str>) -> Vec<Candidate> {
    let p = install.profile();
    let path = p.path_prefix.unwrap_or("/").to_string();
    ingress_hosts(o)
        .into_iter()
        .filter_map(|(host, tls)| {
            let served = reaches_app(o, install, &host, &path)?;
            let scheme = if tls { "https" } else { "http" };
            let url = format!("{scheme}://{host}{}", p.path_prefix.unwrap_or(""));
            if current.is_some_and(|c| c.trim_end_matches('/') == url) {
                return None;
            }
            let (pod, todo) = pod_side(o, install, &host, &served);
            let result = match pod.status {
                Status::Fail => cell(Status::Fail, format!("pod: {}", pod.label)),
                _ => cell(Status::Unknown, "may work: needs live check"),
            };
            let mut requires = vec![format!(
                "{} already routes {host}{path} to the app; set {} to {url}",
                served.describe(),
                p.url_setting
            )];
            requires.extend(todo);
            Some(Candidate {
                url,
                browser: cell(Status::Unknown, "needs live check"),
                pod,
                return_url: cell(Status::Pass, format!("ok ({scheme}://{host})")),
                result,
                recommended: false,
                requires: Some(requires.join("; ")),
            })
        })
        .collect()
}
