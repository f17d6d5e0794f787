//! The other apps' input forms, offline: what each app makes of its own settings, read as it
//! reads them (Argo Workflows' strict `sso`, Concourse's `CONCOURSE_*` wherever they are
//! written, Kargo's chart values), and the pairing of Argo Workflows with Argo CD's Dex.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn check(input: &str, args: &[&str]) -> (Value, i32, String) {
    let out = cargo_bin_cmd!("dexcheck")
        .args(["check", "-", "--offline", "-o", "json"])
        .args(args)
        .write_stdin(input)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        out.status.code().unwrap_or(-1),
        text,
    )
}

fn row<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no {id} in {r:#}"))
}

const WCC: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: workflow-controller-configmap\n  namespace: argo\ndata:\n  sso: |\n    issuer: https://argocd.example.com/api/dex\n    clientId:\n      name: argo-workflows-sso\n      key: client-id\n    clientSecret:\n      name: argo-workflows-sso\n      key: client-secret\n    redirectUrl: https://wf.example.com/oauth2/callback\n";

const ARGOCD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\ndata:\n  url: https://argocd.example.com\n  dex.config: |\n    connectors:\n    - type: github\n      id: github\n      name: GitHub\n      config:\n        clientID: x\n        clientSecret: y\n    staticClients:\n    - id: argo-workflows-sso\n      name: Argo Workflows\n      redirectURIs: [https://wf.example.com/oauth2/callback]\n      secretEnv: WF_SECRET\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: argocd-dex-server\n  namespace: argocd\nspec:\n  template:\n    spec:\n      containers:\n      - name: dex\n        env:\n        - name: WF_SECRET\n          valueFrom:\n            secretKeyRef: {name: argo-workflows-sso, key: client-secret}\n";

fn secret(ns: &str, id: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: argo-workflows-sso\n  namespace: {ns}\nstringData:\n  client-id: {id}\n  client-secret: {value}\n"
    )
}

/// The client secret on both sides is compared by digest: a mismatch is named without either
/// value ever printed; a match says nothing.
#[test]
fn argo_workflows_and_argo_cds_dex_must_hold_the_same_client_secret() {
    let pair = |ours: &str, theirs: &str| {
        [
            WCC.to_string(),
            ARGOCD.to_string(),
            secret("argo", "argo-workflows-sso", ours),
            secret("argocd", "argo-workflows-sso", theirs),
        ]
        .join("---\n")
    };
    let (r, code, text) = check(&pair("WF-SIDE-s3cret", "CD-SIDE-s3cret"), &[]);
    let settings = row(&r, "app.settings");
    assert_eq!(settings["status"], "fail", "{settings:#}");
    assert_eq!(settings["error"], "invalid_client", "{settings:#}");
    assert!(settings["message"].as_str().unwrap().contains("digest"));
    assert_eq!(code, 1);
    assert!(!text.contains("WF-SIDE-s3cret") && !text.contains("CD-SIDE-s3cret"));
    let (r, _, _) = check(&pair("same-s3cret", "same-s3cret"), &[]);
    assert!(
        !r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "app.settings"),
        "{r:#}"
    );
    // The registered redirect URL passes; the client id from the Secret must be Dex's.
    assert_eq!(row(&r, "browser.redirect_uri")["status"], "pass");
    let other = [
        WCC.to_string(),
        ARGOCD.to_string(),
        secret("argo", "another-client", "same-s3cret"),
    ]
    .join("---\n");
    let (r, _, _) = check(&other, &[]);
    assert_eq!(row(&r, "app.settings")["error"], "Invalid client_id.");
}

/// argo-server reads `sso` strictly: a key it does not know stops it, in sigs.k8s.io/yaml's
/// words; a `--auth-mode` without `sso` leaves SSO off.
#[test]
fn argo_server_reads_its_sso_strictly_and_only_with_auth_mode_sso() {
    let wcc = WCC.replace(
        "    redirectUrl:",
        "    rootCAFile: /etc/ca.pem\n    redirectUrl:",
    );
    let (r, code, _) = check(&wcc, &[]);
    let c = row(&r, "oidc.config");
    assert_eq!(
        c["error"],
        "Error: error unmarshaling JSON: while decoding JSON: json: unknown field \"rootCAFile\""
    );
    assert_eq!(code, 1);
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: argo-server\nspec:\n  template:\n    spec:\n      containers:\n      - name: argo-server\n        args: [server, --auth-mode, server]\n";
    let (r, _, _) = check(&format!("{WCC}---\n{deploy}"), &[]);
    let s = row(&r, "app.settings");
    assert_eq!(s["status"], "fail");
    assert!(
        s["message"]
            .as_str()
            .unwrap()
            .contains("--auth-mode server")
    );
    // Without redirectUrl the callback is the browser's own address.
    let wcc = WCC.replace(
        "    redirectUrl: https://wf.example.com/oauth2/callback\n",
        "",
    );
    let (r, _, _) = check(&wcc, &["--browser-url", "http://localhost:2746"]);
    assert_eq!(
        row(&r, "browser.redirect_uri")["url"],
        "http://localhost:2746/oauth2/callback"
    );
}

/// Concourse's settings in every place they are written read the same; a connector with some
/// but not all of its required settings is dropped without a word; web nodes that disagree are
/// named; the external URL's path is dropped from the issuer.
#[test]
fn concourse_settings_wherever_they_are_written() {
    let env = "CONCOURSE_EXTERNAL_URL=https://ci.example.com/ci\nCONCOURSE_OIDC_ISSUER=https://idp.example.com\nCONCOURSE_OIDC_CLIENT_ID=concourse\nCONCOURSE_OIDC_CLIENT_SECRET=s\n";
    let (r, _, _) = check(env, &[]);
    assert_eq!(r["app"], "concourse");
    assert_eq!(
        r["endpoints"]["issuer"],
        "https://ci.example.com/sky/issuer"
    );
    assert_eq!(
        r["connectors"][0]["callback"],
        "https://ci.example.com/sky/issuer/callback"
    );
    let compose = "services:\n  web:\n    command: web\n    environment:\n      - CONCOURSE_EXTERNAL_URL=https://ci.example.com/ci\n      - CONCOURSE_OIDC_ISSUER=https://idp.example.com\n      - CONCOURSE_OIDC_CLIENT_ID=concourse\n      - CONCOURSE_OIDC_CLIENT_SECRET=s\n";
    let (c, _, _) = check(compose, &[]);
    assert_eq!(c["endpoints"], r["endpoints"]);
    assert_eq!(c["connectors"], r["connectors"]);
    let helm = "concourse:\n  web:\n    externalUrl: https://ci.example.com/ci\n    auth:\n      oidc:\n        enabled: true\n        issuer: https://idp.example.com\nsecrets:\n  oidcClientId: concourse\n  oidcClientSecret: s\n";
    let (h, _, _) = check(helm, &[]);
    assert_eq!(h["connectors"], r["connectors"]);

    let dropped = "CONCOURSE_EXTERNAL_URL=https://ci.example.com\nCONCOURSE_OIDC_ISSUER=https://idp.example.com\nCONCOURSE_OIDC_CLIENT_ID=concourse\n";
    let (r, code, _) = check(dropped, &[]);
    let s = row(&r, "app.settings");
    assert_eq!(s["status"], "fail");
    assert!(
        s["message"]
            .as_str()
            .unwrap()
            .contains("CONCOURSE_OIDC_CLIENT_SECRET")
    );
    assert_eq!(code, 1);

    let two = "services:\n  web-1:\n    command: web\n    environment:\n      CONCOURSE_EXTERNAL_URL: http://localhost:8080\n  web-2:\n    command: web\n    environment:\n      CONCOURSE_EXTERNAL_URL: http://ci.internal:8080\n";
    let (r, _, _) = check(two, &[]);
    let s = row(&r, "app.settings");
    assert_eq!(s["status"], "fail", "{s:#}");
    assert!(
        s["message"]
            .as_str()
            .unwrap()
            .contains("CONCOURSE_EXTERNAL_URL")
    );
}

/// Kargo's chart values: the base URL as the chart builds it, the chart's own Dex client, and
/// the browser's origin + `/login` as the UI's redirect_uri.
#[test]
fn kargo_values_as_the_chart_renders_them() {
    let values = "api:\n  host: kargo.example.com\n  tls:\n    enabled: false\n  oidc:\n    enabled: true\n    dex:\n      enabled: true\n      connectors:\n      - type: github\n        id: github\n        name: GitHub\n        config:\n          clientID: x\n          clientSecret: y\n          redirectURI: http://kargo.example.com/dex/callback\n";
    let (r, _, _) = check(values, &[]);
    assert_eq!(r["app"], "kargo");
    assert_eq!(r["url"], "http://kargo.example.com");
    assert_eq!(r["endpoints"]["issuer"], "http://kargo.example.com/dex");
    assert_eq!(row(&r, "idp.callback")["status"], "pass");
    assert_eq!(row(&r, "browser.redirect_uri")["status"], "pass");
    // TLS terminated at a load balancer without terminatedUpstream: users on https are not at
    // the chart's http base URL, and Dex refuses their /login.
    let (r, code, _) = check(values, &["--browser-url", "https://kargo.example.com"]);
    let c = row(&r, "browser.redirect_uri");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert_eq!(c["url"], "https://kargo.example.com/login");
    assert_eq!(code, 1);
}
