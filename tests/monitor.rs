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
    for k in support::PROXY_VARS {
        c.env_remove(k);
    }
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
