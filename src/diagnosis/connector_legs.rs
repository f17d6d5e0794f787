//! The legs of a login that run through a connector's own hosts and files, predicted from the
//! connector-type table: the hosts the Dex pod must reach (`dexpod.connector_host`: an LDAP
//! server, a GitLab, a Keystone), the pages the browser must reach (`browser.connector_host`: a
//! SAML IdP's sign-in URL), and the files the Dex pod must have (`dexpod.connector_files`).

use super::{Check, CheckId};
use crate::knowledge::connectors::{self, Form, Host, Reach};
use crate::plan::gourl::GoUrl;
use crate::plan::predict::{self, HostKind, Outcome, Status, host_kind};
use crate::probe::class::Class;
use crate::probe::pod::{ConnectorProbe, Tls};
use crate::setup::{Connector, Setup};

/// Every connector of a type Dex knows, with its row of the connector-type table.
fn typed(setup: &Setup) -> impl Iterator<Item = (&Connector, &'static connectors::Type)> {
    setup
        .connectors
        .iter()
        .filter_map(|c| connectors::of(&c.kind).map(|t| (c, t)))
}

/// Every connector's hosts and files, in connector order.
pub(super) fn checks(setup: &Setup) -> Vec<Check> {
    let several = setup.several_connectors();
    let mut out = Vec::new();
    for (c, t) in typed(setup) {
        for h in t.hosts {
            if let Some(check) = host(c, h) {
                out.push(check.for_connector(&c.id, several));
            }
        }
        if let Some(check) = files(c, t.files) {
            out.push(check.for_connector(&c.id, several));
        }
    }
    out
}

/// Where a host field points: the URL to show, the host name and the port Dex dials.
struct Target {
    shown: String,
    hostname: String,
    port: u16,
    tls: bool,
}

fn target(c: &Connector, h: &Host) -> Option<Target> {
    let value = c.text(h.field).or(h.default.map(str::to_string))?;
    let value = value.trim().to_string();
    match h.form {
        Form::Url | Form::HostName => {
            let url = if h.form == Form::HostName && !value.contains("://") {
                format!("https://{value}")
            } else {
                value.clone()
            };
            let u = GoUrl::parse(&url).ok().filter(|u| !u.host.is_empty())?;
            Some(Target {
                hostname: u.hostname().to_string(),
                port: u.effective_port()?,
                tls: u.scheme == "https",
                shown: url,
            })
        }
        Form::LdapHostPort => {
            let (hostname, port) = connectors::ldap_address(c)?;
            Some(Target {
                shown: connectors::join_host_port(&hostname, port),
                hostname,
                port,
                tls: !c.flag("insecureNoSSL"),
            })
        }
    }
}

/// A value that stands for one still to be filled in: `$VAR` (Dex expands it from its
/// environment), `<…>`, `{…}`, `XXXX`, or prose (`https://sso-url (e.g. …)`).
pub(super) fn placeholder(value: &str) -> bool {
    value.contains(char::is_whitespace)
        || value.contains('$')
        || value.contains('<')
        || value.contains('{')
        || value.to_ascii_uppercase().contains("XXXX")
}

fn host(c: &Connector, h: &Host) -> Option<Check> {
    let raw = c.text(h.field).or(h.default.map(str::to_string))?;
    let id = match h.reach {
        Reach::DexPod => CheckId::DexpodConnectorHost,
        Reach::Browser => CheckId::BrowserConnectorHost,
    };
    let field = if h.field.is_empty() {
        format!("fixed host ({})", h.purpose)
    } else {
        format!("{} ({})", h.field, h.purpose)
    };
    if placeholder(&raw) {
        return Some(
            Check::new(
                id,
                Outcome::unknown(format!(
                    "{field}: {raw:?} is a placeholder (or a variable Dex expands from its environment): fill it in to check it"
                )),
            )
            .url(&raw),
        );
    }
    let Some(t) = target(c, h) else {
        return Some(
            Check::new(
                id,
                Outcome::fail(
                    Class::UnsupportedScheme,
                    String::new(),
                    format!("{field}: {raw:?} is not a URL Dex can use"),
                ),
            )
            .url(&raw),
        );
    };
    let outcome = match h.reach {
        Reach::DexPod => from_dex_pod(c, h, &t),
        Reach::Browser => GoUrl::parse(&t.shown)
            .map(|u| predict::workstation(&u))
            .unwrap_or_else(|_| Outcome::unknown("not a URL a browser opens")),
    };
    let mut check = Check::new(id, outcome).url(&t.shown);
    check.message = format!("{field}: {}", check.message);
    if check.error.as_deref() == Some("") {
        check.error = None;
    }
    Some(check.remedy(Some(host_remedy(h, &t))))
}

/// The Dex pod dialling a connector's host: its own loopback, a cluster name, a public name.
fn from_dex_pod(c: &Connector, h: &Host, t: &Target) -> Outcome {
    let dial = predict::dial_addr(&t.hostname, t.port);
    match host_kind(&t.hostname) {
        HostKind::Loopback => Outcome::fail(
            Class::Refused,
            dex_words(
                c,
                h,
                &format!("dial tcp {dial}: connect: connection refused"),
            ),
            format!(
                "{} is, inside the Dex pod, the pod itself: nothing listens on port {} there",
                t.hostname, t.port
            ),
        ),
        HostKind::Cluster if t.hostname.contains('.') => Outcome::unknown(format!(
            "{} resolves inside the cluster; whether it answers on port {}{} needs a live check",
            t.hostname,
            t.port,
            if t.tls { " with TLS" } else { "" }
        )),
        _ => Outcome::unknown(format!(
            "the Dex pod must resolve and reach {}:{} (DNS, egress, the CA): needs a live check",
            t.hostname, t.port
        )),
    }
}

/// A dial error as the connector logs it.
fn dex_words(c: &Connector, h: &Host, dial: &str) -> String {
    match h.form {
        Form::LdapHostPort => {
            format!("failed to connect: LDAP Result Code 200 \"Network Error\": {dial}")
        }
        _ if c.kind == "oidc" => {
            let url = c.text(h.field).unwrap_or_default();
            format!(
                "failed to get provider: Get \"{}/.well-known/openid-configuration\": {dial}",
                url.trim_end_matches('/')
            )
        }
        _ => dial.to_string(),
    }
}

fn host_remedy(h: &Host, t: &Target) -> String {
    match (h.reach, host_kind(&t.hostname)) {
        (Reach::DexPod, HostKind::Loopback) => format!(
            "Set {} to an address the Dex pod reaches: the server's DNS name or a Service in the cluster, not localhost",
            h.field
        ),
        (Reach::DexPod, _) => format!(
            "Let the Dex pod reach {}:{} (DNS, NetworkPolicy egress, proxy, CA)",
            t.hostname, t.port
        ),
        (Reach::Browser, _) => format!("Set {} to an address the users' browsers reach", h.field),
    }
}

/// The paths a field names: a string or a list of strings; inline PEM and base64 (which
/// `rootCAs` entries may be) are not paths.
fn paths(c: &Connector, field: &str) -> Vec<String> {
    let values: Vec<String> = match c.fields.get(field) {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => c.text(field).into_iter().collect(),
    };
    values
        .into_iter()
        .map(|v| v.trim().to_string())
        .filter(|v| {
            !v.is_empty() && v.len() < 256 && !v.contains("-----BEGIN") && !v.contains('\n')
        })
        .filter(|v| v.starts_with('/') || v.starts_with('.') || v.contains('/') || v.contains('.'))
        .collect()
}

/// The files a connector names, which the Dex pod must have (a mounted Secret or ConfigMap).
fn files(c: &Connector, fields: &[connectors::File]) -> Option<Check> {
    let named: Vec<(&str, String)> = fields
        .iter()
        .filter(|f| (f.read)(c))
        .flat_map(|f| paths(c, f.field).into_iter().map(|v| (f.field, v)))
        .collect();
    if named.is_empty() {
        return None;
    }
    let list = named
        .iter()
        .map(|(f, v)| format!("{f} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let relative: Vec<&str> = named
        .iter()
        .filter(|(_, v)| !v.starts_with('/') && !placeholder(v))
        .map(|(f, _)| *f)
        .collect();
    let outcome = if relative.is_empty() {
        Outcome::unknown(format!(
            "the Dex pod must have {list} (mounted from a Secret or ConfigMap): checked live in the pod"
        ))
    } else {
        Outcome {
            status: Status::Warn,
            class: None,
            go_error: None,
            note: format!(
                "{list}: {} relative, so Dex reads it from its working directory, which differs between images",
                if relative.len() == 1 {
                    "a path is"
                } else {
                    "paths are"
                }
            ),
        }
    };
    let rem = format!(
        "Mount the file(s) into the Dex pod and give {} as absolute paths",
        relative.join(", ")
    );
    Some(Check::new(CheckId::DexpodConnectorFiles, outcome).remedy(Some(rem)))
}

/// What the Dex pod checks live for every connector: each host the connector makes Dex dial
/// (an LDAP server over TLS with its CA, plain for `insecureNoSSL` and `startTLS`; a web host
/// with any answer) and each file it makes Dex read. The `oidc` issuer is not among them: the
/// IdP discovery row (`dexpod.idp_discovery`) fetches it. Placeholders are not probed.
pub fn pod_probes(setup: &Setup) -> Vec<ConnectorProbe> {
    let several = setup.several_connectors();
    let mut out = Vec::new();
    for (c, t) in typed(setup) {
        let probe = |id, target: String, tls, shown: String, label: String, ldap| ConnectorProbe {
            connector: c.id.clone(),
            several,
            id,
            target,
            tls,
            shown,
            label,
            ldap,
        };
        for h in t.hosts.iter().filter(|h| h.reach == Reach::DexPod) {
            if c.kind == "oidc" && h.field == "issuer" {
                continue;
            }
            let Some(raw) = c.text(h.field).or(h.default.map(str::to_string)) else {
                continue;
            };
            let Some(tg) = target(c, h).filter(|_| !placeholder(&raw)) else {
                continue;
            };
            let (url, tls) = pod_fetch(c, h, &tg);
            let label = if h.field.is_empty() {
                "fixed host".to_string()
            } else {
                h.field.to_string()
            };
            out.push(probe(
                CheckId::DexpodConnectorHost,
                url,
                tls,
                tg.shown.clone(),
                label,
                h.form == Form::LdapHostPort,
            ));
        }
        for f in t.files.iter().filter(|f| (f.read)(c)) {
            for path in paths(c, f.field).into_iter().filter(|p| !placeholder(p)) {
                out.push(probe(
                    CheckId::DexpodConnectorFiles,
                    path,
                    Tls::File,
                    String::new(),
                    f.field.to_string(),
                    false,
                ));
            }
        }
    }
    out
}

/// A page a connector sends the browser to itself (a SAML IdP's `ssoURL`), for the live probe
/// from this machine.
#[derive(Debug, Clone)]
pub struct BrowserPage {
    pub connector: String,
    pub several: bool,
    pub url: String,
    pub field: &'static str,
}

pub fn browser_pages(setup: &Setup) -> Vec<BrowserPage> {
    let several = setup.several_connectors();
    let mut out = Vec::new();
    for (c, t) in typed(setup) {
        for h in t.hosts.iter().filter(|h| h.reach == Reach::Browser) {
            if c.text(h.field).is_none_or(|r| placeholder(&r)) {
                continue;
            }
            if let Some(tg) = target(c, h) {
                out.push(BrowserPage {
                    connector: c.id.clone(),
                    several,
                    url: tg.shown,
                    field: h.field,
                });
            }
        }
    }
    out
}

/// What the pod fetches for a host, and how it checks TLS: as Dex's client would.
fn pod_fetch(c: &Connector, h: &Host, t: &Target) -> (String, Tls) {
    if h.form != Form::LdapHostPort {
        let tls = match c.text("rootCA") {
            Some(ca) if ca.starts_with('/') && t.tls => Tls::CaFile(ca),
            _ => Tls::Verify,
        };
        return (t.shown.clone(), tls);
    }
    // ldap.go do(): plain TCP for insecureNoSSL and startTLS, TLS otherwise; rootCAData wins
    // over rootCA and replaces the system roots (not passed to the pod: unverified there).
    if c.flag("insecureNoSSL") || c.flag("startTLS") {
        return (format!("http://{}/", t.shown), Tls::Insecure);
    }
    let tls = if c.flag("insecureSkipVerify") || c.has("rootCAData") {
        Tls::Insecure
    } else if let Some(ca) = c.text("rootCA") {
        Tls::CaFile(ca)
    } else {
        Tls::Verify
    };
    (format!("https://{}/", t.shown), tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legs(config: &str) -> Vec<Check> {
        let text = format!("connectors:\n- type: ldap\n  id: ad\n  name: AD\n  config:\n{config}");
        let s = crate::setup::load_str("l.yaml", &text, Some("https://d.test/orchestrator"), None)
            .unwrap();
        checks(&s)
    }

    #[test]
    fn ldap_on_localhost_is_the_dex_pod_itself() {
        let c = legs("    host: localhost:636\n    insecureSkipVerify: true\n");
        assert_eq!(c[0].id, CheckId::DexpodConnectorHost);
        assert_eq!(c[0].status, Status::Fail);
        assert_eq!(c[0].class, Some(Class::Refused));
        assert_eq!(
            c[0].error.as_deref(),
            Some(
                "failed to connect: LDAP Result Code 200 \"Network Error\": dial tcp [::1]:636: connect: connection refused"
            )
        );
    }

    #[test]
    fn ldap_ports_follow_dex_defaults() {
        let url = |cfg: &str| legs(cfg)[0].url.clone().unwrap_or_default();
        assert_eq!(url("    host: ldap.test\n"), "ldap.test:636");
        // ldap.go: only insecureNoSSL picks 389; startTLS still dials 636.
        assert_eq!(
            url("    host: ldap.test\n    startTLS: true\n"),
            "ldap.test:636"
        );
        assert_eq!(
            url("    host: ldap.test\n    insecureNoSSL: true\n"),
            "ldap.test:389"
        );
        assert_eq!(url("    host: ldap.test:3269\n"), "ldap.test:3269");
        assert_eq!(legs("    host: ldap.test\n")[0].status, Status::Unknown);
        assert_eq!(legs("    host: $LDAP_HOST\n")[0].status, Status::Unknown);
    }

    #[test]
    fn files_the_dex_pod_must_have() {
        let c = legs("    host: ldap.test\n    rootCA: /etc/dex/ldap.ca\n");
        assert_eq!(c[1].id, CheckId::DexpodConnectorFiles);
        assert_eq!(c[1].status, Status::Unknown);
        let c = legs("    host: ldap.test\n    rootCA: ca.crt\n");
        assert_eq!(c[1].status, Status::Warn);
        assert!(c[1].message.contains("relative"), "{}", c[1].message);
        // Inline PEM is not a file.
        let c = legs("    host: ldap.test\n    rootCA: \"-----BEGIN CERTIFICATE-----\"\n");
        assert_eq!(c.len(), 1);
    }
}
