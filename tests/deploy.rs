//! The manifests in `deploy/`: they parse, hold the kinds the README names, run dexcheck as the
//! least-privileged ServiceAccount, and their RBAC grants exactly what dexcheck uses (no
//! wildcard, no ClusterRole, secrets only by name; the optional route grants in `rbac-route.yaml`
//! hold the one ClusterRole, for cluster-scoped lists); and every built-in kind validates against
//! the Kubernetes API schemas (kubernetes-validate, strict: an unknown field is an error). The
//! lab's API server is a small fake with no schemas, so `kubectl apply --dry-run=server` against
//! it would prove nothing the schemas do not; it is not run.

mod support;

use std::process::Command;

use serde_json::Value;

fn docs(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_multiple::<Value>(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn kinds(docs: &[Value]) -> Vec<&str> {
    docs.iter()
        .map(|d| d["kind"].as_str().unwrap_or(""))
        .collect()
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn rbac_is_namespaced_least_privilege() {
    let d = docs("deploy/rbac.yaml");
    assert_eq!(kinds(&d), ["ServiceAccount", "Role", "RoleBinding"]);
    for doc in &d {
        assert_eq!(doc["metadata"]["namespace"], "devtroncd");
    }
    let rules = d[1]["rules"].as_array().unwrap();
    let mut granted: Vec<(String, String)> = Vec::new();
    for r in rules {
        let resources = strs(&r["resources"]);
        let verbs = strs(&r["verbs"]);
        assert!(!resources.contains(&"*") && !verbs.contains(&"*"), "{r}");
        assert_eq!(strs(&r["apiGroups"]), [""], "{r}");
        if resources.contains(&"secrets") {
            assert_eq!(strs(&r["resourceNames"]), ["devtron-secret"], "{r}");
            assert_eq!(verbs, ["get"], "{r}");
        }
        for res in &resources {
            for v in &verbs {
                granted.push((res.to_string(), v.to_string()));
            }
        }
    }
    granted.sort();
    let want: Vec<(String, String)> = [
        ("configmaps", "get"),
        ("pods", "list"),
        ("pods/exec", "create"),
        ("secrets", "get"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(granted, want);
    let binding = &d[2];
    assert_eq!(binding["roleRef"]["kind"], "Role");
    assert_eq!(binding["subjects"][0]["name"], "dexcheck");
}

/// The optional route grants: reads only (list, or get by name), no wildcard, and exactly the
/// reads `route::read` makes.
#[test]
fn route_rbac_grants_reads_only_and_exactly_the_routes() {
    let d = docs("deploy/rbac-route.yaml");
    let mut granted: Vec<String> = Vec::new();
    for doc in d
        .iter()
        .filter(|d| d["kind"] == "ClusterRole" || d["kind"] == "Role")
    {
        for r in doc["rules"].as_array().unwrap() {
            let verbs = strs(&r["verbs"]);
            let names = strs(&r["resourceNames"]);
            assert!(verbs.iter().all(|v| *v == "list" || *v == "get"), "{r}");
            assert!(!strs(&r["resources"]).contains(&"*"), "{r}");
            // A get names what it reads; only lists are unnamed.
            assert!(verbs != ["get"] || !names.is_empty(), "{r}");
            for res in strs(&r["resources"]) {
                for v in &verbs {
                    granted.push(format!("{v} {res} {}", names.join(",")).trim().to_string());
                }
            }
        }
    }
    granted.sort();
    assert_eq!(
        granted,
        [
            "get configmaps coredns,node-local-dns",
            "get configmaps ingress-nginx-controller",
            "get secrets devtron-tls",
            "list endpointslices",
            "list gateways",
            "list httproutes",
            "list ingresses",
            "list middlewares",
            "list nodes",
            "list services",
        ]
    );
    for b in d
        .iter()
        .filter(|d| d["kind"].as_str().is_some_and(|k| k.ends_with("Binding")))
    {
        assert_eq!(b["subjects"][0]["name"], "dexcheck", "{b}");
    }
}

fn pod_spec_runs_dexcheck(spec: &Value, command: &str) {
    assert_eq!(spec["serviceAccountName"], "dexcheck");
    assert_eq!(spec["securityContext"]["runAsNonRoot"], true);
    let c = &spec["containers"][0];
    assert_eq!(strs(&c["args"])[0], command, "{c}");
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
}

#[test]
fn cronjob_and_watch_run_as_the_service_account() {
    let cron = docs("deploy/cronjob.yaml");
    assert_eq!(kinds(&cron), ["CronJob"]);
    let job = &cron[0]["spec"]["jobTemplate"]["spec"];
    assert_eq!(job["backoffLimit"], 0);
    assert_eq!(job["template"]["spec"]["restartPolicy"], "Never");
    pod_spec_runs_dexcheck(&job["template"]["spec"], "check");
    let watch = docs("deploy/watch.yaml");
    assert_eq!(kinds(&watch), ["Deployment", "Service", "ServiceMonitor"]);
    let spec = &watch[0]["spec"]["template"]["spec"];
    pod_spec_runs_dexcheck(spec, "watch");
    let args = strs(&spec["containers"][0]["args"]);
    let listen = args.iter().position(|a| *a == "--listen").unwrap();
    assert_eq!(args[listen + 1], "0.0.0.0:9477");
    assert_eq!(
        spec["containers"][0]["livenessProbe"]["httpGet"]["path"],
        "/healthz"
    );
    assert_eq!(watch[1]["spec"]["ports"][0]["name"], "metrics");
    assert_eq!(watch[2]["spec"]["endpoints"][0]["port"], "metrics");
}

/// The flags the manifests pass are flags dexcheck takes.
#[test]
fn manifest_arguments_parse() {
    for (file, path) in [
        (
            "deploy/cronjob.yaml",
            "/spec/jobTemplate/spec/template/spec/containers/0/args",
        ),
        ("deploy/watch.yaml", "/spec/template/spec/containers/0/args"),
    ] {
        let d = docs(file);
        let args: Vec<String> = strs(d[0].pointer(path).unwrap())
            .iter()
            .map(|s| s.to_string())
            .collect();
        let out = assert_cmd::cargo::cargo_bin_cmd!("dexcheck")
            .args(&args)
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}: {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn dockerfile_copies_the_release_binary() {
    let text = std::fs::read_to_string("deploy/Dockerfile").unwrap();
    assert!(text.contains("COPY target/release/dexcheck /usr/local/bin/dexcheck"));
    assert!(text.contains("USER 65532"));
}

/// What kubernetes-validate (strict, Kubernetes 1.31) says of `files`: its exit status and output.
fn validate(files: &[&str]) -> (bool, String) {
    let out = Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", "1.31.0"])
        .args(files)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Every built-in kind in `deploy/` passes the API schemas with no unknown field; the
/// ServiceMonitor (a CRD the schemas do not hold) is the only one left unchecked, and a typo in a
/// field name is caught.
#[test]
fn manifests_validate_against_the_kubernetes_schemas() {
    if !support::procs::tool_or_skip("kubernetes-validate", "manifests_validate") {
        return;
    }
    let (ok, text) = validate(&[
        "deploy/rbac.yaml",
        "deploy/rbac-route.yaml",
        "deploy/cronjob.yaml",
        "deploy/watch.yaml",
    ]);
    assert!(ok, "{text}");
    for kind in [
        "serviceaccount/dexcheck",
        "role/dexcheck",
        "rolebinding/dexcheck",
        "cronjob/dexcheck",
        "deployment/dexcheck",
        "service/dexcheck",
    ] {
        assert!(
            text.contains(&format!("passed for resource {kind} ")),
            "{kind}: {text}"
        );
    }
    assert!(!text.contains("ERROR"), "{text}");
    let typo = std::fs::read_to_string("deploy/watch.yaml")
        .unwrap()
        .replacen("serviceAccountName:", "serviceAccount_Name:", 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("watch.yaml");
    std::fs::write(&path, typo).unwrap();
    let (ok, text) = validate(&[path.to_str().unwrap()]);
    assert!(!ok, "a misspelt field passed: {text}");
    assert!(
        text.contains("'serviceAccount_Name' was unexpected"),
        "{text}"
    );
}
