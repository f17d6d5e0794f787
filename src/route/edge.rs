//! PROXY protocol at the load balancer: with it on and the balancer's IP in the Service's status
//! (`ipMode: VIP`, the default), kube-proxy sends a pod's connection to that IP straight to the
//! controller, without the PROXY header the controller then expects: nginx logs `broken header`
//! and closes (an empty reply, EOF in the pod; ingress-nginx#3996). `ipMode: Proxy`
//! (Kubernetes 1.30+) or a host name in the status sends it through the balancer.

use k8s_openapi::api::core::v1::Service;

use super::objects::{Objects, meta};
use crate::diagnosis::{Check, CheckId};
use crate::plan::predict::{Outcome, Status};
use crate::probe::class::Class;

/// Cloud annotations that put PROXY protocol on a LoadBalancer Service, with the value that
/// turns it on (`None`: any value).
const PROXY_ANNOTATIONS: &[(&str, Option<&str>)] = &[
    (
        "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol",
        None,
    ),
    (
        "service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol",
        Some("true"),
    ),
    (
        "service.beta.kubernetes.io/scw-loadbalancer-proxy-protocol-v2",
        Some("true"),
    ),
    (
        "service.beta.kubernetes.io/linode-loadbalancer-default-proxy-protocol",
        None,
    ),
    (
        "load-balancer.hetzner.cloud/uses-proxyprotocol",
        Some("true"),
    ),
    ("loadbalancer.openstack.org/proxy-protocol", Some("true")),
    (
        "service.kubernetes.io/ibm-load-balancer-cloud-provider-enable-features",
        Some("proxy-protocol"),
    ),
];

fn proxy_annotation(s: &Service) -> Option<String> {
    let a = s.metadata.annotations.as_ref()?;
    PROXY_ANNOTATIONS.iter().find_map(|(k, on)| {
        let v = a.get(*k)?;
        let hit = match on {
            None => !v.is_empty() && v != "v1-disabled" && v != "none",
            Some(on) => v.split(',').any(|x| x.trim().eq_ignore_ascii_case(on)),
        };
        hit.then(|| format!("{k}: {v}"))
    })
}

/// The LoadBalancer Services with PROXY protocol whose status gives an IP without `ipMode: Proxy`.
pub fn proxy_protocol_row(o: &Objects, host: &str) -> Option<Check> {
    let nginx_on = o.configmaps.iter().any(|c| {
        c.data
            .as_ref()
            .and_then(|d| d.get("use-proxy-protocol"))
            .is_some_and(|v| v == "true")
    });
    for s in &o.services {
        let Some(why) = proxy_annotation(s) else {
            continue;
        };
        let vip: Vec<String> = s
            .status
            .iter()
            .flat_map(|st| st.load_balancer.iter())
            .flat_map(|lb| lb.ingress.iter().flatten())
            .filter(|i| i.ip_mode.as_deref() != Some("Proxy"))
            .filter_map(|i| i.ip.clone())
            .collect();
        if vip.is_empty() {
            continue;
        }
        let (ns, name) = meta(&s.metadata);
        let also = if nginx_on {
            " and the controller's use-proxy-protocol: \"true\""
        } else {
            ""
        };
        let note = format!(
            "Service {ns}/{name} has PROXY protocol on ({why}{also}) and reports {} without ipMode: Proxy: the controller then expects a PROXY header on every connection, and a pod that connects without passing through the balancer (to that address, which kube-proxy sends straight to the controller, or to the controller's Service) sends none: the controller closes the connection (nginx: broken header; the app pod sees an empty reply or EOF when {host} leads it there)",
            vip.join(", ")
        );
        let outcome = Outcome {
            status: Status::Warn,
            class: Some(Class::Route),
            go_error: None,
            note,
        };
        return Some(Check::new(CheckId::RouteProxyProtocol, outcome).remedy(Some(
            "Have the load balancer reported with ipMode: Proxy (Kubernetes 1.30+, set by the cloud controller) or with a host name (the provider's hostname annotation), so that pods' connections pass through it and get the header; or let the app reach Dex inside the cluster without the controller".to_string(),
        )));
    }
    None
}

/// `4k`, `8K`, `16384`, `1m` in bytes, as nginx reads a size.
fn size(v: &str) -> Option<u64> {
    let v = v.trim().to_ascii_lowercase();
    let (n, unit) = match v.chars().last()? {
        'k' => (&v[..v.len() - 1], 1024),
        'm' => (&v[..v.len() - 1], 1024 * 1024),
        _ => (v.as_str(), 1),
    };
    n.parse::<u64>().ok().map(|n| n * unit)
}

/// nginx's `proxy-buffer-size` for the Ingress that serves the login callback (its annotation,
/// else the controller's ConfigMap, else ingress-nginx's default 4k) against the answer to the
/// callback, whose `Set-Cookie` headers carry the ID token (Argo CD and Devtron split it into
/// cookies of up to 4 KB): a larger answer is `upstream sent too big header`, a 502 (argo-cd#9475).
pub fn header_budget_row(
    o: &Objects,
    ingress: &k8s_openapi::api::networking::v1::Ingress,
) -> Option<Check> {
    const KEY: &str = "nginx.ingress.kubernetes.io/proxy-buffer-size";
    let (ns, name) = meta(&ingress.metadata);
    let from_cm = o.configmaps.iter().find_map(|c| {
        let v = c.data.as_ref()?.get("proxy-buffer-size")?;
        Some((
            v.clone(),
            format!("the controller's ConfigMap {}", meta(&c.metadata).1),
        ))
    });
    let (value, whence) = super::objects::annotation(&ingress.metadata, KEY)
        .map(|v| (v.to_string(), format!("{KEY} on Ingress {ns}/{name}")))
        .or(from_cm)
        .unwrap_or_else(|| ("4k".into(), "ingress-nginx's default".into()));
    let bytes = size(&value)?;
    let note = format!("proxy-buffer-size {value} ({whence}) {HOLDS}");
    let room = format!(
        "{:.1} KB",
        bytes.saturating_sub(OTHER_HEADERS) as f64 / 1024.0
    );
    let outcome = if bytes <= HEADER_ROOM_MIN {
        Outcome::unknown(format!(
            "{note}: a token over about {room} (many groups) fills it, and nginx answers 502 (upstream sent too big header) at the callback; the token's size shows only at a login (a HAR of it, or the app's Set-Cookie). To make room: {KEY}: \"16k\""
        ))
    } else {
        Outcome::pass(format!("{note}: room for a token of about {room}"))
    };
    let mut c = Check::new(CheckId::RouteHeaderBudget, outcome);
    // The buffer in bytes, for a login's measured answer to be held against (`check --har`).
    c.expected = Some(bytes.to_string());
    Some(c)
}

/// The end of the header budget's finding about its buffer, where a measurement takes over.
const HOLDS: &str =
    "holds the app's answer to the login callback, whose Set-Cookie carries the ID token";
/// A buffer this small leaves the verdict to the token's size.
const HEADER_ROOM_MIN: u64 = 4096;
/// The status line and the other headers of the callback's answer, about.
pub const OTHER_HEADERS: u64 = 600;

/// The header budget held against what a login's callback answer measured (its `Set-Cookie`
/// headers, from a HAR): it fits, or nginx answers 502 at the callback.
pub fn budget_measured(row: &mut Check, set_cookie_bytes: u64, from: &str) {
    let Some(buffer) = row.expected.as_deref().and_then(|b| b.parse::<u64>().ok()) else {
        return;
    };
    let need = set_cookie_bytes + OTHER_HEADERS;
    row.actual = Some(need.to_string());
    row.observed = true;
    // The finding about the buffer stays; what it guessed about the token goes.
    if let Some((head, _)) = row.message.split_once(HOLDS) {
        row.message = format!("{head}{HOLDS}");
    }
    let measured = format!(
        "the login's callback set {set_cookie_bytes} bytes of cookies ({from}), about {need} bytes of headers with the rest"
    );
    if need <= buffer {
        row.status = Status::Pass;
        row.class = None;
        row.remedy = None;
        row.message = format!(
            "{}; {measured}: it fits, {} bytes left",
            row.message,
            buffer - need
        );
    } else {
        row.status = Status::Fail;
        row.class = Some(Class::Route);
        row.message = format!(
            "{}; {measured}: over the buffer, so nginx answers 502 at the callback (upstream sent too big header)",
            row.message
        );
        row.remedy = Some(format!(
            "Give the Ingress room for the token: nginx.ingress.kubernetes.io/proxy-buffer-size: \"{}k\" (or fewer groups in the token)",
            (need / 1024 + 1).next_power_of_two().max(8)
        ));
    }
}
