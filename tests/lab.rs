//! The lab itself: the real `kubectl` accepts the test API server, the relay plays port-forward,
//! and the pod namespace sees its own loopback and its own names — the seed's two failures with
//! real sockets. Needs root, `ip`, `kubectl` and `curl` (skips otherwise, unless DEXCHECK_REQUIRE_LAB=1).

mod support;

use std::process::Output;

use support::lab::{self, APP_POD, Lab, SERVICE_NAME};

fn run(mut c: std::process::Command) -> Output {
    c.output().expect("spawn")
}

fn text(o: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn real_kubectl_gets_pods_secrets_and_execs() {
    if !support::lab_or_skip("real_kubectl_gets_pods_secrets_and_execs") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let o = run(lab.kubectl(&["get", "pods", "-n", "devtroncd"]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(APP_POD),
        "{}",
        text(&o)
    );

    let o = run(lab.kubectl(&[
        "get",
        "pods",
        "-n",
        "devtroncd",
        "-l",
        "app=devtron",
        "-o",
        "name",
    ]));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("pod/{APP_POD}"),
        "{}",
        text(&o)
    );

    let o = run(lab.kubectl(&[
        "get",
        "secret",
        "devtron-secret",
        "-n",
        "devtroncd",
        "-o",
        "yaml",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("dex.config:"),
        "{}",
        text(&o)
    );

    let discovery = "http://localhost:8080/orchestrator/api/dex/.well-known/openid-configuration";
    let o = run(lab.exec_app_pod(&["curl", "-sS", discovery]));
    assert!(o.status.success(), "{}", text(&o));
    let doc: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert_eq!(
        doc["issuer"],
        format!("http://localhost:{}/orchestrator/api/dex", lab.pf_port)
    );

    let o = run(lab.exec_app_pod(&["sh", "-c", "exit 3"]));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));

    // stdout and stderr arrive on their own channels.
    let o = run(lab.exec_app_pod(&["sh", "-c", "echo out; echo err >&2"]));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "err\n");

    // stdin reaches the command and its close ends it.
    let mut c = lab.kubectl(&["exec", "-i", APP_POD, "-n", "devtroncd", "--", "cat"]);
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"through stdin\n")
        .expect("write");
    let o = child.wait_with_output().expect("wait");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "through stdin\n",
        "{}",
        text(&o)
    );

    assert_eq!(lab.state.exec_count("devtroncd", APP_POD), 4);
}

#[test]
fn the_seeds_failures_with_real_sockets() {
    if !support::lab_or_skip("the_seeds_failures_with_real_sockets") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let url = format!(
        "http://127.0.0.1:{}/orchestrator/api/dex/.well-known/openid-configuration",
        lab.pf_port
    );
    // The workstation reaches the orchestrator through the relay (the port-forward).
    let mut c = lab.in_ws("curl");
    c.args(["-sS", "--max-time", "5", &url]);
    let o = run(c);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"issuer\""));
    // The same URL from inside the pod: the pod's own loopback, nothing on that port.
    let o = run(lab.exec_app_pod(&["curl", "-sS", "--max-time", "5", &url]));
    assert_eq!(
        o.status.code(),
        Some(7),
        "curl 7 = connection refused\n{}",
        text(&o)
    );
    let err = String::from_utf8_lossy(&o.stderr).to_lowercase();
    assert!(
        err.contains("refused") || err.contains("couldn't connect"),
        "{}",
        text(&o)
    );
    // The in-cluster name resolves in the pod, not on the workstation.
    let o = run(lab.exec_app_pod(&["getent", "hosts", SERVICE_NAME]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(lab::SERVICE_ADDR));
    let mut c = lab.in_ws("getent");
    c.args(["hosts", SERVICE_NAME]);
    assert_eq!(
        run(c).status.code(),
        Some(2),
        "the service name must not resolve on the workstation"
    );
    // …and in the pod the service answers for the orchestrator, and Dex answers on its service.
    let svc =
        format!("http://{SERVICE_NAME}/orchestrator/api/dex/.well-known/openid-configuration");
    let o = run(lab.exec_app_pod(&["curl", "-sS", "--max-time", "5", &svc]));
    assert!(o.status.success(), "{}", text(&o));
    let dex = "http://argocd-dex-server.devtroncd:5556/orchestrator/api/dex/.well-known/openid-configuration";
    let o = run(lab.exec_app_pod(&["curl", "-sS", "--max-time", "5", dex]));
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn faults_on_demand_and_an_image_without_curl() {
    if !support::lab_or_skip("faults_on_demand_and_an_image_without_curl") {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.image(false).expect("image");
    let url = "http://localhost:8080/orchestrator/api/dex/.well-known/openid-configuration";
    let o = run(lab.exec_app_pod(&["sh", "-c", "command -v curl || echo absent"]));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "absent",
        "curl must be absent: {}",
        text(&o)
    );
    let o = run(lab.exec_app_pod(&["wget", "-q", "-O", "-", url]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"issuer\""));

    lab.state
        .faults
        .exec_forbidden
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let o = run(lab.exec_app_pod(&["true"]));
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot create resource \"pods/exec\""),
        "{}",
        text(&o)
    );
    lab.state
        .faults
        .exec_forbidden
        .store(false, std::sync::atomic::Ordering::SeqCst);

    lab.state
        .faults
        .pods_missing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let o = run(lab.kubectl(&["get", "pod", APP_POD]));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not found"),
        "{}",
        text(&o)
    );
}

#[test]
fn nothing_outlives_a_lab() {
    if !support::lab_or_skip("nothing_outlives_a_lab") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let (ws, pod) = (lab.ws.clone(), lab.pod.clone());
    let present = lab::lab_namespaces();
    assert!(present.contains(&ws) && present.contains(&pod));
    let dir = lab.dir.clone();
    // A panic inside a test still removes the lab (drop runs while unwinding).
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _lab = lab;
        panic!("simulated test failure");
    }));
    assert!(r.is_err());
    let after = lab::lab_namespaces();
    assert!(
        !after.contains(&ws) && !after.contains(&pod),
        "left behind: {after:?}"
    );
    assert!(!std::path::Path::new(&format!("/etc/netns/{ws}")).exists());
    assert!(!dir.exists());
    // A lab left by a killed run (its pid no longer exists) is removed by the next start.
    let stale = "dxl999999999x0w";
    std::process::Command::new("ip")
        .args(["netns", "add", stale])
        .status()
        .expect("ip");
    drop(Lab::start().expect("lab"));
    assert!(!lab::lab_namespaces().contains(&stale.to_string()));
}

#[test]
fn ephemeral_container_patch_through_kubectl() {
    if !support::lab_or_skip("ephemeral_container_patch_through_kubectl") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let patch = r#"{"spec":{"ephemeralContainers":[{"name":"dexcheck-probe","image":"busybox:1.36","targetContainerName":"devtron","command":["sleep","300"]}]}}"#;
    let o = run(lab.kubectl(&[
        "patch",
        "pod",
        APP_POD,
        "--subresource=ephemeralcontainers",
        "--type=merge",
        "-p",
        patch,
    ]));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(lab.kubectl(&["get", "pod", APP_POD, "-o", "jsonpath={.status.ephemeralContainerStatuses[0].name} {.spec.ephemeralContainers[0].targetContainerName}"]));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "dexcheck-probe devtron",
        "{}",
        text(&o)
    );
}
