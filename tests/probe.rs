//! Live workstation probes against real local servers, one per failure class: each asserts the
//! class, the Go-shaped message and that the run ended within its budget.

mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;
use support::web::{Pki, Reply, Routes, Web, dex_routes};

const TIMEOUT: u64 = 1;

struct Run {
    report: Value,
    code: i32,
    elapsed: Duration,
}

impl Run {
    fn check(&self, id: &str) -> &Value {
        self.report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no check {id} in {:#}", self.report))
    }

    /// Asserts the class and the message of a check, and that the run kept to its budget.
    fn expect(&self, id: &str, class: &str, error_part: &str) {
        let c = self.check(id);
        assert_eq!(c["status"], "fail", "{id}: {c:#}");
        assert_eq!(c["class"], class, "{id}: {c:#}");
        assert_eq!(c["observed"], true, "{id}: {c:#}");
        let err = c["error"].as_str().unwrap_or("");
        assert!(
            err.contains(error_part),
            "{id}: {err:?} lacks {error_part:?}"
        );
        assert_eq!(self.code, 1);
        let budget = Duration::from_secs(3 * TIMEOUT) + Duration::from_millis(1500);
        assert!(self.elapsed < budget, "{id}: took {:?}", self.elapsed);
    }
}

fn run_with(url: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = cargo_bin_cmd!("dexcheck");
    cmd.arg("check")
        .args(["fixtures/dex-github.yaml", "--no-idp"])
        .args([
            "--url",
            url,
            "--timeout",
            &TIMEOUT.to_string(),
            "-o",
            "json",
            "--no-pods",
        ])
        .args(extra);
    for k in support::PROXY_VARS {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().copied());
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let elapsed = start.elapsed();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    Run {
        report,
        code: out.status.code().unwrap_or(-1),
        elapsed,
    }
}

fn run(url: &str) -> Run {
    run_with(url, &[], &[])
}

const DISCOVERY: &str = "/orchestrator/api/dex/.well-known/openid-configuration";

#[test]
fn healthy_dex_passes_every_workstation_row() {
    let web = Web::new();
    let a = web.http(|a| dex_routes(&format!("http://{a}/orchestrator/api/dex")));
    let r = run(&format!("http://{a}/orchestrator"));
    for id in [
        "browser.discovery",
        "browser.keys",
        "browser.token",
        "browser.dex_auth",
    ] {
        let c = r.check(id);
        assert_eq!(c["status"], "pass", "{id}: {c:#}");
        assert_eq!(c["observed"], true, "{id}");
    }
    // The app's base URL itself answers 404 here: reachable is all this row asks.
    assert_eq!(r.check("browser.app")["status"], "pass");
    assert_eq!(r.report["mode"], "live");
    assert_eq!(r.report["live"]["timeout_ms"], 1000);
}

#[test]
fn closed_port_is_refused() {
    let web = Web::new();
    let port = web.closed_port();
    let r = run(&format!("http://127.0.0.1:{port}/orchestrator"));
    r.expect(
        "browser.discovery",
        "refused",
        &format!("dial tcp 127.0.0.1:{port}: connect: connection refused"),
    );
    r.expect("browser.app", "refused", "connection refused");
    assert_eq!(r.check("browser.keys")["status"], "skip");
    assert_eq!(r.check("browser.token")["status"], "skip");
    // The fix names the port-forward for that local port.
    let fix = r.check("browser.discovery")["remedy"].as_str().unwrap();
    assert!(
        fix.contains(&format!("port-forward svc/devtron-service {port}:80")),
        "{fix}"
    );
}

#[test]
fn invalid_name_is_dns() {
    let r = run("http://devtron.invalid/orchestrator");
    r.expect(
        "browser.discovery",
        "dns",
        "dial tcp: lookup devtron.invalid: no such host",
    );
}

#[test]
fn silent_server_is_read_timeout() {
    let web = Web::new();
    let a = web.silent();
    let r = run(&format!("http://{a}/orchestrator"));
    r.expect(
        "browser.discovery",
        "read_timeout",
        "Client.Timeout exceeded while awaiting headers",
    );
}

#[test]
fn dripping_body_is_read_timeout() {
    let web = Web::new();
    let a = web.drip();
    let r = run(&format!("http://{a}/orchestrator"));
    r.expect("browser.discovery", "read_timeout", "while reading body");
}

fn dex_with(web: &Web, path: &str, reply: Reply) -> String {
    let mut routes = Routes::new();
    routes.insert(path.into(), reply);
    serving_routes(web, routes)
}

fn serving_routes(web: &Web, routes: Routes) -> String {
    format!("http://{}/orchestrator", web.http(|_| routes))
}

#[test]
fn html_404_is_http_status() {
    let web = Web::new();
    let url = dex_with(
        &web,
        DISCOVERY,
        Reply::new(
            404,
            "text/html",
            "<html><body><h1>404 Not Found</h1>nginx</body></html>",
        ),
    );
    let r = run(&url);
    r.expect(
        "browser.discovery",
        "http_status(404)",
        "404 Not Found: <html>",
    );
}

#[test]
fn bad_gateway_is_http_status() {
    let web = Web::new();
    let url = dex_with(
        &web,
        DISCOVERY,
        Reply::new(502, "text/html", "<html>502 Bad Gateway</html>"),
    );
    let r = run(&url);
    r.expect("browser.discovery", "http_status(502)", "502 Bad Gateway");
    let fix = r.check("browser.discovery")["remedy"].as_str().unwrap();
    assert!(fix.contains("endpoints"), "{fix}");
}

#[test]
fn invalid_json_is_not_json() {
    let web = Web::new();
    let url = dex_with(&web, DISCOVERY, Reply::json("{\"issuer\": \"http://x"));
    let r = run(&url);
    r.expect(
        "browser.discovery",
        "not_json",
        "oidc: failed to decode provider discovery object: unexpected end of JSON input",
    );
}

#[test]
fn html_page_is_not_json_with_its_content_type() {
    let web = Web::new();
    let url = dex_with(
        &web,
        DISCOVERY,
        Reply::new(
            200,
            "text/html; charset=utf-8",
            "<!doctype html><title>Devtron</title>",
        ),
    );
    let r = run(&url);
    r.expect(
        "browser.discovery",
        "not_json",
        "expected Content-Type = application/json, got \"text/html; charset=utf-8\": invalid character '<' looking for beginning of value",
    );
}

#[test]
fn other_issuer_is_issuer_mismatch_with_both_values() {
    let web = Web::new();
    let a = web.http(|a| {
        let mut routes = dex_routes(&format!("http://{a}/orchestrator/api/dex"));
        routes.insert(
            DISCOVERY.into(),
            Reply::json(support::servers::dex_discovery(&format!(
                "http://{a}/orchestrator/api/dex/"
            ))),
        );
        routes
    });
    let r = run(&format!("http://{a}/orchestrator"));
    let expected = format!("http://{a}/orchestrator/api/dex");
    r.expect(
        "browser.discovery",
        "issuer_mismatch",
        &format!("oidc: issuer did not match the issuer returned by provider, expected {expected:?} got \"{expected}/\""),
    );
    let c = r.check("browser.discovery");
    assert_eq!(c["expected"], expected);
    assert_eq!(c["actual"], format!("{expected}/"));
    assert!(
        c["message"].as_str().unwrap().contains("trailing slash"),
        "{c:#}"
    );
}

#[test]
fn ten_mebibytes_is_too_large() {
    let web = Web::new();
    let url = dex_with(&web, DISCOVERY, Reply::json(" ".repeat(10 << 20)));
    let r = run(&url);
    r.expect("browser.discovery", "too_large", "response body too large");
}

#[test]
fn gzip_bomb_is_too_large_after_decompression() {
    use flate2::{Compression, write::GzEncoder};
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&vec![b' '; 10 << 20]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 64 * 1024, "the bomb is small on the wire");
    let web = Web::new();
    let url = dex_with(
        &web,
        DISCOVERY,
        Reply::new(200, "application/json", bomb).header("content-encoding", "gzip"),
    );
    let r = run(&url);
    r.expect("browser.discovery", "too_large", "response body too large");
    let c = r.check("browser.discovery");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("after decompression"),
        "{c:#}"
    );
}

#[test]
fn redirect_loop_is_named_with_its_hops() {
    let web = Web::new();
    let mut routes = Routes::new();
    routes.insert(
        DISCOVERY.into(),
        Reply::new(302, "text/html", "").header("location", "/elsewhere"),
    );
    routes.insert(
        "/elsewhere".into(),
        Reply::new(301, "text/html", "").header("location", DISCOVERY),
    );
    let url = serving_routes(&web, routes);
    let r = run(&url);
    r.expect(
        "browser.discovery",
        "redirect_loop",
        "stopped after 10 redirects",
    );
    let hops = r.check("browser.discovery")["redirects"]
        .as_array()
        .unwrap()
        .clone();
    assert!(hops.len() >= 2 && hops.len() <= 6, "{hops:?}");
    assert!(hops[0].as_str().unwrap().starts_with("302 → "), "{hops:?}");
    let msg = r.check("browser.discovery")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("go round in a circle"), "{msg}");
}

#[test]
fn proxy_from_the_environment_that_refuses_is_proxy() {
    let web = Web::new();
    let target = web.http(|a| {
        dex_routes(&format!(
            "http://sso.test:{}/orchestrator/api/dex",
            a.port()
        ))
    });
    let proxy_port = web.closed_port();
    let pin = format!("sso.test:{}:127.0.0.1", target.port());
    let proxy = format!("http://user:FIXTURE-SECRET-proxy@127.0.0.1:{proxy_port}");
    let r = run_with(
        &format!("http://sso.test:{}/orchestrator", target.port()),
        &["--resolve", &pin],
        &[("HTTP_PROXY", &proxy)],
    );
    r.expect(
        "browser.discovery",
        "proxy",
        &format!("proxyconnect tcp: dial tcp 127.0.0.1:{proxy_port}: connect: connection refused"),
    );
    let c = r.check("browser.discovery");
    assert_eq!(c["proxy"], format!("http://127.0.0.1:{proxy_port}"));
    assert_eq!(
        r.report["live"]["proxy_env"]["http_proxy"],
        format!("http://127.0.0.1:{proxy_port}")
    );
    assert!(
        !r.report.to_string().contains("FIXTURE-SECRET"),
        "proxy credentials leaked"
    );
    assert!(c["remedy"].as_str().unwrap().contains("NO_PROXY"));

    // With the host in NO_PROXY the same run goes direct and passes.
    let r = run_with(
        &format!("http://sso.test:{}/orchestrator", target.port()),
        &["--resolve", &pin],
        &[("HTTP_PROXY", &proxy), ("NO_PROXY", "sso.test")],
    );
    assert_eq!(r.check("browser.discovery")["status"], "pass");
}

mod tls {
    use super::*;

    fn https(web: &Web, pki: &Pki, names: &[&str], expired: bool) -> std::net::SocketAddr {
        web.https(
            |a| {
                dex_routes(&format!(
                    "https://localhost:{}/orchestrator/api/dex",
                    a.port()
                ))
            },
            pki.server(names, expired),
        )
    }

    /// A run that trusts the test CA (`--cacert`).
    fn run_trusting(pki: &Pki, url: &str) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let ca = pki.ca_file(dir.path());
        run_with(url, &["--cacert", ca.to_str().unwrap()], &[])
    }

    #[test]
    fn unknown_ca() {
        let (web, pki) = (Web::new(), Pki::new());
        let a = https(&web, &pki, &["localhost"], false);
        let r = run(&format!("https://localhost:{}/orchestrator", a.port()));
        r.expect(
            "browser.discovery",
            "tls_unknown_ca",
            "tls: failed to verify certificate: x509: certificate signed by unknown authority",
        );
    }

    #[test]
    fn trusted_with_cacert_passes() {
        let (web, pki) = (Web::new(), Pki::new());
        let a = https(&web, &pki, &["localhost"], false);
        let r = run_trusting(
            &pki,
            &format!("https://localhost:{}/orchestrator", a.port()),
        );
        assert_eq!(
            r.check("browser.discovery")["status"],
            "pass",
            "{:#}",
            r.report
        );
    }

    #[test]
    fn wrong_name() {
        let (web, pki) = (Web::new(), Pki::new());
        let a = https(&web, &pki, &["other.test"], false);
        let r = run_trusting(
            &pki,
            &format!("https://localhost:{}/orchestrator", a.port()),
        );
        r.expect(
            "browser.discovery",
            "tls_name_mismatch",
            "x509: certificate is valid for other.test, not localhost",
        );
    }

    /// ingress-nginx's default certificate (for ingress.local): the row says it is the
    /// controller's own, so no Ingress has a TLS Secret for the host.
    #[test]
    fn the_controllers_default_certificate_is_named() {
        let (web, pki) = (Web::new(), Pki::new());
        let a = https(&web, &pki, &["ingress.local"], false);
        let r = run_trusting(
            &pki,
            &format!("https://localhost:{}/orchestrator", a.port()),
        );
        r.expect(
            "browser.discovery",
            "tls_name_mismatch",
            "x509: certificate is valid for ingress.local, not localhost",
        );
        let why = r.check("browser.discovery")["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            why.contains("Kubernetes Ingress Controller Fake Certificate"),
            "{why}"
        );
    }

    #[test]
    fn expired() {
        let (web, pki) = (Web::new(), Pki::new());
        let a = https(&web, &pki, &["localhost"], true);
        let r = run_trusting(
            &pki,
            &format!("https://localhost:{}/orchestrator", a.port()),
        );
        r.expect(
            "browser.discovery",
            "tls_expired",
            "x509: certificate has expired or is not yet valid: current time",
        );
        let err = r.check("browser.discovery")["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(err.contains("is after 2020-01-01T00:00:00Z"), "{err}");
    }

    #[test]
    fn plain_http_to_a_tls_port() {
        let (web, pki) = (Web::new(), Pki::new());
        let a = https(&web, &pki, &["localhost"], false);
        let r = run(&format!("http://localhost:{}/orchestrator", a.port()));
        r.expect(
            "browser.discovery",
            "http_to_https",
            "400 Bad Request: Client sent an HTTP request to an HTTPS server.",
        );
    }

    #[test]
    fn tls_to_a_plain_port() {
        let web = Web::new();
        let a = web.http(|a| dex_routes(&format!("http://{a}/orchestrator/api/dex")));
        let r = run(&format!("https://{a}/orchestrator"));
        r.expect(
            "browser.discovery",
            "http_to_https",
            "http: server gave HTTP response to HTTPS client",
        );
    }
}

#[test]
fn observation_that_contradicts_the_prediction_is_a_finding() {
    // A cluster-only name is predicted unresolvable from a workstation; pinned here, it answers.
    let web = Web::new();
    let host = "devtron-service.devtroncd.svc.cluster.local";
    let a = web.http(|a| dex_routes(&format!("http://{host}:{}/orchestrator/api/dex", a.port())));
    let pin = format!("{host}:{}:127.0.0.1", a.port());
    let r = run_with(
        &format!("http://{host}:{}/orchestrator", a.port()),
        &["--resolve", &pin],
        &[],
    );
    assert_eq!(r.check("browser.app")["status"], "pass");
    let c = r.check("prediction.browser.app");
    assert_eq!(c["status"], "warn", "{c:#}");
    assert_eq!(c["expected"], "fail");
    assert_eq!(c["actual"], "pass");

    // A port-forward that is not running is the row's own failure, not a contradiction.
    let port = web.closed_port();
    let r = run(&format!("http://127.0.0.1:{port}/orchestrator"));
    assert!(
        !r.report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "prediction.browser.app"),
        "{:#}",
        r.report
    );
}

#[test]
fn dead_proxy_without_no_proxy_fails_the_control_and_the_verdict_says_so() {
    // The target (a loopback IP) is never proxied; the control, reached by name as a remote
    // host would be, goes to the proxy from the environment, which refuses.
    let web = Web::new();
    let a = web.http(|a| dex_routes(&format!("http://{a}/orchestrator/api/dex")));
    let dead = web.closed_port();
    let proxy = format!("http://127.0.0.1:{dead}");
    let r = run_with(
        &format!("http://{a}/orchestrator"),
        &[],
        &[("HTTP_PROXY", &proxy)],
    );
    let c = r.check("control.discovery");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert_eq!(c["class"], "proxy");
    assert_eq!(r.report["verdict"]["blocking_check"], "control.discovery");
    let summary = r.report["verdict"]["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!("the proxy {proxy}")) && summary.contains("NO_PROXY"),
        "{summary}"
    );
    // With NO_PROXY covering localhost, the control passes and the target is judged on its own.
    let r = run_with(
        &format!("http://{a}/orchestrator"),
        &[],
        &[("HTTP_PROXY", &proxy), ("NO_PROXY", "localhost,127.0.0.1")],
    );
    assert_eq!(r.check("control.discovery")["status"], "pass");
    assert_ne!(r.report["verdict"]["blocking_check"], "control.discovery");
}

#[test]
fn discovery_differing_from_dex_is_a_finding_per_field() {
    let web = Web::new();
    let a = web.http(|a| {
        let issuer = format!("http://{a}/orchestrator/api/dex");
        let mut doc: Value =
            serde_json::from_str(&support::servers::dex_discovery(&issuer)).unwrap();
        doc["grant_types_supported"] = serde_json::json!(["authorization_code"]);
        doc["jwks_uri"] = Value::String(format!("{issuer}/jwks"));
        let mut routes = dex_routes(&issuer);
        routes.insert(DISCOVERY.into(), Reply::json(doc.to_string()));
        routes
    });
    let r = run(&format!("http://{a}/orchestrator"));
    let g = r.check("compare.grant_types");
    assert_eq!(g["status"], "warn", "{g:#}");
    assert_eq!(g["actual"], "authorization_code");
    assert!(g["expected"].as_str().unwrap().contains("refresh_token"));
    let k = r.check("compare.jwks_uri");
    assert_eq!(
        (k["expected"].as_str(), k["actual"].as_str()),
        (Some("/keys"), Some("/jwks"))
    );
    assert_eq!(r.check("control.discovery")["status"], "pass");
    assert!(
        !r.report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "compare.token_endpoint"),
        "only differences are findings"
    );
}

#[test]
fn a_working_proxy_that_cannot_reach_loopback_does_not_block() {
    // The test server doubles as a forward proxy for plain HTTP (it answers absolute-form
    // requests by path): the target passes through it, the control cannot be reached through it.
    let web = Web::new();
    let a = web.http(|a| {
        dex_routes(&format!(
            "http://sso.test:{}/orchestrator/api/dex",
            a.port()
        ))
    });
    let proxy = format!("http://127.0.0.1:{}", a.port());
    let pin = format!("sso.test:{}:127.0.0.1", a.port());
    let r = run_with(
        &format!("http://sso.test:{}/orchestrator", a.port()),
        &["--resolve", &pin],
        &[("HTTP_PROXY", &proxy)],
    );
    let t = r.check("browser.discovery");
    assert_eq!(
        (t["status"].as_str(), t["proxy"].as_str()),
        (Some("pass"), Some(proxy.as_str())),
        "{t:#}"
    );
    let c = r.check("control.discovery");
    assert_eq!(c["status"], "warn", "{c:#}");
    assert!(c["message"].as_str().unwrap().contains("the proxy works"));
    assert_ne!(r.report["verdict"]["blocking_check"], "control.discovery");
}
