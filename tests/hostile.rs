//! Hostile answers from loopback: every shape gets a named class and the message a Go client
//! would log, within `--timeout` plus half a second; none is `other`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

/// A loopback server that answers every connection with `shape`, for at most `LIFETIME`.
fn serve(shape: fn(&mut TcpStream)) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let start = Instant::now();
        for s in l.incoming() {
            if start.elapsed() > LIFETIME {
                break;
            }
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let mut head = [0u8; 4096];
                let _ = s.read(&mut head);
                let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
                shape(&mut s);
            });
        }
    });
    port
}

const LIFETIME: Duration = Duration::from_secs(30);
const TIMEOUT_S: u64 = 2;

/// Writes `chunk` until the peer goes or the bound passes.
fn endless(s: &mut TcpStream, chunk: &[u8]) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(8) {
        if s.write_all(chunk).is_err() {
            return;
        }
    }
}

fn discovery_row(port: u16) -> (Value, Duration) {
    discovery_row_at(&format!("http://127.0.0.1:{port}/orchestrator"))
}

fn discovery_row_at(url: &str) -> (Value, Duration) {
    let start = Instant::now();
    let out = cargo_bin_cmd!("dexcheck")
        .args([
            "check",
            "fixtures/dex-github.yaml",
            "--no-idp",
            "--url",
            url,
            "--no-pods",
            "--timeout",
            &TIMEOUT_S.to_string(),
            "-o",
            "json",
        ])
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .output()
        .unwrap();
    let took = start.elapsed();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let row = v["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == "browser.discovery").cloned())
        .unwrap_or(Value::Null);
    (row, took)
}

fn assert_named(shape: &str, f: fn(&mut TcpStream), class: &str, error_part: &str) {
    assert_row(shape, discovery_row(serve(f)).0, class, error_part);
}

fn assert_named_tls(shape: &str, f: fn(&mut TcpStream), class: &str, error_part: &str) {
    let url = format!("https://127.0.0.1:{}/orchestrator", serve(f));
    assert_row(shape, discovery_row_at(&url).0, class, error_part);
}

fn assert_row(shape: &str, row: Value, class: &str, error_part: &str) {
    assert_eq!(row["class"], class, "{shape}: {row:#}");
    let error = row["error"].as_str().unwrap_or("");
    assert!(error.contains(error_part), "{shape}: {error}");
    let ms = row["duration_ms"].as_u64().unwrap_or(u64::MAX);
    assert!(ms <= TIMEOUT_S * 1000 + 500, "{shape}: {ms} ms");
}

#[test]
fn a_trickled_status_line_is_a_read_timeout() {
    assert_named(
        "trickle",
        |s| {
            for b in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" {
                if s.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        },
        "read_timeout",
        "Client.Timeout exceeded while awaiting headers",
    );
}

#[test]
fn an_endless_header_line_is_too_large() {
    assert_named(
        "endless header",
        |s| {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nX-Long: ");
            endless(s, &[b'a'; 8192]);
        },
        "too_large",
        "net/http: server response headers exceeded",
    );
}

#[test]
fn twenty_thousand_headers_are_too_large() {
    assert_named(
        "20k headers",
        |s| {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
            for i in 0..20_000 {
                if s.write_all(format!("X-H{i}: v\r\n").as_bytes()).is_err() {
                    return;
                }
            }
            let _ = s.write_all(b"\r\n{}");
        },
        "too_large",
        "net/http: server response headers exceeded",
    );
}

#[test]
fn a_non_http_answer_is_a_malformed_response() {
    assert_named(
        "not http",
        |s| {
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n");
        },
        "malformed_response",
        "net/http: HTTP/1.x transport connection broken: malformed HTTP response",
    );
}

#[test]
fn an_invalid_chunk_size_is_a_malformed_response() {
    assert_named(
        "bad chunk",
        |s| {
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            );
        },
        "malformed_response",
        "invalid byte in chunk length",
    );
}

#[test]
fn a_body_shorter_than_its_length_is_truncated() {
    assert_named(
        "short body",
        |s| {
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"issuer\":",
            );
            let _ = s.shutdown(std::net::Shutdown::Write);
        },
        "truncated_body",
        "unexpected EOF",
    );
}

#[test]
fn a_reset_mid_body_is_reset() {
    assert_named(
        "reset",
        |s| {
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"issuer\":",
            );
            std::thread::sleep(Duration::from_millis(100));
            // SO_LINGER 0: close sends RST.
            let fd = std::os::fd::AsRawFd::as_raw_fd(&*s);
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    &linger as *const _ as *const libc::c_void,
                    std::mem::size_of::<libc::linger>() as u32,
                );
            }
        },
        "reset",
        "connection reset by peer",
    );
}

#[test]
fn an_endless_chunked_body_is_too_large() {
    assert_named(
        "endless chunks",
        |s| {
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            );
            let chunk = format!("2000\r\n{}\r\n", " ".repeat(0x2000));
            endless(s, chunk.as_bytes());
        },
        "too_large",
        "http: response body too large",
    );
}

#[test]
fn a_json_nesting_bomb_is_not_json() {
    assert_named(
        "nesting bomb",
        |s| {
            let body = "[".repeat(100_000);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body.as_bytes());
        },
        "not_json",
        "oidc: failed to decode provider discovery object",
    );
}

#[test]
fn invalid_utf8_in_json_is_not_json() {
    assert_named(
        "bad utf-8",
        |s| {
            let body = b"{\"issuer\":\"\xff\xfe\"}";
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body);
        },
        "not_json",
        "oidc: failed to decode provider discovery object",
    );
}

#[test]
fn a_redirect_chain_with_changing_urls_stops_after_ten() {
    assert_named(
        "redirect chain",
        |s| {
            let n: u64 = rand_u64();
            let _ = s.write_all(
                format!("HTTP/1.1 302 Found\r\nLocation: /hop/{n}\r\nContent-Length: 0\r\n\r\n")
                    .as_bytes(),
            );
        },
        "redirect_loop",
        "stopped after 10 redirects",
    );
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    h.finish()
}

#[test]
fn a_stalled_tls_handshake_is_a_tls_handshake_timeout() {
    assert_named_tls(
        "stalled handshake",
        |_| std::thread::sleep(Duration::from_secs(6)),
        "connect_timeout",
        "net/http: TLS handshake timeout",
    );
}

#[test]
fn a_tls_alert_is_tls_in_gos_words() {
    assert_named_tls(
        "alert",
        // A fatal handshake_failure alert in answer to the ClientHello.
        |s| {
            let _ = s.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
        },
        "tls",
        "remote error: tls: handshake failure",
    );
}

#[test]
fn a_huge_certificate_chain_is_a_tls_failure() {
    let config = huge_chain_config();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().take(8) {
            let Ok(s) = s else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, s);
                let mut buf = [0u8; 1024];
                let _ = tls.read(&mut buf);
            });
        }
    });
    let (row, _) = discovery_row_at(&format!("https://127.0.0.1:{port}/orchestrator"));
    assert_row("huge chain", row, "tls", "tls: handshake message");
}

/// A server whose chain repeats its CA 300 times: a Certificate message over 64 KiB.
fn huge_chain_config() -> std::sync::Arc<rustls::ServerConfig> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let mut chain = vec![leaf.der().clone()];
    chain.extend(std::iter::repeat_n(ca_cert.der().clone(), 300));
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            chain,
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    std::sync::Arc::new(config)
}
