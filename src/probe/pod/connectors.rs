//! The connectors' own legs, observed from the Dex pod: each host a connector makes Dex dial (an
//! LDAP server over TLS with the connector's CA, a GitLab, a Keystone) and each file it makes Dex
//! read (`test -r`, never read or shown). One exec per Dex pod, beside the IdP discovery's.

use super::{ConnectorProbe, Line, PodTargets, Probe, Report, Tls, classify, replicas};
use crate::diagnosis::{Check, CheckId};
use crate::plan::predict::Outcome;
use crate::probe::outcome::Class;

type Probed = Result<(Vec<Check>, Vec<String>), crate::cluster::ClusterError>;

/// The rows of every Dex pod, folded into one per connector and host (or files).
pub(super) async fn dex_pods(client: &kube::Client, t: &PodTargets) -> Probed {
    let pods =
        crate::cluster::find_pods(client, &t.namespace, t.app.profile().dex.selector).await?;
    let probes: Vec<Probe> = t
        .connectors
        .iter()
        .map(|c| Probe {
            url: c.target.clone(),
            tls: c.tls.clone(),
            expect_issuer: None,
            identity: false,
        })
        .collect();
    let mut notes = Vec::new();
    let mut rows = Vec::new();
    for (pod, r, n) in super::run::on_every_pod(client, t, &pods, &probes, None).await {
        notes.extend(n);
        let checks = match r? {
            Err(why) => not_run(&t.connectors, &why),
            Ok(report) => observe(&t.connectors, &report),
        };
        rows.push((pod, checks));
    }
    Ok((replicas::fold("Dex pods", rows), notes))
}

fn not_run(probes: &[ConnectorProbe], why: &str) -> Vec<Check> {
    probes
        .iter()
        .map(|p| {
            let mut c =
                Check::not_run(p.id, why.to_string()).for_connector(&p.connector, p.several);
            c.url = (p.id == CheckId::DexpodConnectorHost).then(|| p.shown.clone());
            c
        })
        .collect()
}

/// The rows of one pod: a host row per host probe, one files row per connector.
fn observe(probes: &[ConnectorProbe], report: &Report) -> Vec<Check> {
    let tool = report.tool.clone().unwrap_or_default();
    let mut out = Vec::new();
    let mut files: Vec<(&ConnectorProbe, &Line)> = Vec::new();
    for (p, line) in probes.iter().zip(&report.lines) {
        if p.id == CheckId::DexpodConnectorFiles {
            files.push((p, line));
            continue;
        }
        out.push(host(p, line, &tool, report));
    }
    let mut connectors: Vec<&str> = files.iter().map(|(p, _)| p.connector.as_str()).collect();
    connectors.dedup();
    for id in connectors {
        let mine: Vec<&(&ConnectorProbe, &Line)> =
            files.iter().filter(|(p, _)| p.connector == id).collect();
        out.extend(files_row(&mine, report.ephemeral));
    }
    out
}

/// A host the Dex pod dialled, in the words Dex logs for it.
fn host(p: &ConnectorProbe, line: &Line, tool: &str, report: &Report) -> Check {
    let outcome = if answered(p, line, tool) {
        let tls = match &p.tls {
            Tls::CaFile(ca) => format!(" (TLS verified with {ca})"),
            Tls::Verify if p.target.starts_with("https:") => " (TLS verified)".to_string(),
            Tls::Insecure if p.target.starts_with("https:") => {
                " (TLS not verified: insecureSkipVerify or rootCAData)".to_string()
            }
            _ => String::new(),
        };
        Outcome::pass(format!(
            "{}: {} answers from the Dex pod{tls}",
            p.label, p.shown
        ))
    } else {
        let c = classify(line, &p.target, tool, report, None);
        let class = c.class.unwrap_or(Class::Reset);
        let go = if p.ldap {
            format!(
                "failed to connect: LDAP Result Code 200 \"Network Error\": {}",
                c.go_error
            )
        } else {
            format!("Get {:?}: {}", p.target, c.go_error)
        };
        Outcome::fail(class, go, format!("{}: {}", p.label, c.note))
    };
    let remedy = outcome.class.map(|class| host_remedy(p, class));
    let mut c = Check::observed(p.id, &p.shown, outcome)
        .for_connector(&p.connector, p.several)
        .remedy(remedy);
    c.duration_ms = Some(line.secs.map(|s| (s * 1000.0) as u64).unwrap_or(0));
    c
}

fn host_remedy(p: &ConnectorProbe, class: Class) -> String {
    match class {
        Class::TlsUnknownCa | Class::TlsNameMismatch | Class::TlsExpired | Class::Tls => format!(
            "Give the connector the CA that signed {}'s certificate ({}), or fix the server's certificate; Dex's LDAP connector trusts only rootCA/rootCAData when set",
            p.shown,
            if p.ldap {
                "rootCA as a file in the Dex pod, or rootCAData"
            } else {
                "rootCA"
            }
        ),
        Class::HttpToHttps => format!(
            "{} speaks plain LDAP: use port 636 for LDAPS, or set startTLS: true (or insecureNoSSL: true) for port 389",
            p.shown
        ),
        _ => format!(
            "Set {} to an address the Dex pod reaches (host and port), and let it through (DNS, NetworkPolicy egress, firewall)",
            p.label
        ),
    }
}

/// Whether the host answered: any HTTP answer from a web host; from an LDAP server, the probe's
/// HTTP request closed after the connection (and TLS) succeeded (curl 52 or 56, wget's "error
/// getting response").
fn answered(p: &ConnectorProbe, line: &Line, tool: &str) -> bool {
    if line.rc == 0 || line.code > 0 {
        return true;
    }
    if !p.ldap {
        return false;
    }
    let e = line.err.to_ascii_lowercase();
    if tool == "curl" {
        return line.rc == 52 || (line.rc == 56 && !e.contains("reset") && !e.contains("refused"));
    }
    e.contains("error getting response")
        || e.contains("connection closed")
        || e.contains("server returned error")
}

/// One connector's files: readable in the Dex pod, or named as missing.
fn files_row(files: &[&(&ConnectorProbe, &Line)], ephemeral: bool) -> Option<Check> {
    let (first, _) = files.first()?;
    if ephemeral {
        let why =
            "probed from an ephemeral container, which does not see the Dex container's files";
        return Some(
            Check::not_run(CheckId::DexpodConnectorFiles, why.into())
                .for_connector(&first.connector, first.several),
        );
    }
    let missing: Vec<String> = files
        .iter()
        .filter(|(_, l)| l.rc != 0)
        .map(|(p, l)| format!("{} {} ({})", p.label, p.target, l.err))
        .collect();
    let listed: Vec<&str> = files.iter().map(|(p, _)| p.target.as_str()).collect();
    let outcome = if missing.is_empty() {
        Outcome::pass(format!("the Dex pod has {}", listed.join(", ")))
    } else {
        // Go's words for the first file Dex cannot open, with the reason the pod gave for it.
        let (p, l) = files
            .iter()
            .find(|(_, l)| l.rc != 0)
            .map(|(p, l)| (p.target.as_str(), l.err.as_str()))
            .unwrap_or_default();
        Outcome::fail(
            Class::MissingFile,
            format!("open {p}: {l}"),
            format!("not readable in the Dex pod: {}", missing.join("; ")),
        )
    };
    let mut c = Check::new(CheckId::DexpodConnectorFiles, outcome)
        .for_connector(&first.connector, first.several)
        .remedy(Some("Mount the files into the Dex pod (a Secret or ConfigMap volume) at the paths the connector names".into()));
    c.observed = true;
    Some(c)
}

/// How Argo CD's OIDC client verifies the IdP (`OIDCTLSConfig`).
#[derive(Debug, Clone)]
pub enum IdpTls {
    /// The pod's system roots.
    Verify,
    /// `oidc.tls.insecure.skip.verify: "true"`.
    Insecure,
    /// `rootCA`'s PEM, alone: given to the pod on the exec's stdin, never on its command line.
    RootCa(String),
}

/// Argo CD's direct OIDC, from every `argocd-server` pod, as Argo CD's OIDC client fetches it and
/// in Argo CD's words, with TLS as Argo CD sets it: the IdP's discovery (`failed to query provider
/// …`); then, where it answered, the token endpoint and key set it names (one more exec).
pub async fn direct_idp(
    client: &kube::Client,
    t: &PodTargets,
    issuer: &str,
    tls: &IdpTls,
) -> Probed {
    let pods =
        crate::cluster::find_pods(client, &t.namespace, t.app.profile().server.selector).await?;
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let probes = [probe(&url, tls, Some(issuer))];
    let install = crate::app::Install::new(t.app, Some(&t.namespace));
    let (_feed, stdin) = root_ca_stdin(tls);
    let mut notes = Vec::new();
    let mut found = Vec::new();
    for (pod, r, n) in super::run::on_every_pod(client, t, &pods, &probes, stdin.clone()).await {
        notes.extend(n);
        let (discovery, doc) = match r? {
            Err(why) => (Check::not_run(CheckId::PodIdpDiscovery, why), Vec::new()),
            Ok(report) => {
                let line = &report.lines[0];
                let c = classify(line, &url, &tool(&report), &report, Some(issuer));
                let wrap = |go: &str| install.query_provider_error(issuer, &url, go);
                let check = super::run::observation(CheckId::PodIdpDiscovery, &url, c, wrap, line);
                (with_tls(check, tls), line.doc.clone())
            }
        };
        found.push((pod, discovery, doc));
    }
    // The second exec, on every pod whose discovery answered, at once.
    let second = found.iter().map(|(pod, discovery, doc)| {
        let stdin = stdin.clone();
        let at = pods
            .iter()
            .find(|p| &p.name == pod)
            .filter(|_| discovery.status == crate::plan::predict::Status::Pass);
        async move {
            let mut notes = Vec::new();
            let row = match at {
                Some(p) => token_keys(client, t, p, doc, tls, stdin, &mut notes).await,
                None => Ok(Check::not_run(
                    CheckId::PodIdpTokenKeys,
                    "depends on the IdP's discovery from the pod, which fails".into(),
                )),
            };
            (row, notes)
        }
    });
    let seconds = futures_util::future::join_all(second).await;
    let mut rows = Vec::new();
    for ((pod, discovery, _), (row, n)) in found.into_iter().zip(seconds) {
        notes.extend(n);
        rows.push((pod, vec![discovery, row?]));
    }
    Ok((replicas::fold("app pods", rows), notes))
}

fn tool(report: &Report) -> String {
    report.tool.clone().unwrap_or_default()
}

/// A fetch with Argo CD's TLS; a discovery document's endpoints are read too (`,id`).
fn probe(url: &str, tls: &IdpTls, issuer: Option<&str>) -> Probe {
    Probe {
        url: url.to_string(),
        tls: match tls {
            IdpTls::Verify => Tls::Verify,
            IdpTls::Insecure => Tls::Insecure,
            IdpTls::RootCa(_) => Tls::RootCa,
        },
        expect_issuer: issuer.map(str::to_string),
        identity: issuer.is_some(),
    }
}

/// The `rootCA` PEM for the exec's stdin (the sender lives as long as the execs that read it).
fn root_ca_stdin(
    tls: &IdpTls,
) -> (
    Option<tokio::sync::watch::Sender<Option<crate::secret::Secret>>>,
    Option<crate::cluster::Stdin>,
) {
    match tls {
        IdpTls::RootCa(pem) => {
            let lines: String = pem.lines().map(|l| format!("P {l}\n")).collect();
            let (tx, rx) = tokio::sync::watch::channel(Some(crate::secret::Secret::new(lines)));
            (Some(tx), Some(rx))
        }
        _ => (None, None),
    }
}

fn with_tls(mut check: Check, tls: &IdpTls) -> Check {
    if check
        .url
        .as_deref()
        .is_some_and(|u| u.starts_with("https:"))
    {
        let how = match tls {
            IdpTls::Verify => "TLS verified with the pod's system roots",
            IdpTls::Insecure => "TLS not verified: oidc.tls.insecure.skip.verify",
            IdpTls::RootCa(_) => "TLS verified with oidc.config's rootCA alone",
        };
        check.message = format!("{} ({how})", check.message);
    }
    check
}

/// The token endpoint and key set the pod's own discovery named, from that pod: what Argo CD
/// needs after the IdP login, in its words (`failed to get token: Post …`; `Failed to verify oidc
/// token: failed to verify signature: fetching keys oidc: get keys failed: Get …`).
async fn token_keys(
    client: &kube::Client,
    t: &PodTargets,
    pod: &crate::cluster::PodRef,
    doc: &[(String, String)],
    tls: &IdpTls,
    stdin: Option<crate::cluster::Stdin>,
    notes: &mut Vec<String>,
) -> Result<Check, crate::cluster::ClusterError> {
    let named = |k: &str| doc.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (Some(token), Some(keys)) = (named("token_endpoint"), named("jwks_uri")) else {
        return Ok(Check::not_run(
            CheckId::PodIdpTokenKeys,
            "the IdP's discovery names no token_endpoint or jwks_uri".into(),
        ));
    };
    let probes = [probe(&token, tls, None), probe(&keys, tls, None)];
    let report = match super::run::run_in(client, t, pod, &probes, stdin, notes).await? {
        Ok(r) => r,
        Err(why) => return Ok(Check::not_run(CheckId::PodIdpTokenKeys, why)),
    };
    let mut token_c = classify(&report.lines[0], &token, &tool(&report), &report, None);
    // Any OAuth answer proves the token endpoint reachable (a GET gets an error).
    if matches!(token_c.class, Some(Class::HttpStatus(400..=405))) {
        token_c.class = None;
    }
    let keys_c = classify(&report.lines[1], &keys, &tool(&report), &report, None);
    let url = format!("{token} , {keys}");
    let check = if token_c.class.is_some() {
        let wrap = |go: &str| format!("failed to get token: Post {token:?}: {go}");
        super::run::observation(
            CheckId::PodIdpTokenKeys,
            &url,
            token_c,
            wrap,
            &report.lines[0],
        )
    } else if keys_c.class.is_some() {
        let wrap = |go: &str| {
            format!(
                "Failed to verify oidc token: failed to verify signature: fetching keys oidc: get keys failed: Get {keys:?}: {go}"
            )
        };
        super::run::observation(
            CheckId::PodIdpTokenKeys,
            &url,
            keys_c,
            wrap,
            &report.lines[1],
        )
    } else {
        let mut c = super::run::observation(
            CheckId::PodIdpTokenKeys,
            &url,
            keys_c,
            |g: &str| g.to_string(),
            &report.lines[1],
        );
        c.message = format!("the token endpoint and the key set answer ({})", c.message);
        c
    };
    Ok(with_tls(check, tls))
}
