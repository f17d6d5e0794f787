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

/// What the classifier knows about one probe besides its line.
struct Seen<'a> {
    line: &'a Line,
    report: &'a Report,
    host: String,
    port: u16,
    /// `ip:port` as Go prints it in `dial tcp …`.
    dial: String,
    scheme: String,
    /// The error text, lower case.
    e: String,
    curl: bool,
    proxied: Option<String>,
}

impl<'a> Seen<'a> {
    fn new(line: &'a Line, url: &str, tool: &str, report: &'a Report) -> Self {
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
        let scheme = u
            .as_ref()
            .map(|u| u.scheme().to_string())
            .unwrap_or_default();
        let proxied = report
            .proxy
            .proxy_for(&scheme, &host, u.as_ref().and_then(|u| u.port()));
        Seen {
            line,
            report,
            host,
            port,
            dial,
            scheme,
            e: line.err.to_ascii_lowercase(),
            curl: tool == "curl",
            proxied,
        }
    }
    fn has(&self, needle: &str) -> bool {
        self.e.contains(needle)
    }
    fn curl_exit(&self, rc: i32) -> bool {
        self.curl && self.line.rc == rc
    }
}

fn fail(class: Class, go: impl Into<String>, note: impl Into<String>) -> Classified {
    Classified {
        class: Some(class),
        go_error: go.into(),
        note: note.into(),
    }
}

/// Maps a line to a class, as the app (a Go program) would have failed.
pub fn classify(
    line: &Line,
    url: &str,
    tool: &str,
    report: &Report,
    expect_issuer: Option<&str>,
) -> Classified {
    let s = Seen::new(line, url, tool, report);
    if line.rc != 0 {
        return connection(&s)
            .or_else(|| tls(&s))
            .unwrap_or_else(|| other_exit(&s));
    }
    if !(200..300).contains(&line.code) {
        return status(line);
    }
    expect_issuer
        .and_then(|want| document(line, want))
        .or_else(|| unverified(&s, url))
        .unwrap_or_else(|| answered(line))
}

/// An https answer fetched by a client that cannot verify certificates (busybox wget says
/// "TLS certificate validation not implemented"): never a pass of verification.
fn unverified(s: &Seen, url: &str) -> Option<Classified> {
    let https = url.starts_with("https:");
    (https && s.has("certificate validation not implemented")).then(|| {
        fail(
            Class::TlsUnverified,
            "",
            format!(
                "TLS not verified from this pod: busybox wget cannot (it {}); the certificate may be anything",
                answered(s.line).note
            ),
        )
    })
}

/// Failures before an answer: proxy, DNS, routing, refused, timeouts.
fn connection(s: &Seen) -> Option<Classified> {
    let (host, dial, line) = (&s.host, &s.dial, s.line);
    if let Some(p) = &s.proxied
        && (line.rc == 5 || line.rc == 7 || s.has("proxy"))
    {
        let p = redact_userinfo(p);
        return Some(fail(
            Class::Proxy,
            format!("proxyconnect tcp: {}", line.err),
            format!(
                "the pod's environment sends this request through the proxy {p}, which failed: add {host} to the pod's NO_PROXY"
            ),
        ));
    }
    if s.curl_exit(6)
        || s.has("bad address")
        || s.has("unable to resolve")
        || s.has("could not resolve")
    {
        return Some(dns(s));
    }
    if s.has("no route to host") || s.has("network is unreachable") {
        return Some(fail(
            Class::Unreachable,
            format!("dial tcp {dial}: connect: no route to host"),
            format!("no route from the pod to {dial}"),
        ));
    }
    if s.curl_exit(7) || s.has("connection refused") {
        return Some(refused(s));
    }
    if s.curl_exit(28) || s.has("timed out") || s.has("timeout") {
        return Some(timeout(s));
    }
    None
}

fn dns(s: &Seen) -> Classified {
    let r = s.report;
    let ns = if r.nameserver.is_empty() {
        String::new()
    } else {
        format!(" on {}:53", r.nameserver)
    };
    let search = if r.search.is_empty() {
        String::new()
    } else {
        format!(", search {}", r.search)
    };
    let host = &s.host;
    fail(
        Class::Dns,
        format!("dial tcp: lookup {host}{ns}: no such host"),
        format!("{host} does not resolve inside the pod (cluster DNS{search})"),
    )
}

fn refused(s: &Seen) -> Classified {
    let (host, port, dial) = (&s.host, s.port, &s.dial);
    let note = if crate::plan::predict::host_kind(host) == crate::plan::predict::HostKind::Loopback
    {
        format!("inside the pod {host} is the pod itself, and nothing listens on port {port} there")
    } else {
        format!("nothing listens on {dial} as seen from the pod")
    };
    fail(
        Class::Refused,
        format!("dial tcp {dial}: connect: connection refused"),
        note,
    )
}

fn timeout(s: &Seen) -> Classified {
    let dial = &s.dial;
    let connect = s.line.code == 0
        && !s.has("read error")
        && !s.has("bytes received")
        && (s.has("connect") || s.has("resolving"));
    if connect {
        fail(
            Class::ConnectTimeout,
            format!("dial tcp {dial}: i/o timeout"),
            format!(
                "the pod's connection attempt to {dial} got no answer (NetworkPolicy, firewall, hairpin routing)"
            ),
        )
    } else {
        fail(
            Class::ReadTimeout,
            "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
            format!("connected to {dial}, but no answer in time"),
        )
    }
}

/// TLS failures, in Go's crypto/tls and x509 words.
fn tls(s: &Seen) -> Option<Classified> {
    let (host, line) = (&s.host, s.line);
    if !(s.curl_exit(35) || s.curl_exit(60) || s.has("ssl") || s.has("tls") || s.has("certificate"))
    {
        return None;
    }
    const X509: &str = "tls: failed to verify certificate: x509:";
    let plain = s.has("wrong version number")
        || s.has("bad tls record")
        || s.has("record layer")
        || s.has("packet length")
        || s.has("unexpected eof") && line.rc == 35;
    Some(if plain {
        fail(
            Class::HttpToHttps,
            "http: server gave HTTP response to HTTPS client",
            "an https URL on a port that speaks plain HTTP",
        )
    } else if s.has("expired") {
        fail(
            Class::TlsExpired,
            format!("{X509} certificate has expired or is not yet valid"),
            "the certificate has expired",
        )
    } else if s.has("subject name") || s.has("does not match") || s.has("doesn't match") {
        fail(
            Class::TlsNameMismatch,
            format!("{X509} certificate is not valid for {host}"),
            format!("the certificate does not name {host}"),
        )
    } else if [
        "self-signed",
        "self signed",
        "local issuer",
        "unknown ca",
        "verify",
    ]
    .iter()
    .any(|n| s.has(n))
    {
        fail(
            Class::TlsUnknownCa,
            format!("{X509} certificate signed by unknown authority"),
            "the pod does not trust the certificate's CA (mount the CA into the pod, or fix the chain)",
        )
    } else if line.err.is_empty() {
        // Found by fuzzing (fuzz/fuzz_targets/pod_output.rs): a TLS exit with no text.
        fail(
            Class::Tls,
            "tls: handshake failed",
            format!(
                "the TLS handshake failed in the pod (exit {}), and the client said nothing more",
                line.rc
            ),
        )
    } else {
        fail(Class::Tls, format!("tls: {}", line.err), line.err.clone())
    })
}

/// The client's other exits: curl's codes, wget's HTTP errors, anything else.
fn other_exit(s: &Seen) -> Classified {
    let line = s.line;
    if s.curl_exit(47) {
        return fail(
            Class::RedirectLoop,
            "stopped after 10 redirects",
            "the redirects go round",
        );
    }
    if s.curl_exit(63) {
        return fail(
            Class::TooLarge,
            "http: response body too large",
            "the answer exceeds 1 MiB",
        );
    }
    if s.curl_exit(52) || s.curl_exit(56) {
        return fail(
            Class::Reset,
            "EOF",
            "the server closed the connection without answering",
        );
    }
    if s.curl_exit(1) {
        return fail(
            Class::UnsupportedScheme,
            format!("unsupported protocol scheme {:?}", s.scheme),
            "not an http(s) URL",
        );
    }
    // wget reports HTTP errors as failures.
    if let Some(code) = http_code_in(&line.err) {
        return fail(
            Class::HttpStatus(code),
            status_line(code),
            format!("answered {}", status_line(code)),
        );
    }
    fail(
        Class::Other,
        line.err.clone(),
        format!("the probe failed (exit {}): {}", line.rc, line.err),
    )
}

/// A non-2xx answer.
fn status(line: &Line) -> Classified {
    let body = &line.body;
    if body.contains("Client sent an HTTP request to an HTTPS server") {
        return fail(
            Class::HttpToHttps,
            format!("{}: {body}", status_line(line.code)),
            "an http URL on a TLS port",
        );
    }
    fail(
        Class::HttpStatus(line.code),
        format!("{}: {body}", status_line(line.code)),
        format!("answered {} as seen from the pod", status_line(line.code)),
    )
}

/// A discovery document that is no JSON or names another issuer, in go-oidc's words.
fn document(line: &Line, want: &str) -> Option<Classified> {
    if line.issuer.is_empty() {
        let ct = &line.content_type;
        return Some(fail(
            Class::NotJson,
            format!(
                "oidc: failed to decode provider discovery object: expected Content-Type = application/json, got {ct:?}: invalid character '{}' looking for beginning of value",
                line.body.chars().next().unwrap_or(' ')
            ),
            "something other than Dex answered (no issuer in the answer)",
        ));
    }
    (line.issuer != want).then(|| {
        fail(
            Class::IssuerMismatch,
            format!(
                "oidc: issuer did not match the issuer returned by provider, expected {want:?} got {:?}",
                line.issuer
            ),
            format!(
                "the document fetched from the pod names issuer {:?}, not {want:?}",
                line.issuer
            ),
        )
    })
}

fn answered(line: &Line) -> Classified {
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
    fn a_discovery_line_carries_its_endpoints_and_digest() {
        let out = "R\t1\t0\t200\t0.01\t10.0.0.1\thttp://d/dex\t0\tapplication/json\t\t{}\t\tauthorization_endpoint=http://d/dex/auth token_endpoint=http://d/dex/token  digest=sha256:ab\nR\t2\t0\t200\t0.01\t\t\t0\t\t\t{}\tk1 k2\n";
        let r = parse(out, 2);
        assert_eq!(
            r.lines[0].doc,
            [
                ("authorization_endpoint".into(), "http://d/dex/auth".into()),
                ("token_endpoint".into(), "http://d/dex/token".into()),
                ("digest".into(), "sha256:ab".into()),
            ]
        );
        assert_eq!(r.lines[1].kids, ["k1", "k2"]);
        assert!(r.lines[1].doc.is_empty());
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

    fn busybox(rc: i32, err: &str) -> (Line, Report) {
        let r = Report {
            tool: Some("wget".into()),
            flavour: "busybox".into(),
            ..Default::default()
        };
        let l = Line {
            rc,
            code: if rc == 0 { 200 } else { 0 },
            err: err.into(),
            ..Default::default()
        };
        (l, r)
    }

    #[test]
    fn busybox_bad_tls_record_is_plain_http_on_an_https_url() {
        let (l, r) = busybox(
            1,
            "wget: note: TLS certificate validation not implemented wget: got bad TLS record (len:369) while expecting handshake record",
        );
        let c = classify(&l, "https://idp.lab.test/x", "wget", &r, None);
        assert_eq!(c.class, Some(Class::HttpToHttps));
        assert_eq!(
            c.go_error,
            "http: server gave HTTP response to HTTPS client"
        );
    }

    #[test]
    fn busybox_cannot_verify_tls_and_says_so() {
        let (l, r) = busybox(0, "wget: note: TLS certificate validation not implemented");
        let c = classify(
            &l,
            "https://idp.example.com/.well-known/x",
            "wget",
            &r,
            None,
        );
        assert_eq!(c.class, Some(Class::TlsUnverified));
        assert!(
            c.note
                .starts_with("TLS not verified from this pod: busybox wget cannot"),
            "{}",
            c.note
        );
        // Plain http has nothing to verify.
        let c = classify(&l, "http://idp.example.com/x", "wget", &r, None);
        assert_eq!(c.class, None);
    }

    #[test]
    fn a_crashed_client_is_reported_with_its_signal() {
        let out = "T\twget\tbusybox\nR\t1\t1\t\t\t\t\t\t\twget: can't connect to remote host (127.0.0.1): Connection refused\t\nW\t1\t11\tSEGV\n";
        let r = parse(out, 1);
        assert_eq!(r.flavour, "busybox");
        assert_eq!(r.lines[0].crashed.as_deref(), Some("SIGSEGV (signal 11)"));
        let c = classify(&r.lines[0], "http://localhost:8082/x", "wget", &r, None);
        assert_eq!(c.class, Some(Class::Refused));
    }

    /// Found by fuzzing: curl's TLS exit 35 with no error text still says what failed.
    #[test]
    fn a_silent_tls_failure_is_still_explained() {
        let r = Report {
            tool: Some("curl".into()),
            ..Default::default()
        };
        let l = Line {
            rc: 35,
            ..Default::default()
        };
        let c = classify(&l, "https://idp.example.com/x", "curl", &r, None);
        assert_eq!(c.class, Some(Class::Tls));
        assert!(!c.note.is_empty());
    }
}
