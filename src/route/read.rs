//! Reading the route live: every read optional and bounded, concurrent where it can be. First
//! what finds the route (Ingresses, HTTPRoutes, Traefik Middlewares, Services, Nodes, the app's
//! pods, CoreDNS's and the controller's ConfigMaps), then what follows it (the EndpointSlices of
//! the backends, the TLS Secret for the host). A denial is one note; a kind whose API is not
//! installed is left out silently.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::core::GroupVersionKind;
use serde::de::DeserializeOwned;

use super::objects::{Objects, meta, tls_of};
use super::serves;

/// What a read gave: the objects, or a note (`None`: the API is not installed).
type Read<T> = Result<Vec<T>, Option<String>>;

fn why(e: kube::Error, verb: &str, what: &str) -> Option<String> {
    match &e {
        kube::Error::Api(s) if s.code == 404 => None,
        kube::Error::Api(s) if s.code == 403 => {
            Some(format!("route not read: {verb} {what} forbidden"))
        }
        _ => Some(format!("route not read: {verb} {what}: {e}")),
    }
}

async fn bounded<T>(t: Duration, f: impl Future<Output = Read<T>>, what: &str) -> Read<T> {
    tokio::time::timeout(t, f).await.unwrap_or_else(|_| {
        Err(Some(format!(
            "route not read: {what} took longer than {}s",
            t.as_secs()
        )))
    })
}

async fn list_all<T>(c: &kube::Client, what: &str, lp: ListParams) -> Read<T>
where
    T: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    T: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
{
    Api::<T>::all(c.clone())
        .list(&lp)
        .await
        .map(|l| l.items)
        .map_err(|e| why(e, "list", what))
}

async fn list_dynamic(
    c: &kube::Client,
    gvk: GroupVersionKind,
    plural: &str,
) -> Read<serde_json::Value> {
    let ar = ApiResource::from_gvk_with_plural(&gvk, plural);
    Api::<DynamicObject>::all_with(c.clone(), &ar)
        .list(&ListParams::default())
        .await
        .map(|l| {
            l.items
                .into_iter()
                .filter_map(|o| serde_json::to_value(o).ok())
                .collect()
        })
        .map_err(|e| why(e, "list", plural))
}

async fn get_cm(c: &kube::Client, ns: &str, name: &str) -> Read<ConfigMap> {
    match Api::<ConfigMap>::namespaced(c.clone(), ns)
        .get_opt(name)
        .await
    {
        Ok(o) => Ok(o.into_iter().collect()),
        Err(e) => Err(why(e, "get", &format!("configmap {ns}/{name}"))),
    }
}

/// Files a read under its kind, or its note.
fn keep<T>(
    o: &mut Objects,
    kind: &'static str,
    r: Read<T>,
    into: impl FnOnce(&mut Objects, Vec<T>),
) {
    match r {
        Ok(items) => {
            into(o, items);
            if !o.read.contains(&kind) {
                o.read.push(kind);
            }
        }
        Err(Some(note)) => o.notes.push(note),
        Err(None) => {}
    }
}

/// Reads the objects that find the route for `host` (without one, a port-forward URL: for
/// every Ingress host, the what-if's candidates), then those that follow it.
pub async fn live(
    c: &kube::Client,
    app_ns: &str,
    app_selector: &str,
    host: Option<&str>,
    paths: &[String],
    t: Duration,
) -> Objects {
    let mut o = find(c, app_ns, app_selector, t).await;
    let hosts: Vec<String> = match host {
        Some(h) => vec![h.to_string()],
        None => o
            .ingresses
            .iter()
            .flat_map(|i| i.spec.iter().flat_map(|s| s.rules.iter().flatten()))
            .filter_map(|r| r.host.clone())
            .filter(|h| !h.starts_with('*'))
            .collect(),
    };
    follow(c, &mut o, &hosts, paths, t).await;
    o
}

async fn find(c: &kube::Client, app_ns: &str, app_selector: &str, t: Duration) -> Objects {
    let gw = |kind: &str| GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", kind);
    let traefik = GroupVersionKind::gvk("traefik.io", "v1alpha1", "Middleware");
    let pods = async {
        Api::<Pod>::namespaced(c.clone(), app_ns)
            .list(&ListParams::default().labels(app_selector))
            .await
            .map(|l| l.items)
            .map_err(|e| why(e, "list", &format!("pods in {app_ns}")))
    };
    let nodes = async {
        Api::<Node>::all(c.clone())
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .map_err(|e| why(e, "list", "nodes"))
    };
    // Two lanes of reads one after another: each lane reuses one pooled connection, so the reads
    // cost the API server (and this machine, beside the probes) two TLS sessions, not ten.
    let core = async {
        let ing = bounded(
            t,
            list_all::<Ingress>(c, "ingresses", ListParams::default()),
            "ingresses",
        )
        .await;
        let svc = bounded(
            t,
            list_all::<Service>(c, "services", ListParams::default()),
            "services",
        )
        .await;
        let nodes = bounded(t, nodes, "nodes").await;
        let pods = bounded(t, pods, "pods").await;
        (ing, svc, nodes, pods)
    };
    let extra = async {
        let routes = bounded(
            t,
            list_dynamic(c, gw("HTTPRoute"), "httproutes"),
            "httproutes",
        )
        .await;
        let gws = bounded(t, list_dynamic(c, gw("Gateway"), "gateways"), "gateways").await;
        let mids = bounded(t, list_dynamic(c, traefik, "middlewares"), "middlewares").await;
        let cms = configmaps(c, t).await;
        (routes, gws, mids, cms)
    };
    let ((ing, svc, nodes, pods), (routes, gws, mids, cms)) = tokio::join!(core, extra);
    let mut o = Objects::default();
    keep(&mut o, "Ingress", ing, |o, v| o.ingresses = v);
    keep(&mut o, "Service", svc, |o, v| o.services = v);
    keep(&mut o, "Node", nodes, |o, v| o.nodes = v);
    keep(&mut o, "Pod", pods, |o, v| o.pods = v);
    keep(&mut o, "HTTPRoute", routes, |o, v| o.http_routes = v);
    keep(&mut o, "Gateway", gws, |o, v| o.gateways = v);
    keep(&mut o, "Middleware", mids, |o, v| o.middlewares = v);
    for r in cms {
        keep(&mut o, "ConfigMap", r, |o, v| o.configmaps.extend(v));
    }
    o
}

/// CoreDNS's and NodeLocal DNSCache's ConfigMaps, and ingress-nginx's (its Helm and manifest
/// name), each a get by name.
async fn configmaps(c: &kube::Client, t: Duration) -> Vec<Read<ConfigMap>> {
    let mut out = Vec::new();
    for (ns, name) in [
        ("kube-system", "coredns"),
        ("kube-system", "node-local-dns"),
        ("ingress-nginx", "ingress-nginx-controller"),
    ] {
        out.push(bounded(t, get_cm(c, ns, name), &format!("configmap {name}")).await);
    }
    out
}

/// The EndpointSlices of each backend the host's paths reach, and the host's TLS Secret.
async fn follow(
    c: &kube::Client,
    o: &mut Objects,
    hosts: &[String],
    paths: &[String],
    t: Duration,
) {
    let mut backends: Vec<serves::Backend> = hosts
        .iter()
        .flat_map(|h| paths.iter().map(move |p| (h, p)))
        .filter_map(|(h, p)| serves::served(o, h, 443, p).backend().cloned())
        .collect();
    backends.sort_by(|a, b| (&a.namespace, &a.service).cmp(&(&b.namespace, &b.service)));
    backends.dedup_by(|a, b| a.namespace == b.namespace && a.service == b.service);
    let mut secrets: Vec<(String, String)> = hosts
        .iter()
        .flat_map(|h| tls_secrets(o, h, paths))
        .collect();
    secrets.sort();
    secrets.dedup();
    let slices = backends.iter().map(|b| {
        let lp = ListParams::default().labels(&format!("kubernetes.io/service-name={}", b.service));
        let api = Api::<EndpointSlice>::namespaced(c.clone(), &b.namespace);
        let what = format!("endpointslices in {}", b.namespace);
        async move {
            bounded(
                t,
                async {
                    api.list(&lp)
                        .await
                        .map(|l| l.items)
                        .map_err(|e| why(e, "list", &what))
                },
                "endpointslices",
            )
            .await
        }
    });
    let gets = secrets.iter().map(|(ns, name)| {
        let api = Api::<Secret>::namespaced(c.clone(), ns);
        let what = format!("secret {ns}/{name}");
        async move {
            bounded(
                t,
                async {
                    api.get_opt(name)
                        .await
                        .map(|s| s.into_iter().collect())
                        .map_err(|e| why(e, "get", &what))
                },
                "secret",
            )
            .await
        }
    });
    let (slices, gets) = tokio::join!(
        futures_util::future::join_all(slices),
        futures_util::future::join_all(gets)
    );
    for r in slices {
        keep(o, "EndpointSlice", r, |o, v| o.slices.extend(v));
    }
    for r in gets {
        keep(o, "Secret", r, |o, v: Vec<Secret>| {
            o.tls.extend(v.iter().filter_map(tls_of))
        });
    }
}

/// The TLS Secrets the Ingresses serving `host` name for it.
fn tls_secrets(o: &Objects, host: &str, paths: &[String]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = paths
        .iter()
        .filter_map(|p| match serves::served(o, host, 443, p) {
            serves::Served::Ingress { ingress, .. } => {
                let secret = serves::tls_secret_for(ingress, host)?;
                Some((meta(&ingress.metadata).0.to_string(), secret))
            }
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
