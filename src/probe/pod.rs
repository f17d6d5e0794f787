//! Probes from inside a pod: one POSIX `sh` script per pod, run through the Kubernetes exec API.
//! Every URL reaches the script as a separate argument (`"$url"`), never as part of its text, so
//! nothing in a URL can run in the pod. The script uses curl when the image has it, else wget
//! (busybox or GNU), probes all URLs in parallel, and prints one tab-separated line per probe.
//! Besides curl or wget it needs only `sed`, `tr`, `cat` and `rm` (`getent` when present).

use std::time::Duration;

use crate::diagnosis::{Check, CheckId};
use crate::plan::predict::Outcome;
use crate::probe::http::{host_of, status_line};
use crate::probe::outcome::Class;
use crate::probe::proxy::{ProxyEnv, redact_userinfo};

/// The script. `$1` is the timeout in seconds; then pairs of MODE (`insecure`/`verify`) and URL.
pub const SCRIPT: &str = r#"t="$1"; shift
tmp="${TMPDIR:-/tmp}/dexcheck.$$"
for v in HTTP_PROXY http_proxy HTTPS_PROXY https_proxy NO_PROXY no_proxy; do
  eval "val=\${$v-}"
  if [ -n "$val" ]; then printf 'E\t%s\t%s\n' "$v" "$val" | tr -d '\r'; fi
done
if [ -r /etc/resolv.conf ]; then
  printf 'S\t%s\t%s\n' "$(sed -n 's/^search[[:space:]]*//p' /etc/resolv.conf | sed -n 1p)" "$(sed -n 's/^nameserver[[:space:]]*//p' /etc/resolv.conf | sed -n 1p)"
fi
if command -v curl >/dev/null 2>&1; then tool=curl
elif command -v wget >/dev/null 2>&1; then tool=wget
else printf 'N\tno curl or wget in this container\n'; exit 0; fi
printf 'T\t%s\n' "$tool"
# GNU wget is silent about errors under -q and retries timeouts: -nv -t 1 there.
wq=-q
if [ "$tool" = wget ]; then case "$(wget --version 2>/dev/null)" in *"GNU Wget"*) wq="-nv -t 1";; esac; fi
one() {
  i="$1"; mode="$2"; url="$3"; f="$tmp.$i"
  host=$(printf '%s' "$url" | sed -e 's|^[A-Za-z][A-Za-z0-9+.-]*://||' -e 's|[/?#].*$||' -e 's|^.*@||' -e '/^\[/!s|:[0-9]*$||' -e 's|^\[\(.*\)\].*$|\1|')
  addr=""
  if command -v getent >/dev/null 2>&1; then addr=$(getent hosts "$host" 2>/dev/null | sed -n '1s/[[:space:]].*//p'); fi
  code=""; secs=""; ctype=""
  if [ "$tool" = curl ]; then
    if [ "$mode" = insecure ]; then k=--insecure; else k=--no-insecure; fi
    out=$(curl -sS "$k" -L --max-redirs 5 --max-filesize 1048576 --connect-timeout "$t" --max-time "$t" -o "$f.body" -w '%{http_code} %{time_total} %{content_type}' --url "$url" 2>"$f.err")
    rc=$?
    code=${out%% *}; rest=${out#* }; secs=${rest%% *}; ctype=${rest#* }
    [ "$ctype" = "$rest" ] && ctype=""
  else
    if [ "$mode" = insecure ]; then k=--no-check-certificate; else k=--header=Accept:*/*; fi
    wget $wq -O "$f.body" -T "$t" "$k" -- "$url" 2>"$f.err"; rc=$?
    [ "$rc" = 0 ] && code=200
  fi
  issuer=$(sed -n 's/.*"issuer"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$f.body" 2>/dev/null | sed -n 1p)
  size=""
  body=$(sed -n '1,5p' "$f.body" 2>/dev/null | tr '\t\r\n' '   ' | sed 's/^\(.\{160\}\).*$/\1/')
  err=$(tr '\t\r\n' '   ' <"$f.err" 2>/dev/null | sed 's/^\(.\{300\}\).*$/\1/')
  printf 'R\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$rc" "$code" "$secs" "$addr" "$issuer" "$size" "$ctype" "$err" "$body" >"$f.line"
  rm -f "$f.body" "$f.err"
}
n=0
while [ $# -ge 2 ]; do
  n=$((n+1)); one "$n" "$1" "$2" &
  shift 2
done
wait
i=1
while [ "$i" -le "$n" ]; do
  cat "$tmp.$i.line" 2>/dev/null || printf 'R\t%s\t255\t\t\t\t\t\t\t\tno result\t\n' "$i"
  rm -f "$tmp.$i.line"
  i=$((i+1))
done
"#;

/// Whether the pod's client verifies TLS (Dex's connector does; Devtron's OIDC client does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    Insecure,
    Verify,
}

/// One URL to fetch from a pod.
#[derive(Debug, Clone)]
pub struct Probe {
    pub url: String,
    pub tls: Tls,
    /// For discovery documents: the issuer the document must name.
    pub expect_issuer: Option<String>,
}

/// The argv for one exec: `sh -c SCRIPT dexcheck-probe TIMEOUT MODE URL …`.
pub fn argv(timeout: Duration, probes: &[Probe]) -> Vec<String> {
    let mut v = vec![
        "sh".to_string(),
        "-c".to_string(),
        SCRIPT.to_string(),
        "dexcheck-probe".to_string(),
        timeout.as_secs().max(1).to_string(),
    ];
    for p in probes {
        v.push(match p.tls {
            Tls::Insecure => "insecure".into(),
            Tls::Verify => "verify".into(),
        });
        v.push(p.url.clone());
    }
    v
}

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
}

/// Everything one exec printed.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub tool: Option<String>,
    pub no_client: bool,
    pub proxy: ProxyEnv,
    pub search: String,
    pub nameserver: String,
    pub lines: Vec<Line>,
}

pub fn parse(stdout: &str, n: usize) -> Report {
    let mut r = Report::default();
    let mut env: Vec<(String, String)> = Vec::new();
    let mut lines: Vec<Option<Line>> = vec![None; n];
    for l in stdout.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        match f.first().copied() {
            Some("E") if f.len() >= 3 => env.push((f[1].to_string(), f[2].to_string())),
            Some("S") => {
                r.search = f.get(1).unwrap_or(&"").trim().to_string();
                r.nameserver = f.get(2).unwrap_or(&"").trim().to_string();
            }
            Some("T") => r.tool = f.get(1).map(|s| s.to_string()),
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
                });
            }
            _ => {}
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

/// A classified result: class, the error in Go's words (no `Get "URL": ` prefix) and a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub class: Option<Class>,
    pub go_error: String,
    pub note: String,
}

/// Maps a line to a class, as the app (a Go program) would have failed.
pub fn classify(
    line: &Line,
    url: &str,
    tool: &str,
    report: &Report,
    expect_issuer: Option<&str>,
) -> Classified {
    let u = url::Url::parse(url).ok();
    let host = u.as_ref().map(host_of).unwrap_or_default();
    let port = u
        .as_ref()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(80);
    let ip = if !line.addr.is_empty() {
        line.addr.clone()
    } else if host.eq_ignore_ascii_case("localhost") {
        "::1".into()
    } else {
        host.clone()
    };
    let dial = if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    };
    let e = line.err.to_ascii_lowercase();
    let scheme = u
        .as_ref()
        .map(|u| u.scheme().to_string())
        .unwrap_or_default();
    let proxied = report
        .proxy
        .proxy_for(&scheme, &host, u.as_ref().and_then(|u| u.port()));
    let c = |class: Class, go: String, note: String| Classified {
        class: Some(class),
        go_error: go,
        note,
    };
    let ns = if report.nameserver.is_empty() {
        String::new()
    } else {
        format!(" on {}:53", report.nameserver)
    };
    let curl = tool == "curl";
    if line.rc != 0 {
        if let Some(p) = &proxied
            && (line.rc == 5 || line.rc == 7 || e.contains("proxy"))
        {
            let p = redact_userinfo(p);
            return c(
                Class::Proxy,
                format!("proxyconnect tcp: {}", line.err),
                format!(
                    "the pod's environment sends this request through the proxy {p}, which failed: add {host} to the pod's NO_PROXY"
                ),
            );
        }
        let dns = (curl && line.rc == 6)
            || e.contains("bad address")
            || e.contains("unable to resolve")
            || e.contains("could not resolve");
        if dns {
            return c(
                Class::Dns,
                format!("dial tcp: lookup {host}{ns}: no such host"),
                format!(
                    "{host} does not resolve inside the pod (cluster DNS{})",
                    if report.search.is_empty() {
                        String::new()
                    } else {
                        format!(", search {}", report.search)
                    }
                ),
            );
        }
        if e.contains("no route to host") || e.contains("network is unreachable") {
            return c(
                Class::Unreachable,
                format!("dial tcp {dial}: connect: no route to host"),
                format!("no route from the pod to {dial}"),
            );
        }
        if (curl && line.rc == 7) || e.contains("connection refused") {
            let note = if crate::plan::predict::host_kind(&host)
                == crate::plan::predict::HostKind::Loopback
            {
                format!(
                    "inside the pod {host} is the pod itself, and nothing listens on port {port} there"
                )
            } else {
                format!("nothing listens on {dial} as seen from the pod")
            };
            return c(
                Class::Refused,
                format!("dial tcp {dial}: connect: connection refused"),
                note,
            );
        }
        let timed_out = (curl && line.rc == 28) || e.contains("timed out") || e.contains("timeout");
        if timed_out {
            let connect = line.code == 0
                && !e.contains("read error")
                && !e.contains("bytes received")
                && (e.contains("connect") || e.contains("resolving"));
            return if connect {
                c(
                    Class::ConnectTimeout,
                    format!("dial tcp {dial}: i/o timeout"),
                    format!(
                        "the pod's connection attempt to {dial} got no answer (NetworkPolicy, firewall, hairpin routing)"
                    ),
                )
            } else {
                c(
                    Class::ReadTimeout,
                    "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                        .into(),
                    format!("connected to {dial}, but no answer in time"),
                )
            };
        }
        if (curl && line.rc == 35)
            || e.contains("ssl")
            || e.contains("tls")
            || e.contains("certificate")
            || (curl && line.rc == 60)
        {
            if e.contains("wrong version number")
                || e.contains("record layer")
                || e.contains("packet length")
                || e.contains("unexpected eof") && line.rc == 35
            {
                return c(
                    Class::HttpToHttps,
                    "http: server gave HTTP response to HTTPS client".into(),
                    "an https URL on a port that speaks plain HTTP".into(),
                );
            }
            if e.contains("expired") {
                return c(Class::TlsExpired, "tls: failed to verify certificate: x509: certificate has expired or is not yet valid".into(), "the certificate has expired".into());
            }
            if e.contains("subject name")
                || e.contains("does not match")
                || e.contains("doesn't match")
            {
                return c(
                    Class::TlsNameMismatch,
                    format!(
                        "tls: failed to verify certificate: x509: certificate is not valid for {host}"
                    ),
                    format!("the certificate does not name {host}"),
                );
            }
            if e.contains("self-signed")
                || e.contains("self signed")
                || e.contains("local issuer")
                || e.contains("unknown ca")
                || e.contains("verify")
            {
                return c(Class::TlsUnknownCa, "tls: failed to verify certificate: x509: certificate signed by unknown authority".into(), "the pod does not trust the certificate's CA (mount the CA into the pod, or fix the chain)".into());
            }
            return c(Class::Tls, format!("tls: {}", line.err), line.err.clone());
        }
        if curl && line.rc == 47 {
            return c(
                Class::RedirectLoop,
                "stopped after 10 redirects".into(),
                "the redirects go round".into(),
            );
        }
        if curl && line.rc == 63 {
            return c(
                Class::TooLarge,
                "http: response body too large".into(),
                "the answer exceeds 1 MiB".into(),
            );
        }
        if curl && (line.rc == 52 || line.rc == 56) {
            return c(
                Class::Reset,
                "EOF".into(),
                "the server closed the connection without answering".into(),
            );
        }
        if curl && line.rc == 1 {
            return c(
                Class::UnsupportedScheme,
                format!("unsupported protocol scheme {scheme:?}"),
                "not an http(s) URL".into(),
            );
        }
        // wget reports HTTP errors as failures.
        let status = http_code_in(&line.err);
        if let Some(code) = status {
            return c(
                Class::HttpStatus(code),
                status_line(code),
                format!("answered {}", status_line(code)),
            );
        }
        return c(
            Class::Other,
            line.err.clone(),
            format!("the probe failed (exit {}): {}", line.rc, line.err),
        );
    }
    if !(200..300).contains(&line.code) {
        let body = line.body.clone();
        if body.contains("Client sent an HTTP request to an HTTPS server") {
            return c(
                Class::HttpToHttps,
                format!("{}: {body}", status_line(line.code)),
                "an http URL on a TLS port".into(),
            );
        }
        return c(
            Class::HttpStatus(line.code),
            format!("{}: {body}", status_line(line.code)),
            format!("answered {} as seen from the pod", status_line(line.code)),
        );
    }
    if let Some(want) = expect_issuer {
        if line.issuer.is_empty() {
            let ct = &line.content_type;
            return c(
                Class::NotJson,
                format!(
                    "oidc: failed to decode provider discovery object: expected Content-Type = application/json, got {ct:?}: invalid character '{}' looking for beginning of value",
                    line.body.chars().next().unwrap_or(' ')
                ),
                "something other than Dex answered (no issuer in the answer)".into(),
            );
        }
        if line.issuer != want {
            return c(
                Class::IssuerMismatch,
                format!(
                    "oidc: issuer did not match the issuer returned by provider, expected {want:?} got {:?}",
                    line.issuer
                ),
                format!(
                    "the document fetched from the pod names issuer {:?}, not {want:?}",
                    line.issuer
                ),
            );
        }
    }
    Classified {
        class: None,
        go_error: String::new(),
        note: match line.secs {
            Some(s) => format!(
                "answered {} in {} ms",
                status_line(line.code),
                (s * 1000.0) as u64
            ),
            None => format!("answered {}", status_line(line.code)),
        },
    }
}

fn http_code_in(err: &str) -> Option<u16> {
    // busybox: "server returned error: HTTP/1.1 404 Not Found"; GNU: "ERROR 404: Not Found."
    let words: Vec<&str> = err.split(|c: char| c.is_whitespace() || c == ':').collect();
    words.windows(2).find_map(|w| {
        let prev = w[0];
        if prev.starts_with("HTTP/") || prev == "ERROR" {
            w[1].parse::<u16>().ok().filter(|c| (100..600).contains(c))
        } else {
            None
        }
    })
}

/// Turns a classified line into an observation row.
pub fn observation(
    id: CheckId,
    url: &str,
    cls: Classified,
    wrap: impl Fn(&str) -> String,
    line: &Line,
) -> Check {
    let outcome = match &cls.class {
        None => Outcome::pass(cls.note),
        Some(class) => Outcome::fail(*class, wrap(&cls.go_error), cls.note),
    };
    let mut o = Check::observed(id, url, outcome);
    o.duration_ms = Some(line.secs.map(|s| (s * 1000.0) as u64).unwrap_or(0));
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_env() {
        let out = "E\tHTTP_PROXY\thttp://u:p@proxy:3128\nS\tdevtroncd.svc.cluster.local svc.cluster.local\t10.96.0.10\nT\tcurl\nR\t1\t7\t000\t0.001\t\t\t0\t\tFailed to connect\t\n";
        let r = parse(out, 2);
        assert_eq!(r.tool.as_deref(), Some("curl"));
        assert_eq!(r.nameserver, "10.96.0.10");
        assert_eq!(r.lines[0].rc, 7);
        assert_eq!(r.lines[1].rc, 255);
        assert_eq!(r.proxy.http_proxy.as_deref(), Some("http://proxy:3128"));
    }

    #[test]
    fn wget_http_codes() {
        assert_eq!(
            http_code_in("wget: server returned error: HTTP/1.1 404 Not Found"),
            Some(404)
        );
        assert_eq!(
            http_code_in("2026-01-01 ERROR 502: Bad Gateway."),
            Some(502)
        );
        assert_eq!(http_code_in("Connection refused"), None);
    }

    #[test]
    fn refused_loopback_in_go_words() {
        let r = Report {
            tool: Some("curl".into()),
            ..Default::default()
        };
        let l = Line {
            rc: 7,
            err: "curl: (7) Failed to connect to localhost port 8082".into(),
            ..Default::default()
        };
        let c = classify(
            &l,
            "http://localhost:8082/orchestrator/api/dex/.well-known/openid-configuration",
            "curl",
            &r,
            None,
        );
        assert_eq!(c.class, Some(Class::Refused));
        assert_eq!(
            c.go_error,
            "dial tcp [::1]:8082: connect: connection refused"
        );
    }
}

/// What the pod probes need to know.
#[derive(Debug, Clone)]
pub struct PodTargets {
    pub app: crate::setup::App,
    pub namespace: String,
    pub endpoints: crate::plan::endpoints::Endpoints,
    /// The upstream IdP's issuer (an `oidc` connector's), probed from the Dex pod.
    pub idp_issuer: Option<String>,
    pub timeout: Duration,
    /// `Some(image)`: add an ephemeral debug container when the app container cannot probe.
    pub ephemeral: Option<String>,
}

/// The result of the pod probes.
#[derive(Debug, Clone, Default)]
pub struct PodRun {
    pub observations: Vec<Check>,
    /// Per pod: what ran where (pod, container, tool, ephemeral or not, proxy environment).
    pub notes: Vec<String>,
}

/// The pod's resolver and proxy settings, for the report (proxy credentials removed).
fn environment(r: &Report) -> String {
    let mut parts = Vec::new();
    if !r.nameserver.is_empty() {
        parts.push(format!("nameserver {}", r.nameserver));
    }
    if !r.search.is_empty() {
        parts.push(format!("search {}", r.search));
    }
    for (k, v) in [
        ("HTTP_PROXY", &r.proxy.http_proxy),
        ("HTTPS_PROXY", &r.proxy.https_proxy),
        ("NO_PROXY", &r.proxy.no_proxy),
    ] {
        if let Some(v) = v {
            parts.push(format!("{k}={v}"));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join(", "))
    }
}

/// Runs `probes` in `pod` with one exec (or two, when an ephemeral container has to be added).
async fn run_in(
    client: &kube::Client,
    t: &PodTargets,
    pod: &crate::cluster::PodRef,
    probes: &[Probe],
    notes: &mut Vec<String>,
) -> Result<Result<Report, String>, crate::cluster::ClusterError> {
    let deadline = t.timeout * 2 + Duration::from_secs(15);
    let argv = argv(t.timeout, probes);
    let out = crate::cluster::exec(
        client,
        &t.namespace,
        pod,
        &pod.container,
        argv.clone(),
        deadline,
    )
    .await?;
    let report = parse(&out.stdout, probes.len());
    let unusable = out.exit.is_none() || report.no_client || report.tool.is_none();
    if !unusable {
        notes.push(format!(
            "pod {}/{} container {}: probed with {}{}",
            t.namespace,
            pod.name,
            pod.container,
            report.tool.as_deref().unwrap_or("?"),
            environment(&report)
        ));
        return Ok(Ok(report));
    }
    let why = if report.no_client {
        format!(
            "container {} of pod {} has no curl or wget",
            pod.container, pod.name
        )
    } else {
        format!(
            "container {} of pod {} could not run sh ({})",
            pod.container,
            pod.name,
            out.failure
                .clone()
                .unwrap_or_else(|| out.stderr.trim().to_string())
        )
    };
    let Some(image) = &t.ephemeral else {
        return Ok(Err(format!(
            "{why}; rerun with --ephemeral to add a debug container (image: --ephemeral-image, default busybox) that shares its network"
        )));
    };
    let name = crate::cluster::ephemeral(client, &t.namespace, pod, image, Duration::from_secs(60))
        .await?;
    let out = crate::cluster::exec(client, &t.namespace, pod, &name, argv, deadline).await?;
    let report = parse(&out.stdout, probes.len());
    if report.tool.is_none() {
        return Ok(Err(format!(
            "{why}, and the ephemeral container {name} (image {image}) has no curl or wget either"
        )));
    }
    notes.push(format!(
        "pod {}/{}: {why}, so dexcheck added the ephemeral container {name} (image {image}) and probed from it with {}{}",
        t.namespace,
        pod.name,
        report.tool.as_deref().unwrap_or("?"),
        environment(&report)
    ));
    Ok(Ok(report))
}

/// Probes from the app pod (discovery, token, keys, the in-cluster Dex) and from the Dex pod (the
/// upstream IdP): one exec per pod.
pub async fn run(
    client: &kube::Client,
    t: &PodTargets,
) -> Result<PodRun, crate::cluster::ClusterError> {
    use crate::app::DexCall;
    let e = &t.endpoints;
    let install = crate::app::Install::new(t.app, Some(&t.namespace));
    let profile = t.app.profile();
    let mut run = PodRun::default();
    let app_pod = crate::cluster::find_pod(client, &t.namespace, profile.server.selector).await?;
    // Devtron fetches the public URL itself, TLS unverified (NewClientApp); Argo CD rewrites every
    // server→Dex call to the in-cluster Dex service.
    let internal_base = e
        .internal_discovery
        .trim_end_matches("/.well-known/openid-configuration")
        .to_string();
    let (discovery, token, keys) = match profile.dex_call {
        DexCall::PublicUrl => (e.discovery.clone(), e.token.clone(), e.keys.clone()),
        DexCall::Rewrite => (
            e.internal_discovery.clone(),
            format!("{internal_base}/token"),
            format!("{internal_base}/keys"),
        ),
    };
    let mut probes = vec![
        Probe {
            url: discovery.clone(),
            tls: Tls::Insecure,
            expect_issuer: Some(e.issuer.clone()),
        },
        Probe {
            url: token.clone(),
            tls: Tls::Insecure,
            expect_issuer: None,
        },
        Probe {
            url: keys.clone(),
            tls: Tls::Insecure,
            expect_issuer: None,
        },
    ];
    if profile.proxies_dex {
        probes.push(Probe {
            url: e.internal_discovery.clone(),
            tls: Tls::Insecure,
            expect_issuer: Some(e.issuer.clone()),
        });
    }
    match run_in(client, t, &app_pod, &probes, &mut run.notes).await? {
        Err(why) => {
            run.observations
                .push(Check::not_run(CheckId::PodDiscovery, why.clone()));
            run.observations
                .push(Check::not_run(CheckId::PodTokenKeys, why));
        }
        Ok(report) => {
            let tool = report.tool.clone().unwrap_or_default();
            let cls = |i: usize| {
                classify(
                    &report.lines[i],
                    &probes[i].url,
                    &tool,
                    &report,
                    probes[i].expect_issuer.as_deref(),
                )
            };
            let d = cls(0);
            let disc_ok = d.class.is_none();
            let wrap = |url: String| {
                let install = install.clone();
                move |go: &str| install.query_provider_error(&e.issuer, &url, go)
            };
            run.observations.push(observation(
                CheckId::PodDiscovery,
                &discovery,
                d,
                wrap(discovery.clone()),
                &report.lines[0],
            ));
            let tk_url = format!("{token} , {keys}");
            if !disc_ok {
                run.observations.push(Check::not_run(
                    CheckId::PodTokenKeys,
                    "depends on discovery from the pod, which fails".into(),
                ));
            } else {
                let reach = |i: usize| {
                    let mut c = cls(i);
                    // Any OAuth answer proves the token endpoint is reachable (GET gets an error).
                    if matches!(c.class, Some(Class::HttpStatus(400..=405))) && i == 1 {
                        c = Classified {
                            class: None,
                            go_error: String::new(),
                            note: format!(
                                "the token endpoint answers ({})",
                                status_line(report.lines[i].code)
                            ),
                        };
                    }
                    c
                };
                let (tc, kc) = (reach(1), reach(2));
                let (worst, line, url) = if tc.class.is_some() {
                    (tc, &report.lines[1], token.clone())
                } else if kc.class.is_some() {
                    (kc, &report.lines[2], keys.clone())
                } else {
                    (
                        Classified {
                            class: None,
                            go_error: String::new(),
                            note: format!("token: {}; keys: {}", tc.note, kc.note),
                        },
                        &report.lines[1],
                        token.clone(),
                    )
                };
                let wrapper = move |go: &str| format!("Get {url:?}: {go}");
                run.observations.push(observation(
                    CheckId::PodTokenKeys,
                    &tk_url,
                    worst,
                    wrapper,
                    line,
                ));
            }
            if profile.proxies_dex {
                let c = cls(3);
                let url = e.internal_discovery.clone();
                run.observations.push(observation(
                    CheckId::PodInternalDex,
                    &url,
                    c,
                    wrap(url.clone()),
                    &report.lines[3],
                ));
            }
        }
    }

    if let Some(issuer) = &t.idp_issuer {
        let dex_pod = crate::cluster::find_pod(client, &t.namespace, profile.dex.selector).await?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let probes = [Probe {
            url: url.clone(),
            tls: Tls::Verify,
            expect_issuer: Some(issuer.clone()),
        }];
        match run_in(client, t, &dex_pod, &probes, &mut run.notes).await? {
            Err(why) => run
                .observations
                .push(Check::not_run(CheckId::DexpodIdpDiscovery, why)),
            Ok(report) => {
                let tool = report.tool.clone().unwrap_or_default();
                let c = classify(&report.lines[0], &url, &tool, &report, Some(issuer));
                let u = url.clone();
                let wrap = move |go: &str| {
                    if go.starts_with("oidc:") {
                        format!("failed to get provider: {go}")
                    } else {
                        format!("failed to get provider: Get {u:?}: {go}")
                    }
                };
                run.observations.push(observation(
                    CheckId::DexpodIdpDiscovery,
                    &url,
                    c,
                    wrap,
                    &report.lines[0],
                ));
            }
        }
    }
    Ok(run)
}
