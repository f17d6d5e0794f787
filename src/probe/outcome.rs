//! The classification of an HTTP client error,
//! walking its source chain, into a class plus the message a Go program would have logged.

use std::error::Error as StdError;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::CertificateError;

pub use super::class::Class;

/// A classified failure of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub class: Class,
    /// The error in Go's words, without the `Get "URL": ` prefix.
    pub go_error: String,
    /// A sentence for people: what this means.
    pub note: String,
}

impl Failure {
    pub fn new(class: Class, go_error: impl Into<String>, note: impl Into<String>) -> Self {
        Failure {
            class,
            go_error: go_error.into(),
            note: note.into(),
        }
    }
}

/// What the classifier needs to know besides the error.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub scheme: &'a str,
    /// The URL's host (no brackets).
    pub host: &'a str,
    /// `ip:port` that was dialled, as Go prints it (`[::1]:8082`, `127.0.0.1:80`).
    pub dial_addr: String,
    /// The proxy in use (credentials removed) and its dial address.
    pub proxy: Option<(String, String)>,
    pub elapsed: Duration,
    pub timeout: Duration,
    /// Whether the response headers had arrived (the body was being read).
    pub in_body: bool,
}

fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

const X509: &str = "tls: failed to verify certificate: x509:";

/// rustls names a presented name `DnsName("a.test")` or `IpAddress(…)`; Go prints it bare.
fn bare_name(p: &str) -> String {
    let inner = p
        .split_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .unwrap_or(p);
    inner.trim_matches('"').to_string()
}

fn tls_certificate(e: &CertificateError, host: &str) -> Failure {
    match e {
        CertificateError::UnknownIssuer => Failure::new(
            Class::TlsUnknownCa,
            format!("{X509} certificate signed by unknown authority"),
            "the server's certificate chain does not lead to a CA this machine trusts (private CA or self-signed): pass the CA with --cacert, or fix the chain the server sends",
        ),
        CertificateError::NotValidForNameContext { presented, .. } => Failure::new(
            Class::TlsNameMismatch,
            if presented.is_empty() {
                format!("{X509} certificate is not valid for any names, but wanted to match {host}")
            } else {
                format!(
                    "{X509} certificate is valid for {}, not {host}",
                    presented
                        .iter()
                        .map(|p| bare_name(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            if presented.iter().any(|p| bare_name(p) == "ingress.local") {
                format!(
                    "the ingress controller answered with its default certificate (ingress-nginx's \"Kubernetes Ingress Controller Fake Certificate\", for ingress.local): no TLS Secret of an Ingress covers {host}"
                )
            } else {
                format!("the certificate does not name {host}")
            },
        ),
        CertificateError::NotValidForName => Failure::new(
            Class::TlsNameMismatch,
            format!("{X509} certificate is not valid for {host}"),
            format!("the certificate does not name {host}"),
        ),
        CertificateError::ExpiredContext { time, not_after } => Failure::new(
            Class::TlsExpired,
            format!(
                "{X509} certificate has expired or is not yet valid: current time {} is after {}",
                rfc3339(time.as_secs()),
                rfc3339(not_after.as_secs())
            ),
            format!(
                "the certificate expired at {}",
                rfc3339(not_after.as_secs())
            ),
        ),
        CertificateError::Expired => Failure::new(
            Class::TlsExpired,
            format!(
                "{X509} certificate has expired or is not yet valid: current time {} is after the certificate's NotAfter",
                now_rfc3339()
            ),
            "the certificate has expired",
        ),
        CertificateError::NotValidYetContext { time, not_before } => Failure::new(
            Class::TlsExpired,
            format!(
                "{X509} certificate has expired or is not yet valid: current time {} is before {}",
                rfc3339(time.as_secs()),
                rfc3339(not_before.as_secs())
            ),
            "the certificate is not valid yet (or this machine's clock is wrong)",
        ),
        CertificateError::NotValidYet => Failure::new(
            Class::TlsExpired,
            format!("{X509} certificate has expired or is not yet valid"),
            "the certificate is not valid yet (or this machine's clock is wrong)",
        ),
        other => {
            let text = format!("{other:?}");
            let note = if text.contains("CaUsedAsEndEntity") {
                "the server presents a CA certificate as its own (a typical `openssl req -x509` self-signed certificate): issue a server certificate from that CA, with the host name in subjectAltName".to_string()
            } else {
                format!("the certificate was rejected: {text}")
            };
            Failure::new(Class::Tls, format!("{X509} {text}"), note)
        }
    }
}

fn tls_error(e: &rustls::Error, host: &str) -> Failure {
    match e {
        rustls::Error::InvalidCertificate(c) => tls_certificate(c, host),
        rustls::Error::InvalidMessage(m) => invalid_message(m),
        rustls::Error::AlertReceived(a) => Failure::new(
            Class::Tls,
            format!("remote error: tls: {}", words(&format!("{a:?}"))),
            format!("the server ended the TLS handshake with the alert {a:?}"),
        ),
        other => Failure::new(
            Class::Tls,
            format!("tls: {other}"),
            format!("TLS failed: {other}"),
        ),
    }
}

/// A TLS record that makes no sense: plain HTTP where TLS was expected, or a handshake message
/// beyond the limit (a huge certificate chain), in Go's words.
fn invalid_message(m: &rustls::InvalidMessage) -> Failure {
    use rustls::InvalidMessage as M;
    match m {
        M::InvalidContentType | M::UnknownProtocolVersion => Failure::new(
            Class::HttpToHttps,
            "http: server gave HTTP response to HTTPS client",
            "this https URL points at a port that speaks plain HTTP: use http://, or the TLS port",
        ),
        M::HandshakePayloadTooLarge | M::CertificatePayloadTooLarge | M::MessageTooLarge => {
            Failure::new(
                Class::Tls,
                "tls: handshake message exceeds the maximum of 65536 bytes",
                "the server's handshake (its certificate chain) is larger than a TLS client accepts: serve the leaf and its intermediates only",
            )
        }
        other => Failure::new(
            Class::Tls,
            format!("tls: {}", words(&format!("{other:?}"))),
            format!("the server's TLS messages are malformed ({other:?})"),
        ),
    }
}

/// `HandshakeFailure` → `handshake failure`, as Go names alerts.
fn words(camel: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for ch in camel.chars() {
        if ch.is_ascii_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = ch.is_ascii_lowercase();
        out.push(ch.to_ascii_lowercase());
    }
    out
}

fn io_failure(e: &std::io::Error, ctx: &Context) -> Option<Failure> {
    use std::io::ErrorKind as K;
    let addr = &ctx.dial_addr;
    let f = match e.kind() {
        K::ConnectionRefused => Failure::new(
            Class::Refused,
            format!("dial tcp {addr}: connect: connection refused"),
            format!("nothing listens on {addr}"),
        ),
        K::ConnectionReset => Failure::new(
            Class::Reset,
            format!("read tcp {addr}: read: connection reset by peer"),
            "the server (or something in between) reset the connection",
        ),
        K::HostUnreachable | K::NetworkUnreachable => Failure::new(
            Class::Unreachable,
            format!(
                "dial tcp {addr}: connect: {}",
                if e.kind() == K::HostUnreachable {
                    "no route to host"
                } else {
                    "network is unreachable"
                }
            ),
            format!("no route to {addr} from here"),
        ),
        K::UnexpectedEof => Failure::new(
            Class::TruncatedBody,
            "unexpected EOF",
            "the body ended before the length the server announced (Content-Length), or the connection was cut mid-answer",
        ),
        K::InvalidData | K::InvalidInput
            if e.to_string().to_ascii_lowercase().contains("chunk") =>
        {
            Failure::new(
                Class::MalformedResponse,
                "invalid byte in chunk length",
                format!(
                    "the chunked body is broken ({e}): not Dex, or a broken proxy in front of it"
                ),
            )
        }
        K::TimedOut => Failure::new(
            Class::ConnectTimeout,
            format!("dial tcp {addr}: i/o timeout"),
            format!(
                "no answer to the connection attempt to {addr} (packets dropped: firewall, security group, wrong address)"
            ),
        ),
        _ => return None,
    };
    Some(f)
}

/// What the source chain of an error holds: the first TLS, I/O and DNS errors, and every text.
#[derive(Default)]
struct Chain {
    tls: Option<Failure>,
    io: Option<Failure>,
    dns: Option<String>,
    /// What the HTTP client (hyper) said of the answer's framing.
    framing: Option<Failure>,
    texts: Vec<String>,
}

impl Chain {
    /// Walks the chain; rustls errors hide inside `io::Error::get_ref`, and
    /// `io::Error::source` skips the error it wraps, so descend through `get_ref` (hyper-util
    /// wraps rustls's error in two io::Errors).
    fn walk(err: &reqwest::Error, ctx: &Context) -> Chain {
        let mut ch = Chain::default();
        let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(e) = cur {
            ch.texts.push(e.to_string());
            if let Some(r) = e.downcast_ref::<rustls::Error>() {
                ch.tls.get_or_insert_with(|| tls_error(r, ctx.host));
            }
            if let Some(d) = e.downcast_ref::<super::resolve::DnsError>() {
                ch.dns.get_or_insert_with(|| d.to_string());
            }
            if let Some(h) = e.downcast_ref::<hyper::Error>()
                && let Some(f) = framing(h)
            {
                ch.framing.get_or_insert(f);
            }
            let mut io_err = e.downcast_ref::<std::io::Error>();
            while let Some(i) = io_err {
                if let Some(f) = io_failure(i, ctx) {
                    ch.io.get_or_insert(f);
                }
                let inner = i.get_ref();
                if let Some(r) = inner.and_then(|x| x.downcast_ref::<rustls::Error>()) {
                    ch.tls.get_or_insert_with(|| tls_error(r, ctx.host));
                }
                io_err = inner.and_then(|x| x.downcast_ref::<std::io::Error>());
            }
            cur = e.source();
        }
        ch
    }
}

/// Classifies a reqwest error.
pub fn classify(err: &reqwest::Error, ctx: &Context) -> Failure {
    let ch = Chain::walk(err, ctx);
    if let Some(d) = &ch.dns {
        return Failure::new(
            Class::Dns,
            format!("dial tcp: lookup {}: {d}", ctx.host),
            format!("{} does not resolve from here", ctx.host),
        );
    }
    if let Some(f) = proxy_failure(err, ctx, &ch) {
        return f;
    }
    if let Some(t) = ch.tls {
        return t;
    }
    if err.is_timeout() {
        return timeout_failure(err, ctx);
    }
    if let Some(f) = ch.framing.or(ch.io) {
        return f;
    }
    other_failure(ctx, &ch.texts.join(": "))
}

/// Go's words for a broken answer: too large a head, no HTTP at all, a cut message.
fn framing(h: &hyper::Error) -> Option<Failure> {
    const BROKEN: &str = "net/http: HTTP/1.x transport connection broken";
    if h.is_parse_too_large() {
        return Some(Failure::new(
            Class::TooLarge,
            format!(
                "{BROKEN}: net/http: server response headers exceeded the client's limit ({h})"
            ),
            "the response's status line and headers are too large (an endless header line, or thousands of headers): not Dex, or a broken proxy in front of it",
        ));
    }
    if h.is_parse() || h.is_parse_status() {
        return Some(Failure::new(
            Class::MalformedResponse,
            format!("{BROKEN}: malformed HTTP response ({h})"),
            "what answered is not an HTTP server (another protocol on this port, or a proxy speaking something else)",
        ));
    }
    h.is_incomplete_message().then(|| {
        Failure::new(
            Class::TruncatedBody,
            "unexpected EOF",
            "the server closed the connection before its answer was complete",
        )
    })
}

/// A failure at the proxy from the environment, in Go's `proxyconnect tcp:` words.
fn proxy_failure(err: &reqwest::Error, ctx: &Context, ch: &Chain) -> Option<Failure> {
    let (proxy, paddr) = ctx.proxy.as_ref().filter(|_| err.is_connect())?;
    let inner = match &ch.io {
        Some(f) => f.go_error.replace(&ctx.dial_addr, paddr),
        None if err.is_timeout() => format!("dial tcp {paddr}: i/o timeout"),
        None => format!(
            "dial tcp {paddr}: {}",
            ch.texts.last().cloned().unwrap_or_default()
        ),
    };
    Some(Failure::new(
        Class::Proxy,
        format!("proxyconnect tcp: {inner}"),
        format!(
            "the request went to the proxy {proxy} (from the proxy environment) and failed there; add the host to NO_PROXY if it should be reached directly"
        ),
    ))
}

/// A timeout: the connection attempt, the headers, or the body.
fn timeout_failure(err: &reqwest::Error, ctx: &Context) -> Failure {
    if err.is_connect() {
        return Failure::new(
            Class::ConnectTimeout,
            format!("dial tcp {}: i/o timeout", ctx.dial_addr),
            format!(
                "no answer to the connection attempt to {} within {:.1} s (packets dropped: firewall, security group, wrong address)",
                ctx.dial_addr,
                ctx.timeout.as_secs_f64()
            ),
        );
    }
    let (go, note) = if ctx.in_body || err.is_body() || err.is_decode() {
        (
            "context deadline exceeded (Client.Timeout or context cancellation while reading body)",
            "the server sent headers, then the body stalled or dripped past the deadline",
        )
    } else {
        (
            "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
            "the connection opened but no response arrived in time (a hung backend, or a proxy waiting on one)",
        )
    };
    Failure::new(
        Class::ReadTimeout,
        go,
        format!("{note} ({:.1} s)", ctx.elapsed.as_secs_f64()),
    )
}

/// What is left: an unsupported scheme, a connection closed without an answer, anything else.
fn other_failure(ctx: &Context, all: &str) -> Failure {
    let lower = all.to_ascii_lowercase();
    if lower.contains("builder error") && lower.contains("scheme")
        || lower.contains("url scheme is not allowed")
    {
        return Failure::new(
            Class::UnsupportedScheme,
            format!("unsupported protocol scheme {:?}", ctx.scheme),
            "only http and https URLs can be fetched",
        );
    }
    if lower.contains("connection closed before message completed")
        || lower.contains("unexpected eof")
    {
        return Failure::new(
            Class::Reset,
            "EOF",
            "the server closed the connection without answering",
        );
    }
    Failure::new(Class::Other, all, all)
}
