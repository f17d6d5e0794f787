//! The route behind URL from a `kubectl get … -o yaml` dump (`--objects`), offline: what serves
//! the host and Dex's path, the allow-list against the app pod's node, CoreDNS, the edge
//! certificate, PROXY protocol; and a dump that cannot be read is refused by name.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

const CONFIG: &str = "fixtures/seed-ingress.yaml";
const OBJECTS: &str = "fixtures/route/devtron-objects.yaml";

fn check(objects: &[&str]) -> (Value, String) {
    let mut c = cargo_bin_cmd!("dexcheck");
    c.args(["check", CONFIG, "--offline", "-o", "json"]);
    for o in objects {
        c.args(["--objects", o]);
    }
    let out = c.output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        text,
    )
}

fn row<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or(&Value::Null)
}

/// Writes `text` as a dump in a temporary directory and returns its path.
fn dump(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn a_dump_names_the_route_its_allow_list_and_its_certificate() {
    let (v, text) = check(&[OBJECTS, "fixtures/route/coredns-plain.yaml"]);
    let serves = row(&v, "route.serves");
    assert_eq!(serves["status"], "pass", "{serves}");
    let m = serves["message"].as_str().unwrap();
    assert!(
        m.contains("Ingress devtroncd/devtron-ingress (path /orchestrator Prefix)")
            && m.contains("targetPort 8080")
            && m.contains("Dex's issuer /orchestrator/api/dex"),
        "{m}"
    );
    let allow = row(&v, "route.allow_list");
    assert_eq!(allow["status"], "warn");
    let m = allow["message"].as_str().unwrap();
    assert!(
        m.contains("10.0.0.0/8, 192.168.0.0/16")
            && m.contains("worker-1 (InternalIP 172.16.0.5, ExternalIP 34.120.1.2)")
            && !m.contains("worker-2"),
        "{m}"
    );
    assert!(
        allow["remedy"]
            .as_str()
            .unwrap()
            .contains("whitelist-source-range=10.0.0.0/8,192.168.0.0/16,172.16.0.5/32"),
        "{allow}"
    );
    let tls = row(&v, "route.tls");
    assert_eq!(tls["status"], "fail");
    assert!(
        tls["message"]
            .as_str()
            .unwrap()
            .contains("x509: certificate is valid for other.example.com, not devtron.example.com")
    );
    assert_eq!(row(&v, "route.proxy_protocol")["status"], "warn");
    assert_eq!(row(&v, "route.dns")["status"], "pass");
    assert_eq!(v["route"]["read"].as_array().map(Vec::len), Some(7));
    // The Secret's key is dropped as it is read: neither its text nor its base64 is printed.
    assert!(!text.contains("FIXTURE-KEY") && !text.contains("RklYVFVSRS1LRVk"));
}

#[test]
fn a_coredns_rewrite_keeps_the_pods_requests_inside() {
    let (v, _) = check(&[OBJECTS, "fixtures/route/coredns-rewrite.yaml"]);
    let dns = row(&v, "route.dns");
    assert!(
        dns["message"]
            .as_str()
            .unwrap()
            .contains("as ingress-nginx-controller.ingress-nginx.svc.cluster.local"),
        "{dns}"
    );
    // Inside, the pod's own address (10.244.1.17) is what the allow-list sees, and it is in.
    let allow = row(&v, "route.allow_list");
    assert_eq!(allow["status"], "pass", "{allow}");
    assert!(
        allow["message"]
            .as_str()
            .unwrap()
            .contains("pod IP 10.244.1.17")
    );
}

#[test]
fn a_rule_that_misses_the_app_and_a_port_that_does_not_reach_it_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(OBJECTS).unwrap();
    // The /orchestrator path removed: `/` goes to the dashboard.
    let no_path = text
        .replacen("        - path: /orchestrator\n          pathType: Prefix\n          backend:\n            service:\n              name: devtron-service\n              port:\n                number: 80\n", "", 1)
        .replace("              name: devtron-service\n              port:\n                name: http", "              name: dashboard-service\n              port:\n                name: http");
    let (v, _) = check(&[&dump(&dir, "a.yaml", &no_path)]);
    let serves = row(&v, "route.serves");
    assert_eq!(serves["status"], "fail", "{serves}");
    assert!(
        serves["message"]
            .as_str()
            .unwrap()
            .contains("(path / Prefix) → Service devtroncd/dashboard-service port http: the Service devtroncd/dashboard-service is not in the objects given"),
        "{serves}"
    );
    // The Service's targetPort resolves to 80, where the orchestrator does not listen.
    let wrong_port = text.replace(
        "    port: 8080\n    protocol: TCP",
        "    port: 80\n    protocol: TCP",
    );
    let (v, _) = check(&[&dump(&dir, "b.yaml", &wrong_port)]);
    let serves = row(&v, "route.serves");
    assert_eq!(serves["status"], "fail");
    assert!(
        serves["message"].as_str().unwrap().contains(
            "targetPort 80 → 1 of 1 endpoints ready, but the orchestrator listens on 8080"
        ),
        "{serves}"
    );
    // The header budget: ingress-nginx's default 4k leaves it to the token's size; 16k has room.
    let (v, _) = check(&[OBJECTS]);
    let budget = row(&v, "route.header_budget");
    assert_eq!(budget["status"], "unknown");
    assert!(
        budget["message"]
            .as_str()
            .unwrap()
            .contains("proxy-buffer-size 4k (ingress-nginx's default)")
    );
    let roomy = text.replace(
        "    annotations:\n      nginx.ingress.kubernetes.io/whitelist",
        "    annotations:\n      nginx.ingress.kubernetes.io/proxy-buffer-size: 16k\n      nginx.ingress.kubernetes.io/whitelist",
    );
    let (v, _) = check(&[&dump(&dir, "d.yaml", &roomy)]);
    let budget = row(&v, "route.header_budget");
    assert_eq!(budget["status"], "pass", "{budget:#}");
    assert!(
        budget["message"]
            .as_str()
            .unwrap()
            .contains("room for a token of about 15.4 KB")
    );
    let not_ready = text.replace("      ready: true", "      ready: false");
    let (v, _) = check(&[&dump(&dir, "c.yaml", &not_ready)]);
    assert!(
        row(&v, "route.serves")["message"]
            .as_str()
            .unwrap()
            .contains("has no ready endpoint (1 not ready)")
    );
}

#[test]
fn a_dump_that_cannot_be_read_is_refused_by_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dump(
        &dir,
        "bad.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: x, namespace: y}\nspec:\n  ports: [{port: eighty}]\n",
    );
    let out = cargo_bin_cmd!("dexcheck")
        .args(["check", CONFIG, "--offline", "--objects", &bad])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml") && err.contains("Service"), "{err}");
    let out = cargo_bin_cmd!("dexcheck")
        .args([
            "check",
            CONFIG,
            "--offline",
            "--objects",
            "/nonexistent/objects.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The Ingress, Gateway API and Traefik examples their projects publish (verbatim in
/// `fixtures/route/published/`, sources in `SOURCES.md`) parse, and each names the backend its
/// own rule gives for the host and path (URL set to them with `--url`).
#[test]
fn the_projects_own_route_examples_are_read_as_their_controllers_read_them() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "k8s-minimal-ingress",
            "https://any.example.com/testpath",
            "Ingress default/minimal-ingress (path /testpath Prefix) → Service default/test port 80",
        ),
        (
            "k8s-simple-fanout-example",
            "https://foo.bar.com/bar",
            "(path /bar Prefix) → Service default/service2 port 8080",
        ),
        // A host the named rules do not list falls to the rule without a host.
        (
            "k8s-name-virtual-host-ingress-no-third-host",
            "https://third.bar.com/",
            "→ Service default/service3 port 80",
        ),
        (
            "k8s-name-virtual-host-ingress",
            "https://bar.foo.com/",
            "→ Service default/service2 port 80",
        ),
        // `*.foo.com` matches one label only.
        (
            "k8s-ingress-wildcard-host",
            "https://x.foo.com/foo",
            "→ Service default/service2 port 80",
        ),
        (
            "k8s-tls-example-ingress",
            "https://https-example.foo.com/",
            "→ Service default/service1 port 80",
        ),
        (
            "k8s-ingress-resource-backend",
            "https://x.example.com/icons",
            "a backend that is not a Service",
        ),
        (
            "gateway-api-foo-httproute",
            "https://foo.example.com/login",
            "HTTPRoute default/foo-route (path /login PathPrefix) → Service default/foo-svc port 8080",
        ),
        (
            "gateway-api-gateway",
            "http://example.com/",
            "HTTPRoute default/example-route (path / PathPrefix) on Gateway default/example-gateway listener http (HTTP 80) → Service default/example-svc port 80",
        ),
        // That Gateway listens for plain HTTP on 80 only.
        (
            "gateway-api-gateway",
            "https://example.com/",
            "whose listeners (http HTTP 80) do not accept example.com over HTTPS on 443",
        ),
    ];
    let mut wrong = Vec::new();
    for (file, url, want) in cases {
        let path = format!("fixtures/route/published/{file}.yaml");
        let out = cargo_bin_cmd!("dexcheck")
            .args([
                "check",
                CONFIG,
                "--offline",
                "-o",
                "json",
                "--url",
                url,
                "--objects",
                &path,
            ])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let got = row(&v, "route.serves")["message"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if !got.contains(want) {
            wrong.push(format!("{file}: want {want:?}\n  got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The rest parse: a Gateway with TLS listeners, Traefik's Middlewares and annotated Ingress.
    for file in std::fs::read_dir("fixtures/route/published").unwrap() {
        let p = file.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml") {
            let out = cargo_bin_cmd!("dexcheck")
                .args(["check", CONFIG, "--offline", "--objects"])
                .arg(&p)
                .output()
                .unwrap();
            assert_ne!(
                out.status.code(),
                Some(2),
                "{}: {}",
                p.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Behind a port-forward URL the route has no rows, but an Ingress host that already reaches the
/// app is a what-if column, with what the pod's side still needs (CoreDNS, the allow-list).
#[test]
fn an_ingress_host_that_reaches_the_app_is_a_what_if_with_its_objects() {
    let out = cargo_bin_cmd!("dexcheck")
        .args([
            "check",
            "fixtures/seed-localhost.yaml",
            "--offline",
            "-o",
            "json",
        ])
        .args([
            "--objects",
            OBJECTS,
            "--objects",
            "fixtures/route/coredns-plain.yaml",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        row(&v, "route.serves").is_null(),
        "a port-forward URL has no route"
    );
    let c = v["candidates"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|c| c["url"] == "https://devtron.example.com/orchestrator")
        })
        .unwrap_or(&Value::Null);
    assert_eq!(c["pod"]["label"], "allow_list", "{c:#}");
    let needs = c["requires"].as_str().unwrap_or("");
    assert!(
        needs.contains("Ingress devtroncd/devtron-ingress (path /orchestrator Prefix) already routes devtron.example.com/orchestrator to the app")
            && needs.contains("rewrite name exact devtron.example.com ingress-nginx-controller.ingress-nginx.svc.cluster.local")
            && needs.contains("whitelist-source-range=10.0.0.0/8,192.168.0.0/16,172.16.0.5/32"),
        "{needs}"
    );
}

/// A login's HAR measures what the header budget could only bound: the callback's cookies
/// against the Ingress's proxy-buffer-size. The recorded working login fits ingress-nginx's
/// default 4k; the one with 400 groups (two cookie chunks) does not, and nginx would answer 502.
#[test]
fn a_hars_callback_measures_the_header_budget() {
    let run = |har: &str| {
        let out = cargo_bin_cmd!("dexcheck")
            .args(["check", CONFIG, "--offline", "-o", "json"])
            .args(["--objects", OBJECTS, "--har", har])
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null)
    };
    let v = run("fixtures/har/working-login.har");
    let budget = row(&v, "route.header_budget");
    assert_eq!(budget["status"], "pass", "{budget:#}");
    assert!(
        budget["message"].as_str().is_some_and(|m| m.contains("set")
            && m.contains("from the HAR")
            && m.contains("it fits")),
        "{budget:#}"
    );
    let v = run("fixtures/har/chunked-token.har");
    let budget = row(&v, "route.header_budget");
    assert_eq!(budget["status"], "fail", "{budget:#}");
    assert!(
        budget["message"]
            .as_str()
            .is_some_and(|m| m.contains("nginx answers 502 at the callback")),
        "{budget:#}"
    );
    assert!(
        budget["remedy"]
            .as_str()
            .is_some_and(|r| r.contains("proxy-buffer-size: \"16k\"")),
        "{budget:#}"
    );
}
