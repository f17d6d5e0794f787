//! The bind Dex's LDAP connector makes before every search (`bindDN`/`bindPW`), tried from this
//! machine when it reaches the server: over TLS only (LDAPS, or StartTLS), with the connector's
//! `rootCA` when that file is here (Dex trusts it alone), else the platform's roots and
//! `--cacert`. The password goes only into the bind request; `--no-secret-probe` stops it. A
//! server this machine cannot reach is no finding: the Dex pod's row says whether Dex reaches it.

use std::sync::Arc;
use std::time::Duration;

use crate::diagnosis::{Check, CheckId};
use crate::plan::predict::{Outcome, Status};
use crate::probe::outcome::Class;
use crate::secret::Secret;
use crate::setup::{Connector, Setup};

/// One connector's bind.
#[derive(Debug, Clone)]
pub struct Bind {
    pub connector: String,
    pub several: bool,
    /// `ldaps://host:port` (or `ldap://` for StartTLS).
    pub url: String,
    /// The row's URL: `host:port`, as the Dex pod's row shows it.
    pub shown: String,
    pub starttls: bool,
    pub insecure: bool,
    pub dn: String,
    pub password: Secret,
    pub ca_file: Option<String>,
}

/// The binds to try: `ldap` connectors with a bind DN and password over TLS; none with
/// `--no-secret-probe`, for `insecureNoSSL` (the password would cross in the clear) or for a
/// value still to be filled in.
pub fn binds(setup: &Setup, send_secret: bool) -> Vec<Bind> {
    if !send_secret {
        return Vec::new();
    }
    let several = setup.several_connectors();
    setup
        .connectors
        .iter()
        .filter(|c| c.kind == "ldap" && !c.flag("insecureNoSSL"))
        .filter_map(|c| bind(c, several))
        .collect()
}

fn bind(c: &Connector, several: bool) -> Option<Bind> {
    let host = c.text("host")?;
    let dn = c.text("bindDN")?;
    let password = c.config.bind_pw.clone().filter(|p| !p.is_empty())?;
    if [host.as_str(), dn.as_str(), password.expose()]
        .iter()
        .any(|v| v.starts_with('$') || v.contains('<'))
    {
        return None;
    }
    let (name, port) = crate::knowledge::connectors::ldap_address(c)?;
    let shown = crate::knowledge::connectors::join_host_port(&name, port);
    let starttls = c.flag("startTLS");
    Some(Bind {
        connector: c.id.clone(),
        several,
        url: format!("{}://{shown}", if starttls { "ldap" } else { "ldaps" }),
        shown,
        starttls,
        insecure: c.flag("insecureSkipVerify"),
        dn,
        password,
        ca_file: c
            .text("rootCA")
            .filter(|p| std::path::Path::new(p).is_file()),
    })
}

/// go-ldap's names for the result codes a bind meets (`v3/error.go`, `LDAPResultCodeMap`).
fn code_name(rc: u32) -> &'static str {
    match rc {
        1 => "Operations Error",
        2 => "Protocol Error",
        7 => "Auth Method Not Supported",
        8 => "Strong Auth Required",
        13 => "Confidentiality Required",
        19 => "Constraint Violation",
        32 => "No Such Object",
        34 => "Invalid DN Syntax",
        48 => "Inappropriate Authentication",
        49 => "Invalid Credentials",
        50 => "Insufficient Access Rights",
        51 => "Busy",
        52 => "Unavailable",
        53 => "Unwilling To Perform",
        _ => "Other",
    }
}

/// A TLS config that trusts the connector's CA file alone, as Dex does.
fn ca_config(path: &str) -> Result<Arc<rustls::ClientConfig>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in pem_certificates(&pem) {
        roots.add(cert).map_err(|e| format!("{path}: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The certificates in a PEM file.
fn pem_certificates(pem: &[u8]) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

/// Binds as Dex does, from this machine, within `timeout`.
pub async fn observe(b: &Bind, platform: Arc<rustls::ClientConfig>, timeout: Duration) -> Check {
    let started = std::time::Instant::now();
    let (config, trust) = match b.ca_file.as_deref().map(ca_config) {
        Some(Ok(c)) => (c, format!("with {}", b.ca_file.as_deref().unwrap_or(""))),
        Some(Err(e)) => return unreached(b, format!("the CA file is not usable here: {e}")),
        None => (platform, "with this machine's CAs".to_string()),
    };
    let settings = ldap3::LdapConnSettings::new()
        .set_conn_timeout(timeout)
        .set_starttls(b.starttls)
        .set_no_tls_verify(b.insecure)
        .set_config(config);
    let attempt = async {
        let (conn, mut ldap) = ldap3::LdapConnAsync::with_settings(settings, &b.url).await?;
        ldap3::drive!(conn);
        let result = ldap.simple_bind(&b.dn, b.password.expose()).await;
        let _ = ldap.unbind().await;
        result
    };
    let outcome = match tokio::time::timeout(timeout, attempt).await {
        Err(_) => return unreached(b, format!("no answer within {}s", timeout.as_secs())),
        Ok(Err(e)) => return unreached(b, e.to_string()),
        Ok(Ok(r)) if r.rc == 0 => Outcome::pass(format!(
            "the LDAP server accepts the bind of {} (TLS {trust})",
            b.dn
        )),
        Ok(Ok(r)) => Outcome::fail(
            Class::LdapBind,
            format!(
                "ldap: initial bind for user {:?} failed: LDAP Result Code {} {:?}: {}",
                b.dn,
                r.rc,
                code_name(r.rc),
                r.text
            ),
            format!(
                "the LDAP server refuses the bind of {}: every login through this connector fails before the user's password is checked",
                b.dn
            ),
        ),
    };
    let mut c = Check::observed(CheckId::LdapBind, &b.shown, outcome)
        .for_connector(&b.connector, b.several)
        .remedy(Some(
            "Set bindDN and bindPW to an account the LDAP server accepts (a service account that may search userSearch.baseDN)".into(),
        ));
    c.duration_ms = Some(started.elapsed().as_millis() as u64);
    c
}

/// This machine did not get through to the server: nothing to conclude about the bind.
fn unreached(b: &Bind, why: String) -> Check {
    Check::observed(
        CheckId::LdapBind,
        &b.shown,
        Outcome {
            status: Status::Skip,
            class: None,
            go_error: None,
            note: format!(
                "not tried: this machine does not get through to {} ({why}); the Dex pod's row says whether Dex does",
                b.shown
            ),
        },
    )
    .for_connector(&b.connector, b.several)
}
