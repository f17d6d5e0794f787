//! TLS at the edge: the certificate in the Secret an Ingress names for URL's host, read as a Go
//! client would judge it (the subject alternative names only: Go ignores the common name since
//! 1.15; the validity window).

use std::time::{SystemTime, UNIX_EPOCH};

/// What the certificate says about the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cert {
    /// Valid for the host until `not_after` (RFC 3339).
    Covers {
        not_after: String,
    },
    /// Names other hosts only.
    OtherHosts {
        names: Vec<String>,
    },
    Expired {
        not_after: String,
    },
    NotYetValid {
        not_before: String,
    },
    Unreadable(String),
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

/// Whether a certificate name (`*.example.com` covers one label) covers `host`.
fn covers(name: &str, host: &str) -> bool {
    super::serves::host_matches(name, host)
}

/// Judges the first certificate of `pem` for `host` at `now`.
pub fn judge(pem: &str, host: &str, now: SystemTime) -> Cert {
    let parsed = x509_parser::pem::parse_x509_pem(pem.as_bytes());
    let Ok((_, block)) = parsed else {
        return Cert::Unreadable("tls.crt holds no PEM certificate".into());
    };
    let cert = match block.parse_x509() {
        Ok(c) => c,
        Err(e) => return Cert::Unreadable(format!("tls.crt: {e}")),
    };
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let v = cert.validity();
    if now < v.not_before.timestamp() {
        return Cert::NotYetValid {
            not_before: rfc3339(v.not_before.timestamp()),
        };
    }
    if now > v.not_after.timestamp() {
        return Cert::Expired {
            not_after: rfc3339(v.not_after.timestamp()),
        };
    }
    let names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|g| match g {
                    x509_parser::extensions::GeneralName::DNSName(n) => Some(n.to_string()),
                    x509_parser::extensions::GeneralName::IPAddress(b) => ip_text(b),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if names.iter().any(|n| covers(n, host)) {
        Cert::Covers {
            not_after: rfc3339(v.not_after.timestamp()),
        }
    } else {
        Cert::OtherHosts { names }
    }
}

fn ip_text(b: &[u8]) -> Option<String> {
    match b.len() {
        4 => Some(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()),
        16 => <[u8; 16]>::try_from(b)
            .ok()
            .map(|a| std::net::Ipv6Addr::from(a).to_string()),
        _ => None,
    }
}
