//! One bounded HTTP request as the workstation makes it: its own resolver (pins, cache), Go's
//! proxy decision, a connect/read/total deadline, a capped body (after decompression), at most
//! five redirects with each hop recorded, and every failure classified.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::redirect;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::outcome::{Class, Context, Failure, classify};
use super::proxy::{ProxyEnv, redact_userinfo};
use super::resolve::Resolver;

/// Bodies beyond this size (after decompression) are refused.
pub const MAX_BODY: usize = 1024 * 1024;
/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 5;

/// Settings shared by every request of one run.
#[derive(Clone)]
pub struct Settings {
    pub timeout: Duration,
    /// No request runs past this instant (the run's total budget).
    pub deadline: Instant,
    pub resolver: Resolver,
    pub proxy: ProxyEnv,
    /// Built once: the platform's roots plus `--cacert`, loaded on first use and shared by
    /// every request's client.
    tls: rustls::ClientConfig,
}

impl Settings {
    /// `extra_roots` are DER certificates to trust besides the platform's.
    pub fn new(
        timeout: Duration,
        deadline: Instant,
        resolver: Resolver,
        proxy: ProxyEnv,
        extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    ) -> Result<Settings, String> {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let verifier = if extra_roots.is_empty() {
            rustls_platform_verifier::Verifier::new(provider.clone())
        } else {
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider.clone())
        }
        .map_err(|e| format!("could not set up certificate verification: {e}"))?;
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("could not set up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(std::sync::Arc::new(verifier))
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Settings {
            timeout,
            deadline,
            resolver,
            proxy,
            tls,
        })
    }
}

impl Settings {
    /// The run's TLS client config (the platform's roots plus `--cacert`) for a client other
    /// than HTTP (no ALPN).
    pub fn tls_config(&self) -> std::sync::Arc<rustls::ClientConfig> {
        let mut c = self.tls.clone();
        c.alpn_protocols.clear();
        std::sync::Arc::new(c)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// Follow redirects (at most [`MAX_REDIRECTS`]).
    All,
    /// Return the first response as it is.
    None,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    /// `Some` makes it a form POST.
    pub form: Option<Vec<(String, String)>>,
    pub follow: Follow,
    /// HTTP Basic credentials, already escaped as the client would (`client_secret_basic`).
    pub basic: Option<(String, crate::secret::Secret)>,
    /// The `Origin` a browser page sends with its own requests (CORS).
    pub origin: Option<String>,
}

impl Request {
    pub fn get(url: &str) -> Self {
        Request {
            url: url.into(),
            form: None,
            follow: Follow::All,
            basic: None,
            origin: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    /// The `Date` header: the server's clock.
    pub date: Option<String>,
    pub body: Vec<u8>,
    pub final_url: String,
    /// The address the answer came from (the last connection's peer).
    pub peer: Option<std::net::IpAddr>,
    /// `Access-Control-Allow-Origin`: which page origins may read the answer.
    pub allow_origin: Option<String>,
}

impl Response {
    /// Go's `resp.Status`: `404 Not Found`.
    pub fn status_line(&self) -> String {
        status_line(self.status)
    }

    /// The body as text, shortened for a message.
    pub fn body_excerpt(&self, max: usize) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        if text.chars().count() > max {
            format!("{}…", text.chars().take(max).collect::<String>())
        } else {
            text.to_string()
        }
    }
}

/// What one request produced.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub url: String,
    pub result: Result<Response, Failure>,
    /// Each redirect followed, as `STATUS → URL`.
    pub hops: Vec<String>,
    pub elapsed: Duration,
    /// The proxy the request went through (credentials removed).
    pub proxy: Option<String>,
}

fn dial_addr(ip: IpAddr, port: u16) -> String {
    SocketAddr::new(ip, port).to_string()
}

/// Go's `resp.Status` for a code: `404 Not Found`.
pub fn status_line(code: u16) -> String {
    let reason = reqwest::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{code} {reason}").trim_end().to_string()
}

/// A URL's host without IPv6 brackets, as Go's `Hostname()`.
pub fn host_of(u: &url::Url) -> String {
    match u.host() {
        Some(url::Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string(),
        None => String::new(),
    }
}

#[derive(Debug)]
struct RedirectStop(&'static str);
impl std::fmt::Display for RedirectStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for RedirectStop {}

/// Runs one request under the settings' bounds.
pub async fn fetch(s: &Settings, req: &Request) -> Fetched {
    let start = Instant::now();
    let mut out = Fetched {
        url: req.url.clone(),
        result: Err(Failure::new(Class::Other, "", "")),
        hops: Vec::new(),
        elapsed: Duration::ZERO,
        proxy: None,
    };
    out.result = run(s, req, start, &mut out).await;
    out.elapsed = start.elapsed();
    out
}

/// The request itself; what it learns on the way (proxy, redirects) goes into `out`.
async fn run(
    s: &Settings,
    req: &Request,
    start: Instant,
    out: &mut Fetched,
) -> Result<Response, Failure> {
    let parsed = target(&req.url)?;
    let scheme = parsed.scheme().to_string();
    let host = host_of(&parsed);
    let port = parsed.port_or_known_default().unwrap_or(80);
    let remaining = s.deadline.saturating_duration_since(Instant::now());
    let timeout = s.timeout.min(remaining).max(Duration::from_millis(50));
    let proxy = s.proxy.proxy_for(&scheme, &host, parsed.port());
    out.proxy = proxy.as_deref().map(redact_userinfo);
    let (dial, proxy_ctx) = match &proxy {
        Some(p) => via_proxy(s, p).await,
        None => (direct(s, &host, port, timeout).await?, None),
    };
    let hops: Arc<Mutex<Vec<String>>> = Arc::default();
    let remaining = timeout
        .saturating_sub(start.elapsed())
        .max(Duration::from_millis(50));
    let client = client(s, remaining, redirect_policy(req.follow, hops.clone()))?;
    let mut ctx = Context {
        scheme: &scheme,
        host: &host,
        dial_addr: dial.clone(),
        proxy: proxy_ctx,
        elapsed: Duration::ZERO,
        timeout: remaining,
        in_body: false,
    };
    let mut builder = match &req.form {
        Some(form) => client.post(parsed.clone()).form(form),
        None => client.get(parsed.clone()),
    };
    if let Some((user, password)) = &req.basic {
        builder = builder.basic_auth(user, Some(password.expose()));
    }
    if let Some(origin) = &req.origin {
        builder = builder.header("origin", origin);
    }
    let sent = builder
        .header("accept", "application/json, text/html;q=0.5, */*;q=0.1")
        .send()
        .await;
    out.hops = hops.lock().map(|h| h.clone()).unwrap_or_default();
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            ctx.elapsed = start.elapsed();
            if e.is_redirect() {
                return Err(redirect_failure(parsed.as_str(), &out.hops));
            }
            let f = classify(&e, &ctx);
            if scheme == "http" && matches!(f.class, Class::Other | Class::Reset) {
                return Err(sniff_tls(&dial, ctx.proxy.is_none()).await.unwrap_or(f));
            }
            if scheme == "https" && f.class == Class::ConnectTimeout && ctx.proxy.is_none() {
                return Err(handshake_stalled(&dial).await.unwrap_or(f));
            }
            return Err(f);
        }
    };
    ctx.in_body = true;
    response(resp, &mut ctx, start).await
}

/// Only absolute http(s) URLs can be fetched.
fn target(url: &str) -> Result<url::Url, Failure> {
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(u),
        Ok(u) => Err(Failure::new(
            Class::UnsupportedScheme,
            format!("unsupported protocol scheme {:?}", u.scheme()),
            "only http and https URLs can be fetched",
        )),
        Err(e) => {
            let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
            Err(Failure::new(
                Class::UnsupportedScheme,
                format!("unsupported protocol scheme {scheme:?}"),
                format!("{url:?} is not an absolute http(s) URL: {e}"),
            ))
        }
    }
}

/// The proxy's dial address, and the proxy (credentials removed) for the classifier.
async fn via_proxy(s: &Settings, p: &str) -> (String, Option<(String, String)>) {
    let pu = url::Url::parse(p).ok();
    let phost = pu.as_ref().map(host_of).unwrap_or_default();
    let pport = pu
        .as_ref()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(80);
    let ip = s
        .resolver
        .lookup(&phost, Some(pport))
        .await
        .ok()
        .and_then(|v| v.first().copied());
    let paddr = ip
        .map(|ip| dial_addr(ip, pport))
        .unwrap_or(format!("{phost}:{pport}"));
    (paddr.clone(), Some((redact_userinfo(p), paddr)))
}

/// The address dialled for `host`, resolved under the timeout.
async fn direct(s: &Settings, host: &str, port: u16, timeout: Duration) -> Result<String, Failure> {
    match tokio::time::timeout(timeout, s.resolver.lookup(host, Some(port))).await {
        Ok(Ok(ips)) => match ips.first() {
            Some(ip) => Ok(dial_addr(*ip, port)),
            None => Err(Failure::new(
                Class::Dns,
                format!("dial tcp: lookup {host}: no such host"),
                format!("{host} does not resolve from here"),
            )),
        },
        Ok(Err(e)) => Err(Failure::new(
            Class::Dns,
            format!("dial tcp: lookup {host}: {e}"),
            format!("{host} does not resolve from here"),
        )),
        Err(_) => Err(Failure::new(
            Class::Dns,
            format!("dial tcp: lookup {host}: i/o timeout"),
            format!("the resolver did not answer for {host} in time"),
        )),
    }
}

/// Redirects followed as Go's client does, each recorded in `hops`; a loop or more than
/// [`MAX_REDIRECTS`] stops.
fn redirect_policy(follow: Follow, hops: Arc<Mutex<Vec<String>>>) -> redirect::Policy {
    match follow {
        Follow::None => redirect::Policy::none(),
        Follow::All => redirect::Policy::custom(move |attempt| {
            let next = attempt.url().to_string();
            if let Ok(mut h) = hops.lock() {
                h.push(format!("{} → {next}", attempt.status().as_u16()));
            }
            if attempt.previous().iter().any(|p| p.as_str() == next) {
                attempt.error(RedirectStop("redirect loop"))
            } else if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(RedirectStop("too many redirects"))
            } else {
                attempt.follow()
            }
        }),
    }
}

/// A client bounded by `remaining` for connect, read and total.
fn client(
    s: &Settings,
    remaining: Duration,
    policy: redirect::Policy,
) -> Result<reqwest::Client, Failure> {
    let builder = reqwest::Client::builder()
        .user_agent(concat!("dexcheck/", env!("CARGO_PKG_VERSION")))
        .http1_only()
        .pool_max_idle_per_host(0)
        // A little under the total, so a black hole is reported as the connect timeout it is
        // rather than as the total deadline firing at the same instant.
        .connect_timeout(
            remaining
                .saturating_sub(Duration::from_millis(150))
                .max(remaining / 2),
        )
        .read_timeout(remaining)
        .timeout(remaining)
        .redirect(policy)
        .dns_resolver(s.resolver.clone())
        .tls_backend_preconfigured(s.tls.clone());
    s.proxy.configure(builder).build().map_err(|e| {
        Failure::new(
            Class::Other,
            e.to_string(),
            "the HTTP client could not be set up",
        )
    })
}

/// The answer: status, the headers that matter, and a body of at most [`MAX_BODY`] bytes.
async fn response(
    mut resp: reqwest::Response,
    ctx: &mut Context<'_>,
    start: Instant,
) -> Result<Response, Failure> {
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type");
    let location = header("location");
    let date = header("date");
    let allow_origin = header("access-control-allow-origin");
    let final_url = resp.url().to_string();
    let peer = resp.remote_addr().map(|a| a.ip());
    let mut body: Vec<u8> = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > MAX_BODY => {
                return Err(Failure::new(
                    Class::TooLarge,
                    format!("http: response body too large (more than {MAX_BODY} bytes)"),
                    format!(
                        "the response is larger than {} MiB (counted after decompression): not a discovery document or key set; dexcheck stopped reading",
                        MAX_BODY / (1024 * 1024),
                    ),
                ));
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                ctx.elapsed = start.elapsed();
                return Err(classify(&e, ctx));
            }
        }
    }
    Ok(Response {
        status,
        content_type,
        location,
        date,
        body,
        final_url,
        peer,
        allow_origin,
    })
}

/// The policy stops on a repeated URL (a loop) or after [`MAX_REDIRECTS`]: say which.
fn redirect_failure(start: &str, hops: &[String]) -> Failure {
    let targets: Vec<&str> = hops
        .iter()
        .filter_map(|h| h.split_once(" → ").map(|(_, u)| u))
        .collect();
    let looped = targets
        .last()
        .is_some_and(|last| *last == start || targets[..targets.len() - 1].contains(last));
    Failure::new(
        Class::RedirectLoop,
        // What a Go client (Devtron, Argo CD) logs when it gives up (after 10).
        "stopped after 10 redirects",
        if looped {
            format!("the redirects go round in a circle: {}", hops.join(", "))
        } else {
            format!("more than {MAX_REDIRECTS} redirects: {}", hops.join(", "))
        },
    )
}

/// An https connection attempt timed out: if a plain TCP connection opens at once, the TCP
/// dial worked and the TLS handshake is what stalled, as Go reports it.
async fn handshake_stalled(dial: &str) -> Option<Failure> {
    let addr: SocketAddr = dial.parse().ok()?;
    tokio::time::timeout(
        Duration::from_millis(300),
        tokio::net::TcpStream::connect(addr),
    )
    .await
    .ok()?
    .ok()?;
    Some(Failure::new(
        Class::ConnectTimeout,
        "net/http: TLS handshake timeout",
        format!(
            "the TCP connection to {dial} opens, but the TLS handshake never finishes (a port that accepts and says nothing, or a middlebox holding TLS)"
        ),
    ))
}

/// A plain-HTTP request got no HTTP answer: look at the first bytes the server sends. A TLS
/// record (0x15/0x16, 0x03) means this is a TLS port.
async fn sniff_tls(dial: &str, direct: bool) -> Option<Failure> {
    if !direct {
        return None;
    }
    let addr: SocketAddr = dial.parse().ok()?;
    let bytes = tokio::time::timeout(Duration::from_secs(1), async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(b"GET / HTTP/1.1\r\nHost: dexcheck\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut buf = [0u8; 8];
        let n = s.read(&mut buf).await.ok()?;
        Some(buf[..n].to_vec())
    })
    .await
    .ok()??;
    if bytes.len() >= 2 && (bytes[0] == 0x15 || bytes[0] == 0x16) && bytes[1] == 0x03 {
        let quoted: String = bytes.iter().map(|b| format!("\\x{b:02x}")).collect();
        Some(Failure::new(
            Class::HttpToHttps,
            format!(
                "net/http: HTTP/1.x transport connection broken: malformed HTTP response \"{quoted}\""
            ),
            "this http URL points at a port that speaks TLS: use https://",
        ))
    } else {
        None
    }
}
