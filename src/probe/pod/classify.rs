//! A probe's result in the words the app (a Go program) would have failed with.

use super::{Line, Report};
use crate::probe::http::{host_of, status_line};
use crate::probe::outcome::Class;
use crate::probe::proxy::redact_userinfo;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::pod::parse;

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
