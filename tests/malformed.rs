//! Bad input: each case exits 2 with a message naming the problem, never panics, never leaks a secret.

use assert_cmd::cargo::cargo_bin_cmd;
use base64::Engine;

const SECRET: &str = "MALFORMED-CASE-SECRET-c0ffee";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn cases() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let conn = |body: &str| {
        format!(
            "# URL: https://d.test/orchestrator\nname: n\nid: n\nconfig:\n  clientSecret: {SECRET}\n{body}"
        )
    };
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..12 {
        let prev = (b'a' + (i - 1) as u8) as char;
        let cur = (b'a' + i as u8) as char;
        bomb.push_str(&format!("{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    let mut big = conn("  issuer: https://idp.test\n");
    big.push_str("# padding\n");
    big.push_str(&"x".repeat(50 * 1024 * 1024));
    let secret_doc = |data: &str| {
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: devtron-secret\ndata:\n{data}")
    };
    vec![
        ("empty file", Vec::new(), "empty"),
        ("only whitespace and comments", b"  \n\n# nothing\n".to_vec(), "no YAML document"),
        ("binary garbage", (0u8..=255).cycle().take(4096).collect(), "binary"),
        ("invalid UTF-8", b"name: \xff\xfe\xfd\nid: x\n".to_vec(), "not UTF-8"),
        ("YAML alias bomb", bomb.into_bytes(), "YAML"),
        ("YAML syntax error next to a secret", format!("name: n\nid: n\nconfig:\n  clientSecret: {SECRET}\n  scopes: [openid, email\n").into_bytes(), "YAML"),
        ("a 50 MB file", big.into_bytes(), "larger than"),
        ("a scalar document", b"just a string\n".to_vec(), "not a mapping"),
        ("a list document", b"- a\n- b\n".to_vec(), "not a mapping"),
        ("an unrelated mapping", b"foo: bar\n".to_vec(), "no document is recognised"),
        ("config is a string", b"name: n\nid: n\nconfig: oops\n".to_vec(), "config"),
        ("scopes is a string", conn("  scopes: openid\n").into_bytes(), "config.scopes"),
        ("clientSecret is a list", b"name: n\nid: n\nconfig:\n  clientSecret: [MALFORMED-CASE-SECRET-c0ffee]\n".to_vec(), "config.clientSecret"),
        ("claimMapping is a list", conn("  claimMapping: [a]\n").into_bytes(), "config.claimMapping"),
        ("missing id", format!("name: n\nconfig:\n  clientSecret: {SECRET}\n").into_bytes(), "`id`"),
        ("missing name", format!("id: n\nconfig:\n  clientSecret: {SECRET}\n").into_bytes(), "`name`"),
        // A missing config is fine for Dex (cmd/dex/config.go parses it only when present); one
        // that is not a mapping is not.
        ("config is a list", b"name: n\nid: n\ntype: oidc\nconfig: [a]\n".to_vec(), "`config`"),
        ("unknown connector type", format!("type: oidcc\nname: n\nid: n\nconfig:\n  clientSecret: {SECRET}\n").into_bytes(), "unknown connector type \"oidcc\""),
        ("connectors not a list", b"connectors: {type: oidc}\n".to_vec(), "`connectors`"),
        ("connectors empty", b"connectors: []\n".to_vec(), "empty"),
        ("connector entry not a mapping", b"connectors: [oidc]\n".to_vec(), "connectors[0]"),
        ("Secret url not base64", secret_doc(&format!("  url: '***'\n  dex.config: {}\n", b64("connectors: []"))).into_bytes(), "base64"),
        ("Secret without dex.config", secret_doc(&format!("  url: {}\n", b64("https://d.test/orchestrator"))).into_bytes(), "dex.config"),
        ("Secret dex.config not YAML", secret_doc(&format!("  url: {}\n  dex.config: {}\n", b64("https://d.test/orchestrator"), b64(&format!("connectors: [ {{clientSecret: {SECRET}")))).into_bytes(), "dex.config"),
        ("argocd-cm dex.config is a list", b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-cm}\ndata:\n  url: https://a.test\n  dex.config: |\n    - a\n".to_vec(), "dex.config"),
        ("Secret data not a mapping", b"apiVersion: v1\nkind: Secret\nmetadata: {name: devtron-secret}\ndata: [url]\nstringData:\n  url: https://d.test\n".to_vec(), "`data`"),
        ("type is a number", b"type: 5\nname: n\nid: n\nconfig: {}\n".to_vec(), "unknown connector type \"5\""),
        ("deep nesting", format!("name: n\nid: n\nconfig: {}{}\n", "[".repeat(20000), "]".repeat(20000)).into_bytes(), "YAML"),
    ]
}

fn assert_clean(what: &str, out: &std::process::Output, must_mention: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: exit {:?}\nstderr: {stderr}\nstdout: {stdout}",
        out.status.code()
    );
    assert!(!stderr.contains("panicked"), "{what}: panic\n{stderr}");
    assert!(
        stderr.contains(must_mention),
        "{what}: message does not mention {must_mention:?}: {stderr}"
    );
    assert!(
        !stderr.contains(SECRET) && !stdout.contains(SECRET),
        "{what}: secret leaked\n{stderr}\n{stdout}"
    );
    assert!(
        stderr.lines().count() <= 8,
        "{what}: message too long:\n{stderr}"
    );
}

#[test]
fn every_malformed_input_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases();
    assert!(cases.len() >= 20);
    for (i, (what, bytes, mention)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.yaml"));
        std::fs::write(&path, bytes).unwrap();
        for output in ["table", "json"] {
            let out = cargo_bin_cmd!("dexcheck")
                .arg("check")
                .arg(&path)
                .args(["--offline", "-o", output])
                .output()
                .unwrap();
            assert_clean(what, &out, mention);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains(&format!("case{i}.yaml")),
                "{what}: the file is not named: {stderr}"
            );
            if output == "json" {
                let v: serde_json::Value =
                    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(v["error"]["kind"], "input");
                assert_eq!(v["summary"]["exit_code"], 2);
            }
        }
    }
}

#[test]
fn malformed_stdin_names_stdin() {
    let out = cargo_bin_cmd!("dexcheck")
        .args(["check", "-", "--offline"])
        .write_stdin("name: n\nid: n\nconfig: 3\n")
        .output()
        .unwrap();
    assert_clean("stdin", &out, "<stdin>");
}

#[test]
fn unreadable_and_usage_errors_exit_2() {
    let out = cargo_bin_cmd!("dexcheck")
        .args(["check", "/nonexistent/sso.yaml"])
        .output()
        .unwrap();
    assert_clean("missing file", &out, "/nonexistent/sso.yaml");
    let out = cargo_bin_cmd!("dexcheck")
        .args(["check", "fixtures"])
        .output()
        .unwrap();
    assert_clean("a directory", &out, "fixtures");
    let out = cargo_bin_cmd!("dexcheck")
        .args(["check", "fixtures/seed-ingress.yaml", "--app", "gitlab"])
        .output()
        .unwrap();
    assert_clean("bad --app", &out, "--app");
    let out = cargo_bin_cmd!("dexcheck")
        .args(["check", "fixtures/seed-ingress.yaml", "--bogus"])
        .output()
        .unwrap();
    assert_clean("unknown flag", &out, "--bogus");
    let out = cargo_bin_cmd!("dexcheck")
        .args(["check", "--offline"])
        .output()
        .unwrap();
    assert_clean("no input", &out, "no input");
}

#[test]
fn no_file_and_no_cluster_exits_3() {
    // Without a file the live config is read from the cluster; without cluster access that
    // cannot run at all (exit 3), and the message says both.
    let out = cargo_bin_cmd!("dexcheck")
        .args(["check", "-o", "json"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no input file") && stderr.contains("no cluster access"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["exit_code"], 3, "{v:#}");
}
