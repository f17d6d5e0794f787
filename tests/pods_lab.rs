//! The pod vantage on the lab, run from the workstation namespace like an operator would:
//! live config from the test API server, one exec per pod through kube-rs, the seed's cases.
//! Needs root, `ip`, `kubectl` and `curl` (skips otherwise, unless DEXCHECK_REQUIRE_LAB=1).

mod support;

use std::process::Command;
use std::sync::atomic::Ordering;

use serde_json::Value;
use support::lab::{APP_POD, DEX_POD, INGRESS_HOST, Lab, SERVICE_NAME};

const BIN: &str = env!("CARGO_BIN_EXE_dexcheck");

struct Run {
    report: Value,
    code: i32,
    stderr: String,
}

impl Run {
    fn check(&self, id: &str) -> &Value {
        self.report["checks"]
            .as_array()
            .unwrap_or_else(|| panic!("no checks: {:#} {}", self.report, self.stderr))
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {:#}", self.report))
    }
    fn status(&self, id: &str) -> String {
        self.check(id)["status"].as_str().unwrap_or("").to_string()
    }
    /// Every matrix-relevant row of these ids passed, observed where it is a network path.
    fn all_pass(&self, ids: &[&str]) {
        for id in ids {
            assert_eq!(self.status(id), "pass", "{id}: {:#}", self.check(id));
        }
    }
}

fn dexcheck(lab: &Lab, args: &[&str]) -> Run {
    let mut c = lab.in_ws(BIN);
    c.arg("check")
        .args(args)
        .arg("--kubeconfig")
        .arg(&lab.kubeconfig)
        .args(["-o", "json", "--timeout", "2"]);
    support::clear_proxies(&mut c);
    let o = c.output().expect("spawn");
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    let report = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {} stderr {stderr}",
            String::from_utf8_lossy(&o.stdout)
        )
    });
    Run {
        report,
        code: o.status.code().unwrap_or(-1),
        stderr,
    }
}

const EVERY_ROW: &[&str] = &[
    "browser.app",
    "browser.discovery",
    "browser.keys",
    "browser.token",
    "browser.dex_auth",
    "browser.return_url",
    "pod.discovery",
    "pod.token_keys",
    "pod.internal_dex",
    "idp.callback",
    "browser.idp_discovery",
    "dexpod.idp_discovery",
    "idp.authorize",
];

#[test]
fn port_forward_case_pod_refuses_in_devtrons_words() {
    if !support::lab_or_skip("port_forward_case_pod_refuses_in_devtrons_words") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let url = lab.pf_url();
    // No file: the live config (devtron-secret url = the port-forward URL).
    let r = dexcheck(&lab, &[]);
    r.all_pass(&[
        "browser.app",
        "browser.discovery",
        "browser.keys",
        "browser.token",
    ]);
    let pod = r.check("pod.discovery");
    assert_eq!(pod["class"], "refused", "{pod:#}");
    assert_eq!(pod["observed"], true);
    let err = pod["error"].as_str().unwrap();
    let port = lab.pf_port;
    assert!(
        err.starts_with(&format!(
            "Failed to query provider \"{url}/api/dex\": Get \"{url}/api/dex/.well-known/openid-configuration\": dial tcp "
        )) && err.ends_with(&format!(":{port}: connect: connection refused")),
        "{err}"
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.report["source"], "secret devtroncd/devtron-secret (live)");
    // One exec per pod, whatever the number of URLs (4 from the app pod, 1 from Dex's).
    assert_eq!(lab.state.exec_count("devtroncd", APP_POD), 1);
    assert_eq!(lab.state.exec_count("devtroncd", DEX_POD), 1);
}

#[test]
fn cluster_local_case_pod_works_return_url_fails() {
    if !support::lab_or_skip("cluster_local_case_pod_works_return_url_fails") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let url = format!("http://{SERVICE_NAME}/orchestrator");
    lab.set_url(&url);
    let browser = lab.pf_url();
    let r = dexcheck(&lab, &["--browser-url", &browser]);
    r.all_pass(&[
        "pod.discovery",
        "pod.token_keys",
        "pod.internal_dex",
        "dexpod.idp_discovery",
    ]);
    assert_eq!(r.check("pod.discovery")["observed"], true);
    let ret = r.check("browser.return_url");
    assert_eq!(ret["status"], "fail", "{ret:#}");
    assert_eq!(ret["rule"], "host");
    assert_eq!(r.code, 1);
}

#[test]
fn ingress_host_resolvable_everywhere_passes_every_row() {
    if !support::lab_or_skip("ingress_host_resolvable_everywhere_passes_every_row") {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.set_url(&format!("http://{INGRESS_HOST}/orchestrator"));
    let r = dexcheck(&lab, &[]);
    r.all_pass(EVERY_ROW);
    assert_eq!(r.code, 0, "{:#}", r.report);
}

#[test]
fn port_forward_on_8080_passes_every_row() {
    if !support::lab_or_skip("port_forward_on_8080_passes_every_row") {
        return;
    }
    let mut lab = Lab::start().expect("lab");
    lab.forward(8080).expect("forward 8080");
    lab.set_url("http://localhost:8080/orchestrator");
    let r = dexcheck(&lab, &[]);
    r.all_pass(EVERY_ROW);
    assert_eq!(r.code, 0, "{:#}", r.report);
    // The lab's IdP is plain http on a lab address: the secret is not sent there, from here or
    // from the Dex pod.
    assert_eq!(r.status("dexpod.idp_client_auth"), "skip");
    let auth = r.check("idp.client_auth");
    assert_eq!(auth["status"], "skip", "{auth:#}");
    assert!(
        auth["message"]
            .as_str()
            .unwrap()
            .contains("is neither https nor plain http to a loopback address"),
        "{auth:#}"
    );
}

#[test]
fn image_without_curl_uses_wget_with_the_same_classes() {
    if !support::lab_or_skip("image_without_curl_uses_wget_with_the_same_classes") {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.image(false).expect("image without curl");
    let r = dexcheck(&lab, &[]);
    let pod = r.check("pod.discovery");
    assert_eq!(pod["class"], "refused", "{pod:#}");
    assert!(
        pod["error"]
            .as_str()
            .unwrap()
            .ends_with("connect: connection refused")
    );
    assert_eq!(r.status("dexpod.idp_discovery"), "pass");
    let notes = r.report["live"]["pods"].to_string();
    assert!(notes.contains("probed with wget"), "{notes}");
    // A 404 is a 404 through wget as well (Dex still serves under /orchestrator/api/dex).
    lab.put_devtron_secret(&format!("http://{SERVICE_NAME}/wrong"));
    let r = dexcheck(&lab, &[]);
    assert_eq!(
        r.check("pod.discovery")["class"],
        "http_status(404)",
        "{:#}",
        r.check("pod.discovery")
    );
}

/// The lab's minimal image is real busybox (sh, wget, sed, tr, cat, rm): its wget crashes on
/// `-T`; the probe says so, naming the signal, and still reports each row in Devtron's words.
#[test]
fn real_busybox_image_survives_its_wget_crash() {
    if !support::lab_or_skip("real_busybox_image_survives_its_wget_crash")
        || !support::procs::tool_or_skip("busybox", "real_busybox_image_survives_its_wget_crash")
    {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.busybox_image().expect("busybox image");
    let r = dexcheck(&lab, &[]);
    let pod = r.check("pod.discovery");
    assert_eq!(pod["class"], "refused", "{pod:#}");
    assert!(
        pod["error"]
            .as_str()
            .unwrap()
            .ends_with("connect: connection refused"),
        "{pod:#}"
    );
    assert!(
        pod["message"]
            .as_str()
            .unwrap()
            .contains("crashed with SIGSEGV (signal 11)"),
        "{pod:#}"
    );
    assert_eq!(r.status("dexpod.idp_discovery"), "pass", "{:#}", r.report);
    let notes = r.report["live"]["pods"].to_string();
    assert!(notes.contains("probed with wget"), "{notes}");
    // Through the port the orchestrator listens on, every row passes with busybox too.
    lab.set_url(&format!("http://{SERVICE_NAME}/orchestrator"));
    let r = dexcheck(&lab, &[]);
    assert_eq!(
        r.status("pod.discovery"),
        "pass",
        "{:#}",
        r.check("pod.discovery")
    );
}

#[test]
fn exec_forbidden_exits_3_naming_the_permission() {
    if !support::lab_or_skip("exec_forbidden_exits_3_naming_the_permission") {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.state
        .faults
        .exec_forbidden
        .store(true, Ordering::SeqCst);
    let r = dexcheck(&lab, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("`create` on `pods/exec` in namespace devtroncd"),
        "{}",
        r.stderr
    );
    assert_eq!(r.report["error"]["kind"], "cluster", "{:#}", r.report);
}

#[test]
fn missing_pod_exits_3_naming_selector_and_namespace() {
    if !support::lab_or_skip("missing_pod_exits_3_naming_selector_and_namespace") {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.state.faults.pods_missing.store(true, Ordering::SeqCst);
    let r = dexcheck(&lab, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("-l app=devtron in namespace devtroncd"),
        "{}",
        r.stderr
    );
}

#[test]
fn no_kubeconfig_says_not_run() {
    if !support::lab_or_skip("no_kubeconfig_says_not_run") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let url = lab.pf_url();
    let mut c = lab.in_ws(BIN);
    c.args([
        "check",
        "fixtures/dex-github.yaml",
        "--no-idp",
        "--url",
        &url,
        "-o",
        "json",
    ])
    .env("KUBECONFIG", lab.dir.join("no-such-kubeconfig"))
    .env_remove("KUBERNETES_SERVICE_HOST");
    let o = c.output().unwrap();
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let c = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "pods.not_run")
        .expect("pods.not_run");
    assert_eq!(c["status"], "skip");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .starts_with("not run: no cluster access"),
        "{c:#}"
    );
    assert_eq!(
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "pod.discovery")
            .unwrap()["observed"],
        false
    );
}

#[test]
fn hostile_urls_run_nothing_in_the_pod() {
    if !support::lab_or_skip("hostile_urls_run_nothing_in_the_pod") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let marker = lab.dir.join("pwned");
    let m = marker.display().to_string();
    let base = format!("http://localhost:8080/orchestrator/$(touch {m})`touch {m}`'\"x");
    // A newline can only travel in a YAML string: the connector's issuer.
    let issuer = format!("http://idp.lab.test/realms/$(touch {m})`touch {m}`'\"\nx;touch {m}");
    let cfg = lab.dir.join("hostile.yaml");
    std::fs::write(
        &cfg,
        format!(
            "connectors:\n- type: oidc\n  id: x\n  name: X\n  config:\n    clientID: c\n    clientSecret: s\n    issuer: {}\n",
            serde_json::to_string(&issuer).unwrap()
        ),
    )
    .unwrap();
    let r = dexcheck(&lab, &[cfg.to_str().unwrap(), "--url", &base]);
    assert!(!marker.exists(), "a URL ran a command in the pod");
    let idp = r.check("dexpod.idp_discovery");
    assert_eq!(
        idp["url"].as_str().unwrap(),
        format!("{issuer}/.well-known/openid-configuration"),
        "the probe reports the URL as given"
    );
    assert_eq!(r.check("pod.discovery")["observed"], true);
    assert_eq!(lab.state.exec_count("devtroncd", APP_POD), 1);
}

#[test]
fn kubectl_plugin_prints_the_same_matrix() {
    if !support::lab_or_skip("kubectl_plugin_prints_the_same_matrix") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let bin = lab.dir.join("plugins");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_kubectl-dexcheck"),
        bin.join("kubectl-dexcheck"),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let table = |mut c: Command| {
        c.env("KUBECONFIG", &lab.kubeconfig)
            .env("PATH", &path)
            .args(["--color", "never", "--timeout", "2"]);
        let o = c.output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        // The matrix: from the first table border to its end.
        let start = text
            .find('╭')
            .unwrap_or_else(|| panic!("no table: {text} {}", String::from_utf8_lossy(&o.stderr)));
        let end = text[start..].find('╯').map(|e| start + e).unwrap();
        (text[start..end].to_string(), o.status.code())
    };
    // kubectl finds kubectl-dexcheck on PATH and passes every argument on untouched.
    let mut plugin = lab.in_ws("kubectl");
    plugin.args(["dexcheck", "-n", "devtroncd"]);
    let mut direct = lab.in_ws(BIN);
    direct.args(["check", "-n", "devtroncd"]);
    let (a, ca) = table(plugin);
    let (b, cb) = table(direct);
    assert_eq!(a, b);
    assert_eq!(ca, cb);
    assert!(a.contains("app pod → Dex discovery"), "{a}");
    assert_eq!(ca, Some(1), "the port-forward case fails in the pod");
}

#[test]
fn image_without_clients_needs_ephemeral_and_then_probes_from_it() {
    if !support::lab_or_skip("image_without_clients_needs_ephemeral_and_then_probes_from_it") {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.image_without_clients().expect("bare image");
    // Without --ephemeral the pod rows say why they are empty and how to fill them.
    let r = dexcheck(&lab, &[]);
    let pod = r.check("pod.discovery");
    assert_eq!(pod["observed"], false, "the prediction stands: {pod:#}");
    let why = pod["message"].as_str().unwrap();
    assert!(
        why.contains("has no curl or wget") && why.contains("--ephemeral"),
        "{why}"
    );

    // With it, a debug container joins the pod and the same classes come back.
    let r = dexcheck(&lab, &["--ephemeral"]);
    let pod = r.check("pod.discovery");
    assert_eq!(pod["class"], "refused", "{pod:#}");
    let notes = r.report["live"]["pods"].to_string();
    assert!(
        notes.contains("added the ephemeral container dexcheck-") && notes.contains("busybox:1.36"),
        "{notes}"
    );
    let pods = lab.state.pods.lock().unwrap().clone();
    let app = pods
        .iter()
        .find(|p| p["metadata"]["name"] == APP_POD)
        .unwrap();
    let eph = &app["spec"]["ephemeralContainers"][0];
    assert_eq!(eph["targetContainerName"], "devtron", "{eph:#}");
}

#[test]
fn file_and_cluster_drift_is_a_finding() {
    if !support::lab_or_skip("file_and_cluster_drift_is_a_finding") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let cfg = lab.dir.join("sso.yaml");
    std::fs::write(
        &cfg,
        "# URL: http://localhost:8080/orchestrator\nname: Lab IdP\nid: lab-idp\ntype: oidc\nconfig:\n  clientID: other-client\n  clientSecret: FIXTURE-SECRET-drift\n  issuer: http://idp.lab.test/realms/main\n  redirectURI: http://localhost:8080/orchestrator/api/dex/callback\n",
    )
    .unwrap();
    let r = dexcheck(&lab, &[cfg.to_str().unwrap()]);
    let url = r.check("drift.url");
    assert_eq!(url["status"], "fail", "{url:#}");
    assert_eq!(url["expected"], "http://localhost:8080/orchestrator");
    assert_eq!(url["actual"], lab.pf_url());
    let conn = r.check("drift.connector");
    assert_eq!(conn["status"], "warn", "{conn:#}");
    let m = conn["message"].as_str().unwrap();
    assert!(
        m.contains("clientID: file \"other-client\", cluster \"lab-client\""),
        "{m}"
    );
    assert!(
        !r.report.to_string().contains("LAB-SECRET"),
        "a secret from the cluster leaked"
    );
    assert_eq!(r.code, 1);
}

/// Argo CD's direct OIDC: the IdP's discovery fetched from the argocd-server pod and from this
/// machine, observed, in Argo CD's words; an issuer on the pod's loopback is refused there.
#[test]
fn argocd_direct_oidc_reaches_the_idp_from_the_server_pod() {
    if !support::lab_or_skip("argocd_direct_oidc_reaches_the_idp_from_the_server_pod") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let url = format!("http://localhost:{}", lab.pf_port);
    lab.argocd(&url);
    let put = |issuer: &str| {
        lab.state.put(
            "configmaps",
            "argocd",
            "argocd-cm",
            serde_json::json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "argocd-cm", "namespace": "argocd"},
                "data": {"url": url, "oidc.config": format!("name: Lab\nissuer: {issuer}\nclientID: argocd\nclientSecret: $oidc.lab.secret\n")}
            }),
        );
    };
    put(support::lab::IDP_ISSUER);
    let r = dexcheck(&lab, &["--app", "argocd"]);
    assert_eq!(r.report["oidc"]["issuer"], support::lab::IDP_ISSUER);
    for id in ["pod.idp_discovery", "browser.idp_discovery"] {
        assert_eq!(r.status(id), "pass", "{id}: {:#}", r.check(id));
        assert_eq!(r.check(id)["observed"], true);
    }
    // No Dex rows in this mode.
    assert!(
        r.report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != "pod.discovery")
    );
    // An issuer on loopback: inside argocd-server that is the pod itself.
    let issuer = "http://localhost:9/realms/main";
    put(issuer);
    let r = dexcheck(&lab, &["--app", "argocd"]);
    let pod = r.check("pod.idp_discovery");
    assert_eq!(pod["class"], "refused", "{pod:#}");
    assert_eq!(pod["observed"], true);
    let err = pod["error"].as_str().unwrap();
    assert!(
        err.starts_with(&format!(
            "failed to query provider \"{issuer}\": Get \"{issuer}/.well-known/openid-configuration\": dial tcp "
        )) && err.ends_with(":9: connect: connection refused"),
        "{err}"
    );
    assert_eq!(r.code, 1);
}

#[test]
fn argocd_server_reaches_dex_through_the_rewrite() {
    if !support::lab_or_skip("argocd_server_reaches_dex_through_the_rewrite") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let url = format!("http://localhost:{}", lab.pf_port);
    lab.argocd(&url);
    // Argo CD's default: TLS to argocd-dex-server:5556, here a plain-HTTP Dex.
    let r = dexcheck(&lab, &["--app", "argocd"]);
    assert_eq!(r.report["source"], "configmap argocd/argocd-cm (live)");
    let pod = r.check("pod.discovery");
    assert_eq!(pod["class"], "http_to_https", "{pod:#}");
    assert_eq!(
        pod["error"],
        format!(
            "failed to query provider \"{url}/api/dex\": Get \"https://argocd-dex-server:5556/api/dex/.well-known/openid-configuration\": http: server gave HTTP response to HTTPS client"
        )
    );
    // The pair that matches a plain Dex: --dex-server-plaintext, i.e. http://.
    let r = dexcheck(
        &lab,
        &[
            "--app",
            "argocd",
            "--dex-internal",
            "http://argocd-dex-server:5556",
        ],
    );
    r.all_pass(&[
        "pod.discovery",
        "pod.token_keys",
        "browser.discovery",
        "dexpod.idp_discovery",
    ]);
    assert_eq!(
        r.check("pod.discovery")["url"],
        "http://argocd-dex-server:5556/api/dex/.well-known/openid-configuration"
    );
}

#[test]
fn explain_from_cluster_reads_the_pods_logs() {
    if !support::lab_or_skip("explain_from_cluster_reads_the_pods_logs") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let url = lab.pf_url();
    let port = lab.pf_port;
    let app_log = format!(
        "{{\"level\":\"info\",\"msg\":\"starting\"}}\n{{\"level\":\"error\",\"msg\":\"Failed to query provider \\\"{url}/api/dex\\\": Get \\\"{url}/api/dex/.well-known/openid-configuration\\\": dial tcp [::1]:{port}: connect: connection refused\"}}\n{{\"level\":\"info\",\"msg\":\"healthy\"}}\n"
    );
    let dex_log = "time=\"2026-11-29T10:00:00Z\" level=info msg=\"listening (http) on 0.0.0.0:5556\"\ntime=\"2026-11-29T10:00:01Z\" level=error msg=\"Failed to parse authorization request: Unregistered redirect_uri (\\\"http://localhost:8080/orchestrator/auth/callback\\\").\"\n";
    if let Ok(mut m) = lab.state.logs.lock() {
        m.insert(format!("devtroncd/{APP_POD}"), app_log);
        m.insert(format!("devtroncd/{DEX_POD}"), dex_log.to_string());
    }
    let mut c = lab.in_ws(BIN);
    c.args(["explain", "--from-cluster", "-o", "json", "--kubeconfig"])
        .arg(&lab.kubeconfig);
    let o = c.output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["refused", "unregistered_redirect_uri"], "{v:#}");
    assert_eq!(v["lines"][0]["path"], "app_pod_dex");
    // The rules read Dex's release from the Dex pod's image; the app's tag names none.
    assert_eq!(v["versions"]["dex"], "quay.io/devtron/dex:v2.30.2", "{v:#}");
    assert!(v["versions"].get("app").is_none(), "{v:#}");
}

/// Runs `check`, takes the fix printed on `row`, which must be the port-forward on local port
/// 8080, applies it to the lab and checks that every row turns green.
fn apply_port_forward_remedy(mut lab: Lab, row: &str, before: &[&str], after: &[&str]) {
    let r = dexcheck(&lab, before);
    let fix = r.check(row)["remedy"].as_str().unwrap().to_string();
    assert!(
        fix.contains("port-forward svc/devtron-service 8080:80")
            && fix.contains("http://localhost:8080/orchestrator"),
        "{fix}"
    );
    lab.forward(8080).expect("port-forward 8080");
    lab.set_url("http://localhost:8080/orchestrator");
    let r = dexcheck(&lab, after);
    r.all_pass(EVERY_ROW);
    assert_eq!(r.code, 0);
}

/// The remedy `check` prints for the seed's two failures, applied on the lab, turns every row
/// green.
#[test]
fn the_printed_remedies_turn_the_seeds_cases_green() {
    if !support::lab_or_skip("the_printed_remedies_turn_the_seeds_cases_green") {
        return;
    }
    // The port-forward case.
    let lab = Lab::start().expect("lab");
    apply_port_forward_remedy(lab, "pod.discovery", &[], &[]);

    // The cluster.local case: the browser on the port-forward, URL the in-cluster name.
    let lab = Lab::start().expect("lab");
    lab.set_url(&format!("http://{SERVICE_NAME}/orchestrator"));
    let browser = lab.pf_url();
    apply_port_forward_remedy(
        lab,
        "browser.return_url",
        &["--browser-url", &browser],
        &["--browser-url", "http://localhost:8080"],
    );
}

#[test]
fn a_name_the_pod_cannot_resolve_gets_the_dns_remedies_with_its_name() {
    if !support::lab_or_skip("a_name_the_pod_cannot_resolve_gets_the_dns_remedies_with_its_name") {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.put_devtron_secret("http://devtron.unknown.test/orchestrator");
    let r = dexcheck(&lab, &[]);
    let pod = r.check("pod.discovery");
    assert_eq!(pod["class"], "dns", "{pod:#}");
    assert_eq!(pod["observed"], true);
    assert!(
        pod["error"]
            .as_str()
            .unwrap()
            .ends_with("dial tcp: lookup devtron.unknown.test on 127.0.0.1:53: no such host"),
        "{pod:#}"
    );
    let fix = pod["remedy"].as_str().unwrap();
    assert!(
        fix.contains("rewrite name exact devtron.unknown.test") && fix.contains("hostAliases"),
        "{fix}"
    );
}

/// The Dex pod's token request (`dexpod.idp_client_auth`) against panva oidc-provider on
/// loopback in the pods' namespace (and the workstation's): the secret travels on the exec's
/// stdin, never in its argv as the lab's API server received it, nor in the report.
#[test]
fn dex_pod_token_request_sends_the_secret_on_stdin() {
    if !support::lab_or_skip("dex_pod_token_request_sends_the_secret_on_stdin")
        || !support::procs::node_or_skip("dex_pod_token_request_sends_the_secret_on_stdin")
    {
        return;
    }
    const SECRET: &str = "LAB-SECRET-stdin-5e2f";
    let mut lab = Lab::start().expect("lab");
    lab.forward(8080).expect("forward 8080");
    let url = "http://localhost:8080/orchestrator";
    lab.set_url(url);
    let callback = format!("{url}/api/dex/callback");
    let idp = |mut c: Command, port: &str| {
        c.args([
            "tests/js/upstream.mjs",
            port,
            "lab-client",
            SECRET,
            &callback,
        ]);
        support::procs::try_start(c, "ready").ok()
    };
    // One loopback port for both namespaces: a port free on this host may be taken in the lab's
    // namespaces (the lab's API server listens on loopback there), so another is tried then.
    let ((_ws_idp, lines), _pod_idp) = (0..5)
        .find_map(|_| {
            let port = support::procs::free_port().to_string();
            let ws = idp(lab.in_ws("node"), &port)?;
            Some((ws, idp(lab.in_pod("node"), &port)?))
        })
        .expect("no loopback port free in both lab namespaces");
    let issuer = lines
        .last()
        .unwrap()
        .trim_start_matches("ready ")
        .to_string();
    for (secret, want) in [(SECRET, "pass"), ("LAB-SECRET-wrong-77aa", "fail")] {
        lab.put_devtron_secret_for(url, &issuer, secret);
        lab.state.exec_argv.lock().unwrap().clear();
        let r = dexcheck(&lab, &[]);
        let c = r.check("dexpod.idp_client_auth");
        assert_eq!(c["status"], want, "{c:#}");
        assert_eq!(r.status("dexpod.idp_discovery"), "pass");
        assert_eq!(r.status("idp.client_auth"), want);
        if want == "fail" {
            assert_eq!(c["class"], "invalid_client", "{c:#}");
        }
        assert!(
            c["message"]
                .as_str()
                .unwrap()
                .contains("on the exec's stdin"),
            "{c:#}"
        );
        let argv = lab.state.exec_argv.lock().unwrap().clone();
        assert_eq!(argv.len(), 2, "one exec per pod: {argv:?}");
        assert!(argv.iter().flatten().all(|a| !a.contains(secret)));
        let all = format!("{}{}", r.report, r.stderr);
        assert!(!all.contains(secret), "{all}");
    }
    // Every output format of a run whose secret the Dex pod sent: none repeats it.
    lab.put_devtron_secret_for(url, &issuer, SECRET);
    for output in ["table", "json", "yaml", "junit", "github"] {
        let mut c = lab.in_ws(BIN);
        c.args(["check", "--timeout", "2", "-o", output])
            .arg("--kubeconfig")
            .arg(&lab.kubeconfig);
        support::clear_proxies(&mut c);
        let o = c.output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            all.contains("dexpod.idp_client_auth") || ["table", "github"].contains(&output),
            "{all}"
        );
        assert!(!all.contains(SECRET), "-o {output}: {all}");
    }
    // Real busybox: wget takes the form body from a file only it can read (never argv); it
    // hides error bodies, so a right secret is only a 400 (not conclusive) and a wrong one its
    // 401.
    if !support::procs::tool_or_skip("busybox", "dex_pod_token_request_sends_the_secret_on_stdin") {
        return;
    }
    lab.busybox_image().expect("busybox image");
    for (secret, want) in [(SECRET, "warn"), ("LAB-SECRET-wrong-77aa", "fail")] {
        lab.put_devtron_secret_for(url, &issuer, secret);
        lab.state.exec_argv.lock().unwrap().clear();
        let r = dexcheck(&lab, &[]);
        let c = r.check("dexpod.idp_client_auth");
        assert_eq!(c["status"], want, "{c:#}");
        let argv = lab.state.exec_argv.lock().unwrap().clone();
        assert!(argv.iter().flatten().all(|a| !a.contains(secret)));
        assert!(!format!("{}{}", r.report, r.stderr).contains(secret));
    }
}

/// dexcheck run as a pod of the cluster: the service account's token and CA, the
/// `KUBERNETES_SERVICE_*` variables, no kubeconfig. It reads the live config and probes the pods.
#[test]
fn in_a_pod_the_service_account_is_enough() {
    if !support::lab_or_skip("in_a_pod_the_service_account_is_enough")
        || !support::procs::tool_or_skip("unshare", "in_a_pod_the_service_account_is_enough")
    {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.set_url(&format!("http://{SERVICE_NAME}/orchestrator"));
    let mut c = lab.as_pod(std::path::Path::new(BIN)).expect("pod command");
    c.args(["check", "-o", "json", "--timeout", "2"]);
    support::clear_proxies(&mut c);
    let o = c.output().unwrap();
    let r: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    assert_eq!(
        r["source"], "secret devtroncd/devtron-secret (live)",
        "{r:#}"
    );
    assert_eq!(r["cluster"], "in-cluster", "{r:#}");
    let pod = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "pod.discovery")
        .unwrap();
    assert_eq!(pod["observed"], true, "{pod:#}");
    assert_eq!(pod["status"], "pass", "{pod:#}");
    assert!(lab.state.exec_count("devtroncd", APP_POD) >= 1);
}

/// Every replica: three app pods, one of which sees another issuer; two Dex pods on the
/// embedded Dex's in-memory storage. The discovery row fails naming that replica, the Dex
/// replicas are a finding, and every pod gets exactly one exec.
#[test]
fn every_replica_is_probed_once_and_the_odd_one_named() {
    if !support::lab_or_skip("every_replica_is_probed_once_and_the_odd_one_named") {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.set_url(&format!("http://{SERVICE_NAME}/orchestrator"));
    let odd = "devtron-7d9f8b6c5-lab04";
    lab.add_replica("devtron-7d9f8b6c5-lab03", false);
    lab.add_replica(odd, false);
    lab.add_replica("argocd-dex-server-5c6b7d8f9-lab05", true);
    lab.replica_sees_dex(
        odd,
        "http://stale.example/orchestrator/api/dex",
        support::servers::DEX_KID,
    )
    .expect("odd replica");
    let r = dexcheck(&lab, &[]);
    let pod = r.check("pod.discovery");
    assert_eq!(pod["status"], "fail", "{pod:#}");
    assert_eq!(pod["class"], "issuer_mismatch", "{pod:#}");
    let msg = pod["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("1 of 3 app pods ({odd})")),
        "{msg}"
    );
    let dex = r.check("dex.replicas");
    assert_eq!(dex["class"], "memory_storage", "{dex:#}");
    assert!(
        dex["message"].as_str().unwrap().starts_with("2 Dex pods"),
        "{dex:#}"
    );
    assert!(
        r.check("dexpod.idp_discovery")["message"]
            .as_str()
            .unwrap()
            .starts_with("all 2 Dex pods")
    );
    for p in [
        APP_POD,
        "devtron-7d9f8b6c5-lab03",
        odd,
        DEX_POD,
        "argocd-dex-server-5c6b7d8f9-lab05",
    ] {
        assert_eq!(lab.state.exec_count("devtroncd", p), 1, "{p}");
    }
}

/// Two lab clusters and a context nobody answers, from one workstation with `--all-contexts`:
/// two reports and one "could not check", each cluster in its own column.
#[test]
fn all_contexts_checks_every_cluster_and_names_the_unreachable_one() {
    if !support::lab_or_skip("all_contexts_checks_every_cluster") {
        return;
    }
    let a = Lab::start().expect("lab a");
    let b = Lab::start().expect("lab b");
    a.set_url(&format!("http://{INGRESS_HOST}/orchestrator"));
    b.set_url("http://localhost:8082/orchestrator");
    let b_port = b.serve_api_in(&a).expect("b's API in a's workstation");
    let dead = support::procs::free_port();
    let (ca, ua, xa) = a.kubeconfig_entries("lab-a", a.api_port);
    let (cb, ub, xb) = b.kubeconfig_entries("lab-b", b_port);
    let (cd, ud, xd) = a.kubeconfig_entries("gone", dead);
    let kc = a.dir.join("fleet-kubeconfig");
    std::fs::write(
        &kc,
        format!("apiVersion: v1\nkind: Config\nclusters:\n{ca}{cb}{cd}users:\n{ua}{ub}{ud}contexts:\n{xa}{xb}{xd}current-context: lab-a\n"),
    )
    .unwrap();
    let run = |output: &str| {
        let mut c = a.in_ws(BIN);
        c.args(["check", "--all-contexts", "--timeout", "2", "-o", output])
            .arg("--kubeconfig")
            .arg(&kc);
        support::clear_proxies(&mut c);
        c.output().unwrap()
    };
    let o = run("json");
    let r: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    assert_eq!(r["schema"], "dexcheck/fleet/v1");
    let errors = support::fleet_schema_errors(&r);
    assert!(errors.is_empty(), "{errors:?}");
    let clusters = r["clusters"].as_array().unwrap();
    let names: Vec<&str> = clusters
        .iter()
        .map(|c| c["context"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lab-a", "lab-b", "gone"]);
    assert_eq!(clusters[0]["report"]["cluster"], "lab-a");
    assert_ne!(
        clusters[0]["report"]["verdict"]["status"], "fail",
        "{:#}",
        clusters[0]
    );
    // Lab b's pods were probed through its own API server: localhost:8082 is refused there.
    assert_eq!(clusters[1]["report"]["verdict"]["status"], "fail");
    let b_pod = clusters[1]["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "pod.discovery")
        .unwrap();
    assert_eq!(b_pod["observed"], true, "{b_pod:#}");
    assert_eq!(b_pod["class"], "refused", "{b_pod:#}");
    assert_eq!(b.state.exec_count("devtroncd", APP_POD), 1);
    assert_eq!(clusters[2]["error"]["kind"], "cluster", "{:#}", clusters[2]);
    assert_eq!(r["summary"]["checked"], 2);
    assert_eq!(o.status.code(), Some(1));
    let t = String::from_utf8(run("table").stdout).unwrap();
    assert!(
        t.contains("lab-a") && t.contains("lab-b") && t.contains("gone: could not connect"),
        "{t}"
    );
}

/// A replica that reaches a Dex with other keys, and one that runs another config: the key-set
/// row fails naming the key ids each replica sees, and `pods.config` names the checksums.
#[test]
fn replicas_with_other_keys_or_another_config_are_named() {
    if !support::lab_or_skip("replicas_with_other_keys_or_another_config_are_named") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let url = format!("http://{SERVICE_NAME}/orchestrator");
    lab.set_url(&url);
    let odd = "devtron-7d9f8b6c5-lab06";
    lab.add_replica(odd, false);
    lab.replica_sees_dex(odd, &format!("{url}/api/dex"), "rotated-key-2")
        .expect("odd replica");
    lab.annotate_checksum(APP_POD, "sha256:aaaa");
    lab.annotate_checksum(odd, "sha256:bbbb");
    let r = dexcheck(&lab, &[]);
    assert_eq!(
        r.status("pod.discovery"),
        "pass",
        "{:#}",
        r.check("pod.discovery")
    );
    let keys = r.check("pod.token_keys");
    assert_eq!(keys["class"], "keys_differ", "{keys:#}");
    let msg = keys["message"].as_str().unwrap();
    assert!(msg.contains(&format!("{odd}: rotated-key-2")), "{msg}");
    assert!(msg.contains(support::servers::DEX_KID), "{msg}");
    let cfg = r.check("pods.config");
    assert_eq!(cfg["class"], "config_differs", "{cfg:#}");
    assert!(
        cfg["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{odd}: sha256:bbbb"))
    );
}

/// The discovery document with its `token_endpoint` on https: what a replica behind a proxy that
/// rewrites the scheme reads.
fn discovery_https_token(issuer: &str) -> String {
    support::servers::dex_discovery(issuer).replace(
        &format!("\"{issuer}/token\""),
        &format!("\"{}/token\"", issuer.replacen("http://", "https://", 1)),
    )
}

/// A replica that reads the same issuer but another token endpoint: the discovery row fails
/// naming the field, each value and the replicas that read it.
#[test]
fn a_replica_reading_another_discovery_document_is_named() {
    if !support::lab_or_skip("a_replica_reading_another_discovery_document_is_named") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let url = format!("http://{SERVICE_NAME}/orchestrator");
    lab.set_url(&url);
    let odd = "devtron-7d9f8b6c5-lab07";
    lab.add_replica(odd, false);
    let issuer = format!("{url}/api/dex");
    lab.replica_sees_discovery(odd, &issuer, discovery_https_token)
        .expect("odd replica");
    let r = dexcheck(&lab, &[]);
    let pod = r.check("pod.discovery");
    assert_eq!(pod["status"], "fail", "{pod:#}");
    assert_eq!(pod["class"], "discovery_differs", "{pod:#}");
    let msg = pod["message"].as_str().unwrap();
    let https = issuer.replacen("http://", "https://", 1);
    assert!(
        msg.contains(&format!(
            "token_endpoint: {issuer}/token at {APP_POD}; {https}/token at {odd}"
        )),
        "{msg}"
    );
    assert!(!msg.contains("jwks_uri"), "{msg}");
    assert!(
        pod["remedy"].as_str().unwrap().contains("restart"),
        "{pod:#}"
    );
}

/// With cluster access the Dex pod's image names the release whose document URL must serve: a
/// pod of v2.45.1 while URL answers with v2.30's grant types means another Dex answers at URL.
#[test]
fn a_document_of_another_release_than_the_dex_pods_image_is_named() {
    if !support::lab_or_skip("a_document_of_another_release_than_the_dex_pods_image_is_named") {
        return;
    }
    let mut lab = Lab::start().expect("lab");
    lab.forward(8080).expect("forward 8080");
    lab.set_url("http://localhost:8080/orchestrator");
    // The lab's Dex pod runs v2.30.2, as its document: no finding.
    let r = dexcheck(&lab, &[]);
    assert!(
        r.report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != "compare.grant_types"),
        "{:#}",
        r.report
    );
    if let Ok(mut pods) = lab.state.pods.lock() {
        for p in pods.iter_mut().filter(|p| p["metadata"]["name"] == DEX_POD) {
            p["spec"]["containers"][0]["image"] =
                Value::String("ghcr.io/dexidp/dex:v2.45.1".into());
        }
    }
    let r = dexcheck(&lab, &[]);
    let g = r.check("compare.grant_types");
    assert_eq!(g["status"], "warn", "{g:#}");
    assert!(
        g["message"]
            .as_str()
            .unwrap()
            .contains("the Dex pod runs ghcr.io/dexidp/dex:v2.45.1"),
        "{g:#}"
    );
    assert!(g["expected"].as_str().unwrap().contains("token-exchange"));
}
