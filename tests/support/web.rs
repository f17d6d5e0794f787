//! Web servers on loopback for the probe tests: a route table over plain HTTP or TLS, and servers
//! that misbehave on purpose (silent, dripping). Each runs on its own runtime threads while the
//! test drives the binary.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One canned answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Every Nth request to this route gets this status instead (an intermittent failure).
    pub fail_every: Option<(usize, u16, Arc<std::sync::atomic::AtomicUsize>)>,
}

impl Reply {
    pub fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
            fail_every: None,
        }
    }
    /// Every `n`th request answers `status` (counting from the first).
    pub fn fail_every(mut self, n: usize, status: u16) -> Reply {
        self.fail_every = Some((n, status, Arc::default()));
        self
    }
    pub fn json(body: impl Into<String>) -> Reply {
        Reply::new(200, "application/json", body.into())
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

/// Path (without query) → reply; anything else gets Go's `404 page not found`.
pub type Routes = HashMap<String, Reply>;

/// Dex's answers under `issuer` on a server: discovery, keys, token, auth.
pub fn dex_routes(issuer: &str) -> Routes {
    let path = url_path(issuer).trim_end_matches('/').to_string();
    let mut r = Routes::new();
    r.insert(
        format!("{path}/.well-known/openid-configuration"),
        Reply::json(super::servers::dex_discovery(issuer)),
    );
    r.insert(
        format!("{path}/keys"),
        Reply::json(super::servers::dex_jwks()),
    );
    r.insert(
        format!("{path}/token"),
        Reply::new(
            401,
            "application/json",
            r#"{"error":"invalid_client","error_description":"Invalid client credentials."}"#,
        ),
    );
    r.insert(
        format!("{path}/auth"),
        Reply::new(302, "text/html", "")
            .header("location", &format!("{path}/auth/mock?client_id=argo-cd")),
    );
    r.insert(
        format!("{path}/auth/mock"),
        Reply::new(302, "text/html", "")
            .header("location", "https://idp.invalid/authorize?state=x"),
    );
    r
}

pub fn url_path(u: &str) -> &str {
    let after = u.split_once("://").map(|(_, r)| r).unwrap_or(u);
    after.find('/').map(|i| &after[i..]).unwrap_or("")
}

/// A multi-thread runtime whose servers live as long as this value.
pub struct Web {
    rt: tokio::runtime::Runtime,
}

impl Default for Web {
    fn default() -> Self {
        Self::new()
    }
}

impl Web {
    pub fn new() -> Web {
        Web {
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime"),
        }
    }

    /// Servers inside the network namespace `netns`: every worker thread enters it first.
    pub fn in_netns(netns: &str) -> Web {
        let name = netns.to_string();
        Web {
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .on_thread_start(move || {
                    super::netns::enter(&name).expect("enter netns");
                })
                .enable_all()
                .build()
                .expect("runtime"),
        }
    }

    fn bind(&self) -> (TcpListener, SocketAddr) {
        self.bind_at("127.0.0.1:0")
    }

    /// Binds on a worker thread, so the socket lives in the runtime's namespace.
    pub fn bind_at(&self, addr: &str) -> (TcpListener, SocketAddr) {
        let addr = addr.to_string();
        let l = self
            .rt
            .block_on(self.rt.spawn(async move { TcpListener::bind(addr).await }))
            .expect("join")
            .expect("bind");
        let a = l.local_addr().expect("addr");
        (l, a)
    }

    /// A port nothing listens on.
    pub fn closed_port(&self) -> u16 {
        let (l, a) = self.bind();
        drop(l);
        a.port()
    }

    /// Plain HTTP with a route table made once the address is known.
    pub fn http(&self, routes: impl FnOnce(SocketAddr) -> Routes) -> SocketAddr {
        let (l, a) = self.bind();
        self.serve_http(l, routes(a));
        a
    }

    /// Plain HTTP on a listener already bound.
    pub fn serve_http(&self, l: TcpListener, routes: Routes) {
        let routes = Arc::new(routes);
        self.rt.spawn(async move {
            loop {
                let Ok((s, _)) = l.accept().await else {
                    continue;
                };
                tokio::spawn(serve_conn(s, routes.clone()));
            }
        });
    }

    /// TLS with a route table; plain HTTP sent to it gets Go's 400 answer.
    pub fn https(
        &self,
        routes: impl FnOnce(SocketAddr) -> Routes,
        tls: Arc<rustls::ServerConfig>,
    ) -> SocketAddr {
        let (l, a) = self.bind();
        self.serve_https(l, routes(a), tls);
        a
    }

    /// TLS on a listener already bound.
    pub fn serve_https(&self, l: TcpListener, routes: Routes, tls: Arc<rustls::ServerConfig>) {
        let routes = Arc::new(routes);
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        self.rt.spawn(async move {
            loop {
                let Ok((mut s, _)) = l.accept().await else { continue };
                let acceptor = acceptor.clone();
                let routes = routes.clone();
                tokio::spawn(async move {
                    let mut first = [0u8; 1];
                    if s.peek(&mut first).await.is_ok() && first[0] != 0x16 {
                        // net/http's answer to plain HTTP on a TLS port: read the request, answer,
                        // close (closing with unread bytes would reset the connection instead).
                        let mut buf = [0u8; 4096];
                        let _ = s.read(&mut buf).await;
                        let _ = s
                            .write_all(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
                            .await;
                        let _ = s.shutdown().await;
                        return;
                    }
                    if let Ok(tls) = acceptor.accept(s).await {
                        serve_io(TokioIo::new(tls), routes).await;
                    }
                });
            }
        });
    }

    /// Accepts connections and never answers.
    pub fn silent(&self) -> SocketAddr {
        let (l, a) = self.bind();
        self.rt.spawn(async move {
            loop {
                let Ok((mut s, _)) = l.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                });
            }
        });
        a
    }

    /// Answers headers at once, then the body one byte a second.
    pub fn drip(&self) -> SocketAddr {
        let (l, a) = self.bind();
        self.rt.spawn(async move {
            loop {
                let Ok((mut s, _)) = l.accept().await else { continue };
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 600\r\n\r\n")
                        .await;
                    for _ in 0..600 {
                        if s.write_all(b" ").await.is_err() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                });
            }
        });
        a
    }
}

async fn serve_conn(s: TcpStream, routes: Arc<Routes>) {
    serve_io(TokioIo::new(s), routes).await
}

async fn serve_io<I>(io: I, routes: Arc<Routes>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let routes = routes.clone();
        async move {
            let reply = routes.get(req.uri().path()).cloned().unwrap_or_else(|| {
                Reply::new(404, "text/plain; charset=utf-8", "404 page not found\n")
            });
            if !reply.delay.is_zero() {
                tokio::time::sleep(reply.delay).await;
            }
            if let Some((n, status, count)) = &reply.fail_every {
                let i = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                if i % n == 0 {
                    let b = Response::builder().status(*status);
                    return Ok::<_, Infallible>(
                        b.body(Full::new(Bytes::from_static(b"upstream connect error\n")))
                            .unwrap_or_default(),
                    );
                }
            }
            let mut b = Response::builder().status(reply.status);
            for (k, v) in &reply.headers {
                b = b.header(k, v);
            }
            Ok::<_, Infallible>(b.body(Full::new(reply.body)).unwrap_or_default())
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, svc)
        .await;
}

/// A test CA and server certificates made from it.
pub struct Pki {
    pub ca_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Pki {
    pub fn new() -> Pki {
        Pki::named("dexcheck test CA")
    }

    /// A CA with this common name (two CAs of one name confuse a verifier's issuer lookup).
    pub fn named(cn: &str) -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};
        let key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.distinguished_name.push(rcgen::DnType::CommonName, cn);
        let cert = ca.self_signed(&key).expect("CA cert");
        Pki {
            ca_pem: cert.pem(),
            issuer: rcgen::Issuer::new(ca, key),
        }
    }

    /// A server config for `names`; `expired` makes a certificate that ended in 2020.
    pub fn server(&self, names: &[&str], expired: bool) -> Arc<rustls::ServerConfig> {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("params");
        if expired {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        let cert = params.signed_by(&key, &self.issuer).expect("cert");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .expect("server TLS config");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// A certificate for `names` and its key, as PEM (for servers that read files: slapd).
    pub fn server_pem(&self, names: &[&str]) -> (String, String) {
        let key = rcgen::KeyPair::generate().expect("key");
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("params");
        let cert = params.signed_by(&key, &self.issuer).expect("cert");
        (cert.pem(), key.serialize_pem())
    }

    /// Writes the CA to `dir/ca.pem` and returns the path.
    pub fn ca_file(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let p = dir.join("ca.pem");
        std::fs::write(&p, &self.ca_pem).expect("write CA");
        p
    }
}
