//! What one exec of the probe script printed: `E` (proxy environment), `S` (resolver), `T`
//! (tool and flavour), `D` (the pod's clock, Unix seconds), `N` (no client), one `R` line per URL
//! (its 12th field: the key ids of a key set; its 13th: a discovery document's endpoints and
//! digest as `name=value` words) and a `W` line for a URL whose
//! client crashed, tab-separated.

use crate::probe::proxy::ProxyEnv;

/// One `R` line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Line {
    pub rc: i32,
    pub code: u16,
    pub secs: Option<f64>,
    pub addr: String,
    pub issuer: String,
    pub size: u64,
    pub content_type: String,
    pub err: String,
    pub body: String,
    /// The key ids of a key set answer (`kid`s), in order.
    pub kids: Vec<String>,
    /// A discovery document's endpoints (`token_endpoint`, …) and `digest` (`sha256:…`), for
    /// comparing replicas; empty for any other URL.
    pub doc: Vec<(String, String)>,
    /// The client crashed on the first try (`SIGSEGV`), and the probe was made again without the
    /// option that crashes it.
    pub crashed: Option<String>,
}

/// Everything one exec printed.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub tool: Option<String>,
    /// `gnu` or `busybox` for wget.
    pub flavour: String,
    pub no_client: bool,
    pub proxy: ProxyEnv,
    pub search: String,
    pub nameserver: String,
    /// The pod's clock when the script started, in Unix seconds.
    pub clock: Option<i64>,
    pub lines: Vec<Line>,
    /// The probes ran in an ephemeral debug container: its network is the pod's, its files are
    /// not.
    pub ephemeral: bool,
}

/// `name=value` words; a word without `=` is dropped.
fn words(d: &str) -> Vec<(String, String)> {
    d.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn parse(stdout: &str, n: usize) -> Report {
    let mut r = Report::default();
    let mut env: Vec<(String, String)> = Vec::new();
    let mut lines: Vec<Option<Line>> = vec![None; n];
    let mut crashes: Vec<(String, &str, &str)> = Vec::new();
    for l in stdout.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        match f.first().copied() {
            Some("E") if f.len() >= 3 => env.push((f[1].to_string(), f[2].to_string())),
            Some("S") => {
                r.search = f.get(1).unwrap_or(&"").trim().to_string();
                r.nameserver = f.get(2).unwrap_or(&"").trim().to_string();
            }
            Some("T") => {
                r.tool = f.get(1).map(|s| s.to_string());
                r.flavour = f.get(2).unwrap_or(&"").trim().to_string();
            }
            Some("D") => r.clock = f.get(1).and_then(|s| s.trim().parse().ok()),
            Some("W") if f.len() >= 4 => crashes.push((f[1].to_string(), f[2].trim(), f[3].trim())),
            Some("N") => r.no_client = true,
            Some("R") if f.len() >= 11 => {
                let Ok(i) = f[1].parse::<usize>() else {
                    continue;
                };
                if i == 0 || i > n {
                    continue;
                }
                lines[i - 1] = Some(Line {
                    rc: f[2].parse().unwrap_or(255),
                    code: f[3].parse().unwrap_or(0),
                    secs: f[4].parse().ok(),
                    addr: f[5].to_string(),
                    issuer: f[6].to_string(),
                    size: f[7].parse().unwrap_or(0),
                    content_type: f[8].to_string(),
                    err: f[9].trim().to_string(),
                    body: f[10].trim().to_string(),
                    kids: f
                        .get(11)
                        .map(|k| k.split_whitespace().map(String::from).collect())
                        .unwrap_or_default(),
                    doc: f.get(12).map(|d| words(d)).unwrap_or_default(),
                    crashed: None,
                });
            }
            _ => {}
        }
    }
    for (i, signal, name) in crashes {
        if let Some(Some(l)) = i
            .parse::<usize>()
            .ok()
            .and_then(|i| lines.get_mut(i.wrapping_sub(1)))
        {
            l.crashed = Some(format!("SIG{name} (signal {signal})"));
        }
    }
    r.proxy = ProxyEnv::from_lookup(&|k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()));
    r.lines = lines
        .into_iter()
        .map(|l| {
            l.unwrap_or(Line {
                rc: 255,
                err: "the probe printed no result".into(),
                ..Default::default()
            })
        })
        .collect();
    r
}
