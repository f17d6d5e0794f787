//! Monitoring output: `-o prometheus` (valid for `promtool check metrics`, the Debian
//! `prometheus` package's tool) and `--repeat`, which counts an intermittent row's failures.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;
use support::web::{Reply, Web, dex_routes};

fn promtool_accepts(text: &str) {
    let mut p = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    p.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = p.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn prometheus_output_passes_promtool_and_names_the_failing_check() {
    if !support::procs::tool_or_skip("promtool", "prometheus_output_passes_promtool") {
        return;
    }
    let out = cargo_bin_cmd!("dexcheck")
        .args([
            "check",
            "fixtures/seed-localhost.yaml",
            "--offline",
            "-o",
            "prometheus",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    promtool_accepts(&text);
    let fails = "dexcheck_check_status{app=\"devtron\",namespace=\"devtroncd\",cluster=\"\",check=\"pod.discovery\",vantage=\"app_pod\",status=\"fail\"} 1";
    assert!(text.contains(fails), "{text}");
    assert!(text.contains("dexcheck_run_verdict{app=\"devtron\",namespace=\"devtroncd\",cluster=\"\",mode=\"offline\",status=\"fail\"} 1"), "{text}");
    assert!(text.contains("dexcheck_build_info{version=\""), "{text}");
    assert!(!text.contains("FIXTURE-SECRET"));
    // An input error still leaves a valid exposition that says so.
    let out = cargo_bin_cmd!("dexcheck")
        .args(["check", "/nonexistent.yaml", "-o", "prometheus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    promtool_accepts(&text);
    assert!(
        text.contains("dexcheck_run_error{kind=\"input\"} 1"),
        "{text}"
    );
}

#[test]
fn explain_refuses_prometheus_output() {
    let out = cargo_bin_cmd!("dexcheck")
        .args(["explain", "-o", "prometheus", "connection refused"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-o prometheus is for check"));
}

/// A Dex whose discovery answers 503 to every third request: ten runs report it as 3/10 failed
/// (the verdict fails) instead of passing by luck.
#[test]
fn repeat_counts_an_intermittent_row() {
    let web = Web::new();
    let addr = web.http(|a| {
        let issuer = format!("http://{a}/orchestrator/api/dex");
        let mut r = dex_routes(&issuer);
        let path = "/orchestrator/api/dex/.well-known/openid-configuration";
        let flaky = r.remove(path).unwrap().fail_every(3, 503);
        r.insert(path.into(), flaky);
        r.insert(
            "/orchestrator".into(),
            Reply::new(200, "text/html", "<html>Devtron</html>"),
        );
        r
    });
    let mut c = Command::new(env!("CARGO_BIN_EXE_dexcheck"));
    c.args([
        "check",
        "fixtures/dex-github.yaml",
        "--no-idp",
        "--no-pods",
        "--url",
        &format!("http://{addr}/orchestrator"),
        "--repeat",
        "10",
        "--interval",
        "0.05",
        "-o",
        "json",
    ]);
    support::clear_proxies(&mut c);
    let out = c.output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "browser.discovery")
        .unwrap();
    assert_eq!(row["runs"]["total"], 10, "{row:#}");
    let failed = row["runs"]["failed"].as_u64().unwrap();
    assert!((3..=4).contains(&failed), "{row:#}");
    assert_eq!(row["status"], "fail");
    assert!(
        row["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{failed}/10 runs failed"))
    );
    assert_eq!(row["class"], "http_status(503)");
    let app = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "browser.app")
        .unwrap();
    assert_eq!(app["runs"]["failed"], 0, "{app:#}");
    assert_eq!(r["verdict"]["status"], "fail");
    assert_eq!(out.status.code(), Some(1));
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/dexcheck-v1.schema.json").unwrap())
            .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&r).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-s", "-m", "2"])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// `dexcheck watch` scraped by a real Prometheus (Debian's package, started here on loopback):
/// a PromQL query over its API finds the failing check; promtool accepts `/metrics`.
#[test]
fn prometheus_scrapes_watch_and_finds_the_failing_check() {
    if !support::procs::tool_or_skip("prometheus", "prometheus_scrapes_watch")
        || !support::procs::tool_or_skip("promtool", "prometheus_scrapes_watch")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = support::procs::free_port();
    let watch = Command::new(env!("CARGO_BIN_EXE_dexcheck"))
        .args([
            "watch",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--interval",
            "1",
        ])
        .args(["fixtures/seed-localhost.yaml", "--offline"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _watch = support::procs::Child(watch);
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: dexcheck\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .unwrap();
    let prom_port = support::procs::free_port();
    let prom = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _prom = support::procs::Child(prom);
    let api = format!("http://127.0.0.1:{prom_port}/api/v1/query");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    let mut last = String::new();
    while std::time::Instant::now() < deadline {
        last = curl(&[
            &api,
            "--data-urlencode",
            "query=dexcheck_check_status{status=\"fail\"} == 1",
        ]);
        if last.contains("\"check\":\"pod.discovery\"") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(last.contains("\"check\":\"pod.discovery\""), "{last}");
    let runs = curl(&[&api, "--data-urlencode", "query=dexcheck_watch_runs_total"]);
    assert!(runs.contains("\"job\":\"dexcheck\""), "{runs}");
    let metrics = curl(&[&format!("http://127.0.0.1:{port}/metrics")]);
    promtool_accepts(&metrics);
    assert!(
        metrics.contains("dexcheck_check_last_success_timestamp_seconds{"),
        "{metrics}"
    );
    assert_eq!(curl(&[&format!("http://127.0.0.1:{port}/healthz")]), "ok\n");
}

/// A check slower than the interval: the next runs are skipped and counted, never stacked; no
/// secret reaches the metrics or the log.
#[test]
fn watch_skips_a_run_that_would_overlap_and_counts_it() {
    let web = Web::new();
    let addr = web.http(|a| {
        let issuer = format!("http://{a}/orchestrator/api/dex");
        let mut r = dex_routes(&issuer);
        for v in r.values_mut() {
            v.delay = std::time::Duration::from_millis(2500);
        }
        r
    });
    let port = support::procs::free_port();
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_dexcheck"));
    c.args([
        "watch",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--interval",
        "1",
    ])
    .args([
        "fixtures/dex-github.yaml",
        "--no-idp",
        "--no-pods",
        "--timeout",
        "5",
    ])
    .args(["--url", &format!("http://{addr}/orchestrator")])
    .stdout(Stdio::null())
    .stderr(log.reopen().unwrap());
    support::clear_proxies(&mut c);
    let watch = support::procs::Child(c.spawn().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(6500));
    let metrics = curl(&[&format!("http://127.0.0.1:{port}/metrics")]);
    drop(watch);
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing: {metrics}"))
    };
    let (runs, skipped) = (
        value("dexcheck_watch_runs_total"),
        value("dexcheck_watch_skipped_runs_total"),
    );
    // Runs of about 2.5 s, one at a time, in 6.5 s: two finished, the ticks between skipped.
    assert!((1..=3).contains(&runs), "{metrics}");
    assert!(skipped >= 2, "{metrics}");
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(logged.contains("this one is skipped"), "{logged}");
    for text in [&metrics, &logged] {
        assert!(!text.contains("FIXTURE-SECRET"), "{text}");
    }
}
