//! Probe timing figures (printed, not asserted): `scripts/bench` (`cargo bench --bench probes`).
//!
//! 1. A black-holed endpoint costs at most `--timeout` + 0.5 s (needs root for the namespace).
//! 2. Ten endpoints that each answer after 1 s finish in about 1 s, not 10.
//! 3. A whole `check` against a Dex whose every endpoint answers after 1 s.
//! 4. On the lab (root): a live check with the pod vantage and the IdP leg against the
//!    operator's manual sequence (curl per URL from the workstation, the IdP's discovery and
//!    authorization endpoint included, `kubectl exec … curl` per URL in the app and Dex pods), and
//!    against its slowest single probe plus process start, as ratios.
//! 5. Two lab clusters checked at once (`--context` twice) against each alone.
//! 6. `har sanitize` on a 100 MB HAR: throughput and peak memory, beside `jq` rewriting the
//!    same file.

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
            "--no-idp",
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
            "--no-idp",
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

/// The median of `n` runs of `f`, in seconds.
fn median(n: usize, mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v[n / 2]
}

fn live_check_against_the_manual_sequence() {
    use support::lab::{APP_POD, DEX_POD, IDP_ISSUER, SERVICE_NAME};
    let lab = match support::lab::Lab::start() {
        Ok(l) => l,
        Err(e) => {
            println!("live check vs manual sequence: skipped ({e}; needs root and ip)");
            return;
        }
    };
    // The seed's working setup: the in-cluster name, reachable from the pod; the browser side
    // through the relay.
    let url = format!("http://{SERVICE_NAME}/orchestrator");
    lab.set_url(&url);
    let k = lab.kubeconfig.display().to_string();
    let check = || {
        let _ = lab
            .in_ws(BIN)
            .args(["check", "--kubeconfig", &k, "-o", "json", "--timeout", "2"])
            .output();
    };
    let issuer = format!("{url}/api/dex");
    let pf = lab.pf_url();
    let ws_urls = [
        pf.clone(),
        format!("{pf}/api/dex/.well-known/openid-configuration"),
        format!("{pf}/api/dex/keys"),
        format!("{pf}/api/dex/token"),
        format!("{pf}/api/dex/auth"),
        format!("{IDP_ISSUER}/.well-known/openid-configuration"),
        format!("{IDP_ISSUER}/auth?client_id=lab-client&response_type=code"),
    ];
    let pod_urls = [
        format!("{issuer}/.well-known/openid-configuration"),
        format!("{issuer}/token"),
        format!("{issuer}/keys"),
        "http://argocd-dex-server.devtroncd:5556/orchestrator/api/dex/.well-known/openid-configuration".to_string(),
    ];
    let curl = |u: &str| {
        let _ = lab
            .in_ws("curl")
            .args(["-s", "-o", "/dev/null", "-m", "2", u])
            .output();
    };
    let exec = |pod: &str, u: &str| {
        let _ = lab
            .kubectl(&[
                "exec",
                pod,
                "--",
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-m",
                "2",
                u,
            ])
            .output();
    };
    let n = 5;
    let live = median(n, check);
    let mut steps: Vec<f64> = ws_urls.iter().map(|u| median(n, || curl(u))).collect();
    steps.extend(pod_urls.iter().map(|u| median(n, || exec(APP_POD, u))));
    let idp = format!("{IDP_ISSUER}/.well-known/openid-configuration");
    steps.push(median(n, || exec(DEX_POD, &idp)));
    let manual: f64 = steps.iter().sum();
    let slowest = steps.iter().cloned().fold(0.0, f64::max);
    let start = median(n, || {
        let _ = Command::new(BIN).arg("--version").output();
    });
    println!(
        "live check with both pods on the lab: {live:.3} s; the manual sequence ({} curls, {} kubectl exec curls): {manual:.3} s; ratio {:.2} (goal ≤ 0.3)",
        ws_urls.len(),
        pod_urls.len() + 1,
        live / manual
    );
    println!(
        "live check against its slowest probe ({slowest:.3} s) plus process start ({start:.3} s): ratio {:.2} (goal ≤ 1.2)",
        live / (slowest + start)
    );
}

/// Two lab clusters with `--context` twice against each alone: the fleet run should cost about
/// the slower cluster, not the sum.
fn fleet_against_the_slowest_cluster() {
    use support::lab::{INGRESS_HOST, Lab};
    let (a, b) = match (Lab::start(), Lab::start()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => {
            println!("fleet: skipped (needs root and ip)");
            return;
        }
    };
    a.set_url(&format!("http://{INGRESS_HOST}/orchestrator"));
    b.set_url(&format!("http://{INGRESS_HOST}/orchestrator"));
    let Ok(b_port) = b.serve_api_in(&a) else {
        println!("fleet: skipped (lab b's API server)");
        return;
    };
    let (ca, ua, xa) = a.kubeconfig_entries("lab-a", a.api_port);
    let (cb, ub, xb) = b.kubeconfig_entries("lab-b", b_port);
    let kc = a.dir.join("fleet-kubeconfig");
    let _ = std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n{ca}{cb}users:\n{ua}{ub}contexts:\n{xa}{xb}current-context: lab-a\n"
        ),
    );
    let run = |contexts: &[&str]| {
        let mut c = a.in_ws(BIN);
        c.args(["check", "--timeout", "2", "-o", "json", "--kubeconfig"])
            .arg(&kc);
        for ctx in contexts {
            c.args(["--context", ctx]);
        }
        let _ = c.output();
    };
    let n = 5;
    // On this machine both labs share its cores (every pod exec forks a dozen processes), so the
    // local figure is CPU-bound; with the API servers 100 ms away, as remote clusters are, the
    // network dominates.
    for latency in [0u64, 100] {
        for lab in [&a, &b] {
            lab.state
                .faults
                .latency_ms
                .store(latency, std::sync::atomic::Ordering::SeqCst);
        }
        let one_a = median(n, || run(&["lab-a"]));
        let one_b = median(n, || run(&["lab-b"]));
        let both = median(n, || run(&["lab-a", "lab-b"]));
        println!(
            "two clusters at once, API {latency} ms away: {both:.3} s; each alone {one_a:.3} s and {one_b:.3} s; against the slower: ratio {:.2}, against the sum: {:.2} (goal: about 1, well under 1)",
            both / one_a.max(one_b),
            both / (one_a + one_b)
        );
    }
}

/// Runs `cmd` with stdout discarded; its wall time and peak RSS (KiB), from `wait4`.
fn timed_rss(mut cmd: Command) -> Option<(f64, i64)> {
    let start = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet waited for; status and usage are valid pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    std::mem::forget(child);
    (r == pid).then(|| (start.elapsed().as_secs_f64(), usage.ru_maxrss))
}

/// A HAR of about `mb` MB: a login's five hops repeated, each with a 16 KB page.
fn big_har(path: &std::path::Path, mb: usize) -> std::io::Result<u64> {
    use std::io::Write;
    let page = "x".repeat(16 * 1024);
    let one = serde_json::json!({
        "startedDateTime": "2026-12-07T10:00:00.000Z", "time": 10,
        "request": {"method": "GET", "url": "http://localhost:8080/orchestrator/auth/callback?code=abcdef&state=s", "headers": [{"name": "Cookie", "value": "argocd.token=eyJhbGciOi.eyJzdWIiOi.c2ln"}], "cookies": [], "queryString": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "headers": [{"name": "Set-Cookie", "value": "a=b; Path=/"}], "cookies": [], "content": {"size": page.len(), "mimeType": "text/html", "text": page}, "redirectURL": "", "headersSize": -1, "bodySize": -1},
        "cache": {}, "timings": {"send": 0, "wait": 9, "receive": 1}
    })
    .to_string();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    f.write_all(br#"{"log":{"version":"1.2","creator":{"name":"bench"},"entries":["#)?;
    let n = mb * 1024 * 1024 / one.len();
    for i in 0..n {
        if i > 0 {
            f.write_all(b",")?;
        }
        f.write_all(one.as_bytes())?;
    }
    f.write_all(b"]}}")?;
    f.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// Prints `what`'s throughput and peak RSS on an `mb` MB file beside jq's, as ratios.
fn beside_jq(what: &str, jq_does: &str, mb: f64, ours: Command, jq: Command) {
    match (timed_rss(ours), timed_rss(jq)) {
        (Some((t, rss)), Some((jt, jrss))) => println!(
            "{what} on a {mb:.0} MB HAR: {:.0} MB/s, peak RSS {} MiB; {jq_does}: {:.0} MB/s, peak RSS {} MiB; speed ratio {:.2} (goal ≥ 1), memory ratio {:.3} (goal well under 1)",
            mb / t,
            rss / 1024,
            mb / jt,
            jrss / 1024,
            jt / t,
            rss as f64 / jrss as f64
        ),
        (Some((t, rss)), None) => println!(
            "{what} on a {mb:.0} MB HAR: {:.0} MB/s, peak RSS {} MiB (jq not found)",
            mb / t,
            rss / 1024
        ),
        _ => println!("har: the {what} run failed"),
    }
}

fn har_sanitize_against_jq() {
    let dir = std::env::temp_dir().join(format!("dexcheck-har-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("big.har");
    let Ok(size) = big_har(&path, 100) else {
        println!("har: skipped (could not write {})", path.display());
        return;
    };
    let mb = size as f64 / (1024.0 * 1024.0);
    let mut ours = Command::new(BIN);
    ours.args(["har", "sanitize"]).arg(&path);
    let mut jq = Command::new("jq");
    jq.args([
        "-c",
        r#".log.entries |= map(.request.url |= sub("code=[^&]*"; "code=REDACTED"))"#,
    ])
    .arg(&path);
    beside_jq("har sanitize", "jq on the same file", mb, ours, jq);
    // The analysis: `check --har` reads every entry and reports the logins; jq lists each
    // entry's URL and status (the least an analysis reads).
    let mut ours = Command::new(BIN);
    ours.args(["check", "-o", "json", "--har"]).arg(&path);
    let mut jq = Command::new("jq");
    jq.args(["-c", ".log.entries[] | [.request.url, .response.status]"])
        .arg(&path);
    beside_jq("check --har", "jq listing its entries", mb, ours, jq);
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    // `cargo test --all-targets` runs this binary without --bench: nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        println!("probe figures: run scripts/bench (cargo bench --bench probes)");
        return;
    }
    // `scripts/bench NAME` runs only the figures whose name contains NAME.
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let figures: [(&str, fn()); 6] = [
        ("ten_slow_endpoints", ten_slow_endpoints),
        ("slow_dex_check", slow_dex_check),
        ("black_hole", black_hole),
        ("fleet", fleet_against_the_slowest_cluster),
        ("live_check", live_check_against_the_manual_sequence),
        ("har", har_sanitize_against_jq),
    ];
    for (name, figure) in figures {
        if name.contains(&filter) {
            figure();
        }
    }
}
