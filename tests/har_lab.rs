//! The browser's own view, with a real browser: Debian's Chromium, headless, driven by
//! playwright-core (`tests/js/browse.mjs`), logs in through the lab's port-forward topology:
//! Devtron's own login code in the pod (`devtron-login`), `dexcheck serve` as its Dex with the
//! config Devtron generates, and panva oidc-provider with a sign-in form as the upstream IdP
//! (`tests/js/signin_idp.mjs`). Chromium records the HAR; `dexcheck check --har` must name the
//! hop and the cause the browser met, and `dexcheck har sanitize` must leave none of the
//! login's secrets in it. Needs root, `ip`, node with `tests/js` installed, Debian's `chromium`
//! and `scripts/build-go-peers` (skips otherwise, unless DEXCHECK_REQUIRE_LAB=1).

mod support;

use std::process::Command;

use serde_json::Value;
use support::lab::{IDP_ADDR, INGRESS_HOST, Lab};
use support::procs::{self, Child};
use support::row;

const BIN: &str = env!("CARGO_BIN_EXE_dexcheck");
const CHROMIUM: &str = "/usr/bin/chromium";
const IDP_ISSUER: &str = "http://idp.lab.test:9000/realms/har";
const IDP_SECRET: &str = "LAB-SECRET-idp-client-5c1e";
const PASSWORD: &str = "LAB-SECRET-typed-password-93b";

/// The Go peer (Devtron's login code), or a skip.
fn login_peer(test: &str) -> Option<std::path::PathBuf> {
    if !support::lab_or_skip(test) {
        return None;
    }
    if !std::path::Path::new(CHROMIUM).is_file() {
        assert!(
            std::env::var("DEXCHECK_REQUIRE_LAB").as_deref() != Ok("1"),
            "the browser tests need Debian's chromium (apt install chromium)"
        );
        eprintln!("{test}: no {CHROMIUM}; skipped");
        return None;
    }
    support::dex::peer_or_skip(test, "devtron-login")
}

/// What one lab login needs: the URL Devtron is installed with, the port the browser forwards,
/// the redirect URI the IdP has registered for Dex, and the groups Dex adds to each token.
struct Install<'a> {
    url: &'a str,
    forward: u16,
    idp_redirect: Option<&'a str>,
    groups: u16,
}

/// The IdP, Dex and Devtron's login code, running until dropped.
struct Running {
    lab: Lab,
    _children: Vec<Child>,
}

fn install(test: &str, i: &Install) -> Option<Running> {
    let login = login_peer(test)?;
    let mut lab = Lab::start_bare().expect("lab");
    lab.forward(i.forward).expect("forward");
    let callback = format!("{}/api/dex/callback", i.url);
    let mut idp = lab.in_pod("node");
    idp.args(["tests/js/signin_idp.mjs", IDP_ISSUER, IDP_ADDR, "9000"])
        .args(["lab-client", IDP_SECRET])
        .arg(i.idp_redirect.unwrap_or(&callback))
        .arg(PASSWORD);
    let (idp, _) = procs::start(idp, "ready");
    let raw = format!(
        "connectors:\n- type: oidc\n  id: lab\n  name: Lab IdP\n  config:\n    issuer: {IDP_ISSUER}\n    clientID: lab-client\n    clientSecret: {IDP_SECRET}\n    redirectURI: {callback}\n"
    );
    lab.put_dex_config(i.url, &raw);
    let raw_file = lab.dir.join("dex.config");
    std::fs::write(&raw_file, &raw).expect("write");
    let generated = Command::new(&login)
        .args(["dex-config", "-url", i.url, "-dex-config"])
        .arg(&raw_file)
        .output()
        .expect("devtron-login dex-config");
    assert!(generated.status.success(), "{generated:?}");
    let cfg = lab.dir.join("dex.yaml");
    std::fs::write(&cfg, &generated.stdout).expect("write");
    let mut dex = lab.in_pod(BIN);
    dex.args(["serve", "--dex-version", "2.30", "--listen", "0.0.0.0:5556"])
        .arg("--config")
        .arg(&cfg)
        .args(["--groups", &i.groups.to_string()]);
    let (dex, _) = procs::start(dex, "listening");
    let mut app = lab.in_pod(&login);
    app.args(["serve", "-url", i.url])
        .args(["-dex", "http://argocd-dex-server.devtroncd:5556"])
        .args(["-listen", "0.0.0.0:8080"]);
    let (app, _) = procs::start(app, "ready");
    Some(Running {
        lab,
        _children: vec![idp, dex, app],
    })
}

/// Chromium in the workstation opens `start` and signs in, for at most `secs`; returns what it
/// ended on and the HAR. With `DEXCHECK_KEEP_HARS=DIR`, the HAR's sanitized copy is kept there
/// as `NAME.har` (how `fixtures/har/` was recorded).
fn browse(
    r: &Running,
    name: &str,
    start: &str,
    stop: &str,
    secs: u32,
) -> (Value, std::path::PathBuf) {
    let har = r.lab.dir.join("login.har");
    let out = r
        .lab
        .in_ws("node")
        .args(["tests/js/browse.mjs", start, stop])
        .arg(&har)
        .env("PASSWORD", PASSWORD)
        .env("CHROMIUM", CHROMIUM)
        .env("SECONDS", secs.to_string())
        .output()
        .expect("node");
    if let Some(dir) = std::env::var_os("DEXCHECK_KEEP_HARS") {
        let kept = std::path::Path::new(&dir).join(format!("{name}.har"));
        std::fs::copy(sanitize(&har), kept).expect("keep the HAR");
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let seen: Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("{e}: {line} {}", String::from_utf8_lossy(&out.stderr)));
    (seen, har)
}

fn check_har(har: &std::path::Path) -> Value {
    let o = Command::new(BIN)
        .args(["check", "-o", "json", "--har"])
        .arg(har)
        .output()
        .expect("dexcheck");
    support::json_report(&o)
}

fn sanitize(har: &std::path::Path) -> std::path::PathBuf {
    let out = har.with_extension("sanitized.har");
    let o = Command::new(BIN)
        .args(["har", "sanitize"])
        .arg(har)
        .output()
        .expect("dexcheck har sanitize");
    assert!(o.status.success(), "{o:?}");
    std::fs::write(&out, &o.stdout).expect("write");
    out
}

/// Every secret the login carried, read from the unsanitized HAR: the codes in callback URLs,
/// the cookies' values, and what the test itself issued. A cookie value that is also a URL's
/// path segment (oidc-provider's `_interaction` cookie holds the interaction id its URLs show)
/// is in the address bar already, not a secret.
fn secrets_in(har: &Value, extra: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let entries = || har["log"]["entries"].as_array().into_iter().flatten();
    let paths: Vec<String> = entries()
        .filter_map(|e| url::Url::parse(e["request"]["url"].as_str()?).ok())
        .map(|u| u.path().to_string())
        .collect();
    let in_a_path = |v: &str| paths.iter().any(|p| p.contains(v));
    for e in entries() {
        let url = e["request"]["url"].as_str().unwrap_or_default();
        if let Ok(u) = url::Url::parse(url) {
            out.extend(
                u.query_pairs()
                    .filter(|(k, v)| k == "code" && v.len() > 8)
                    .map(|(_, v)| v.into_owned()),
            );
        }
        for h in e["response"]["headers"].as_array().into_iter().flatten() {
            if h["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("set-cookie"))
            {
                let v = h["value"].as_str().unwrap_or_default();
                let value = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .split_once('=')
                    .map(|x| x.1);
                out.extend(
                    value
                        .filter(|v| v.len() > 16 && !in_a_path(v))
                        .map(str::to_string),
                );
            }
        }
    }
    out
}

/// Shared through `har sanitize`: none of the login's secrets is left (the codes, the cookies'
/// values, the password typed at the IdP, the client secrets of Dex's config), and the copy
/// reads the same, row by row. Returns the original HAR.
fn shared_the_same(r: &Running, har: &std::path::Path, report: &Value) -> Value {
    let original: Value =
        serde_json::from_str(&std::fs::read_to_string(har).expect("har")).expect("json");
    let dex_cfg = std::fs::read_to_string(r.lab.dir.join("dex.yaml")).unwrap_or_default();
    let client_secrets: Vec<String> = dex_cfg
        .lines()
        .filter_map(|l| l.trim().strip_prefix("secret:"))
        .map(|s| s.trim().trim_matches('"').to_string())
        .collect();
    let mut issued: Vec<&str> = vec![PASSWORD, IDP_SECRET];
    issued.extend(client_secrets.iter().map(String::as_str));
    let secrets = secrets_in(&original, &issued);
    let clean = sanitize(har);
    let text = std::fs::read_to_string(&clean).expect("sanitized");
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(
            !text.contains(s.as_str()),
            "a secret survived sanitizing ({} bytes)",
            s.len()
        );
    }
    assert_eq!(statuses(&check_har(&clean)), statuses(report));
    original
}

fn statuses(r: &Value) -> Vec<(String, String)> {
    r["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                c["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Chrome's default export: no `Cookie`, `Set-Cookie` or `Authorization`, no cookie lists.
fn chrome_sanitized(har: &Value) -> Value {
    let mut h = har.clone();
    for e in h["log"]["entries"].as_array_mut().into_iter().flatten() {
        for side in ["request", "response"] {
            if let Some(list) = e[side]["headers"].as_array_mut() {
                list.retain(|x| {
                    let n = x["name"].as_str().unwrap_or_default().to_ascii_lowercase();
                    !matches!(n.as_str(), "cookie" | "set-cookie" | "authorization")
                });
            }
            e[side]["cookies"] = Value::Array(Vec::new());
        }
    }
    h
}

/// The exception: forwarding local port 8080. Chromium logs in through Devtron's code, Dex and
/// the IdP's sign-in form; the HAR reads as a whole login, and its sanitized copy holds none of
/// the login's secrets and reads the same.
#[test]
fn a_working_login_reads_hop_by_hop_and_its_sanitized_copy_keeps_no_secret() {
    let url = "http://localhost:8080/orchestrator";
    let i = Install {
        url,
        forward: 8080,
        idp_redirect: None,
        groups: 0,
    };
    let Some(r) = install("har_lab_working", &i) else {
        return;
    };
    let dashboard = format!("{url}/dashboard");
    let start = format!("{url}/auth/login?return_url={dashboard}");
    let (seen, har) = browse(&r, "working-login", &start, &dashboard, 20);
    assert!(
        seen["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&dashboard)),
        "{seen:#}"
    );
    let report = check_har(&har);
    assert_eq!(report["verdict"]["status"], "pass", "{report:#}");
    for id in [
        "har.login",
        "har.provider",
        "har.upstream",
        "har.signin",
        "har.upstream_callback",
        "har.state",
        "har.callback_host",
        "har.callback",
        "har.cookies",
        "har.session",
    ] {
        assert_eq!(row(&report, id)["status"], "pass", "{id}: {report:#}");
    }
    assert!(
        row(&report, "har.signin")["message"]
            .as_str()
            .is_some_and(|m| m.contains("a sign-in form was posted")),
        "{report:#}"
    );
    assert!(
        row(&report, "har.session")["message"]
            .as_str()
            .is_some_and(|m| m.contains("argocd.token")),
        "{report:#}"
    );
    let original = shared_the_same(&r, &har, &report);
    assert!(
        secrets_in(&original, &[]).len() >= 4,
        "the login's codes and cookies were in the HAR"
    );
    // Chrome's default export drops the cookies: the checks that need them say so.
    let chrome = r.lab.dir.join("chrome-default.har");
    std::fs::write(&chrome, chrome_sanitized(&original).to_string()).expect("write");
    let c = check_har(&chrome);
    // A warning (the trace says what it lacks), no failure.
    assert_eq!(c["verdict"]["status"], "warn", "{c:#}");
    assert_eq!(row(&c, "har.trace")["status"], "warn");
    for id in ["har.cookies", "har.session"] {
        let m = row(&c, id);
        assert_eq!(m["status"], "unknown", "{m:#}");
        assert!(
            m["message"]
                .as_str()
                .is_some_and(|t| t.contains("with sensitive data"))
        );
    }
}

/// The seed's second case: Devtron installed with its ingress host, the browser on a
/// port-forward. Devtron refuses the return URL at the login hop, in its own words.
#[test]
fn the_seeds_invalid_redirect_url_is_named_at_the_login_hop() {
    let url = format!("http://{INGRESS_HOST}/orchestrator");
    let i = Install {
        url: &url,
        forward: 8082,
        idp_redirect: None,
        groups: 0,
    };
    let Some(r) = install("har_lab_invalid_redirect", &i) else {
        return;
    };
    let browser = "http://localhost:8082/orchestrator";
    let start = format!("{browser}/auth/login?return_url={browser}/dashboard");
    let (seen, har) = browse(
        &r,
        "invalid-redirect-url",
        &start,
        &format!("{browser}/dashboard"),
        20,
    );
    assert_eq!(seen["status"], 400, "{seen:#}");
    let report = check_har(&har);
    shared_the_same(&r, &har, &report);
    assert_eq!(
        report["verdict"]["blocking_check"], "har.login",
        "{report:#}"
    );
    let login = row(&report, "har.login");
    assert!(
        login["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("Invalid redirect URL")),
        "{login:#}"
    );
    assert!(login["remedy"].is_string(), "{login:#}");
}

/// The seed's first case: URL is the port-forward address. The app pod cannot reach it, and the
/// browser gets Devtron's 500 at the login hop with the pod's connection refused.
#[test]
fn the_seeds_connection_refused_is_the_apps_500_at_the_login_hop() {
    let url = "http://localhost:8082/orchestrator";
    let i = Install {
        url,
        forward: 8082,
        idp_redirect: None,
        groups: 0,
    };
    let Some(r) = install("har_lab_refused", &i) else {
        return;
    };
    let start = format!("{url}/auth/login?return_url={url}/dashboard");
    let (seen, har) = browse(
        &r,
        "connection-refused",
        &start,
        &format!("{url}/dashboard"),
        20,
    );
    assert_eq!(seen["status"], 500, "{seen:#}");
    let report = check_har(&har);
    shared_the_same(&r, &har, &report);
    let login = row(&report, "har.login");
    assert_eq!(login["status"], "fail", "{report:#}");
    assert_eq!(login["class"], "http_status(500)");
    assert!(
        login["error"]
            .as_str()
            .is_some_and(|e| e.contains("connection refused")),
        "{login:#}"
    );
    assert!(
        login["cause"]
            .as_str()
            .is_some_and(|c| c.to_lowercase().contains("port-forward") || c.contains("localhost")),
        "{login:#}"
    );
}

/// The IdP has another redirect URI registered than Dex's callback: its error page is the hop.
#[test]
fn an_idp_that_refuses_dexs_callback_is_named() {
    let url = "http://localhost:8080/orchestrator";
    let i = Install {
        url,
        forward: 8080,
        idp_redirect: Some("http://elsewhere.lab.test/callback"),
        groups: 0,
    };
    let Some(r) = install("har_lab_idp_refuses", &i) else {
        return;
    };
    let start = format!("{url}/auth/login?return_url={url}/dashboard");
    let (_, har) = browse(
        &r,
        "idp-refuses-callback",
        &start,
        &format!("{url}/dashboard"),
        20,
    );
    let report = check_har(&har);
    shared_the_same(&r, &har, &report);
    assert_eq!(
        report["verdict"]["blocking_check"], "har.upstream",
        "{report:#}"
    );
    assert_eq!(
        row(&report, "har.upstream")["class"],
        "idp_redirect_uri",
        "{report:#}"
    );
}

/// Many groups: Devtron splits the token into cookies of at most 4,093 bytes, read as one
/// token; past its cookie limit its callback refuses with a 500, named.
#[test]
fn large_tokens_are_read_across_chunks_and_the_cookie_limit_is_named() {
    let url = "http://localhost:8080/orchestrator";
    let i = Install {
        url,
        forward: 8080,
        idp_redirect: None,
        groups: 400,
    };
    let Some(r) = install("har_lab_chunks", &i) else {
        return;
    };
    let dashboard = format!("{url}/dashboard");
    let start = format!("{url}/auth/login?return_url={dashboard}");
    let (seen, har) = browse(&r, "chunked-token", &start, &dashboard, 20);
    let chunks = seen["cookies"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| {
                    c["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with("argocd.token"))
                })
                .count()
        })
        .unwrap_or(0);
    assert!(chunks >= 2, "{seen:#}");
    let report = check_har(&har);
    shared_the_same(&r, &har, &report);
    assert_eq!(report["verdict"]["status"], "pass", "{report:#}");
    let session = row(&report, "har.session");
    assert!(
        session["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("argocd.token set in {chunks} chunks"))),
        "{session:#}"
    );
    drop(r);

    let i = Install { groups: 4000, ..i };
    let Some(r) = install("har_lab_cookie_limit", &i) else {
        return;
    };
    let (seen, har) = browse(&r, "cookie-limit", &start, &dashboard, 20);
    assert_eq!(seen["status"], 500, "{seen:#}");
    let report = check_har(&har);
    shared_the_same(&r, &har, &report);
    assert_eq!(
        report["verdict"]["blocking_check"], "har.callback",
        "{report:#}"
    );
    let cb = row(&report, "har.callback");
    assert_eq!(cb["class"], "cookie_chunks", "{cb:#}");
    assert!(
        cb["error"]
            .as_str()
            .is_some_and(|e| e.contains("max number of cookies is 10")),
        "{cb:#}"
    );
}

/// Argo Workflows' way: one `authorization` cookie, no chunks. A token over 4,096 bytes is
/// dropped by the real browser, which comes back without it and is sent to log in again: the
/// cookie and the loop are named.
#[test]
fn a_single_cookie_over_4096_bytes_is_dropped_and_the_login_loops() {
    let Some(_) = login_peer("har_lab_one_cookie") else {
        return;
    };
    let lab = Lab::start_bare().expect("lab");
    let (app_url, dex) = ("http://localhost:2746", "http://localhost:5556/dex");
    lab.forward_to(2746, &format!("{}:2746", support::lab::POD_ADDR))
        .expect("forward");
    lab.forward_to(5556, &format!("{}:5556", support::lab::DEX_SERVICE_ADDR))
        .expect("forward");
    let dex_callback = format!("{dex}/callback");
    let mut idp = lab.in_pod("node");
    idp.args(["tests/js/signin_idp.mjs", IDP_ISSUER, IDP_ADDR, "9000"])
        .args(["lab-client", IDP_SECRET, &dex_callback, PASSWORD]);
    let (_idp, _) = procs::start(idp, "ready");
    let sso_secret = "LAB-SECRET-workflows-sso-7d2";
    let cfg = lab.dir.join("dex.yaml");
    std::fs::write(
        &cfg,
        format!(
            "issuer: {dex}\nstaticClients:\n- id: argo-workflows-sso\n  name: Argo Workflows\n  secret: {sso_secret}\n  redirectURIs: [{app_url}/oauth2/callback]\nconnectors:\n- type: oidc\n  id: lab\n  name: Lab IdP\n  config:\n    issuer: {IDP_ISSUER}\n    clientID: lab-client\n    clientSecret: {IDP_SECRET}\n    redirectURI: {dex_callback}\n"
        ),
    )
    .expect("write");
    let mut d = lab.in_pod(BIN);
    d.args([
        "serve",
        "--listen",
        "0.0.0.0:5556",
        "--groups",
        "400",
        "--config",
    ])
    .arg(&cfg);
    let (_dex, _) = procs::start(d, "listening");
    let mut app = lab.in_pod("node");
    app.args([
        "tests/js/one_cookie_app.mjs",
        "0.0.0.0",
        "2746",
        app_url,
        dex,
    ])
    .args([
        "http://argocd-dex-server.devtroncd:5556/dex",
        "argo-workflows-sso",
        sso_secret,
    ]);
    let (_app, _) = procs::start(app, "ready");
    let r = Running {
        lab,
        _children: Vec::new(),
    };
    let (seen, har) = browse(
        &r,
        "one-cookie-loop",
        &format!("{app_url}/workflows"),
        "http://never.lab.test/",
        8,
    );
    assert!(
        !seen["cookies"]
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c["name"] == "authorization")),
        "the browser kept the oversized cookie: {seen:#}"
    );
    let report = check_har(&har);
    shared_the_same(&r, &har, &report);
    assert_eq!(
        report["verdict"]["blocking_check"], "har.cookies",
        "{report:#}"
    );
    let cookies = row(&report, "har.cookies");
    assert_eq!(cookies["class"], "cookie", "{cookies:#}");
    assert!(
        cookies["message"]
            .as_str()
            .is_some_and(|m| m.contains("authorization is") && m.contains("drops it")),
        "{cookies:#}"
    );
    assert_eq!(row(&report, "har.loop")["status"], "fail", "{report:#}");
}
