//! Reference §7.3 (Argo CD's `TestIsValidRedirect` plus Devtron cases), driven through the binary:
//! `--url` is the allowed URL, `--return-url` the return URL; JSON names the deciding sub-rule.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

const VECTORS: &[(&str, &[&str], bool, &str)] = &[
    (
        "https://localhost:4000",
        &["https://localhost:4000/"],
        true,
        "match",
    ),
    ("", &["https://localhost:4000/"], true, "empty"),
    (
        "https://localhost:4000/",
        &["https://localhost:4000"],
        true,
        "match",
    ),
    (
        "https://localhost:4000",
        &["https://wherever:4000", "https://localhost:4000"],
        true,
        "match",
    ),
    (
        "https://localhost:4000",
        &["https://wherever:4000", "https://invalid:4000"],
        false,
        "host",
    ),
    (
        "https://localhost:4000/applications",
        &["https://localhost:4000/argocd"],
        false,
        "path_prefix",
    ),
    (
        "https://localhost:4000/argocd/applications",
        &["https://localhost:4000/argocd"],
        true,
        "match",
    ),
    (
        "https://localhost:4000/argocd/../applications",
        &["https://localhost:4000/argocd"],
        false,
        "path_prefix",
    ),
    (
        "http://localhost:4000",
        &["https://localhost:4000"],
        false,
        "scheme",
    ),
    (
        "https://localhost",
        &["https://localhost:80"],
        false,
        "host",
    ),
    (
        "https://localhost:80/argocd\r\n",
        &["https://localhost:80/argocd\r\n"],
        false,
        "parse",
    ),
    (
        "http://localhost:8082/orchestrator/dashboard/app/list",
        &["http://devtron-service.devtroncd.svc.cluster.local/orchestrator"],
        false,
        "host",
    ),
    (
        "http://localhost:8082/orchestrator/dashboard/app/list",
        &["http://localhost:8082/orchestrator"],
        true,
        "match",
    ),
    (
        "https://devtron.example.com/orchestrator/dashboard",
        &["https://devtron.example.com:443/orchestrator"],
        false,
        "host_default_port",
    ),
    (
        "https://devtron.example.com/orchestrator",
        &["https://devtron.example.com/orchestrator/"],
        false,
        "path_trailing_slash",
    ),
    (
        "https://devtron.example.com/orchestratorX",
        &["https://devtron.example.com/orchestrator"],
        true,
        "match",
    ),
    (
        "/dashboard",
        &["https://devtron.example.com/orchestrator"],
        false,
        "relative",
    ),
    (
        "HTTPS://devtron.example.com/orchestrator/x",
        &["https://devtron.example.com/orchestrator"],
        true,
        "match",
    ),
    (
        "https://Devtron.example.com/orchestrator/x",
        &["https://devtron.example.com/orchestrator"],
        false,
        "host_case",
    ),
];

fn run(return_url: &str, allowed: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = cargo_bin_cmd!("dexcheck");
    if allowed.len() == 1 {
        cmd.args(["check", "fixtures/seed-ingress.yaml", "--url", allowed[0]]);
    } else {
        // Several allowed URLs exist only in Argo CD: url plus additionalUrls in argocd-cm.
        let extra: Vec<String> = allowed[1..]
            .iter()
            .map(|u| format!("      - {u}"))
            .collect();
        let cm = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n  url: {}\n  additionalUrls: |\n{}\n  dex.config: |\n    connectors:\n    - type: github\n      id: gh\n      name: GitHub\n      config:\n        clientID: x\n",
            allowed[0],
            extra.join("\n")
        );
        let path = dir.path().join("argocd-cm.yaml");
        std::fs::write(&path, cm).unwrap();
        cmd.arg("check").arg(&path);
    }
    let out = cmd
        .args(["--offline", "-o", "json", "--return-url", return_url])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn return_url_check(report: &Value) -> &Value {
    report["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == "browser.return_url"))
        .unwrap_or_else(|| panic!("no return-URL check in {report:#}"))
}

#[test]
fn every_reference_vector_through_the_cli() {
    for (ret, allowed, valid, rule) in VECTORS {
        let r = run(ret, allowed);
        let c = return_url_check(&r);
        let status = if *valid { "pass" } else { "fail" };
        assert_eq!(c["status"], status, "{ret:?} vs {allowed:?}: {c:#}");
        assert_eq!(c["rule"], *rule, "{ret:?} vs {allowed:?}: {c:#}");
        if !valid && *rule != "parse" {
            // Both compared values are named.
            assert!(
                c["expected"].is_string() && c["actual"].is_string(),
                "{c:#}"
            );
        }
    }
}

#[test]
fn return_url_as_copied_from_the_address_bar() {
    let url = "http://devtron-service.devtroncd.svc.cluster.local/orchestrator";
    for given in [
        "http%3A%2F%2Flocalhost%3A8082%2Forchestrator%2Fdashboard%2F",
        "http://localhost:8082/orchestrator/auth/login?return_url=http%3A%2F%2Flocalhost%3A8082%2Forchestrator%2Fdashboard%2F",
        "http://localhost:8082/orchestrator/dashboard/",
    ] {
        let r = run(given, &[url]);
        let c = return_url_check(&r);
        assert_eq!(
            c["url"], "http://localhost:8082/orchestrator/dashboard/",
            "{given}"
        );
        assert_eq!(c["rule"], "host");
        assert_eq!(c["actual"], "localhost:8082");
    }
}
