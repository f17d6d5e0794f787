//! Probes from inside a pod: one POSIX `sh` script per pod, run through the Kubernetes exec API.
//! Every URL reaches the script as a separate argument (`"$url"`), never as part of its text, so
//! nothing in a URL can run in the pod. The script uses curl when the image has it, else wget
//! (busybox or GNU), probes all URLs in parallel, and prints one tab-separated line per probe.
//! Besides curl or wget it needs only `sed`, `tr`, `cat` and `rm` (`getent` when present).
//!
//! `script.sh` is the script; `parse` reads what it printed, `classify` names each result in the
//! app's (a Go program's) words, and `run` execs it in the app and Dex pods.

mod classify;
mod connectors;
mod parse;
mod replicas;
mod run;

use std::time::Duration;

use crate::diagnosis::Check;

pub use classify::{Classified, classify};
pub use connectors::{IdpTls, direct_idp};
pub use parse::{Line, Report, parse};
pub use run::{observation, run};

/// The script. `$1` is the timeout in seconds; then pairs of MODE (`insecure`/`verify`/`post`)
/// and URL; a `post` probe reads its URL and credentials from stdin.
pub const SCRIPT: &str = include_str!("script.sh");

/// Whether the pod's client verifies TLS (Dex's connector does; Devtron's OIDC client does not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    Insecure,
    Verify,
    /// Verified, and a form POST whose URL, body and credentials come on stdin (a token
    /// request); its argv slot is `post -`.
    Post,
    /// Verified with this CA file in the pod only (`cafile:PATH`), as Dex's LDAP connector
    /// verifies with its `rootCA`.
    CaFile(String),
    /// Not a fetch: is this path a readable file in the pod (`file PATH`)? Never read.
    File,
    /// Verified with the CA certificates (PEM) that come on stdin as `P ` lines, alone, as
    /// Argo CD verifies the IdP with `oidc.config`'s `rootCA` (mode `rootca`).
    RootCa,
}

/// One URL to fetch from a pod.
#[derive(Debug, Clone)]
pub struct Probe {
    pub url: String,
    pub tls: Tls,
    /// For discovery documents: the issuer the document must name.
    pub expect_issuer: Option<String>,
    /// Print the answer's identity too (a key set's key ids, a discovery document's endpoints
    /// and digest) for comparing replicas: the mode word gets `,id`. Asked for only when the
    /// workload has several pods, so a single pod's exec costs no more than it needs.
    pub identity: bool,
}

/// The argv for one exec: `sh -c SCRIPT dexcheck-probe TIMEOUT MODE URL …` (MODE: `insecure`,
/// `verify` or `post`, with `,id` when the answer's identity is wanted).
pub fn argv(timeout: Duration, probes: &[Probe]) -> Vec<String> {
    let mut v = vec![
        "sh".to_string(),
        "-c".to_string(),
        SCRIPT.to_string(),
        "dexcheck-probe".to_string(),
        timeout.as_secs().max(1).to_string(),
    ];
    for p in probes {
        let mode = match &p.tls {
            Tls::Insecure => "insecure".to_string(),
            Tls::Verify => "verify".to_string(),
            Tls::Post => "post".to_string(),
            Tls::CaFile(path) => format!("cafile:{path}"),
            Tls::File => "file".to_string(),
            Tls::RootCa => "rootca".to_string(),
        };
        v.push(
            if p.identity && matches!(p.tls, Tls::Insecure | Tls::Verify | Tls::RootCa) {
                format!("{mode},id")
            } else {
                mode
            },
        );
        v.push(match p.tls {
            Tls::Post => "-".into(),
            _ => p.url.clone(),
        });
    }
    v
}

/// What the pod probes need to know.
#[derive(Debug, Clone)]
pub struct PodTargets {
    pub app: crate::setup::App,
    pub namespace: String,
    pub endpoints: crate::plan::endpoints::Endpoints,
    /// The upstream IdP's issuer (an `oidc` connector's), probed from the Dex pod.
    pub idp_issuer: Option<String>,
    /// The connector, for the Dex pod's token request (`dexpod.idp_client_auth`).
    pub upstream: Option<crate::probe::idp::Upstream>,
    pub timeout: Duration,
    /// `Some(image)`: add an ephemeral debug container when the app container cannot probe.
    pub ephemeral: Option<String>,
    /// What the Dex pod checks for the connectors: their hosts and files.
    pub connectors: Vec<ConnectorProbe>,
    /// The Dex pods as the run lists them (when that list fails, the Dex probe lists them).
    pub dex_pods: crate::cluster::DexList,
}

/// One thing the Dex pod checks for a connector: a host it dials, or a file it reads.
#[derive(Debug, Clone)]
pub struct ConnectorProbe {
    /// The connector's id, and whether the config has several (the row's title names it).
    pub connector: String,
    pub several: bool,
    /// `dexpod.connector_host` or `dexpod.connector_files`.
    pub id: crate::diagnosis::CheckId,
    /// What the pod fetches (`https://ldap.example.com:636/`) or the file's path.
    pub target: String,
    pub tls: Tls,
    /// The row's URL, as the prediction shows it (`ldap.example.com:636`).
    pub shown: String,
    /// The config field and what Dex does there, for the row's message.
    pub label: String,
    /// An LDAP server: an answer that is not HTTP means the connection (and TLS) worked, and a
    /// failure is written as Dex's LDAP connector logs it.
    pub ldap: bool,
}

/// The result of the pod probes.
#[derive(Debug, Clone, Default)]
pub struct PodRun {
    pub observations: Vec<Check>,
    /// Per pod: what ran where (pod, container, tool, ephemeral or not, proxy environment).
    pub notes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// URLs are argv words of their own, after the mode word; the identity is asked for in the
    /// mode word only, and never for the token request's slot.
    #[test]
    fn argv_carries_modes_and_urls_apart() {
        let p = |url: &str, tls, identity| Probe {
            url: url.into(),
            tls,
            expect_issuer: None,
            identity,
        };
        let v = argv(
            Duration::from_secs(3),
            &[
                p(
                    "http://d/.well-known/openid-configuration",
                    Tls::Insecure,
                    true,
                ),
                p("http://d/token", Tls::Insecure, false),
                p("https://idp/token", Tls::Post, true),
            ],
        );
        assert_eq!(
            &v[3..],
            [
                "dexcheck-probe",
                "3",
                "insecure,id",
                "http://d/.well-known/openid-configuration",
                "insecure",
                "http://d/token",
                "post",
                "-"
            ]
        );
    }
}
