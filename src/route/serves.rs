//! What serves URL's host and a path: the Ingress rule as ingress-nginx picks it (the rules of
//! the host, else the host-less ones; an `Exact` path, else the longest prefix), a Gateway API
//! HTTPRoute, or a LoadBalancer or NodePort Service; then the chain behind it: Service → port →
//! targetPort → ready endpoints (EndpointSlices).

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::{Ingress, IngressBackend};
use serde_json::Value;

use super::objects::{Objects, meta};

/// The Service a route ends at, and the port it names (a number or a port name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub namespace: String,
    pub service: String,
    pub port: PortRef,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRef {
    Number(i32),
    Name(String),
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(n) => f.write_str(n),
        }
    }
}

/// How a host and path are served.
#[derive(Debug, Clone)]
pub enum Served<'a> {
    /// An Ingress rule: the Ingress, the rule's path (`/orchestrator` Prefix), its backend.
    Ingress {
        ingress: &'a Ingress,
        path: String,
        backend: Option<Backend>,
    },
    /// A Gateway API HTTPRoute.
    HttpRoute {
        route: &'a Value,
        path: String,
        backend: Option<Backend>,
    },
    /// A Service named by the host itself (`NAME.NS.svc…`) or by its load balancer address.
    Service { backend: Backend, how: String },
    /// Nothing in the objects read serves it; why.
    Nothing(String),
}

impl Served<'_> {
    pub fn backend(&self) -> Option<&Backend> {
        match self {
            Served::Ingress { backend, .. } | Served::HttpRoute { backend, .. } => backend.as_ref(),
            Served::Service { backend, .. } => Some(backend),
            Served::Nothing(_) => None,
        }
    }
    /// The object and rule, as a report names them.
    pub fn describe(&self) -> String {
        match self {
            Served::Ingress { ingress, path, .. } => {
                let (ns, name) = meta(&ingress.metadata);
                format!("Ingress {ns}/{name} (path {path})")
            }
            Served::HttpRoute { route, path, .. } => format!(
                "HTTPRoute {}/{} (path {path})",
                route["metadata"]["namespace"].as_str().unwrap_or_default(),
                route["metadata"]["name"].as_str().unwrap_or_default()
            ),
            Served::Service { how, .. } => how.clone(),
            Served::Nothing(why) => why.clone(),
        }
    }
}

/// Whether a rule's host (`*.example.com` matches one label) names `host`.
pub fn host_matches(rule: &str, host: &str) -> bool {
    let (rule, host) = (rule.to_ascii_lowercase(), host.to_ascii_lowercase());
    match rule.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(first, rest)| !first.is_empty() && rest == suffix),
        None => rule == host,
    }
}

/// The TLS Secret an Ingress names for `host`: its first `tls` entry whose hosts cover `host`
/// (or that lists none), as ingress-nginx picks it; `None` when that entry names no Secret.
pub fn tls_secret_for(ingress: &Ingress, host: &str) -> Option<String> {
    ingress
        .spec
        .iter()
        .flat_map(|s| s.tls.iter().flatten())
        .find(|e| {
            e.hosts
                .as_ref()
                .is_none_or(|h| h.iter().any(|x| host_matches(x, host)))
        })?
        .secret_name
        .clone()
}

/// Whether a path rule covers `path`, and how specific it is (longer wins; `Exact` beats all).
/// `Prefix` matches whole segments; `ImplementationSpecific` is a plain prefix, as nginx reads it.
pub fn path_rank(rule_path: &str, kind: &str, path: &str) -> Option<usize> {
    let rule_path = if rule_path.is_empty() { "/" } else { rule_path };
    match kind {
        "Exact" => (rule_path == path).then_some(usize::MAX),
        "Prefix" => {
            let p = rule_path.trim_end_matches('/');
            let covers = p.is_empty() || path == p || path.starts_with(&format!("{p}/"));
            covers.then_some(p.len())
        }
        _ => path.starts_with(rule_path).then_some(rule_path.len()),
    }
}

fn backend_of(ns: &str, b: &IngressBackend) -> Option<Backend> {
    let s = b.service.as_ref()?;
    let port = s.port.as_ref()?;
    let port = match (&port.number, &port.name) {
        (Some(n), _) => PortRef::Number(*n),
        (None, Some(n)) => PortRef::Name(n.clone()),
        _ => return None,
    };
    Some(Backend {
        namespace: ns.to_string(),
        service: s.name.clone(),
        port,
    })
}

/// The Ingress rule that serves `host` and `path`, as ingress-nginx picks it.
pub fn ingress_for<'a>(o: &'a Objects, host: &str, path: &str) -> Option<Served<'a>> {
    let with_host = |want: bool| {
        o.ingresses.iter().flat_map(move |ing| {
            let rules = ing.spec.iter().flat_map(|s| s.rules.iter().flatten());
            rules
                .filter(move |r| match &r.host {
                    Some(h) if want => host_matches(h, host),
                    None if !want => true,
                    _ => false,
                })
                .map(move |r| (ing, r))
        })
    };
    let named = with_host(true).next().is_some();
    let mut best: Option<(usize, Served<'a>)> = None;
    for (ing, rule) in with_host(named) {
        let ns = meta(&ing.metadata).0;
        for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
            let rp = p.path.clone().unwrap_or_else(|| "/".into());
            let Some(rank) = path_rank(&rp, &p.path_type, path) else {
                continue;
            };
            if best.as_ref().is_none_or(|(r, _)| rank > *r) {
                let served = Served::Ingress {
                    ingress: ing,
                    path: format!("{rp} {}", p.path_type),
                    backend: backend_of(ns, &p.backend),
                };
                best = Some((rank, served));
            }
        }
    }
    if let Some((_, s)) = best {
        return Some(s);
    }
    // No path: an Ingress of the host with a default backend.
    o.ingresses.iter().find_map(|ing| {
        let spec = ing.spec.as_ref()?;
        let names_host = spec
            .rules
            .iter()
            .flatten()
            .any(|r| r.host.as_deref().is_some_and(|h| host_matches(h, host)));
        let b = spec.default_backend.as_ref().filter(|_| names_host)?;
        Some(Served::Ingress {
            ingress: ing,
            path: "defaultBackend".into(),
            backend: backend_of(meta(&ing.metadata).0, b),
        })
    })
}

/// The Gateway API HTTPRoute that serves `host` and `path` (a `PathPrefix` or `Exact` match).
pub fn http_route_for<'a>(o: &'a Objects, host: &str, path: &str) -> Option<Served<'a>> {
    let mut best: Option<(usize, Served<'a>)> = None;
    for r in &o.http_routes {
        let hosts: Vec<&str> = r["spec"]["hostnames"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !hosts.is_empty() && !hosts.iter().any(|h| host_matches(h, host)) {
            continue;
        }
        let ns = r["metadata"]["namespace"].as_str().unwrap_or_default();
        for rule in r["spec"]["rules"].as_array().into_iter().flatten() {
            let matches = rule["matches"].as_array().cloned().unwrap_or_default();
            let paths: Vec<(String, String)> = if matches.is_empty() {
                vec![("/".into(), "PathPrefix".into())]
            } else {
                matches
                    .iter()
                    .map(|m| {
                        (
                            m["path"]["value"].as_str().unwrap_or("/").to_string(),
                            m["path"]["type"]
                                .as_str()
                                .unwrap_or("PathPrefix")
                                .to_string(),
                        )
                    })
                    .collect()
            };
            let backend = rule["backendRefs"]
                .as_array()
                .and_then(|b| b.first())
                .map(|b| Backend {
                    namespace: b["namespace"].as_str().unwrap_or(ns).to_string(),
                    service: b["name"].as_str().unwrap_or_default().to_string(),
                    port: PortRef::Number(b["port"].as_i64().unwrap_or(0) as i32),
                });
            for (p, t) in paths {
                let kind = if t == "PathPrefix" {
                    "Prefix"
                } else {
                    t.as_str()
                };
                let Some(rank) = path_rank(&p, kind, path) else {
                    continue;
                };
                if best.as_ref().is_none_or(|(b, _)| rank > *b) {
                    let served = Served::HttpRoute {
                        route: r,
                        path: format!("{p} {t}"),
                        backend: backend.clone(),
                    };
                    best = Some((rank, served));
                }
            }
        }
    }
    best.map(|(_, s)| s)
}

/// The Gateway listener an HTTPRoute attaches to that accepts `host` on `port` over `scheme`:
/// `Some(Ok(description))`, `Some(Err(why not))`, or `None` when Gateways were not read.
pub fn listener(
    o: &Objects,
    route: &Value,
    host: &str,
    scheme: &str,
    port: u16,
) -> Option<Result<String, String>> {
    if !o.was_read("Gateway") {
        return None;
    }
    let ns = route["metadata"]["namespace"].as_str().unwrap_or_default();
    let parent = route["spec"]["parentRefs"].as_array()?.first()?;
    let gw_ns = parent["namespace"].as_str().unwrap_or(ns);
    let gw_name = parent["name"].as_str().unwrap_or_default();
    let section = parent["sectionName"].as_str();
    let Some(gw) = o.gateways.iter().find(|g| {
        g["metadata"]["name"] == gw_name
            && g["metadata"]["namespace"].as_str().unwrap_or_default() == gw_ns
    }) else {
        return Some(Err(format!(
            "it attaches to the Gateway {gw_ns}/{gw_name}, which {}",
            o.absent()
        )));
    };
    let want = if scheme == "https" { "HTTPS" } else { "HTTP" };
    let listeners = gw["spec"]["listeners"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let fits = listeners.iter().find(|l| {
        section.is_none_or(|s| l["name"] == s)
            && l["protocol"] == want
            && l["port"].as_u64() == Some(u64::from(port))
            && l["hostname"].as_str().is_none_or(|h| host_matches(h, host))
    });
    match fits {
        Some(l) => Some(Ok(format!(
            "Gateway {gw_ns}/{gw_name} listener {} ({want} {port})",
            l["name"].as_str().unwrap_or_default()
        ))),
        None => {
            let have: Vec<String> = listeners
                .iter()
                .map(|l| {
                    format!(
                        "{} {} {}",
                        l["name"].as_str().unwrap_or_default(),
                        l["protocol"].as_str().unwrap_or_default(),
                        l["port"]
                    )
                })
                .collect();
            Some(Err(format!(
                "it attaches to the Gateway {gw_ns}/{gw_name}, whose listeners ({}) do not accept {host} over {want} on {port}",
                have.join(", ")
            )))
        }
    }
}

/// A Service the host names itself (`NAME.NS.svc[.cluster.local]`), or whose load balancer
/// address or node port the URL names.
pub fn service_for<'a>(o: &'a Objects, host: &str, port: u16) -> Option<Served<'a>> {
    let h = host.trim_end_matches('.');
    let svc_name = h
        .strip_suffix(".svc.cluster.local")
        .or_else(|| h.strip_suffix(".svc"))
        .and_then(|n| n.split_once('.'));
    if let Some((name, ns)) = svc_name {
        return Some(Served::Service {
            backend: Backend {
                namespace: ns.into(),
                service: name.into(),
                port: PortRef::Number(i32::from(port)),
            },
            how: format!("the Service {ns}/{name} itself (URL names it)"),
        });
    }
    let lb = o
        .services
        .iter()
        .find(|s| lb_addresses(s).iter().any(|a| a == h))?;
    let (ns, name) = meta(&lb.metadata);
    Some(Served::Service {
        backend: Backend {
            namespace: ns.into(),
            service: name.into(),
            port: PortRef::Number(i32::from(port)),
        },
        how: format!("the LoadBalancer Service {ns}/{name} (its address is URL's host)"),
    })
}

/// A Service's load balancer addresses (IPs and host names) from its status.
pub fn lb_addresses(s: &Service) -> Vec<String> {
    s.status
        .iter()
        .flat_map(|st| st.load_balancer.iter())
        .flat_map(|lb| lb.ingress.iter().flatten())
        .flat_map(|i| [i.ip.clone(), i.hostname.clone()])
        .flatten()
        .collect()
}

/// What serves `host` and `path`: an Ingress, else an HTTPRoute, else a Service.
pub fn served<'a>(o: &'a Objects, host: &str, port: u16, path: &str) -> Served<'a> {
    ingress_for(o, host, path)
        .or_else(|| http_route_for(o, host, path))
        .or_else(|| service_for(o, host, port))
        .unwrap_or_else(|| {
            let kinds = ["Ingress", "HTTPRoute", "Service"]
                .into_iter()
                .filter(|k| o.was_read(k))
                .collect::<Vec<_>>()
                .join(", ");
            Served::Nothing(format!(
                "no {} read names {host}{path}: it is served outside the objects read (an external load balancer or proxy, DNS to a node, a port-forward)",
                if kinds.is_empty() { "object".to_string() } else { kinds }
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_as_ingress_nginx_matches_them() {
        assert_eq!(
            path_rank("/orchestrator", "Prefix", "/orchestrator/api/dex"),
            Some(13)
        );
        assert_eq!(path_rank("/orchestrator", "Prefix", "/orchestratorx"), None);
        assert_eq!(path_rank("/", "Prefix", "/api/dex"), Some(0));
        assert_eq!(
            path_rank("/orchestrator", "ImplementationSpecific", "/orchestratorx"),
            Some(13)
        );
        assert_eq!(path_rank("/api/dex", "Exact", "/api/dex/keys"), None);
        assert!(host_matches("*.example.com", "devtron.example.com"));
        assert!(!host_matches("*.example.com", "a.b.example.com"));
        assert!(host_matches("Devtron.Example.com", "devtron.example.com"));
    }
}
