//! The README's first command: `dexcheck demo` stands in for a Devtron install on loopback and
//! checks it live.

mod support;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

#[test]
fn demo_shows_green_workstation_rows_and_the_seeds_lesson() {
    let mut cmd = cargo_bin_cmd!("dexcheck");
    cmd.args(["demo", "-o", "json"]);
    for k in support::PROXY_VARS {
        cmd.env_remove(k);
    }
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["mode"], "live");
    let check = |id: &str| {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id}"))
            .clone()
    };
    for id in [
        "control.discovery",
        "browser.app",
        "browser.discovery",
        "browser.keys",
        "browser.token",
        "browser.dex_auth",
        "browser.idp_discovery",
        "idp.callback",
        "browser.return_url",
    ] {
        assert_eq!(check(id)["status"], "pass", "{id}: {:#}", check(id));
    }
    // The port-forward lesson: the pod's own localhost refuses.
    assert_eq!(check("pod.discovery")["class"], "refused");
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
    assert_eq!(c[2]["recommended"], true);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("demo-upstream-secret"));
}
