//! `dexcheck check --offline` on the seed's configurations: what an operator sees.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn json(args: &[&str]) -> (Value, i32) {
    let out = cargo_bin_cmd!("dexcheck")
        .args(args)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (v, out.status.code().unwrap_or(-1))
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

#[test]
fn port_forward_localhost_fails_inside_the_pod() {
    let (r, code) = json(&["check", "fixtures/seed-localhost.yaml", "--offline"]);
    assert_eq!(code, 1);
    assert_eq!(r["schema"], "dexcheck/v1");
    assert_eq!(check(&r, "browser.app")["status"], "pass");
    let pod = check(&r, "pod.discovery");
    assert_eq!(pod["status"], "fail");
    assert_eq!(pod["class"], "refused");
    assert_eq!(pod["vantage"], "app_pod");
    assert_eq!(
        pod["error"],
        "Failed to query provider \"http://localhost:8082/orchestrator/api/dex\": Get \"http://localhost:8082/orchestrator/api/dex/.well-known/openid-configuration\": dial tcp [::1]:8082: connect: connection refused"
    );
    assert!(
        pod["remedy"]
            .as_str()
            .unwrap()
            .contains("port-forward svc/devtron-service 8080:80")
    );
    assert_eq!(check(&r, "pod.token_keys")["status"], "skip");
    assert_eq!(check(&r, "browser.return_url")["status"], "pass");
    assert_eq!(r["verdict"]["blocking_check"], "pod.discovery");
    assert_eq!(r["summary"]["exit_code"], 1);

    let table = cargo_bin_cmd!("dexcheck")
        .args([
            "check",
            "fixtures/seed-localhost.yaml",
            "--offline",
            "--color",
            "never",
        ])
        .assert()
        .code(1);
    let out = String::from_utf8_lossy(&table.get_output().stdout).into_owned();
    assert!(out.contains("│ ✓ ┆ browser → app"), "{out}");
    assert!(out.contains("│ ✗ ┆ app pod → Dex discovery"), "{out}");
    assert!(
        out.contains("dial tcp [::1]:8082: connect: connection refused"),
        "{out}"
    );
}

#[test]
fn cluster_local_url_breaks_the_return_url() {
    // The seed's operator browses at the port-forward; they say so (the redirectURI does not).
    let (r, code) = json(&[
        "check",
        "fixtures/seed-cluster-local.yaml",
        "--offline",
        "--browser-url",
        "http://localhost:8082",
    ]);
    assert_eq!(code, 1);
    assert_eq!(check(&r, "pod.discovery")["status"], "pass");
    let ret = check(&r, "browser.return_url");
    assert_eq!(ret["status"], "fail");
    assert_eq!(ret["rule"], "host");
    assert_eq!(ret["actual"], "localhost:8082");
    assert_eq!(
        ret["expected"],
        "devtron-service.devtroncd.svc.cluster.local"
    );
    assert!(
        ret["error"]
            .as_str()
            .unwrap()
            .starts_with("Invalid redirect URL: the protocol and host (including port) must match")
    );
    assert_eq!(r["browser_origin"]["origin"], "http://localhost:8082");
    assert_eq!(r["browser_origin"]["source"], "from --browser-url");
    assert_eq!(check(&r, "browser.dex_auth")["class"], "dns");
    assert_eq!(r["verdict"]["blocking_check"], "browser.return_url");
}

#[test]
fn port_forward_on_8080_is_predicted_to_work() {
    let (r, code) = json(&[
        "check",
        "fixtures/seed-localhost.yaml",
        "--offline",
        "--url",
        "http://localhost:8080/orchestrator",
        "--browser-url",
        "http://localhost:8080",
    ]);
    assert_eq!(code, 0, "{r:#}");
    for id in [
        "browser.app",
        "pod.discovery",
        "pod.token_keys",
        "browser.return_url",
        "browser.dex_auth",
    ] {
        assert_eq!(check(&r, id)["status"], "pass", "{id}: {r:#}");
    }
    // The seed's redirectURI still names 8082: Devtron overwrites it, the IdP must know 8080's.
    assert_eq!(check(&r, "idp.callback")["status"], "warn");
    assert_eq!(
        check(&r, "idp.callback")["expected"],
        "http://localhost:8080/orchestrator/api/dex/callback"
    );
    assert!(r["verdict"]["blocking_check"].is_null());
}

#[test]
fn fail_on_warning_turns_warnings_into_exit_1() {
    let base = [
        "check",
        "fixtures/seed-localhost.yaml",
        "--offline",
        "--url",
        "http://localhost:8080/orchestrator",
        "--browser-url",
        "http://localhost:8080",
    ];
    cargo_bin_cmd!("dexcheck").args(base).assert().code(0);
    cargo_bin_cmd!("dexcheck")
        .args(base)
        .args(["--fail-on", "warning"])
        .assert()
        .code(1);
    cargo_bin_cmd!("dexcheck")
        .args([
            "check",
            "fixtures/seed-localhost.yaml",
            "--offline",
            "--fail-on",
            "never",
        ])
        .assert()
        .code(0);
}

#[test]
fn what_if_table_matches_the_seed_plus_8080() {
    let out = cargo_bin_cmd!("dexcheck")
        .args([
            "check",
            "fixtures/seed-localhost.yaml",
            "--offline",
            "--candidates",
            "auto",
            "--color",
            "never",
        ])
        .env_remove("TERM")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let start = text.find("What if URL were").expect("what-if section");
    let end = text[start..]
        .find("\n\n")
        .map(|e| start + e)
        .unwrap_or(text.len());
    let section = &text[start..end];
    let golden_path = "tests/golden/what-if-seed-localhost.txt";
    if std::env::var_os("DEXCHECK_BLESS").is_some() {
        std::fs::write(golden_path, section).unwrap();
    }
    let golden =
        std::fs::read_to_string(golden_path).expect("golden file (DEXCHECK_BLESS=1 writes it)");
    assert_eq!(section, golden);
}

#[test]
fn what_if_json_recommends_8080() {
    let (r, _) = json(&[
        "check",
        "fixtures/seed-localhost.yaml",
        "--offline",
        "--candidates",
        "auto",
    ]);
    let c = r["candidates"].as_array().unwrap();
    let urls: Vec<&str> = c.iter().map(|c| c["url"].as_str().unwrap()).collect();
    assert_eq!(
        urls,
        [
            "http://localhost:8082/orchestrator",
            "http://devtron-service.devtroncd.svc.cluster.local/orchestrator",
            "http://localhost:8080/orchestrator"
        ]
    );
    assert_eq!(c[0]["result"]["label"], "connection refused");
    assert_eq!(c[1]["result"]["label"], "Invalid redirect URL");
    assert_eq!(c[2]["result"]["status"], "pass");
    assert_eq!(c[2]["recommended"], true);
}

#[test]
fn every_input_form_is_understood() {
    for (file, input, app) in [
        (
            "fixtures/seed-ingress.yaml",
            "Devtron SSO connector YAML",
            "devtron",
        ),
        ("fixtures/dex-config.yaml", "Dex config", "devtron"),
        (
            "fixtures/devtron-secret.yaml",
            "Secret devtron-secret",
            "devtron",
        ),
        ("fixtures/argocd-cm.yaml", "ConfigMap argocd-cm", "argocd"),
    ] {
        let (r, code) = json(&["check", file, "--offline"]);
        assert_eq!(code, 0, "{file}: {r:#}");
        assert_eq!(r["input"], input, "{file}");
        assert_eq!(r["app"], app, "{file}");
        // A public host seen from a pod is never predicted to pass.
        let pod = check(&r, "pod.discovery");
        let expected = if app == "argocd" { "pass" } else { "unknown" };
        assert_eq!(pod["status"], expected, "{file}: {pod:#}");
    }
    let (r, _) = json(&["check", "fixtures/argocd-cm.yaml", "--offline"]);
    assert_eq!(
        r["endpoints"]["issuer"],
        "https://argocd.example.com/api/dex"
    );
    assert_eq!(
        check(&r, "pod.discovery")["url"],
        "https://argocd-dex-server:5556/api/dex/.well-known/openid-configuration"
    );
}

#[test]
fn stdin_and_forced_app() {
    let text = std::fs::read_to_string("fixtures/seed-ingress.yaml").unwrap();
    let out = cargo_bin_cmd!("dexcheck")
        .args(["check", "-", "--offline", "-o", "json", "--app", "argocd"])
        .write_stdin(text)
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["source"], "<stdin>");
    assert_eq!(r["app"], "argocd");
}

#[test]
fn static_findings_on_url_shape() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "https://devtron.example.com:443/orchestrator",
            "url.default_port",
            "fail",
        ),
        (
            "https://Devtron.example.com/orchestrator",
            "url.host_case",
            "fail",
        ),
        (
            "https://devtron.example.com/orchestrator/",
            "url.trailing_slash",
            "warn",
        ),
        ("https://devtron.example.com", "url.path", "fail"),
        (
            "http://devtron.example.com/orchestrator",
            "url.plain_http",
            "warn",
        ),
        ("devtron.example.com/orchestrator", "url.relative", "fail"),
        (
            "ftp://devtron.example.com/orchestrator",
            "url.scheme",
            "fail",
        ),
    ];
    for (url, id, status) in cases {
        let (r, _) = json(&[
            "check",
            "fixtures/seed-ingress.yaml",
            "--offline",
            "--url",
            url,
        ]);
        assert_eq!(check(&r, id)["status"], *status, "{url}: {r:#}");
    }
    let (r, code) = json(&[
        "check",
        "fixtures/seed-ingress.yaml",
        "--offline",
        "--url",
        "",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        check(&r, "url.missing")["error"],
        "Failed to query provider \"api/dex\": Get \"api/dex/.well-known/openid-configuration\": unsupported protocol scheme \"\""
    );
    // Default port: the browser origin drops it, so the return-URL rule fails on it.
    let (r, _) = json(&[
        "check",
        "fixtures/seed-ingress.yaml",
        "--offline",
        "--url",
        "https://devtron.example.com:443/orchestrator",
    ]);
    assert_eq!(check(&r, "browser.return_url")["rule"], "host_default_port");
}

#[test]
fn kubectl_plugin_help_reads_as_a_plugin() {
    let out = cargo_bin_cmd!("kubectl-dexcheck")
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Usage: kubectl dexcheck"), "{help}");
    assert!(help.contains("kubectl plugin"), "{help}");
}

/// The seed's Cognito connector, offline: the issuer in Cognito's form (its placeholders named),
/// and the callback to register, with where Cognito's console keeps it.
#[test]
fn seed_cognito_issuer_and_the_callback_to_register() {
    let out = cargo_bin_cmd!("dexcheck")
        .args([
            "check",
            "fixtures/seed-ingress.yaml",
            "--offline",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let issuer = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "idp.issuer")
        .expect("idp.issuer");
    assert_eq!(issuer["status"], "pass", "{issuer:#}");
    assert!(issuer["title"].as_str().unwrap().contains("Amazon Cognito"));
    let cb = &r["callback"];
    assert_eq!(
        cb["url"],
        "https://devtron.example.com/orchestrator/api/dex/callback"
    );
    assert!(
        cb["register_at"]
            .as_str()
            .unwrap()
            .contains("Allowed callback URLs"),
        "{cb:#}"
    );
    let table = cargo_bin_cmd!("dexcheck")
        .args(["check", "fixtures/seed-ingress.yaml", "--offline"])
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&table.stdout);
    assert!(
        t.contains("Callback https://devtron.example.com/orchestrator/api/dex/callback  (register at Amazon Cognito"),
        "{t}"
    );
}

/// Every connector is analysed: the second one of Argo CD's GitHub + GitHub Enterprise example,
/// with its client left empty, fails, and names itself.
#[test]
fn every_connector_is_analysed() {
    let text = std::fs::read_to_string("fixtures/published/argocd-index-1.yaml")
        .unwrap()
        .replace("clientID: abcdefghijklmnopqrst\n", "clientID: \"\"\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.yaml");
    std::fs::write(&path, &text).unwrap();
    let (r, code) = json(&["check", path.to_str().unwrap(), "--offline"]);
    assert_eq!(code, 1, "{r:#}");
    let ids: Vec<&str> = r["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{r:#}");
    let failing: Vec<&Value> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == "idp.connector" && c["status"] == "fail")
        .collect();
    assert_eq!(failing.len(), 1, "{r:#}");
    assert_eq!(failing[0]["connector"], ids[1]);
    assert!(
        failing[0]["title"].as_str().unwrap().ends_with(ids[1]),
        "{}",
        failing[0]["title"]
    );
    assert!(
        failing[0]["message"]
            .as_str()
            .unwrap()
            .contains("clientID is missing")
    );
}

/// A password connector has no callback: no idp.callback row, no Callback to register.
#[test]
fn ldap_has_no_callback_to_register() {
    let args = [
        "check",
        "fixtures/published/devtron-ldap.yaml",
        "--offline",
        "--url",
        "https://devtron.example.com/orchestrator",
    ];
    let (r, code) = json(&args);
    assert_eq!(code, 0, "{r:#}");
    assert!(r["callback"].is_null(), "{r:#}");
    assert_eq!(r["connectors"][0]["login"], "password");
    let checks = r["checks"].as_array().unwrap();
    assert!(!checks.iter().any(|c| c["id"] == "idp.callback"), "{r:#}");
    let host = check(&r, "dexpod.connector_host");
    assert_eq!(host["url"], "ad.example.com:636");
    let table = cargo_bin_cmd!("dexcheck")
        .args(args)
        .args(["--color", "never"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&table.stdout);
    assert!(!out.contains("Callback"), "{out}");
    assert!(!out.contains("register"), "{out}");
}

/// gitea prints the two URLs the other way round from the other connectors (gitea.go LoginURL).
#[test]
fn gitea_callback_error_is_quoted_in_its_own_order() {
    let (r, code) = json(&[
        "check",
        "fixtures/published/dex-gitea-1.yaml",
        "--offline",
        "--url",
        "https://devtron.example.com/orchestrator",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        check(&r, "idp.callback")["error"],
        "expected callback URL \"http://127.0.0.1:5556/dex/callback\" did not match the URL in the config \"https://devtron.example.com/orchestrator/api/dex/callback\""
    );
    let (r, _) = json(&[
        "check",
        "fixtures/published/dex-google-1.yaml",
        "--offline",
        "--url",
        "https://devtron.example.com/orchestrator",
    ]);
    assert_eq!(
        check(&r, "idp.callback")["error"],
        "expected callback URL \"https://devtron.example.com/orchestrator/api/dex/callback\" did not match the URL in the config \"http://127.0.0.1:5556/dex/callback\""
    );
}
