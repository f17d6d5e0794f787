//! Probe timing figures (printed, not asserted): `scripts/bench` or
//! `cargo bench --profile dev --bench probes`.
//!
//! 1. A black-holed endpoint costs at most `--timeout` + 0.5 s (needs root for the namespace).
//! 2. Ten endpoints that each answer after 1 s finish in about 1 s, not 10.
//! 3. A whole `check` against a Dex whose every endpoint answers after 1 s.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use dexcheck::probe::{
    http::{Request, Settings, fetch},
    proxy::ProxyEnv,
    resolve::Resolver,
};
use support::web::{Reply, Routes, Web, dex_routes};

const BIN: &str = env!("CARGO_BIN_EXE_dexcheck");

fn black_hole() {
    let lab = match support::lab::Lab::start() {
        Ok(l) => l,
        Err(e) => {
            println!("black hole: skipped ({e}; needs root and ip)");
            return;
        }
    };
    let hole = "198.18.0.99";
    let _ = lab.black_hole(hole);
    for timeout in ["1", "2"] {
        let mut c = lab.in_ws(BIN);
        c.args([
            "check",
            "fixtures/dex-github.yaml",
            "--url",
            &format!("http://{hole}/orchestrator"),
            "--timeout",
            timeout,
            "-o",
            "json",
            "--no-pods",
        ]);
        let start = Instant::now();
        let _ = c.output();
        let t = start.elapsed();
        println!(
            "black hole, --timeout {timeout} s: whole check {:.2} s (goal ≤ {:.1} s)",
            t.as_secs_f64(),
            timeout.parse::<f64>().unwrap_or(0.0) + 0.5
        );
    }
}

fn ten_slow_endpoints() {
    ten_endpoints(Duration::from_secs(1));
    ten_endpoints(Duration::ZERO);
}

fn ten_endpoints(delay: Duration) {
    let web = Web::new();
    let mut routes = Routes::new();
    for i in 0..10 {
        routes.insert(format!("/slow/{i}"), Reply::json("{}").delay(delay));
    }
    let addr = web.http(|_| routes);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let settings = Settings::new(
        Duration::from_secs(5),
        Instant::now() + Duration::from_secs(15),
        Resolver::new(Vec::new(), Duration::from_secs(5)),
        ProxyEnv::default(),
        Vec::new(),
    )
    .expect("settings");
    let start = Instant::now();
    let results = rt.block_on(async {
        let reqs: Vec<Request> = (0..10)
            .map(|i| Request::get(&format!("http://{addr}/slow/{i}")))
            .collect();
        futures_util::future::join_all(reqs.iter().map(|r| fetch(&settings, r))).await
    });
    let ok = results.iter().filter(|f| f.result.is_ok()).count();
    println!(
        "ten endpoints answering after {:.0} s each: {:.2} s for all ten ({ok}/10 answered; sequential would be {:.0} s)",
        delay.as_secs_f64(),
        start.elapsed().as_secs_f64(),
        10.0 * delay.as_secs_f64()
    );
}

fn slow_dex_check() {
    let web = Web::new();
    let addr = web.http(|a| {
        let mut routes = dex_routes(&format!("http://{a}/orchestrator/api/dex"));
        // A chooser page (several connectors) instead of a redirect: one request per endpoint.
        routes.insert(
            "/orchestrator/api/dex/auth".into(),
            Reply::new(200, "text/html", "<html>Log in</html>"),
        );
        routes.insert(
            "/orchestrator".into(),
            Reply::new(200, "text/html", "<html>Devtron</html>"),
        );
        for r in routes.values_mut() {
            r.delay = Duration::from_secs(1);
        }
        routes
    });
    let start = Instant::now();
    let _ = Command::new(BIN)
        .args([
            "check",
            "fixtures/dex-github.yaml",
            "--url",
            &format!("http://{addr}/orchestrator"),
            "-o",
            "json",
            "--no-pods",
        ])
        .output();
    println!(
        "whole check, five endpoints (app, discovery, keys, token, auth) each answering after 1 s: {:.2} s",
        start.elapsed().as_secs_f64()
    );
}

fn main() {
    // `cargo test --all-targets` runs this binary without --bench: nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        println!("probe figures: run scripts/bench (cargo bench --profile dev --bench probes)");
        return;
    }
    ten_slow_endpoints();
    slow_dex_check();
    black_hole();
}
