//! The upstream IdP leg (`idp.authorize`, `idp.client_auth`, `idp.claims`) against independent
//! IdPs on loopback: panva oidc-provider, the bundled reference provider (`dexcheck serve`) as an
//! upstream, and every IdP family's refusal recorded in `fixtures/idp/`.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;
use support::procs::{self, Child};
use support::web::{Reply, Routes, Web};

const BIN: &str = env!("CARGO_BIN_EXE_dexcheck");
const CLIENT: &str = "dex-upstream-client";
const SECRET: &str = "FIXTURE-SECRET-idp-3d7b";
const WRONG: &str = "FIXTURE-SECRET-wrong-9a1c";
/// Dex's callback for the test's URL (nothing listens there: only the IdP leg matters).
const URL: &str = "http://127.0.0.1:1/orchestrator";
const CALLBACK: &str = "http://127.0.0.1:1/orchestrator/api/dex/callback";

/// A seed-format connector to `issuer` with Dex's callback for `url`.
fn config(
    dir: &std::path::Path,
    name: &str,
    url: &str,
    client: &str,
    secret: &str,
    issuer: &str,
) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &path,
        format!(
            "# URL: {url}\nname: upstream\nid: upstream\nconfig:\n  clientID: {client}\n  clientSecret: {secret}\n  issuer: {issuer}\n  redirectURI: {url}/api/dex/callback\n  scopes: [openid, email, profile]\n"
        ),
    )
    .unwrap();
    path
}

fn check(cfg: &std::path::Path, extra: &[&str]) -> (Value, std::process::Output) {
    let mut c = Command::new(BIN);
    c.arg("check").arg(cfg).args(["--no-pods", "-o", "json"]);
    if !extra.contains(&"--timeout") {
        c.args(["--timeout", "3"]);
    }
    c.args(extra);
    support::clear_proxies(&mut c);
    let out = c.output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (v, out)
}

fn row<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("{id} missing: {r:#}"))
}

/// The four cases against an upstream at `issuer` whose client `CLIENT`/`SECRET` registers
/// `CALLBACK`; `who` is how dexcheck names the IdP when its words tell.
fn four_cases(issuer: &str, client: &str, who: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = config(d, "good", URL, client, SECRET, issuer);
    let (r, _) = check(&good, &[]);
    for id in [
        "browser.idp_discovery",
        "idp.authorize",
        "idp.client_auth",
        "idp.claims",
    ] {
        assert_eq!(row(&r, id)["status"], "pass", "{id}: {:#}", row(&r, id));
    }
    let sent = row(&r, "idp.client_auth")["message"].as_str().unwrap();
    assert!(
        sent.contains(&format!("client secret sent to {issuer}")),
        "{sent}"
    );

    // Another URL: Dex would send a callback the IdP never registered.
    let other = "http://127.0.0.1:2/orchestrator";
    let cfg = config(d, "callback", other, client, SECRET, issuer);
    let (r, _) = check(&cfg, &[]);
    let a = row(&r, "idp.authorize");
    assert_eq!(a["class"], "idp_redirect_uri", "{a:#}");
    let remedy = a["remedy"].as_str().unwrap();
    assert!(
        remedy.contains(&format!("Register exactly {other}/api/dex/callback")),
        "{remedy}"
    );
    if let Some(who) = who {
        assert!(a["message"].as_str().unwrap().starts_with(who), "{a:#}");
    }

    let cfg = config(d, "client", URL, "no-such-client", SECRET, issuer);
    let (r, _) = check(&cfg, &[]);
    assert_eq!(row(&r, "idp.authorize")["class"], "idp_unknown_client");
    assert_eq!(row(&r, "idp.client_auth")["class"], "invalid_client");

    let cfg = config(d, "secret", URL, client, WRONG, issuer);
    let (r, out) = check(&cfg, &[]);
    assert_eq!(row(&r, "idp.authorize")["status"], "pass");
    let c = row(&r, "idp.client_auth");
    assert_eq!(c["class"], "invalid_client", "{c:#}");
    assert!(
        c["error"].as_str().unwrap().contains("invalid_client"),
        "{c:#}"
    );
    assert_eq!(out.status.code(), Some(1));

    // --no-secret-probe: the row says why nothing was sent.
    let (r, _) = check(&cfg, &["--no-secret-probe"]);
    let c = row(&r, "idp.client_auth");
    assert_eq!(c["status"], "skip", "{c:#}");
    assert!(c["message"].as_str().unwrap().contains("--no-secret-probe"));
}

#[test]
fn oidc_provider_as_the_upstream() {
    if !procs::node_or_skip("oidc_provider_as_the_upstream") {
        return;
    }
    let mut up = Command::new("node");
    up.args([
        "tests/js/upstream.mjs",
        &procs::free_port().to_string(),
        CLIENT,
        SECRET,
        CALLBACK,
    ]);
    let (_upstream, lines): (Child, _) = procs::start(up, "ready");
    let issuer = lines
        .last()
        .unwrap()
        .trim_start_matches("ready ")
        .to_string();
    four_cases(&issuer, CLIENT, None);
}

#[test]
fn reference_provider_as_the_upstream() {
    let port = procs::free_port();
    let issuer = format!("http://127.0.0.1:{port}/dex");
    let mut serve = Command::new(BIN);
    serve.args([
        "serve",
        "--issuer",
        &issuer,
        "--client-secret",
        SECRET,
        "--redirect-uri",
        CALLBACK,
    ]);
    let (_serve, _) = procs::start(serve, "Ctrl-C");
    // `dexcheck serve`'s default client is argo-cd; its refusals are Dex's own words.
    four_cases(&issuer, "argo-cd", Some("Dex refused"));
}

#[derive(Deserialize)]
struct Page {
    status: u16,
    location: Option<String>,
    #[serde(rename = "type")]
    content_type: Option<String>,
    body: Option<String>,
}

#[derive(Deserialize)]
struct Recorded {
    source: String,
    family: String,
    expect: String,
    expect_token: Option<String>,
    pages: BTreeMap<String, Page>,
}

/// A discovery document for `issuer` whose authorization and token endpoints are under
/// `endpoints` (`/authorize`, `/token`).
fn discovery(issuer: &str, endpoints: &str) -> Reply {
    Reply::json(
        serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{endpoints}/authorize"),
            "token_endpoint": format!("{endpoints}/token"),
            "jwks_uri": format!("{issuer}/keys"),
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
        })
        .to_string(),
    )
}

/// Discovery on loopback naming the recorded pages as the authorization and token endpoints.
fn routes(rec: &Recorded, addr: std::net::SocketAddr) -> Routes {
    let issuer = format!("http://{addr}");
    let mut r = Routes::new();
    r.insert(
        "/.well-known/openid-configuration".into(),
        discovery(&issuer, &issuer),
    );
    for (path, p) in &rec.pages {
        let body = p
            .body
            .clone()
            .unwrap_or_default()
            .replace("{callback}", CALLBACK);
        let mut reply = Reply::new(
            p.status,
            p.content_type.as_deref().unwrap_or("text/html"),
            body,
        );
        if let Some(l) = &p.location {
            reply = reply.header("location", &l.replace("{callback}", CALLBACK));
        }
        r.insert(path.clone(), reply);
    }
    r
}

#[test]
fn every_recorded_idp_refusal_names_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<_> = std::fs::read_dir("fixtures/idp")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 14, "{files:?}");
    let web = Web::new();
    for f in &files {
        let rec: Recorded = serde_saphyr::from_str(&std::fs::read_to_string(f).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(!rec.source.is_empty(), "{}: no source", f.display());
        let addr = web.http(|a| routes(&rec, a));
        let cfg = config(
            dir.path(),
            "rec",
            URL,
            CLIENT,
            SECRET,
            &format!("http://{addr}"),
        );
        let (r, _) = check(&cfg, &[]);
        let a = row(&r, "idp.authorize");
        assert_eq!(a["class"], rec.expect.as_str(), "{}: {a:#}", f.display());
        let msg = a["message"].as_str().unwrap();
        assert!(msg.starts_with(&rec.family), "{}: {msg}", f.display());
        if let Some(t) = &rec.expect_token {
            let c = row(&r, "idp.client_auth");
            assert_eq!(c["class"], t.as_str(), "{}: {c:#}", f.display());
        }
    }
}

#[test]
fn no_output_of_the_idp_probes_shows_a_secret() {
    let web = Web::new();
    let rec: Recorded = serde_saphyr::from_str(
        &std::fs::read_to_string("fixtures/idp/entra-unknown-client.yaml").unwrap(),
    )
    .unwrap();
    let addr = web.http(|a| routes(&rec, a));
    let dir = tempfile::tempdir().unwrap();
    for secret in [SECRET, "FIXTURE-SECRET with+plus/and%"] {
        let cfg = config(
            dir.path(),
            "s",
            URL,
            CLIENT,
            &format!("{secret:?}"),
            &format!("http://{addr}"),
        );
        for output in ["table", "json", "yaml", "junit", "github"] {
            let mut c = Command::new(BIN);
            c.arg("check")
                .arg(&cfg)
                .args(["--no-pods", "--timeout", "3", "-o", output]);
            let out = c.output().unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                all.contains("idp.client_auth") || all.contains("client secret"),
                "{all}"
            );
            assert!(!all.contains("FIXTURE-SECRET"), "-o {output}: {all}");
        }
    }
}

/// An IdP whose authorization and token endpoints never answer: both rows fail as read timeouts
/// within --timeout, and the run stays inside its budget.
#[test]
fn silent_idp_endpoints_fail_within_the_timeout() {
    let web = Web::new();
    let silent = web.silent();
    let addr = web.http(|a| {
        let mut r = Routes::new();
        r.insert(
            "/.well-known/openid-configuration".into(),
            discovery(&format!("http://{a}"), &format!("http://{silent}")),
        );
        r
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "silent",
        URL,
        CLIENT,
        SECRET,
        &format!("http://{addr}"),
    );
    let start = std::time::Instant::now();
    let (r, _) = check(&cfg, &["--timeout", "1"]);
    let took = start.elapsed();
    for id in ["idp.authorize", "idp.client_auth"] {
        let c = row(&r, id);
        assert_eq!(c["class"], "read_timeout", "{c:#}");
        assert!(c["duration_ms"].as_u64().unwrap() <= 1500, "{c:#}");
    }
    assert!(took < std::time::Duration::from_secs(3), "{took:?}");
}
