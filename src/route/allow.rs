//! Who the route lets in: ingress-nginx's `allowlist-source-range` (and its older
//! `whitelist-source-range`), Traefik's `ipAllowList` middlewares, a Service's
//! `loadBalancerSourceRanges`; and where the app pod's requests come from (its node's
//! addresses, the pod's own with `externalTrafficPolicy: Local`).

use std::net::IpAddr;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;

use super::objects::{Objects, annotation, meta};
use super::serves::lb_addresses;

/// An address range (`10.0.0.0/8`, `192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a.parse::<IpAddr>().ok()?, Some(b.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        (bits <= max).then_some(Cidr { net: addr, bits })
    }
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = u32::from(self.bits);
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// One allow-list in front of URL: where it is set, and its ranges as written.
#[derive(Debug, Clone)]
pub struct AllowList {
    pub by: String,
    pub ranges: Vec<String>,
    /// The object to change, as `kubectl -n NS annotate|patch KIND NAME`.
    pub fix: String,
}

impl AllowList {
    pub fn admits(&self, ip: IpAddr) -> bool {
        self.ranges
            .iter()
            .filter_map(|r| Cidr::parse(r))
            .any(|c| c.contains(ip))
    }
    /// The sources none of whose addresses it admits.
    pub fn outside<'a>(&self, sources: &'a [Source]) -> Vec<&'a Source> {
        sources
            .iter()
            .filter(|s| !s.addresses.iter().any(|(_, ip)| self.admits(*ip)))
            .collect()
    }
    /// The command that adds the addresses of `outside` to it.
    pub fn fix_adding(&self, outside: &[&Source]) -> String {
        let add: Vec<String> = outside
            .iter()
            .flat_map(|s| s.addresses.iter().map(|(_, ip)| format!("{ip}/32")))
            .collect();
        if self.fix.ends_with('=') {
            format!("{}{},{}", self.fix, self.ranges.join(","), add.join(","))
        } else {
            format!("{} and add {}", self.fix, add.join(", "))
        }
    }
}

const NGINX_ALLOW: &[&str] = &[
    "nginx.ingress.kubernetes.io/allowlist-source-range",
    "nginx.ingress.kubernetes.io/whitelist-source-range",
];

fn split(v: &str) -> Vec<String> {
    v.split(',')
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect()
}

/// The allow-lists on an Ingress: its own annotation, its Traefik middlewares.
pub fn of_ingress(o: &Objects, ing: &Ingress) -> Vec<AllowList> {
    let (ns, name) = meta(&ing.metadata);
    let mut out: Vec<AllowList> = NGINX_ALLOW
        .iter()
        .filter_map(|key| {
            let v = annotation(&ing.metadata, key)?;
            Some(AllowList {
                by: format!("Ingress {ns}/{name} ({key})"),
                ranges: split(v),
                fix: format!("kubectl -n {ns} annotate ingress {name} --overwrite {key}="),
            })
        })
        .take(1)
        .collect();
    let mids = annotation(
        &ing.metadata,
        "traefik.ingress.kubernetes.io/router.middlewares",
    );
    for id in mids.into_iter().flat_map(|m| m.split(',')) {
        let id = id.trim().trim_end_matches("@kubernetescrd");
        let Some(m) = o.middlewares.iter().find(|m| {
            let (mns, mname) = (
                m["metadata"]["namespace"].as_str().unwrap_or_default(),
                m["metadata"]["name"].as_str().unwrap_or_default(),
            );
            format!("{mns}-{mname}") == id
        }) else {
            continue;
        };
        let spec = &m["spec"];
        let list = spec["ipAllowList"]["sourceRange"]
            .as_array()
            .or_else(|| spec["ipWhiteList"]["sourceRange"].as_array());
        if let Some(list) = list {
            let (mns, mname) = (
                m["metadata"]["namespace"].as_str().unwrap_or_default(),
                m["metadata"]["name"].as_str().unwrap_or_default(),
            );
            out.push(AllowList {
                by: format!(
                    "Traefik Middleware {mns}/{mname} (ipAllowList, used by Ingress {ns}/{name})"
                ),
                ranges: list
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(str::to_string)
                    .collect(),
                fix: format!(
                    "kubectl -n {mns} edit middleware {mname} (spec.ipAllowList.sourceRange)"
                ),
            });
        }
    }
    out
}

/// The LoadBalancer Service that fronts an Ingress (the one whose address the Ingress reports).
pub fn fronting<'a>(o: &'a Objects, ing: &Ingress) -> Option<&'a Service> {
    let addrs: Vec<String> = ing
        .status
        .iter()
        .flat_map(|s| s.load_balancer.iter())
        .flat_map(|lb| lb.ingress.iter().flatten())
        .flat_map(|i| [i.ip.clone(), i.hostname.clone()])
        .flatten()
        .collect();
    o.services
        .iter()
        .find(|s| lb_addresses(s).iter().any(|a| addrs.contains(a)))
}

/// A LoadBalancer Service's `loadBalancerSourceRanges`.
pub fn of_service(s: &Service) -> Option<AllowList> {
    let ranges = s.spec.as_ref()?.load_balancer_source_ranges.clone()?;
    let (ns, name) = meta(&s.metadata);
    (!ranges.is_empty()).then(|| AllowList {
        by: format!("Service {ns}/{name} (spec.loadBalancerSourceRanges)"),
        ranges,
        fix: format!("kubectl -n {ns} edit service {name} (spec.loadBalancerSourceRanges)"),
    })
}

/// A node and the addresses its pods' requests may leave with.
#[derive(Debug, Clone)]
pub struct Source {
    pub node: String,
    pub addresses: Vec<(String, IpAddr)>,
}

impl Source {
    pub fn describe(&self) -> String {
        let a: Vec<String> = self
            .addresses
            .iter()
            .map(|(k, ip)| format!("{k} {ip}"))
            .collect();
        format!("{} ({})", self.node, a.join(", "))
    }
}

/// The app's pods in `app_ns` that `app_selector` picks.
fn app_pods<'a>(
    o: &'a Objects,
    app_selector: &'a str,
    app_ns: &'a str,
) -> impl Iterator<Item = &'a k8s_openapi::api::core::v1::Pod> + 'a {
    let wanted: Vec<(&str, &str)> = app_selector
        .split(',')
        .filter_map(|t| t.split_once('='))
        .collect();
    o.pods.iter().filter(move |p| {
        let labels = p.metadata.labels.clone().unwrap_or_default();
        meta(&p.metadata).0 == app_ns
            && wanted
                .iter()
                .all(|(k, v)| labels.get(*k).is_some_and(|l| l == v))
    })
}

/// Where the app's requests come from when they stay inside the cluster (its host rewritten to
/// a Service): the app pods' own addresses.
pub fn pod_sources(o: &Objects, app_selector: &str, app_ns: &str) -> Vec<Source> {
    app_pods(o, app_selector, app_ns)
        .filter_map(|p| {
            let ip = p.status.as_ref()?.pod_ip.as_ref()?.parse().ok()?;
            Some(Source {
                node: format!("pod {}", meta(&p.metadata).1),
                addresses: vec![("pod IP".to_string(), ip)],
            })
        })
        .collect()
}

/// Where the app's requests come from: the nodes its pods run on (every node when its pods were
/// not read), each with its InternalIP and ExternalIP.
pub fn sources(o: &Objects, app_selector: &str, app_ns: &str) -> Vec<Source> {
    let on: Vec<String> = app_pods(o, app_selector, app_ns)
        .filter_map(|p| p.spec.as_ref()?.node_name.clone())
        .collect();
    o.nodes
        .iter()
        .filter(|n| on.is_empty() || on.iter().any(|x| Some(x) == n.metadata.name.as_ref()))
        .map(|n| Source {
            node: n.metadata.name.clone().unwrap_or_default(),
            addresses: n
                .status
                .iter()
                .flat_map(|s| s.addresses.iter().flatten())
                .filter(|a| a.type_ == "InternalIP" || a.type_ == "ExternalIP")
                .filter_map(|a| Some((a.type_.clone(), a.address.parse().ok()?)))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_contain_as_cidr_says() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.200.1.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(
            Cidr::parse("192.0.2.7")
                .unwrap()
                .contains("192.0.2.7".parse().unwrap())
        );
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("203.0.113.9".parse().unwrap())
        );
        assert!(
            Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains("2001:db8::1".parse().unwrap())
        );
        assert!(
            !Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains("10.0.0.1".parse().unwrap())
        );
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("nonsense").is_none());
    }
}
