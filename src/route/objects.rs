//! The cluster objects the route is read from, however they were obtained: listed live
//! (`route::read`) or from a `kubectl get … -o yaml` dump. A TLS Secret keeps only its
//! certificate; nothing else of a Secret is ever held.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use serde_json::Value;

use crate::setup::InputError;

/// The objects of the route behind URL, and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Objects {
    pub ingresses: Vec<Ingress>,
    pub services: Vec<Service>,
    pub slices: Vec<EndpointSlice>,
    pub nodes: Vec<Node>,
    /// The app's pods (their node names and addresses).
    pub pods: Vec<Pod>,
    /// CoreDNS's, NodeLocal DNSCache's and ingress controllers' ConfigMaps.
    pub configmaps: Vec<ConfigMap>,
    /// TLS Secrets named by an Ingress: `tls.crt` only.
    pub tls: Vec<TlsSecret>,
    /// Gateway API HTTPRoutes and Gateways, Traefik Middlewares, as read.
    pub http_routes: Vec<Value>,
    pub gateways: Vec<Value>,
    pub middlewares: Vec<Value>,
    /// Kinds that were read (an empty list of a kind read means none exists).
    pub read: Vec<&'static str>,
    /// Reads that failed or were denied, one sentence each.
    pub notes: Vec<String>,
    /// Read from a dump, which may hold only some objects of a kind: an object it lacks is
    /// "not in the dump", not "does not exist".
    pub from_dump: bool,
}

/// A `kubernetes.io/tls` Secret's certificate (never its key).
#[derive(Debug, Clone)]
pub struct TlsSecret {
    pub namespace: String,
    pub name: String,
    /// `tls.crt`, PEM.
    pub cert_pem: Option<String>,
}

impl Objects {
    pub fn was_read(&self, kind: &str) -> bool {
        self.read.contains(&kind)
    }
    pub fn configmap(&self, ns: &str, name: &str) -> Option<&BTreeMap<String, String>> {
        self.configmaps
            .iter()
            .find(|c| meta(&c.metadata) == (ns, name))
            .and_then(|c| c.data.as_ref())
    }
    pub fn tls_secret(&self, ns: &str, name: &str) -> Option<&TlsSecret> {
        self.tls
            .iter()
            .find(|s| s.namespace == ns && s.name == name)
    }
    /// How a report says an object of a kind that was read is not there.
    pub fn absent(&self) -> &'static str {
        if self.from_dump {
            "is not in the objects given (if the dump lists every one of its kind, it does not exist)"
        } else {
            "does not exist"
        }
    }
    pub fn service(&self, ns: &str, name: &str) -> Option<&Service> {
        self.services
            .iter()
            .find(|s| meta(&s.metadata) == (ns, name))
    }
    /// Adds every object of a dump: YAML documents, each an object or a `List` of them.
    pub fn add_dump(&mut self, source: &str, text: &str) -> Result<(), InputError> {
        self.from_dump = true;
        let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| InputError::Yaml {
            input: source.to_string(),
            message: crate::setup::yaml_message(&e),
        })?;
        for doc in docs {
            match doc.get("items").and_then(Value::as_array) {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.add(source, &format!("items[{i}]"), item)?;
                    }
                }
                None if doc.is_null() => {}
                None => self.add(source, "document", &doc)?,
            }
        }
        Ok(())
    }

    /// Adds one object by its kind; other kinds are left alone. A namespaced object without a
    /// namespace (a manifest as published) is read in `default`, where `kubectl apply` puts it.
    fn add(&mut self, source: &str, at: &str, v: &Value) -> Result<(), InputError> {
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or_default();
        let mut v = v.clone();
        if kind != "Node"
            && let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut)
            && !m.contains_key("namespace")
        {
            m.insert("namespace".into(), Value::String("default".into()));
        }
        let v = &v;
        let bad = |e: serde_json::Error| InputError::Field {
            input: source.to_string(),
            field: format!("{at} ({kind})"),
            message: e.to_string(),
        };
        match kind {
            "Ingress" => self
                .ingresses
                .push(serde_json::from_value(v.clone()).map_err(bad)?),
            "Service" => self
                .services
                .push(serde_json::from_value(v.clone()).map_err(bad)?),
            "EndpointSlice" => self
                .slices
                .push(serde_json::from_value(v.clone()).map_err(bad)?),
            "Node" => self
                .nodes
                .push(serde_json::from_value(v.clone()).map_err(bad)?),
            "Pod" => self
                .pods
                .push(serde_json::from_value(v.clone()).map_err(bad)?),
            "ConfigMap" => self
                .configmaps
                .push(serde_json::from_value(v.clone()).map_err(bad)?),
            "Secret" => {
                // serde's message could quote a value: a Secret's error names no part of it.
                let s: Secret =
                    serde_json::from_value(v.clone()).map_err(|_| InputError::Field {
                        input: source.to_string(),
                        field: format!("{at} (Secret)"),
                        message: "not a Secret dexcheck can read (data must be base64)".into(),
                    })?;
                self.tls.extend(tls_of(&s));
            }
            "HTTPRoute" => self.http_routes.push(v.clone()),
            "Gateway" => self.gateways.push(v.clone()),
            "Middleware" => self.middlewares.push(v.clone()),
            _ => return Ok(()),
        }
        let read = KINDS.iter().find(|k| **k == kind).copied();
        if let Some(k) = read
            && !self.read.contains(&k)
        {
            self.read.push(k);
        }
        Ok(())
    }
}

/// The kinds the route reads.
pub const KINDS: &[&str] = &[
    "Ingress",
    "Service",
    "EndpointSlice",
    "Node",
    "Pod",
    "ConfigMap",
    "Secret",
    "HTTPRoute",
    "Gateway",
    "Middleware",
];

/// A Secret's certificate, if it is a TLS Secret; the rest of it is dropped here.
pub fn tls_of(s: &Secret) -> Option<TlsSecret> {
    let (ns, name) = meta(&s.metadata);
    let cert = s
        .data
        .as_ref()
        .and_then(|d| d.get("tls.crt"))
        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
        .or_else(|| {
            s.string_data
                .as_ref()
                .and_then(|d| d.get("tls.crt").cloned())
        });
    let is_tls = s.type_.as_deref() == Some("kubernetes.io/tls") || cert.is_some();
    is_tls.then(|| TlsSecret {
        namespace: ns.to_string(),
        name: name.to_string(),
        cert_pem: cert,
    })
}

/// An object's namespace and name (empty when absent).
pub fn meta(m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> (&str, &str) {
    (
        m.namespace.as_deref().unwrap_or_default(),
        m.name.as_deref().unwrap_or_default(),
    )
}

/// An annotation's value.
pub fn annotation<'a>(
    m: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
) -> Option<&'a str> {
    m.annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}
