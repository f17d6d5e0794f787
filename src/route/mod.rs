//! The route behind URL, read from the cluster's own objects: a source of evidence beside the
//! probes. What serves URL's host and Dex's path (an Ingress rule, an HTTPRoute, a Service) and
//! the chain to the app's container port; who it lets in (allow-lists against the app pods'
//! nodes); how pods resolve the host (CoreDNS); the edge certificate; PROXY protocol on the load
//! balancer. Every read is optional: what was not read is said, never guessed.

pub mod allow;
pub mod chain;
pub mod dns;
pub mod edge;
pub mod objects;
pub mod read;
pub mod serves;
pub mod tls;
pub mod whatif;

use serde::Serialize;

use crate::app::Install;
use crate::diagnosis::{Check, CheckId};
use crate::plan::predict::{HostKind, Outcome, Status, host_kind};
use crate::probe::class::Class;
use chain::End;
pub use objects::Objects;
use serves::Served;

/// What the route was read from, and what could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `the cluster` or the dump files.
    pub from: String,
    pub read: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What the route is read for: URL, Dex's issuer, the install.
pub struct Target<'a> {
    pub url: url::Url,
    pub issuer: Option<url::Url>,
    pub install: &'a Install,
}

impl<'a> Target<'a> {
    /// The target of a URL and issuer as configured, if URL names a host the cluster may route.
    pub fn new(url: Option<&str>, issuer: Option<&str>, install: &'a Install) -> Option<Self> {
        let url = url::Url::parse(url?).ok()?;
        let host = url.host_str()?.trim_matches(['[', ']']);
        if host_kind(host) == HostKind::Loopback {
            return None;
        }
        Some(Target {
            issuer: issuer.and_then(|i| url::Url::parse(i).ok()),
            url,
            install,
        })
    }
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }
    fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(80)
    }
    /// The paths the route must serve: URL's own and Dex's (when on the same host).
    pub fn paths(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("URL", path_of(&self.url))];
        if let Some(i) = self
            .issuer
            .as_ref()
            .filter(|i| i.host_str() == self.url.host_str())
        {
            out.push(("Dex's issuer", path_of(i)));
        }
        out
    }
}

fn path_of(u: &url::Url) -> String {
    match u.path() {
        "" => "/".into(),
        p => p.to_string(),
    }
}

/// Adds the route rows of `o` (read from `from`) to a diagnosis, when URL names a host the
/// cluster may route; a port-forward or loopback URL has no route to read.
pub fn add_to(d: &mut crate::diagnosis::Diagnosis, o: &Objects, from: String) {
    let issuer = d.endpoints.as_ref().map(|e| e.issuer.clone());
    let install = d.install.clone();
    let extra = whatif::candidates(o, &install, d.url.as_deref());
    if !extra.is_empty() {
        let none_yet = !d.candidates.iter().any(|c| c.recommended);
        d.candidates.extend(extra);
        if none_yet
            && let Some(c) = d
                .candidates
                .iter_mut()
                .find(|c| c.result.status != Status::Fail)
        {
            c.recommended = true;
        }
    }
    let rows = Target::new(d.url.as_deref(), issuer.as_deref(), &install)
        .map(|t| checks(o, &t, &d.checks))
        .unwrap_or_default();
    let summary = Summary {
        from,
        read: o.read.clone(),
        notes: o.notes.clone(),
    };
    crate::diagnosis::add_route(d, rows, summary);
}

/// Every route row for `t` from `o`; `observed` holds the probes' rows (the addresses each
/// side resolved URL's host to).
pub fn checks(o: &Objects, t: &Target, observed: &[Check]) -> Vec<Check> {
    // What serves URL's own path (the login and its callback): the rows below all start there.
    let served = serves::served(o, t.host(), t.port(), &path_of(&t.url));
    let mut out = vec![serves_row(o, t)];
    out.extend(allow_row(o, t, &served));
    out.extend(dns_row(o, t, &served, observed));
    out.extend(tls_row(o, t, &served));
    out.extend(edge::proxy_protocol_row(o, t.host()));
    if let Served::Ingress { ingress, .. } = &served {
        out.extend(edge::header_budget_row(o, ingress));
    }
    out
}

/// One path's route and chain: its status, a sentence, and a fix when it breaks.
fn one_path(o: &Objects, t: &Target, what: &str, path: &str) -> (Status, String, Option<String>) {
    let served = serves::served(o, t.host(), t.port(), path);
    let head = format!("{what} {path}: {}", served.describe());
    let Some(b) = served.backend() else {
        let note = match served {
            Served::Nothing(_) => head,
            _ => format!(
                "{head}: a backend that is not a Service (a resource backend), which dexcheck does not follow"
            ),
        };
        return (Status::Unknown, note, None);
    };
    if let Served::HttpRoute { route, .. } = &served
        && let Some(l) = serves::listener(o, route, t.host(), t.url.scheme(), t.port())
    {
        match l {
            Err(why) => {
                return (
                    Status::Fail,
                    format!("{head}: {why}"),
                    Some(format!(
                        "Give the Gateway a listener for {} over {} on port {}",
                        t.host(),
                        t.url.scheme(),
                        t.port()
                    )),
                );
            }
            Ok(on) => return finish_path(o, t, what, path, b, format!("{head} on {on}")),
        }
    }
    finish_path(o, t, what, path, b, head)
}

/// The chain behind a path's backend, and whether it ends at the app.
fn finish_path(
    o: &Objects,
    t: &Target,
    what: &str,
    path: &str,
    b: &serves::Backend,
    head: String,
) -> (Status, String, Option<String>) {
    let p = t.install.profile();
    let app_ns = &t.install.namespace;
    let ours = |svc: &str| b.namespace == *app_ns && svc == b.service;
    let to_app = ours(p.server.service);
    let to_dex = ours(p.dex.service);
    let head = format!(
        "{head} → Service {}/{} port {}",
        b.namespace, b.service, b.port
    );
    match chain::follow(o, b) {
        End::Broken(why) => (
            Status::Fail,
            format!("{head}: {why}"),
            Some(format!(
                "Fix the link named above so the route reaches {} ({}): kubectl -n {} get service,endpointslices",
                p.server.service, p.server_name, b.namespace
            )),
        ),
        End::Unknown(why) => (Status::Unknown, format!("{head}: {why}"), None),
        End::Reached {
            target_port,
            ready,
            total,
        } => {
            let ends = format!(
                "{head} → targetPort {} → {ready} of {total} endpoints ready",
                target_port
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "?".into())
            );
            if to_app && target_port.is_some_and(|tp| tp != i32::from(p.listen_port)) {
                return (
                    Status::Fail,
                    format!("{ends}, but {} listens on {}", p.server_name, p.listen_port),
                    Some(format!(
                        "kubectl -n {} edit service {} and set the port's targetPort to {}",
                        b.namespace, b.service, p.listen_port
                    )),
                );
            }
            // Dex's path may go to Dex's own Service; URL's path must reach the app.
            let dex_direct = to_dex && what != "URL";
            if !(to_app || dex_direct) {
                return (
                    Status::Warn,
                    format!(
                        "{ends}: not {}'s Service {}, which serves {what}",
                        p.name, p.server.service
                    ),
                    Some(format!(
                        "Send {path} on {} to Service {}/{} in the route's rule",
                        t.host(),
                        app_ns,
                        p.server.service
                    )),
                );
            }
            (Status::Pass, ends, None)
        }
    }
}

fn serves_row(o: &Objects, t: &Target) -> Check {
    let parts: Vec<_> = t
        .paths()
        .iter()
        .map(|(what, path)| one_path(o, t, what, path))
        .collect();
    let status = parts.iter().map(|p| p.0).max().unwrap_or(Status::Unknown);
    let note = parts
        .iter()
        .map(|p| p.1.clone())
        .collect::<Vec<_>>()
        .join("; ");
    let outcome = match status {
        Status::Fail | Status::Warn => Outcome {
            status,
            class: Some(Class::Route),
            go_error: None,
            note,
        },
        Status::Pass => Outcome::pass(note),
        _ => Outcome::unknown(note),
    };
    let fix = parts.iter().find_map(|p| p.2.clone());
    Check::new(CheckId::RouteServes, outcome)
        .url(t.url.as_str())
        .remedy(fix)
}

/// Allow-lists on the route against the nodes the app's requests leave from.
fn allow_row(o: &Objects, t: &Target, served: &Served) -> Option<Check> {
    let mut lists = Vec::new();
    if let Served::Ingress { ingress, .. } = served {
        lists.extend(allow::of_ingress(o, ingress));
        lists.extend(allow::fronting(o, ingress).and_then(allow::of_service));
    }
    if let Served::Service { backend, .. } = served {
        lists.extend(
            o.service(&backend.namespace, &backend.service)
                .and_then(allow::of_service),
        );
    }
    if lists.is_empty() {
        return None;
    }
    let p = t.install.profile();
    let (ns, sel) = (&t.install.namespace, p.server.selector);
    let sources = match inside_rewrite(o, t.host()) {
        Some(_) => allow::pod_sources(o, sel, ns),
        None => allow::sources(o, sel, ns),
    };
    if sources.is_empty() {
        let why = if o.was_read("Node") {
            "no node was found"
        } else {
            "nodes were not read"
        };
        let by: Vec<&str> = lists.iter().map(|l| l.by.as_str()).collect();
        return Some(Check::new(
            CheckId::RouteAllowList,
            Outcome::unknown(format!(
                "{} limit who reaches {}; {why}, so where the app pod's requests come from is unknown",
                by.join(", "),
                t.host()
            )),
        ));
    }
    Some(allow_verdict(&lists, &sources, t))
}

fn allow_verdict(lists: &[allow::AllowList], sources: &[allow::Source], t: &Target) -> Check {
    for l in lists {
        let outside = l.outside(sources);
        if outside.is_empty() {
            continue;
        }
        let nodes: Vec<String> = outside.iter().map(|s| s.describe()).collect();
        let fix = l.fix_adding(&outside);
        let note = format!(
            "{} allows only {}; {} outside it: the app pod's requests to {} arrive from there and are refused with 403",
            l.by,
            l.ranges.join(", "),
            if outside.iter().any(|s| s.node.starts_with("pod ")) {
                format!(
                    "the app pod's address ({}, the host is rewritten to a Service inside the cluster) is",
                    nodes.join(", ")
                )
            } else {
                format!(
                    "the app pod's node {} (or a NAT gateway in front of it) is",
                    nodes.join(", ")
                )
            },
            t.host()
        );
        let outcome = Outcome {
            status: Status::Warn,
            class: Some(Class::AllowList),
            go_error: None,
            note,
        };
        return Check::new(CheckId::RouteAllowList, outcome)
            .remedy(Some(format!("{fix} (or the NAT gateway's address, if the nodes leave through one); or send the app's own calls to Dex inside the cluster")));
    }
    let by: Vec<String> = lists
        .iter()
        .map(|l| format!("{} ({})", l.by, l.ranges.join(", ")))
        .collect();
    let from: Vec<String> = sources.iter().map(|s| s.describe()).collect();
    let nat = if sources.iter().any(|s| s.node.starts_with("pod ")) {
        ""
    } else {
        " (a NAT gateway the nodes may leave through is not in the cluster's objects)"
    };
    let note = format!(
        "{} admit where the app pod's requests come from: {}{nat}",
        by.join("; "),
        from.join(", ")
    );
    Check::new(CheckId::RouteAllowList, Outcome::pass(note))
}

/// The cluster Service CoreDNS rewrites the host to, if it does: the app pod's requests then
/// stay inside the cluster and arrive from the pod's own address.
fn inside_rewrite(o: &Objects, host: &str) -> Option<String> {
    let corefile = o.configmap("kube-system", "coredns")?.get("Corefile")?;
    dns::rules_for(corefile, host)
        .into_iter()
        .find(|r| r.kind == "rewrite" && r.target.ends_with(".svc.cluster.local"))
        .map(|r| r.target)
}

/// The CoreDNS rewrite for `host`, to the Service that fronts the Ingress serving it where known.
fn rewrite_fix(o: &Objects, host: &str, served: &Served) -> String {
    match fronting_service(o, served) {
        Some(svc) => crate::knowledge::remedy::coredns_rewrite_to(host, &svc),
        None => crate::knowledge::remedy::coredns_rewrite(host),
    }
}

/// The cluster name of the LoadBalancer Service that fronts the Ingress serving `host` `path`.
pub fn controller_service(o: &Objects, host: &str, path: &str) -> Option<String> {
    fronting_service(o, &serves::served(o, host, 443, path))
}

/// The cluster name of the LoadBalancer Service that fronts a route's Ingress.
fn fronting_service(o: &Objects, served: &Served) -> Option<String> {
    let Served::Ingress { ingress, .. } = served else {
        return None;
    };
    let s = allow::fronting(o, ingress)?;
    let (ns, name) = objects::meta(&s.metadata);
    Some(format!("{name}.{ns}.svc.cluster.local"))
}

/// How pods resolve URL's host: CoreDNS's rules for it, and the addresses this machine and the
/// app pod resolved it to when they differ.
fn dns_row(o: &Objects, t: &Target, served: &Served, observed: &[Check]) -> Option<Check> {
    let host = t.host();
    if host_kind(host) == HostKind::Cluster || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let apart = dns::resolved_apart(observed, host);
    let Some(corefile) = o
        .configmap("kube-system", "coredns")
        .and_then(|c| c.get("Corefile"))
    else {
        return apart.map(|a| resolved_row(o, served, &a));
    };
    let mut row = corefile_row(o, host, corefile, served);
    if let Some(a) = apart {
        row.message = format!("{}; {a}", row.message);
        // A name this machine resolves and the pod does not: CoreDNS's forward is the cause.
        if a.pod.is_empty() && row.status < Status::Warn {
            row.status = Status::Warn;
            row.class = Some(Class::Dns);
            row = row.remedy(Some(rewrite_fix(o, host, served)));
        }
    }
    Some(row)
}

/// The DNS row when the Corefile was not read but the two sides resolved URL's host apart.
fn resolved_row(o: &Objects, served: &Served, a: &dns::Apart) -> Check {
    let outcome = if a.pod.is_empty() {
        Outcome {
            status: Status::Warn,
            class: Some(Class::Dns),
            go_error: None,
            note: format!(
                "{a}: the pod's resolvers (CoreDNS, then the nodes' resolvers) do not know a name this machine's do (CoreDNS's Corefile was not read)"
            ),
        }
    } else {
        Outcome::pass(format!(
            "{a} (CoreDNS's Corefile was not read): each side reaches what its own address serves"
        ))
    };
    let fix = a.pod.is_empty().then(|| rewrite_fix(o, &a.host, served));
    Check::new(CheckId::RouteDns, outcome).remedy(fix)
}

/// The DNS row from CoreDNS's Corefile: the rule that answers for `host`, whether its target
/// exists, and whether NodeLocal DNSCache answers first.
fn corefile_row(o: &Objects, host: &str, corefile: &str, served: &Served) -> Check {
    let rules = dns::rules_for(corefile, host);
    let nodelocal = o.configmap("kube-system", "node-local-dns").is_some();
    let Some(r) = rules.first() else {
        return Check::new(
            CheckId::RouteDns,
            Outcome::pass(format!(
                "CoreDNS has no rewrite or hosts entry for {host}: pods resolve it through CoreDNS's forward (the nodes' resolvers), which may answer otherwise than this machine's"
            )),
        );
    };
    let svc = r
        .target
        .strip_suffix(".svc.cluster.local")
        .and_then(|n| n.split_once('.'));
    let missing = svc
        .filter(|_| o.was_read("Service"))
        .filter(|(name, ns)| o.service(ns, name).is_none());
    let (status, note) = match (missing, nodelocal) {
        (Some((name, ns)), _) => (
            Status::Fail,
            format!(
                "CoreDNS {} ({}) points {host} at the Service {ns}/{name}, which {}: pods get no address",
                r.kind,
                r.line,
                o.absent()
            ),
        ),
        (None, true) => (
            Status::Warn,
            format!(
                "CoreDNS {} ({}) answers {host} as {}, but NodeLocal DNSCache (kube-system/node-local-dns) answers pods first and forwards names outside the cluster domain to the nodes' resolvers, past CoreDNS",
                r.kind, r.line, r.target
            ),
        ),
        (None, false) => (
            Status::Pass,
            format!(
                "pods resolve {host} as {} (CoreDNS {}: {})",
                r.target, r.kind, r.line
            ),
        ),
    };
    let outcome = Outcome {
        status,
        class: (status >= Status::Warn).then_some(Class::Dns),
        go_error: None,
        note,
    };
    Check::new(CheckId::RouteDns, outcome).remedy(Some(rewrite_fix(o, host, served)))
}

/// The edge certificate an Ingress serves for URL's host.
fn tls_row(o: &Objects, t: &Target, served: &Served) -> Option<Check> {
    if t.url.scheme() != "https" {
        return None;
    }
    let host = t.host();
    let Served::Ingress { ingress, .. } = served else {
        return None;
    };
    let (ns, name) = objects::meta(&ingress.metadata);
    let fake = format!(
        "the controller answers with its default certificate (ingress-nginx: \"Kubernetes Ingress Controller Fake Certificate\", for ingress.local): x509: certificate is valid for ingress.local, not {host}"
    );
    let (status, note) = match serves::tls_secret_for(ingress, host) {
        None => (
            Status::Warn,
            format!(
                "Ingress {ns}/{name} has no tls entry with a Secret for {host}: unless TLS ends before it (a load balancer with its own certificate), {fake}"
            ),
        ),
        Some(secret) => match o.tls_secret(ns, &secret) {
            None if o.was_read("Secret") => (
                Status::Fail,
                format!(
                    "Ingress {ns}/{name} names the TLS Secret {ns}/{secret}, which {}: {fake}",
                    o.absent()
                ),
            ),
            None => {
                return Some(Check::new(
                    CheckId::RouteTls,
                    Outcome::unknown(format!(
                        "Ingress {ns}/{name} names the TLS Secret {ns}/{secret}, which was not read"
                    )),
                ));
            }
            Some(s) => cert_note(s, host, ns, &secret),
        },
    };
    let class = match status {
        Status::Fail | Status::Warn => Some(Class::TlsNameMismatch),
        _ => None,
    };
    let outcome = Outcome {
        status,
        class,
        go_error: None,
        note,
    };
    Some(Check::new(CheckId::RouteTls, outcome).url(t.url.as_str()).remedy(Some(format!("Give Ingress {ns}/{name} a tls entry for {host} with a Secret whose certificate names {host} and is in date (cert-manager: the Certificate's dnsNames)"))))
}

fn cert_note(s: &objects::TlsSecret, host: &str, ns: &str, secret: &str) -> (Status, String) {
    let Some(pem) = &s.cert_pem else {
        return (
            Status::Fail,
            format!("the TLS Secret {ns}/{secret} has no tls.crt"),
        );
    };
    match tls::judge(pem, host, std::time::SystemTime::now()) {
        tls::Cert::Covers { not_after } => (
            Status::Pass,
            format!("the TLS Secret {ns}/{secret} covers {host} until {not_after}"),
        ),
        tls::Cert::OtherHosts { names } => (
            Status::Fail,
            format!(
                "the TLS Secret {ns}/{secret} is for {} only: x509: certificate is valid for {}, not {host}",
                names.join(", "),
                names.join(", ")
            ),
        ),
        tls::Cert::Expired { not_after } => (
            Status::Fail,
            format!(
                "the TLS Secret {ns}/{secret} expired at {not_after}: x509: certificate has expired or is not yet valid"
            ),
        ),
        tls::Cert::NotYetValid { not_before } => (
            Status::Fail,
            format!("the TLS Secret {ns}/{secret} is valid only from {not_before}"),
        ),
        tls::Cert::Unreadable(why) => {
            (Status::Warn, format!("the TLS Secret {ns}/{secret}: {why}"))
        }
    }
}

/// The route's findings as the cause of what the app pod met: a 403 or a timeout and an
/// allow-list that leaves out its node; an empty reply and PROXY protocol on the balancer; a
/// certificate error and the edge certificate; a 404 or 5xx and a rule that misses the app;
/// a DNS failure and CoreDNS. The pod's row names the cause and takes its fix.
pub fn join(checks: &mut [Check]) {
    let finding = |checks: &[Check], id: CheckId| {
        checks
            .iter()
            .find(|c| c.id == id && c.status >= Status::Warn)
            .map(|c| (c.message.clone(), c.remedy.clone()))
    };
    let cause_of = |class: Class| match class {
        Class::HttpStatus(403) | Class::ConnectTimeout | Class::ReadTimeout => {
            Some(CheckId::RouteAllowList)
        }
        Class::Reset | Class::MalformedResponse | Class::TruncatedBody => {
            Some(CheckId::RouteProxyProtocol)
        }
        Class::TlsNameMismatch | Class::TlsExpired | Class::TlsUnknownCa => Some(CheckId::RouteTls),
        Class::HttpStatus(404 | 502 | 503) => Some(CheckId::RouteServes),
        Class::Dns => Some(CheckId::RouteDns),
        _ => None,
    };
    let causes: Vec<(usize, (String, Option<String>))> = checks
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.observed && c.status == Status::Fail && c.vantage == crate::diagnosis::Vantage::AppPod
        })
        .filter_map(|(i, c)| Some((i, finding(checks, cause_of(c.class?)?)?)))
        .collect();
    for (i, (why, fix)) in causes {
        let c = &mut checks[i];
        c.cause = Some(why);
        if fix.is_some() {
            c.remedy = fix;
        }
    }
}
