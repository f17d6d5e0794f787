//! Name resolution for the probes: `--resolve` pins first (as curl's), then RFC 6761 special
//! names answered locally (`localhost`, `.invalid`: no query leaves the machine for them), then
//! the system resolver under a deadline. Results are cached for one run, so a probe's own lookup
//! (needed to print Go's `dial tcp ADDR` message) and the HTTP client's lookup agree.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use thiserror::Error;

/// One `--resolve HOST:PORT:ADDR[,ADDR…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub host: String,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "--resolve {value:?}: {why} (expected HOST:PORT:ADDR[,ADDR…], e.g. devtron.example.com:443:127.0.0.1)"
)]
pub struct PinError {
    pub value: String,
    pub why: &'static str,
}

impl Pin {
    pub fn parse(value: &str) -> Result<Pin, PinError> {
        let err = |why| PinError {
            value: value.to_string(),
            why,
        };
        let (host, rest) = value.split_once(':').ok_or(err("no port"))?;
        let (port, addrs) = rest.split_once(':').ok_or(err("no address"))?;
        if host.is_empty() {
            return Err(err("empty host"));
        }
        let port: u16 = port.parse().map_err(|_| err("the port is not a number"))?;
        let addrs = addrs
            .split(',')
            .map(|a| {
                a.trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| err("an address is not an IP address"))?;
        if addrs.is_empty() {
            return Err(err("no address"));
        }
        Ok(Pin {
            host: host.trim_end_matches('.').to_ascii_lowercase(),
            port,
            addrs,
        })
    }
}

/// Why a name did not resolve.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum DnsError {
    /// NXDOMAIN or no address: Go's `no such host`.
    #[error("no such host")]
    NoSuchHost,
    /// The resolver failed or timed out: the text says how.
    #[error("{0}")]
    Failed(String),
}

type Lookup = Result<Vec<IpAddr>, DnsError>;

#[derive(Debug, Clone)]
pub struct Resolver {
    pins: Arc<Vec<Pin>>,
    timeout: Duration,
    cache: Arc<Mutex<HashMap<String, Lookup>>>,
}

impl Resolver {
    pub fn new(pins: Vec<Pin>, timeout: Duration) -> Self {
        Resolver {
            pins: Arc::new(pins),
            timeout,
            cache: Arc::default(),
        }
    }

    /// A pin for `host` and `port`; with `port` `None`, a pin for any port.
    pub fn pinned(&self, host: &str, port: Option<u16>) -> Option<&Pin> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.pins
            .iter()
            .find(|p| p.host == host && port.is_none_or(|port| p.port == port))
    }

    /// Resolves `host` (no brackets) for a connection to `port`.
    pub async fn lookup(&self, host: &str, port: Option<u16>) -> Result<Vec<IpAddr>, DnsError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        if let Some(p) = self.pinned(host, port) {
            return Ok(p.addrs.clone());
        }
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        if name == "localhost" || name.ends_with(".localhost") {
            return Ok(vec![
                IpAddr::V6(Ipv6Addr::LOCALHOST),
                IpAddr::V4(Ipv4Addr::LOCALHOST),
            ]);
        }
        if name == "invalid" || name.ends_with(".invalid") {
            return Err(DnsError::NoSuchHost);
        }
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&name).cloned()) {
            return hit;
        }
        let result =
            match tokio::time::timeout(self.timeout, tokio::net::lookup_host((name.as_str(), 0)))
                .await
            {
                Err(_) => Err(DnsError::Failed("i/o timeout".into())),
                Ok(Err(e)) => Err(classify_gai(&e)),
                Ok(Ok(addrs)) => {
                    let mut out: Vec<IpAddr> = Vec::new();
                    for a in addrs {
                        if !out.contains(&a.ip()) {
                            out.push(a.ip());
                        }
                    }
                    if out.is_empty() {
                        Err(DnsError::NoSuchHost)
                    } else {
                        Ok(out)
                    }
                }
            };
        if let Ok(mut c) = self.cache.lock() {
            c.insert(name, result.clone());
        }
        result
    }
}

fn classify_gai(e: &std::io::Error) -> DnsError {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("not known")
        || lower.contains("no address associated")
        || lower.contains("nodename nor servname")
        || lower.contains("no such host")
    {
        DnsError::NoSuchHost
    } else {
        let msg = text
            .strip_prefix("failed to lookup address information: ")
            .unwrap_or(&text);
        DnsError::Failed(msg.to_string())
    }
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let this = self.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            match this.lookup(&host, None).await {
                Ok(ips) => {
                    let addrs: reqwest::dns::Addrs =
                        Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
                    Ok(addrs)
                }
                Err(e) => Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_pins() {
        let p = Pin::parse("Devtron.Example.com:443:127.0.0.1,[::1]").unwrap();
        assert_eq!(p.host, "devtron.example.com");
        assert_eq!(p.port, 443);
        assert_eq!(p.addrs.len(), 2);
        assert!(Pin::parse("host:80").is_err());
        assert!(Pin::parse("host:x:127.0.0.1").is_err());
        assert!(Pin::parse("host:80:not-an-ip").is_err());
    }

    #[tokio::test]
    async fn special_names_stay_local() {
        let r = Resolver::new(
            vec![Pin::parse("sso.test:8443:127.0.0.2").unwrap()],
            Duration::from_secs(1),
        );
        assert_eq!(
            r.lookup("x.invalid", Some(80)).await,
            Err(DnsError::NoSuchHost)
        );
        assert_eq!(
            r.lookup("sso.test", Some(8443)).await.unwrap(),
            vec!["127.0.0.2".parse::<IpAddr>().unwrap()]
        );
        assert!(r.lookup("localhost", None).await.unwrap()[0].is_loopback());
    }
}
