//! Test support: the lab (network namespaces, a port-forward relay, servers in the "pod") and a
//! Kubernetes API test server that the real `kubectl` accepts.
#![allow(dead_code)]

pub mod dex;
pub mod ingress;
pub mod kube_api;
pub mod lab;
pub mod ldap;
pub mod netns;
pub mod procs;
pub mod servers;
pub mod web;

/// The proxy variables a test clears so the host's settings cannot steer the run.
pub const PROXY_VARS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Whether the lab can run here: root, `ip` and `kubectl`. When it cannot, a test says why on
/// stderr and returns early, unless `DEXCHECK_REQUIRE_LAB=1`, in which case it fails.
pub fn lab_or_skip(test: &str) -> bool {
    let mut missing = Vec::new();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        missing.push("root");
    }
    for tool in ["ip", "kubectl", "curl"] {
        let found = std::process::Command::new("sh")
            .args(["-c", "command -v \"$1\" >/dev/null", "sh", tool])
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            missing.push(tool);
        }
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!("{test}: the lab needs {}; skipped", missing.join(", "));
    if std::env::var("DEXCHECK_REQUIRE_LAB").is_ok_and(|v| v == "1") {
        panic!("{msg} (DEXCHECK_REQUIRE_LAB=1 forbids skipping)");
    }
    eprintln!("{msg}");
    false
}

/// Clears the proxy variables from `c`, so that the host's settings cannot steer the run.
pub fn clear_proxies(c: &mut std::process::Command) {
    for k in PROXY_VARS {
        c.env_remove(k);
    }
}

/// The checks of a JSON report whose id starts with `prefix` (`compare.`).
pub fn rows_prefixed<'a>(r: &'a serde_json::Value, prefix: &str) -> Vec<&'a serde_json::Value> {
    r["checks"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c["id"].as_str().is_some_and(|id| id.starts_with(prefix)))
                .collect()
        })
        .unwrap_or_default()
}

/// The JSON report a `dexcheck … -o json` run printed (a panic shows both streams otherwise).
pub fn json_report(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// The check `id` of a JSON report.
pub fn row<'a>(r: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    r["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {r:#}"))
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id}: {r:#}"))
}

fn read_schema(path: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The `dexcheck/fleet/v1` schema, with the `dexcheck/v1` schema it refers to for each report.
pub fn fleet_schema() -> jsonschema::Validator {
    let base = read_schema("schemas/dexcheck-v1.schema.json");
    let id = base["$id"].as_str().unwrap().to_string();
    jsonschema::options()
        .with_resource(id, jsonschema::Resource::from_contents(base).unwrap())
        .build(&read_schema("schemas/dexcheck-fleet-v1.schema.json"))
        .unwrap()
}

/// Every way `doc` breaks the fleet schema.
pub fn fleet_schema_errors(doc: &serde_json::Value) -> Vec<String> {
    fleet_schema()
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}
