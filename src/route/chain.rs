//! The chain behind a route's backend: Service → port → targetPort → ready endpoints, as
//! kube-proxy follows it (the EndpointSlices carry the targetPort already resolved).

use super::objects::{Objects, meta};
use super::serves::{Backend, PortRef};

/// Where the chain ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Ready endpoints on `target_port` (`ready` of `total`).
    Reached {
        target_port: Option<i32>,
        ready: usize,
        total: usize,
    },
    /// A link is missing: which object and field.
    Broken(String),
    /// The objects to follow it were not read, or it leaves the cluster.
    Unknown(String),
}

/// Follows `b` to its endpoints.
pub fn follow(o: &Objects, b: &Backend) -> End {
    let (ns, name) = (b.namespace.as_str(), b.service.as_str());
    let Some(svc) = o.service(ns, name) else {
        return if o.was_read("Service") {
            End::Broken(format!("the Service {ns}/{name} {}", o.absent()))
        } else {
            End::Unknown("Services were not read".into())
        };
    };
    let spec = svc.spec.clone().unwrap_or_default();
    if spec.type_.as_deref() == Some("ExternalName") {
        return End::Unknown(format!(
            "the Service {ns}/{name} is an ExternalName for {}: the route leaves the cluster",
            spec.external_name.unwrap_or_default()
        ));
    }
    let ports = spec.ports.unwrap_or_default();
    let port = ports.iter().find(|p| match &b.port {
        PortRef::Number(n) => p.port == *n,
        PortRef::Name(n) => p.name.as_deref() == Some(n.as_str()),
    });
    let Some(port) = port else {
        let has: Vec<String> = ports
            .iter()
            .map(|p| match &p.name {
                Some(n) => format!("{}/{n}", p.port),
                None => p.port.to_string(),
            })
            .collect();
        return End::Broken(format!(
            "the Service {ns}/{name} has no port {} (it has {})",
            b.port,
            if has.is_empty() {
                "none".into()
            } else {
                has.join(", ")
            }
        ));
    };
    endpoints(
        o,
        ns,
        name,
        port.name.as_deref().unwrap_or_default(),
        &spec.selector,
    )
}

fn endpoints(
    o: &Objects,
    ns: &str,
    name: &str,
    port_name: &str,
    selector: &Option<std::collections::BTreeMap<String, String>>,
) -> End {
    if !o.was_read("EndpointSlice") {
        return End::Unknown("EndpointSlices were not read".into());
    }
    let slices: Vec<_> = o
        .slices
        .iter()
        .filter(|s| {
            meta(&s.metadata).0 == ns
                && s.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("kubernetes.io/service-name"))
                    .is_some_and(|n| n == name)
        })
        .collect();
    let target_port = slices
        .iter()
        .flat_map(|s| s.ports.iter().flatten())
        .find(|p| p.name.as_deref().unwrap_or_default() == port_name)
        .and_then(|p| p.port);
    let all: Vec<_> = slices
        .iter()
        .flat_map(|s| s.endpoints.iter().flatten())
        .collect();
    let ready = all
        .iter()
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
        .count();
    if all.is_empty() {
        let sel = selector
            .as_ref()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        return End::Broken(format!(
            "the Service {ns}/{name} has no endpoints: no running pod matches its selector {sel}"
        ));
    }
    if ready == 0 {
        return End::Broken(format!(
            "the Service {ns}/{name} has no ready endpoint ({} not ready)",
            all.len()
        ));
    }
    End::Reached {
        target_port,
        ready,
        total: all.len(),
    }
}
