//! `explain` on what a log really holds: lines of several programs pasted together, each
//! attributed to the program its own words (or the line it continues) name, and rules that read
//! the release the operator gives.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn explain(args: &[&str], text: &str) -> (Value, i32, String) {
    let out = cargo_bin_cmd!("dexcheck")
        .args(["explain", "-o", "json"])
        .args(args)
        .arg("-")
        .write_stdin(text)
        .output()
        .unwrap();
    (
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Argo CD, its Dex, oauth2-proxy, ingress-nginx, an Envoy sidecar and a standalone Dex, as a
/// `kubectl logs` of several pods or a support ticket pastes them.
const MIXED: &str = r#"argocd-server-5c58f5c844-cksjw argocd-server time="2024-03-01T10:00:00Z" level=warning msg="Failed to verify app state - got invalid redirectURL \"/\""
argocd-dex-server-6bf8d9b6b7-2l9xq dex time="2024-03-01T10:00:01Z" level=error msg="Failed to parse authorization request: Unregistered redirect_uri (\"https://argocd.example.com/auth/callback\")."
[2024/03/01 10:00:02] [oauthproxy.go:902] Error redeeming code during OAuth2 callback: email in id_token (user@example.com) isn't verified
2024/03/01 10:00:03 [error] 31#31: *9 upstream sent too big header while reading response header from upstream, client: 10.0.0.7, server: argocd.example.com, request: "GET /auth/callback?code=REDACTED&state=REDACTED HTTP/1.1", upstream: "http://10.244.0.12:8080/auth/callback", host: "argocd.example.com"
upstream connect error or disconnect/reset before headers. reset reason: connection termination
time="2024-03-01T10:00:04Z" level=error msg="Failed to login user: failed to connect: LDAP Result Code 200 \"Network Error\": EOF"
time="2024-03-01T10:00:05Z" level=info msg="config map" name=workflow-controller-configmap
Error: 404 Not Found:
"#;

#[test]
fn a_mixed_log_attributes_each_line_to_its_own_source() {
    let (v, code, _) = explain(&[], MIXED);
    assert_eq!(code, 0);
    let lines = v["lines"].as_array().unwrap();
    let got: Vec<(String, String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["source"]["program"].as_str().unwrap_or("-").to_string(),
                l["source"]["component"].as_str().unwrap_or("-").to_string(),
                l["id"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let want = [
        ("argocd-server", "app", "invalid_redirect"),
        ("argocd-dex-server", "dex", "unregistered_redirect_uri"),
        ("oauth2-proxy", "auth_proxy", "unverified_email"),
        ("ingress-nginx", "ingress", "proxy_header_too_big"),
        ("envoy", "mesh", "http_status(503)"),
        ("dex", "dex", "ldap_tls_mismatch"),
        ("argo-server", "app", "-"),
        ("argo-server", "app", "argo_issuer_not_found"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, want);
    // The bare `Error:` line names nobody: it is argo-server's because it continues line 7.
    assert_eq!(lines[7]["source"]["from_line"], 7);
    assert_eq!(lines[5]["protocol"], "ldap");
    // No line of this log is Devtron's, and none is explained as if it were.
    let all = v.to_string();
    assert!(!all.contains("orchestrator"), "{all}");
}

#[test]
fn a_line_without_evidence_is_not_given_to_devtron() {
    let (v, _, _) = explain(&[], "Error: 404 Not Found:\n");
    let l = &v["lines"][0];
    assert!(l.get("source").is_none(), "{l}");
    let causes = l["causes"].to_string();
    assert!(
        causes.contains("Devtron") && causes.contains("Argo CD"),
        "{causes}"
    );
    // A record of its own does not inherit the program of the line before it.
    let (v, _, _) = explain(
        &[],
        "argocd-server-1 argocd-server level=info msg=\"ok\"\ntime=\"2024-01-01T00:00:00Z\" level=error msg=\"dex is not configured\"\n",
    );
    assert!(v["lines"][1].get("source").is_none(), "{v}");
}

const BASE_HREF: &str = "argocd-server-5c58f5c844-cksjw argocd-server time=\"2022-07-20T15:55:59Z\" level=warning msg=\"Failed to verify app state - got invalid redirectURL \\\"/\\\"\"";

fn first_cause(args: &[&str], text: &str) -> String {
    let (v, _, _) = explain(args, text);
    v["lines"][0]["causes"][0]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn rules_that_changed_upstream_read_the_release_given() {
    let in_window = first_cause(&["--app-version", "v2.4.7"], BASE_HREF);
    assert!(
        in_window.contains("regression") && in_window.contains("v2.4.7 is one of them"),
        "{in_window}"
    );
    let fixed = first_cause(&["--app-version", "2.4.8"], BASE_HREF);
    assert!(
        !fixed.contains("regression") && fixed.contains("basehref"),
        "{fixed}"
    );
    let unknown = first_cause(&[], BASE_HREF);
    assert!(unknown.contains("depends on the version"), "{unknown}");
    let (v, _, _) = explain(&["--app-version", "2.4.7"], BASE_HREF);
    assert_eq!(v["versions"]["app"], "2.4.7");

    // Dex before 2.23 ignores a static client's idEnv.
    let kubeflow = "Bad Request\n\nInvalid client_id (\"kubeflow-oidc-authservice\").\n";
    let (v, _, _) = explain(&["--dex-version", "v2.22.0"], kubeflow);
    let causes = v["lines"][1]["causes"].to_string();
    assert!(causes.contains("Dex v2.22.0 ignores"), "{causes}");
    let (v, _, _) = explain(&["--dex-version", "v2.30.2"], kubeflow);
    let causes = v["lines"][1]["causes"].to_string();
    assert!(!causes.contains("ignores"), "{causes}");
}

#[test]
fn a_release_that_is_not_one_is_refused_by_name() {
    let (_, code, err) = explain(&["--app-version", "latest"], "dex is not configured\n");
    assert_eq!(code, 2);
    assert!(
        err.contains("--app-version") && err.contains("\"latest\""),
        "{err}"
    );
}
