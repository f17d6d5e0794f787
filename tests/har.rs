//! `dexcheck har sanitize`: a HAR of a login (as Chrome exports it, with sensitive data) comes
//! out with none of the secrets the login carried, and with every name, attribute, size and the
//! values hops are compared by (`state`, `client_id`, `redirect_uri`) kept.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::{Value, json};

const CODE: &str = "dexcodeQ2h4bGx5dGJ0c2Zz";
const PASSWORD: &str = "correct horse battery staple";
const CLIENT_SECRET: &str = "ZXhhbXBsZS1hcHAtc2VjcmV0";
const SESSION: &str = "c2Vzc2lvbi1jb29raWUtdmFsdWU";
/// An ID token (its three parts), as Dex signs one.
const ID_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwOi8vbG9jYWxob3N0OjgwODAvb3JjaGVzdHJhdG9yL2FwaS9kZXgiLCJzdWIiOiJDaVF3TURBIiwiYXVkIjoiYXJnby1jZCJ9.c2lnbmF0dXJlLWJ5dGVz";
const REFRESH: &str = "ChlqY2R5cmd1dWs0c2x3ZWZoeWF0a2l5";

fn header(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

fn entry(
    method: &str,
    url: &str,
    req_headers: Vec<Value>,
    post: Value,
    status: u16,
    res_headers: Vec<Value>,
    content: Value,
) -> Value {
    json!({
        "startedDateTime": "2026-12-07T10:00:00.000Z", "time": 12.5,
        "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": req_headers,
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1, "postData": post},
        "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "headers": res_headers,
                     "cookies": [], "content": content, "redirectURL": "", "headersSize": -1, "bodySize": -1},
        "cache": {}, "timings": {"send": 0, "wait": 10, "receive": 2}
    })
}

/// A login through Devtron's port-forward: Dex's authorize, the IdP's password form, Dex's
/// callback, the token exchange answer, the app's callback setting its session cookie.
fn login_har() -> Value {
    let cb = format!("http://localhost:8080/orchestrator/auth/callback?code={CODE}&state=st4te");
    let mut callback = entry(
        "GET",
        &cb,
        vec![header("Cookie", &format!("oauthstate={SESSION}"))],
        json!(null),
        303,
        vec![
            header(
                "Set-Cookie",
                &format!("argocd.token={ID_TOKEN}; path=/; SameSite=lax"),
            ),
            header("Location", "/orchestrator/dashboard"),
        ],
        json!({"size": 0, "mimeType": "text/html"}),
    );
    callback["request"]["queryString"] =
        json!([{"name": "code", "value": CODE}, {"name": "state", "value": "st4te"}]);
    callback["response"]["cookies"] =
        json!([{"name": "argocd.token", "value": ID_TOKEN, "path": "/", "httpOnly": false}]);
    let entries = vec![
        entry(
            "GET",
            "http://localhost:8080/orchestrator/api/dex/auth?client_id=argo-cd&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Forchestrator%2Fauth%2Fcallback&response_type=code&scope=openid&state=st4te",
            vec![],
            json!(null),
            302,
            vec![header(
                "Location",
                "http://idp.lab.test/login?client_id=dex",
            )],
            json!({"size": 0, "mimeType": ""}),
        ),
        entry(
            "POST",
            "http://idp.lab.test/login",
            vec![header("Content-Type", "application/x-www-form-urlencoded")],
            json!({"mimeType": "application/x-www-form-urlencoded", "text": format!("login=ann&password={}", PASSWORD.replace(' ', "+")),
                   "params": [{"name": "login", "value": "ann"}, {"name": "password", "value": PASSWORD}]}),
            302,
            vec![header(
                "Location",
                &format!("http://localhost:8080/orchestrator/api/dex/callback?code={CODE}&state=x"),
            )],
            json!({"size": 0, "mimeType": ""}),
        ),
        entry(
            "POST",
            "http://idp.lab.test/token",
            vec![header("Authorization", &format!("Basic {CLIENT_SECRET}"))],
            json!({"mimeType": "application/x-www-form-urlencoded", "text": format!("grant_type=authorization_code&code={CODE}&client_secret={CLIENT_SECRET}")}),
            200,
            vec![header("Content-Type", "application/json")],
            json!({"size": 300, "mimeType": "application/json", "text": json!({"access_token": ID_TOKEN, "id_token": ID_TOKEN, "refresh_token": REFRESH, "token_type": "bearer"}).to_string()}),
        ),
        callback,
        entry(
            "GET",
            "http://localhost:8080/orchestrator/dashboard",
            vec![
                header("Cookie", &format!("argocd.token={ID_TOKEN}")),
                header("Authorization", &format!("Bearer {ID_TOKEN}")),
            ],
            json!(null),
            200,
            vec![],
            json!({"size": 40, "mimeType": "text/html", "encoding": "base64", "text": "PGh0bWw+c2VjcmV0IGRhc2hib2FyZDwvaHRtbD4="}),
        ),
    ];
    json!({"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "pages": [], "entries": entries}})
}

fn sanitize(har: &str) -> (String, Option<i32>, String) {
    let out = cargo_bin_cmd!("dexcheck")
        .args(["har", "sanitize", "-"])
        .write_stdin(har)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_sanitized_login_carries_none_of_its_secrets() {
    let (out, code, err) = sanitize(&login_har().to_string());
    assert_eq!(code, Some(0), "{err}");
    let whole = out.clone() + &err;
    for secret in [
        CODE,
        PASSWORD,
        &PASSWORD.replace(' ', "+"),
        CLIENT_SECRET,
        SESSION,
        ID_TOKEN,
        REFRESH,
        "eyJpc3Mi",
        "PGh0bWw+",
    ] {
        assert!(!whole.contains(secret), "{secret} survived:\n{out}");
    }
    let v: Value = serde_json::from_str(&out).unwrap();
    let e = &v["log"]["entries"];
    assert_eq!(e.as_array().map(Vec::len), Some(5));
    assert_eq!(v["log"]["creator"]["name"], "WebInspector");
    // What hops are compared by stays: state, client_id, redirect_uri; names and sizes too.
    assert!(
        e[0]["request"]["url"]
            .as_str()
            .unwrap()
            .contains("client_id=argo-cd&redirect_uri=http%3A%2F%2Flocalhost%3A8080")
    );
    let cb = &e[3];
    assert_eq!(
        cb["request"]["url"],
        format!(
            "http://localhost:8080/orchestrator/auth/callback?code=REDACTED({})&state=st4te",
            CODE.len()
        )
    );
    assert_eq!(cb["request"]["queryString"][1]["value"], "st4te");
    let set = cb["response"]["headers"][0]["value"].as_str().unwrap();
    assert_eq!(
        set,
        format!(
            "argocd.token=REDACTED({}); path=/; SameSite=lax",
            ID_TOKEN.len()
        )
    );
    assert_eq!(cb["response"]["cookies"][0]["name"], "argocd.token");
    assert_eq!(e[1]["request"]["postData"]["params"][0]["value"], "ann");
    assert_eq!(
        e[2]["request"]["headers"][0]["value"],
        format!("Basic REDACTED({})", CLIENT_SECRET.len())
    );
    let tokens: Value =
        serde_json::from_str(e[2]["response"]["content"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(e[4]["response"]["content"]["size"], 40);
}

#[test]
fn what_is_not_a_har_is_refused_without_quoting_it() {
    let (_, code, err) = sanitize(&format!(
        "{{\"log\":{{\"entries\":[{{\"password\":\"{PASSWORD}"
    ));
    assert_eq!(code, Some(2));
    assert!(err.contains("<stdin>") || err.contains("-:"), "{err}");
    assert!(err.contains("line 1") && !err.contains(PASSWORD), "{err}");
    let (_, code, err) = sanitize("{\"log\":{\"version\":\"1.2\"}}");
    assert_eq!(code, Some(2));
    assert!(err.contains("not a HAR: no log.entries array"), "{err}");
    let out = cargo_bin_cmd!("dexcheck")
        .args(["har", "sanitize", "/nonexistent/login.har"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/login.har"));
}

/// `dexcheck check --har FILE -o json` on a HAR alone.
fn check_har(args: &[&str]) -> (Value, i32) {
    let o = cargo_bin_cmd!("dexcheck")
        .args(["check", "-o", "json"])
        .args(args)
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (v, o.status.code().unwrap_or(-1))
}

fn row<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or(&Value::Null)
}

/// The HARs Chromium recorded in the lab (`tests/har_lab.rs`, kept sanitized in
/// `fixtures/har/`): each one's verdict names the hop the browser met its failure at, in the
/// class `check` uses for it, and the exit code follows.
#[test]
fn each_recorded_login_is_read_to_the_hop_the_browser_failed_at() {
    let cases = [
        ("working-login", None, None),
        ("chunked-token", None, None),
        (
            "invalid-redirect-url",
            Some("har.login"),
            Some("http_status(400)"),
        ),
        (
            "connection-refused",
            Some("har.login"),
            Some("http_status(500)"),
        ),
        (
            "idp-refuses-callback",
            Some("har.upstream"),
            Some("idp_redirect_uri"),
        ),
        ("cookie-limit", Some("har.callback"), Some("cookie_chunks")),
        ("one-cookie-loop", Some("har.cookies"), Some("cookie")),
    ];
    for (name, blocking, class) in cases {
        let path = format!("fixtures/har/{name}.har");
        let (v, code) = check_har(&["--har", &path]);
        assert_eq!(v["mode"], "har");
        if blocking.is_none() {
            assert_eq!(
                v["verdict"]["summary"], "no failure in the browser's HAR",
                "{name}"
            );
        }
        assert_eq!(
            v["verdict"]["blocking_check"].as_str(),
            blocking,
            "{name}: {v:#}"
        );
        assert_eq!(code, if blocking.is_some() { 1 } else { 0 }, "{name}");
        if let (Some(b), Some(class)) = (blocking, class) {
            assert_eq!(row(&v, b)["class"], class, "{name}: {v:#}");
            assert_eq!(row(&v, b)["vantage"], "browser");
        }
    }
}

/// What the sanitized copies still show: the session cookie's chunks by size, the state
/// compared, the seed's own words at the login hop, and nothing secret in any output.
#[test]
fn a_sanitized_har_still_reads_sizes_state_and_the_apps_words() {
    let (v, _) = check_har(&["--har", "fixtures/har/chunked-token.har"]);
    let session = row(&v, "har.session");
    assert_eq!(session["status"], "pass", "{session:#}");
    let m = session["message"].as_str().unwrap_or_default();
    assert!(m.contains("argocd.token set in 2 chunks"), "{m}");
    assert_eq!(row(&v, "har.state")["status"], "pass");
    assert!(
        row(&v, "har.trace")["message"]
            .as_str()
            .is_some_and(|t| t.contains("cookie values redacted, sizes kept"))
    );
    let (v, _) = check_har(&["--har", "fixtures/har/connection-refused.har"]);
    let login = row(&v, "har.login");
    assert!(
        login["error"].as_str().is_some_and(|e| e.starts_with(
            "Failed to query provider \"http://localhost:8082/orchestrator/api/dex\""
        )),
        "{login:#}"
    );
    assert!(
        login["remedy"]
            .as_str()
            .is_some_and(|r| r.contains("port-forward"))
    );
    let text = serde_json::to_string(&v).unwrap_or_default();
    assert!(
        !text.contains("REDACTED("),
        "a redaction marker leaked into the report"
    );
}

/// With a config, the HAR's rows replace the predictions for the browser they observed, and a
/// prediction the browser contradicts is a finding: here the config predicts the return URL
/// passes (the browser opens URL itself), the recorded browser met Devtron's refusal.
#[test]
fn with_a_config_the_browsers_view_replaces_the_prediction_and_a_contradiction_is_named() {
    let dir = std::env::temp_dir().join(format!("dexcheck-har-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("sso.yaml");
    std::fs::write(
        &cfg,
        "# URL: http://localhost:8082/orchestrator\nid: mock\nname: Mock\ntype: mockCallback\n",
    )
    .expect("write");
    let cfg = cfg.display().to_string();
    let (v, code) = check_har(&[
        &cfg,
        "--offline",
        "--har",
        "fixtures/har/invalid-redirect-url.har",
    ]);
    assert_eq!(code, 1);
    assert!(row(&v, "browser.return_url").is_null(), "{v:#}");
    assert_eq!(row(&v, "har.login")["status"], "fail");
    let d = row(&v, "har.disagrees");
    assert_eq!(d["status"], "warn", "{v:#}");
    assert!(
        d["message"]
            .as_str()
            .is_some_and(|m| m.contains("predicted browser.return_url pass")),
        "{d:#}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_har_that_is_not_one_is_refused_naming_the_file() {
    let o = cargo_bin_cmd!("dexcheck")
        .args(["check", "--har", "Cargo.toml"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("Cargo.toml"), "{err}");
    let o = cargo_bin_cmd!("dexcheck")
        .args(["check", "-", "--har", "-"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
}

/// The recorded working login, changed the way a real trace would differ, then read.
fn working_login_changed(name: &str, change: impl Fn(&mut Vec<Value>)) -> Value {
    let text = std::fs::read_to_string("fixtures/har/working-login.har").expect("fixture");
    let mut har: Value = serde_json::from_str(&text).expect("json");
    if let Some(entries) = har["log"]["entries"].as_array_mut() {
        change(entries);
    }
    let path = std::env::temp_dir().join(format!("dexcheck-har-{name}-{}.har", std::process::id()));
    std::fs::write(&path, har.to_string()).expect("write");
    let (v, _) = check_har(&["--har", &path.display().to_string()]);
    let _ = std::fs::remove_file(&path);
    v
}

fn url_of(e: &Value) -> String {
    e["request"]["url"].as_str().unwrap_or_default().to_string()
}

fn set_header(e: &mut Value, side: &str, name: &str, f: impl Fn(&str) -> String) {
    for h in e[side]["headers"].as_array_mut().into_iter().flatten() {
        if h["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
        {
            let v = f(h["value"].as_str().unwrap_or_default());
            h["value"] = Value::String(v);
        }
    }
}

/// What only the hops together show, each from one change to a real trace.
#[test]
fn what_the_hops_show_together_is_named() {
    let is_app_callback = |e: &Value| url_of(e).contains("/orchestrator/auth/callback");
    // Another state at the app's callback than its authorize sent.
    let v = working_login_changed("state", |es| {
        for e in es.iter_mut().filter(|e| is_app_callback(e)) {
            let u = url_of(e).replace("state=", "state=other");
            e["request"]["url"] = Value::String(u);
        }
    });
    assert_eq!(row(&v, "har.state")["class"], "state", "{v:#}");
    // The login started on another host than its callback's.
    let v = working_login_changed("host", |es| {
        for e in es.iter_mut().filter(|e| url_of(e).contains("/auth/login")) {
            let u = url_of(e).replace("localhost:8080", "127.0.0.1:8080");
            e["request"]["url"] = Value::String(u);
        }
    });
    let host = row(&v, "har.callback_host");
    assert_eq!(host["status"], "fail", "{v:#}");
    assert!(
        host["message"]
            .as_str()
            .is_some_and(|m| m.contains("started on http://127.0.0.1:8080"))
    );
    // A Secure session cookie from an http page; SameSite=None without Secure.
    for (attr, words) in [
        ("Secure", "marked Secure but set by an http page"),
        ("SameSite=None", "SameSite=None without Secure"),
    ] {
        let v = working_login_changed("cookie", |es| {
            for e in es.iter_mut().filter(|e| is_app_callback(e)) {
                set_header(e, "response", "set-cookie", |c| {
                    format!("{}; {attr}", c.replace("SameSite=lax", ""))
                });
            }
        });
        let c = row(&v, "har.cookies");
        assert_eq!(c["class"], "cookie", "{v:#}");
        assert!(
            c["message"].as_str().is_some_and(|m| m.contains(words)),
            "{c:#}"
        );
    }
    // The trace ends at the IdP's sign-in form.
    let v = working_login_changed("signin", |es| {
        let at = es
            .iter()
            .position(|e| e["request"]["method"] == "POST")
            .unwrap_or(es.len());
        es.truncate(at);
    });
    let s = row(&v, "har.signin");
    assert_eq!(s["status"], "unknown", "{v:#}");
    assert!(
        s["message"]
            .as_str()
            .is_some_and(|m| m.contains("the HAR ends at the IdP's sign-in"))
    );
    assert!(row(&v, "har.callback").is_null());
    // The IdP's clock five minutes ahead; a hop that took nine seconds.
    let v = working_login_changed("clock", |es| {
        for e in es.iter_mut().filter(|e| url_of(e).contains("idp.lab.test")) {
            set_header(e, "response", "date", |d| {
                chrono::DateTime::parse_from_rfc2822(d)
                    .map(|t| (t + chrono::Duration::seconds(300)).to_rfc2822())
                    .unwrap_or_default()
            });
        }
        if let Some(e) = es
            .iter_mut()
            .find(|e| url_of(e).contains("/api/dex/callback"))
        {
            e["time"] = json!(9000.0);
        }
    });
    let clock = row(&v, "har.clock");
    assert_eq!(
        (clock["status"].as_str(), clock["class"].as_str()),
        (Some("warn"), Some("clock_skew")),
        "{clock:#}"
    );
    assert!(
        clock["message"]
            .as_str()
            .is_some_and(|m| m.contains("idp.lab.test:9000 is 300 s ahead"))
    );
    let slow = row(&v, "har.slow");
    assert!(
        slow["message"]
            .as_str()
            .is_some_and(|m| m.contains("took 9.0 s")),
        "{slow:#}"
    );
}

/// A login that succeeds at the app's callback and starts again, three times over (the app's
/// session cookie never comes back): the loop is named, and the rows still show the login.
#[test]
fn a_login_that_starts_again_after_its_callback_is_a_loop() {
    let v = working_login_changed("loop", |es| {
        let one = es.clone();
        for k in 1..3 {
            for e in &one {
                let mut e = e.clone();
                let t = e["startedDateTime"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&t) {
                    let later = t + chrono::Duration::seconds(60 * k);
                    e["startedDateTime"] = json!(later.to_rfc3339());
                }
                es.push(e);
            }
        }
    });
    assert_eq!(row(&v, "har.loop")["status"], "fail", "{v:#}");
    assert_eq!(row(&v, "har.loop")["class"], "redirect_loop");
    assert_eq!(row(&v, "har.callback")["status"], "pass", "{v:#}");
    assert!(
        row(&v, "har.trace")["message"]
            .as_str()
            .is_some_and(|m| m.contains("3 logins")),
        "{v:#}"
    );
}

/// An error page that echoes a token: the row quotes the page with the token redacted, and no
/// output carries it.
#[test]
fn a_page_that_echoes_a_token_is_quoted_without_it() {
    let v = working_login_changed("echo", |es| {
        for e in es
            .iter_mut()
            .filter(|e| url_of(e).contains("/orchestrator/auth/callback"))
        {
            e["response"]["status"] = json!(500);
            e["response"]["content"] = json!({"size": 80, "mimeType": "text/plain",
                "text": format!("invalid session token: {ID_TOKEN}")});
        }
    });
    let cb = row(&v, "har.callback");
    assert_eq!(cb["status"], "fail", "{v:#}");
    assert!(
        cb["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("invalid session token: REDACTED(")),
        "{cb:#}"
    );
    assert!(!v.to_string().contains(&ID_TOKEN[..40]));
}
