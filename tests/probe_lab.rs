//! Workstation probes inside the lab's namespaces: a black-holed address, the seed's ingress case
//! pinned with --resolve, and the port-forward case through the relay. Needs root (skips
//! otherwise, unless DEXCHECK_REQUIRE_LAB=1).

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::lab::Lab;
use support::web::{Pki, Reply, Web, dex_routes};

const BIN: &str = env!("CARGO_BIN_EXE_dexcheck");

fn json(mut c: Command) -> (Value, i32, Duration) {
    let start = Instant::now();
    let o = c.output().expect("spawn");
    let elapsed = start.elapsed();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {} stderr {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (v, o.status.code().unwrap_or(-1), elapsed)
}

fn check<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {r:#}"))
}

fn dexcheck_in_ws(lab: &Lab, args: &[&str]) -> Command {
    let mut c = lab.in_ws(BIN);
    c.arg("check").args(args).args(["-o", "json", "--no-pods"]);
    support::clear_proxies(&mut c);
    c
}

#[test]
fn black_holed_address_is_connect_timeout_within_the_deadline() {
    if !support::lab_or_skip("black_holed_address_is_connect_timeout_within_the_deadline") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let hole = "198.18.0.99";
    lab.black_hole(hole).expect("black hole neighbour");
    let url = format!("http://{hole}/orchestrator");
    let (r, code, elapsed) = json(dexcheck_in_ws(
        &lab,
        &[
            "fixtures/dex-github.yaml",
            "--no-idp",
            "--url",
            &url,
            "--timeout",
            "1",
        ],
    ));
    let c = check(&r, "browser.discovery");
    assert_eq!(c["class"], "connect_timeout", "{c:#}");
    assert!(
        c["error"]
            .as_str()
            .unwrap()
            .ends_with(&format!("dial tcp {hole}:80: i/o timeout")),
        "{c:#}"
    );
    assert_eq!(code, 1);
    // The budget is three times --timeout; a black hole must not cost more than one.
    assert!(elapsed < Duration::from_millis(3000 + 1500), "{elapsed:?}");
}

/// TLS on 127.0.0.1:443 inside the workstation namespace for the seed's ingress host and its
/// Cognito issuer; `discovery_issuer` is what the served Dex document claims.
fn ingress(lab: &Lab, pki: &Pki, discovery_issuer: &str) -> Web {
    let web = Web::in_netns(&lab.ws);
    let (l, _) = web.bind_at("127.0.0.1:443");
    let mut routes = dex_routes("https://devtron.example.com/orchestrator/api/dex");
    routes.insert(
        "/orchestrator/api/dex/.well-known/openid-configuration".into(),
        Reply::json(support::servers::dex_discovery(discovery_issuer)),
    );
    routes.insert(
        "/orchestrator".into(),
        Reply::new(200, "text/html", "<html>Devtron</html>"),
    );
    let idp = "https://cognito-idp.REGION.amazonaws.com/USER-POOL-ID";
    routes.insert(
        "/USER-POOL-ID/.well-known/openid-configuration".into(),
        Reply::json(serde_json::json!({"issuer": idp, "authorization_endpoint": format!("{idp}/authorize"), "token_endpoint": format!("{idp}/token"), "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"], "jwks_uri": format!("{idp}/.well-known/jwks.json"), "response_types_supported": ["code"], "id_token_signing_alg_values_supported": ["RS256"]}).to_string()),
    );
    // As Cognito answers a valid request: on to its hosted sign-in page; and a made-up code from
    // an accepted client: invalid_grant.
    routes.insert(
        "/USER-POOL-ID/authorize".into(),
        Reply::new(302, "text/html", "").header(
            "location",
            "/login?client_id=4ex4mpl3cl13nt1d&response_type=code",
        ),
    );
    routes.insert(
        "/USER-POOL-ID/token".into(),
        Reply::new(
            400,
            "application/json;charset=UTF-8",
            r#"{"error":"invalid_grant"}"#,
        ),
    );
    web.serve_https(
        l,
        routes,
        pki.server(
            &["devtron.example.com", "cognito-idp.region.amazonaws.com"],
            false,
        ),
    );
    web
}

fn ingress_args(ca: &str) -> Vec<String> {
    [
        "fixtures/seed-ingress.yaml",
        "--resolve",
        "devtron.example.com:443:127.0.0.1",
        "--resolve",
        "cognito-idp.region.amazonaws.com:443:127.0.0.1",
        "--cacert",
        ca,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn seed_ingress_case_pinned_with_resolve() {
    if !support::lab_or_skip("seed_ingress_case_pinned_with_resolve") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let pki = Pki::new();
    let ca = pki.ca_file(&lab.dir);
    let args = ingress_args(ca.to_str().unwrap());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let good = ingress(
        &lab,
        &pki,
        "https://devtron.example.com/orchestrator/api/dex",
    );
    let (r, code, _) = json(dexcheck_in_ws(&lab, &args));
    for id in [
        "browser.app",
        "browser.discovery",
        "browser.keys",
        "browser.token",
        "browser.dex_auth",
        "browser.idp_discovery",
        "idp.authorize",
        "idp.client_auth",
    ] {
        let c = check(&r, id);
        assert_eq!(c["status"], "pass", "{id}: {c:#}");
        assert_eq!(c["observed"], true, "{id}");
    }
    assert_eq!(r["live"]["resolve"].as_array().unwrap().len(), 2);
    assert_eq!(code, 0, "{r:#}");
    drop(good);

    let _bad = ingress(&lab, &pki, "https://devtron.example.com/api/dex");
    let (r, code, _) = json(dexcheck_in_ws(&lab, &args));
    let c = check(&r, "browser.discovery");
    assert_eq!(c["class"], "issuer_mismatch", "{c:#}");
    assert_eq!(
        c["expected"],
        "https://devtron.example.com/orchestrator/api/dex"
    );
    assert_eq!(c["actual"], "https://devtron.example.com/api/dex");
    let err = c["error"].as_str().unwrap();
    assert!(
        err.contains("expected \"https://devtron.example.com/orchestrator/api/dex\" got \"https://devtron.example.com/api/dex\""),
        "{err}"
    );
    assert_eq!(code, 1);
    assert_eq!(r["verdict"]["blocking_check"], "browser.discovery");
}

#[test]
fn port_forward_case_workstation_side_passes_through_the_relay() {
    if !support::lab_or_skip("port_forward_case_workstation_side_passes_through_the_relay") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let url = lab.pf_url();
    let (r, code, _) = json(dexcheck_in_ws(
        &lab,
        &["fixtures/dex-github.yaml", "--no-idp", "--url", &url],
    ));
    for id in [
        "browser.app",
        "browser.discovery",
        "browser.keys",
        "browser.token",
    ] {
        assert_eq!(check(&r, id)["status"], "pass", "{id}: {:#}", check(&r, id));
    }
    // The pod side is still the offline prediction: its own loopback refuses.
    let pod = check(&r, "pod.discovery");
    assert_eq!(pod["class"], "refused");
    assert_eq!(pod["observed"], false);
    assert_eq!(code, 1);
}
