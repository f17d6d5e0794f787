//! dexcheck's live probes against real Dex (v2.30.2 as Devtron ships it, and v2.45.1), built
//! from the Go module proxy by `scripts/build-dex`, served as Devtron's embedded Dex on loopback
//! with a Devtron-length issuer (`URL/orchestrator/api/dex`). Dex's own pages decide the rows:
//! a refusal written after Dex's page header, in each release's words.

mod support;

use serde_json::Value;
use support::dex::{self, Client, VERSIONS};

const BIN: &str = env!("CARGO_BIN_EXE_dexcheck");

/// A Devtron SSO connector as the dashboard saves it (its IdP is not probed here: --no-idp).
fn sso(url: &str) -> String {
    format!(
        "name: mock\nid: mock\nconfig:\n  issuer: https://idp.invalid/realms/main\n  clientID: devtron\n  clientSecret: REAL-DEX-TEST-SECRET\n  redirectURI: {url}/api/dex/callback\n"
    )
}

fn check(url: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sso.yaml");
    std::fs::write(&file, sso(url)).unwrap();
    let mut c = std::process::Command::new(BIN);
    c.arg("check")
        .arg(&file)
        .args(["--app", "devtron", "--url", url, "--no-pods", "--no-idp"])
        .args(["-o", "json", "--timeout", "3"]);
    for k in support::PROXY_VARS {
        c.env_remove(k);
    }
    let o = c.output().expect("spawn");
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn row<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id}: {r:#}"))
}

const MOCK: &str = "- type: mockCallback\n  id: mock\n  name: Example\n";

/// Devtron's client `argo-cd` with the callback Devtron sends, a callback Dex does not list, and
/// a Dex that knows another client: what `browser.dex_auth` says against each release.
#[test]
fn browser_dex_auth_reads_real_dex_pages() {
    for version in VERSIONS {
        let Some(bin) = dex::binary_or_skip("browser_dex_auth_reads_real_dex_pages", version)
        else {
            return;
        };
        let issuer = "http://localhost:{port}/orchestrator/api/dex";
        let cases = [
            ("{url}/auth/callback", "argo-cd", None),
            (
                "{url}/elsewhere",
                "argo-cd",
                Some("unregistered_redirect_uri"),
            ),
            (
                "{url}/auth/callback",
                "other-app",
                Some("invalid_client_id"),
            ),
        ];
        for (redirect, id, want) in cases {
            let d = start_for(&bin, issuer, id, redirect);
            let url = format!("http://localhost:{}/orchestrator", d.port);
            let r = check(&url);
            let auth = row(&r, "browser.dex_auth");
            match want {
                None => {
                    assert_eq!(auth["status"], "pass", "{version}: {auth:#}");
                    // Stock Dex of either release differs from no Dex release that matters.
                    let compared: Vec<&Value> = r["checks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|c| c["id"].as_str().unwrap().starts_with("compare."))
                        .collect();
                    assert!(compared.is_empty(), "{version}: {compared:#?}");
                    let shape = if *version == "v2.30" {
                        "Dex v2.37 or earlier"
                    } else {
                        "Dex v2.40 or later"
                    };
                    let message = row(&r, "browser.discovery")["message"].as_str().unwrap();
                    assert!(message.contains(shape), "{version}: {message}");
                    for id in ["browser.discovery", "browser.keys", "browser.token"] {
                        assert_eq!(row(&r, id)["status"], "pass", "{version} {id}: {r:#}");
                    }
                }
                Some(class) => {
                    assert_eq!(auth["class"], class, "{version}: {auth:#}");
                    let said = auth["error"].as_str().unwrap();
                    let words = if class == "invalid_client_id" {
                        "Invalid client_id"
                    } else {
                        "Unregistered redirect_uri"
                    };
                    assert!(said.starts_with(words), "{version}: {said}");
                    // v2.30.2 quotes the value, HTML-escaped on the page: read as Dex shows it.
                    assert!(!said.contains("&#34;"), "{version}: {said}");
                }
            }
        }
    }
}

/// Starts Dex with `issuer` and one client whose redirect is `redirect` with `{url}` standing for
/// Devtron's URL on Dex's own port.
fn start_for(bin: &std::path::Path, issuer: &str, id: &str, redirect: &str) -> dex::RealDex {
    let port = support::procs::free_port();
    let issuer = issuer.replace("{port}", &port.to_string());
    let url = format!("http://localhost:{port}/orchestrator");
    let redirect = redirect.replace("{url}", &url);
    dex::start_on(
        bin,
        port,
        &issuer,
        &[Client {
            id,
            secret: "app-secret",
            redirect: &redirect,
        }],
        MOCK,
    )
}
