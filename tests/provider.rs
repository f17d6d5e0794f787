//! `dexcheck serve`, the bundled reference provider, against independent OIDC implementations
//! (panva openid-client as the relying party, panva oidc-provider as an upstream IdP) and
//! Dex's own failure answers.

mod support;

use std::process::Command;

use serde_json::Value;
use support::procs::{self, Child};

const BIN: &str = env!("CARGO_BIN_EXE_dexcheck");
const SECRET: &str = "FIXTURE-SECRET-serve-4c2e";

struct Serve {
    _child: Child,
    issuer: String,
    base: String,
    stdout: Vec<String>,
}

/// `dexcheck serve` under a Devtron-shaped issuer on a free loopback port.
fn serve(extra: &[&str]) -> Serve {
    // A port free a moment ago may be taken by a parallel test: try another.
    for _ in 0..5 {
        let port = procs::free_port();
        let base = format!("http://127.0.0.1:{port}/orchestrator");
        let issuer = format!("{base}/api/dex");
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--issuer", &issuer, "--client-secret", SECRET])
            .args(extra);
        if let Ok((child, stdout)) = procs::try_start(cmd, "Ctrl-C") {
            return Serve {
                _child: child,
                issuer,
                base,
                stdout,
            };
        }
    }
    panic!("dexcheck serve did not start");
}

/// A panva oidc-provider upstream and `dexcheck serve` federating to it through a seed-format
/// connector whose redirectURI (also the one the upstream registers) is `redirect(origin)`;
/// `extra` is appended to the connector's config.
struct Federation {
    _upstream: Child,
    _dex: Child,
    _dir: tempfile::TempDir,
    base: String,
    issuer: String,
    stdout: Vec<String>,
}

fn federation(redirect: impl Fn(&str) -> String, extra: &str) -> Federation {
    let dir = tempfile::tempdir().unwrap();
    // A port free a moment ago may be taken by a parallel test: try another.
    for _ in 0..5 {
        let dex_port = procs::free_port();
        let origin = format!("http://127.0.0.1:{dex_port}");
        let base = format!("{origin}/orchestrator");
        let callback = redirect(&origin);
        let mut up = Command::new("node");
        up.args([
            "tests/js/upstream.mjs",
            &procs::free_port().to_string(),
            "devtron-fed",
            "FIXTURE-SECRET-upstream",
            &callback,
        ]);
        let (upstream, lines) = procs::start(up, "ready");
        let upstream_issuer = lines
            .last()
            .unwrap()
            .trim_start_matches("ready ")
            .to_string();
        let cfg = dir.path().join("sso.yaml");
        std::fs::write(
            &cfg,
            format!(
                "# URL: {base}\nname: Upstream\nid: upstream\ntype: oidc\nconfig:\n  issuer: {upstream_issuer}\n  clientID: devtron-fed\n  clientSecret: FIXTURE-SECRET-upstream\n  redirectURI: {callback}\n{extra}"
            ),
        )
        .unwrap();
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--config",
            cfg.to_str().unwrap(),
            "--client-secret",
            SECRET,
        ])
        .args(["--listen", &format!("127.0.0.1:{dex_port}")]);
        if let Ok((dex, stdout)) = procs::try_start(cmd, "Ctrl-C") {
            return Federation {
                _upstream: upstream,
                _dex: dex,
                _dir: dir,
                issuer: format!("{base}/api/dex"),
                base,
                stdout,
            };
        }
    }
    panic!("dexcheck serve did not start");
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Follows Dex's own redirects from `/auth` to the client's redirect URI; returns the code.
async fn login(c: &reqwest::Client, s: &Serve, extra: &[(&str, &str)]) -> String {
    let redirect = format!("{}/auth/callback", s.base);
    let mut q = vec![
        ("client_id", "argo-cd"),
        ("redirect_uri", redirect.as_str()),
        ("response_type", "code"),
        ("scope", "openid profile email groups offline_access"),
        ("state", "st"),
    ];
    q.extend_from_slice(extra);
    let mut url = reqwest::Url::parse_with_params(&format!("{}/auth", s.issuer), &q).unwrap();
    for _ in 0..5 {
        let r = c.get(url.clone()).send().await.unwrap();
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        url = url.join(&loc).unwrap();
        if url.as_str().starts_with(&redirect) {
            return url
                .query_pairs()
                .find(|(k, _)| k == "code")
                .unwrap()
                .1
                .into_owned();
        }
    }
    panic!("no code");
}

async fn token(
    c: &reqwest::Client,
    s: &Serve,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let r = c
        .post(format!("{}/token", s.issuer))
        .basic_auth("argo-cd", Some(secret))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[test]
fn serve_prints_discovery_and_clients_without_the_secret() {
    let s = serve(&[]);
    let text = s.stdout.join("\n");
    assert!(
        text.contains(&format!("{}/.well-known/openid-configuration", s.issuer)),
        "{text}"
    );
    assert!(
        text.contains("client     argo-cd (secret from --client-secret)"),
        "{text}"
    );
    assert!(!text.contains(SECRET), "the client secret was printed");
}

#[test]
fn routes_only_under_the_issuer_path_with_dex_discovery() {
    let s = serve(&[]);
    rt().block_on(async {
        let c = client();
        let r = c
            .get(format!("{}/.well-known/openid-configuration", s.issuer))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "application/json");
        let body = r.text().await.unwrap();
        let doc: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc["issuer"], s.issuer.as_str());
        assert_eq!(doc["jwks_uri"], format!("{}/keys", s.issuer));
        let keys: Vec<&str> = doc
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            &keys[..4],
            [
                "issuer",
                "authorization_endpoint",
                "token_endpoint",
                "jwks_uri"
            ]
        );
        assert!(
            body.starts_with("{\n  \"issuer\""),
            "two-space indent as Dex"
        );
        let r = c
            .get(format!(
                "http://{}/.well-known/openid-configuration",
                s.issuer.split('/').nth(2).unwrap()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(r.text().await.unwrap(), "404 page not found\n");
        let r = c.get(format!("{}/keys", s.issuer)).send().await.unwrap();
        assert_eq!(r.headers()["cache-control"], "max-age=600, must-revalidate");
        let jwks: Value = r.json().await.unwrap();
        let k = &jwks["keys"][0];
        assert_eq!(
            (k["kty"].as_str(), k["alg"].as_str(), k["use"].as_str()),
            (Some("RSA"), Some("RS256"), Some("sig"))
        );
        assert_eq!(k["kid"].as_str().unwrap().len(), 40);
    });
}

#[test]
fn dex_error_answers() {
    let s = serve(&[]);
    rt().block_on(async {
        let c = client();
        let auth = |client_id: &str, redirect: &str| {
            reqwest::Url::parse_with_params(
                &format!("{}/auth/mock", s.issuer),
                &[
                    ("client_id", client_id),
                    ("redirect_uri", redirect),
                    ("response_type", "code"),
                    ("scope", "openid"),
                ],
            )
            .unwrap()
        };
        // Unregistered redirect_uri: Dex's 400 page.
        let r = c
            .get(auth("argo-cd", "http://127.0.0.1:1/evil"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Unregistered redirect_uri.")
        );
        // Unknown client: 404.
        let r = c
            .get(auth("nobody", &format!("{}/auth/callback", s.base)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert!(r.text().await.unwrap().contains("Invalid client_id."));

        let redirect = format!("{}/auth/callback", s.base);
        // PKCE: the wrong verifier is invalid_grant; the code survives and works with the right one.
        let verifier = "a-verifier-that-is-long-enough-for-pkce-0123456789";
        use base64::Engine;
        use sha2::Digest;
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        let code = login(
            &c,
            &s,
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
        let grant = |v: &'static str, code: String| {
            let redirect = redirect.clone();
            (code, redirect, v)
        };
        let (code, redirect, _) = grant("", code);
        let (st, body) = token(
            &c,
            &s,
            SECRET,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect),
                (
                    "code_verifier",
                    "wrong-verifier-wrong-verifier-wrong-verifier",
                ),
            ],
        )
        .await;
        assert_eq!(
            (st, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{body}"
        );
        assert_eq!(body["error_description"], "Invalid code_verifier.");
        let (st, body) = token(
            &c,
            &s,
            SECRET,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect),
                ("code_verifier", verifier),
            ],
        )
        .await;
        assert_eq!(st, 200, "{body}");
        assert!(body["id_token"].is_string() && body["refresh_token"].is_string());
        // One audience, written as Dex writes it: a string, not a one-element array.
        let payload = body["id_token"]
            .as_str()
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap();
        assert!(claims["aud"].is_string(), "{claims}");
        // userinfo: the access token's claims; none → 401 with WWW-Authenticate, a bad one → 403.
        let at = body["access_token"].as_str().unwrap().to_string();
        let r = c
            .get(format!("{}/userinfo", s.issuer))
            .bearer_auth(&at)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let info: Value = r.json().await.unwrap();
        assert_eq!(info["sub"], "Cg0wLTM4NS0yODA4OS0wEgRtb2Nr");
        let r = c
            .get(format!("{}/userinfo", s.issuer))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let r = c
            .get(format!("{}/userinfo", s.issuer))
            .bearer_auth("nope")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // The same code twice: rejected.
        let (st, body) = token(
            &c,
            &s,
            SECRET,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect),
                ("code_verifier", verifier),
            ],
        )
        .await;
        assert_eq!(
            (st, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{body}"
        );
        // A wrong client secret: 401 invalid_client.
        let code = login(&c, &s, &[]).await;
        let (st, body) = token(
            &c,
            &s,
            "not-the-secret",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect),
            ],
        )
        .await;
        assert_eq!(
            (st, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{body}"
        );
        assert_eq!(body["error_description"], "Invalid client credentials.");
        // GET on /token: Dex's method error.
        let r = c.get(format!("{}/token", s.issuer)).send().await.unwrap();
        assert_eq!(r.status(), 400);
    });
}

#[test]
fn openid_client_logs_in_with_pkce_validates_and_refreshes() {
    if !procs::node_or_skip("openid_client_logs_in_with_pkce_validates_and_refreshes") {
        return;
    }
    let s = serve(&[]);
    let redirect = format!("{}/auth/callback", s.base);
    let out = Command::new("node")
        .args(["tests/js/rp.mjs", &s.issuer, "argo-cd", SECRET, &redirect])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(v["ok"], true, "{v:#}");
    let claims = &v["claims"];
    assert_eq!(claims["iss"], s.issuer.as_str());
    // Dex writes a single audience as a string; openidconnect always as an array (both valid).
    assert!(
        claims["aud"] == "argo-cd" || claims["aud"] == serde_json::json!(["argo-cd"]),
        "{claims:#}"
    );
    // Dex's subject: base64url(protobuf{user "0-385-28089-0" (Dex's mock user), connector "mock"}).
    assert_eq!(claims["sub"], "Cg0wLTM4NS0yODA4OS0wEgRtb2Nr");
    assert_eq!(claims["email_verified"], true);
    assert!(
        claims["at_hash"].is_string() && claims["c_hash"].is_string(),
        "{claims:#}"
    );
    assert_eq!(v["refreshed_claims"]["sub"], "Cg0wLTM4NS0yODA4OS0wEgRtb2Nr");
}

#[test]
fn federates_through_an_upstream_oidc_provider() {
    if !procs::node_or_skip("federates_through_an_upstream_oidc_provider") {
        return;
    }
    // The seed's format: a Devtron SSO connector with userNameKey and claimMapping.
    let f = federation(
        |origin| format!("{origin}/orchestrator/api/dex/callback"),
        "  scopes: [openid, profile, email]\n  userNameKey: cognito:username\n  claimMapping:\n    groups: cognito:groups\n",
    );
    let (base, issuer) = (&f.base, &f.issuer);
    assert!(
        f.stdout.join("\n").contains(issuer.as_str()),
        "{:?}",
        f.stdout
    );

    let out = Command::new("node")
        .args([
            "tests/js/rp.mjs",
            issuer,
            "argo-cd",
            SECRET,
            &format!("{base}/auth/callback"),
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v:#}");
    let claims = &v["claims"];
    assert_eq!(
        claims["name"], "upstream-alice",
        "userNameKey cognito:username: {claims:#}"
    );
    assert_eq!(
        claims["groups"],
        serde_json::json!(["sso-admins", "devs"]),
        "claimMapping groups"
    );
    assert_eq!(claims["email"], "alice@upstream.test");
    // browser → dexcheck → upstream → callback: the hops went through the upstream and back.
    let hops = v["hops"].to_string();
    assert!(
        hops.contains("/realms/test/auth") && hops.contains("/orchestrator/api/dex/callback"),
        "{hops}"
    );
}

#[test]
fn connector_redirect_uri_must_be_issuer_callback() {
    if !procs::node_or_skip("connector_redirect_uri_must_be_issuer_callback") {
        return;
    }
    let f = federation(|origin| format!("{origin}/callback"), "");
    let base = &f.base;
    rt().block_on(async {
        let c = client();
        let url = reqwest::Url::parse_with_params(
            &format!("{base}/api/dex/auth/upstream"),
            &[
                ("client_id", "argo-cd"),
                ("redirect_uri", &format!("{base}/auth/callback")),
                ("response_type", "code"),
                ("scope", "openid"),
            ],
        )
        .unwrap();
        let r = c.get(url).send().await.unwrap();
        assert_eq!(r.status(), 500);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Login error.") && body.contains("did not match the URL in the config"),
            "{body}"
        );
    });
}

/// The README's `serve --config fixtures/dex-federated.yaml` (ports moved to free ones): without
/// its upstream it fails in Dex's words, with no public name looked up; with the upstream
/// (another `dexcheck serve`) it federates, and the file's client secret is never printed.
#[test]
fn readme_serve_example_stays_on_loopback() {
    let fixture = std::fs::read_to_string("fixtures/dex-federated.yaml").unwrap();
    assert!(!fixture.contains(".com") && !fixture.contains(".org"));
    let (dex_port, up_port) = (procs::free_port(), procs::free_port());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("dex.yaml");
    std::fs::write(
        &cfg,
        fixture
            .replace("5556", &dex_port.to_string())
            .replace("5557", &up_port.to_string()),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "failed to get provider: Get \"http://127.0.0.1:{up_port}/upstream/.well-known/openid-configuration\": dial tcp 127.0.0.1:{up_port}: connect: connection refused"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("error sending request"), "{stderr}");

    let callback = format!("http://127.0.0.1:{dex_port}/orchestrator/api/dex/callback");
    let upstream = format!("http://127.0.0.1:{up_port}/upstream");
    let mut up = Command::new(BIN);
    up.args(["serve", "--issuer", &upstream, "--redirect-uri", &callback]);
    let (_up, _) = procs::start(up, "Ctrl-C");
    let mut dex = Command::new(BIN);
    dex.args(["serve", "--config", cfg.to_str().unwrap()]);
    let (_dex, stdout) = procs::start(dex, "Ctrl-C");
    let all = stdout.join("\n");
    assert!(all.contains(&format!("federates to {upstream}")), "{all}");
    assert!(all.contains("secret from the config"), "{all}");
    assert!(!all.contains("FIXTURE-SECRET-federated"), "{all}");
}

/// A flood of concurrent logins (wrk, 32 connections) against `dexcheck serve`: every answer is
/// a login redirect (no errors), and after 50,000 logins or more the resident memory stays under
/// 48 MiB: the authorization codes live in a bounded store.
#[test]
fn a_flood_of_logins_keeps_memory_bounded() {
    if !procs::tool_or_skip("wrk", "a_flood_of_logins_keeps_memory_bounded") {
        return;
    }
    let s = serve(&[]);
    let pid = s._child.0.id();
    let callback = format!("{}/auth/callback", s.base);
    let login = format!(
        "{}/auth/mock?client_id=argo-cd&response_type=code&scope=openid+email+offline_access&state=s&redirect_uri={}",
        s.issuer,
        url::form_urlencoded::byte_serialize(callback.as_bytes()).collect::<String>()
    );
    let mut logins = 0u64;
    for _ in 0..20 {
        let out = Command::new("wrk")
            .args(["-t2", "-c32", "-d3s", "--timeout", "5s", &login])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{text}");
        assert!(
            !text.contains("Non-2xx or 3xx"),
            "errors under load:\n{text}"
        );
        assert!(
            !text.contains("Socket errors"),
            "socket errors under load:\n{text}"
        );
        let done: u64 = text
            .lines()
            .find(|l| l.contains("requests in"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(done > 0, "{text}");
        logins += done;
        if logins >= 50_000 {
            break;
        }
    }
    assert!(logins >= 50_000, "only {logins} logins");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap();
    eprintln!(
        "{logins} logins: resident {:.1} MiB",
        rss_kib as f64 / 1024.0
    );
    assert!(
        rss_kib < 48 * 1024,
        "{logins} logins: resident {rss_kib} KiB"
    );
}
