//! dexcheck's live probes against real Dex (v2.30.2 as Devtron ships it, and v2.45.1), built
//! from the Go module proxy by `scripts/build-go-peers`, served as Devtron's embedded Dex on loopback
//! with a Devtron-length issuer (`URL/orchestrator/api/dex`). Dex's own pages decide the rows:
//! a refusal written after Dex's page header, in each release's words.

mod support;

use support::row;

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
    support::clear_proxies(&mut c);
    support::json_report(&c.output().expect("spawn"))
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
                    let compared = support::rows_prefixed(&r, "compare.");
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

/// What a relying party can see of a provider: one line per aspect.
type Seen = std::collections::BTreeMap<&'static str, String>;

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A page's words: the text of its first paragraph after Dex's heading, entities undone.
fn words(body: &str) -> String {
    let text = body
        .split("<p>")
        .nth(1)
        .and_then(|p| p.split("</p>").next())
        .unwrap_or(body);
    text.replace("&#34;", "\"")
        .trim()
        .chars()
        .take(120)
        .collect()
}

/// GET `url`, following redirects that stay under `issuer`; the hops as `STATUS /path`, relative
/// to the issuer, and the last answer.
async fn walk(c: &reqwest::Client, issuer: &str, url: &str) -> (Vec<String>, u16, String, String) {
    let mut url = url.to_string();
    let mut hops = Vec::new();
    for _ in 0..8 {
        let r = c.get(&url).send().await.unwrap();
        let status = r.status().as_u16();
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|l| {
                reqwest::Url::parse(&url)
                    .unwrap()
                    .join(l)
                    .unwrap()
                    .to_string()
            });
        let body = r.text().await.unwrap_or_default();
        let path = url
            .strip_prefix(issuer)
            .unwrap_or(&url)
            .split('?')
            .next()
            .unwrap_or("")
            .to_string();
        hops.push(format!("{status} {path}"));
        match loc {
            Some(next) if next.starts_with(issuer) => url = next,
            Some(next) => return (hops, status, next.split('?').next().unwrap().into(), body),
            None => return (hops, status, String::new(), body),
        }
    }
    (hops, 0, String::new(), String::new())
}

async fn get_json(c: &reqwest::Client, url: &str) -> Value {
    c.get(url).send().await.unwrap().json().await.unwrap()
}

/// Everything compared, aspect by aspect.
async fn seen(issuer: &str, redirect: &str) -> Seen {
    let c = http();
    let mut s = Seen::new();
    seen_documents(&c, issuer, &mut s).await;
    seen_authorization(&c, issuer, redirect, &mut s).await;
    seen_token(&c, issuer, redirect, &mut s).await;
    s
}

/// Discovery (its fields and lists) and the key set.
async fn seen_documents(c: &reqwest::Client, issuer: &str, s: &mut Seen) {
    let doc = get_json(c, &format!("{issuer}/.well-known/openid-configuration")).await;
    let mut keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    keys.sort();
    s.insert("discovery fields", format!("{keys:?}"));
    for f in [
        "grant_types_supported",
        "response_types_supported",
        "scopes_supported",
        "claims_supported",
        "code_challenge_methods_supported",
        "token_endpoint_auth_methods_supported",
    ] {
        let key: &'static str = Box::leak(format!("discovery {f}").into_boxed_str());
        s.insert(key, doc[f].to_string());
    }
    let jwks = get_json(c, &format!("{issuer}/keys")).await;
    let k = &jwks["keys"][0];
    s.insert(
        "keys",
        format!(
            "kty={} alg={} use={} kid-length={}",
            k["kty"],
            k["alg"],
            k["use"],
            k["kid"].as_str().map_or(0, str::len)
        ),
    );
}

/// `/auth`: its refusals and their hops, a whole login's hops, and the ID token it ends with.
async fn seen_authorization(c: &reqwest::Client, issuer: &str, redirect: &str, s: &mut Seen) {
    let auth = |client: &str, cb: &str| {
        reqwest::Url::parse_with_params(
            &format!("{issuer}/auth"),
            &[
                ("client_id", client),
                ("redirect_uri", cb),
                ("response_type", "code"),
                ("scope", "openid email profile groups"),
                ("state", "st"),
            ],
        )
        .unwrap()
        .to_string()
    };
    let (hops, status, _, body) =
        walk(c, issuer, &auth("argo-cd", "http://elsewhere.test/cb")).await;
    s.insert(
        "auth: unregistered redirect_uri",
        format!("{hops:?} → {status} {}", words(&body)),
    );
    let (hops, status, _, body) = walk(c, issuer, &auth("other-app", redirect)).await;
    s.insert(
        "auth: unknown client",
        format!("{hops:?} → {status} {}", words(&body)),
    );
    let (hops, _, to, _) = walk(c, issuer, &auth("argo-cd", redirect)).await;
    s.insert("login hops (mock connector)", format!("{hops:?} → {to}"));
    let unknown = auth("argo-cd", redirect).replacen("/auth?", "/auth/nope?", 1);
    let (hops, status, to, body) = walk(c, issuer, &unknown).await;
    s.insert(
        "auth: unknown connector",
        format!("{hops:?} → {status} {to} {}", words(&body)),
    );
    s.insert(
        "id token",
        id_token(c, issuer, &auth("argo-cd", redirect), redirect).await,
    );
}

/// `/token`'s errors, and the answer outside the issuer.
async fn seen_token(c: &reqwest::Client, issuer: &str, redirect: &str, s: &mut Seen) {
    let token = |secret: &'static str| {
        c.post(format!("{issuer}/token"))
            .basic_auth("argo-cd", Some(secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", "bogus"),
                ("redirect_uri", redirect),
            ])
            .send()
    };
    let r = token("app-secret").await.unwrap();
    s.insert(
        "token: unknown code",
        format!("{} {}", r.status().as_u16(), r.text().await.unwrap().trim()),
    );
    let r = token("wrong").await.unwrap();
    s.insert(
        "token: wrong secret",
        format!("{} {}", r.status().as_u16(), r.text().await.unwrap().trim()),
    );
    let origin = issuer.split("/orchestrator").next().unwrap();
    let r = c.get(format!("{origin}/elsewhere")).send().await.unwrap();
    s.insert(
        "outside the issuer",
        format!("{} {}", r.status().as_u16(), r.text().await.unwrap().trim()),
    );
}

/// A whole login through the mock connector: the ID token's claims as a client sees them (their
/// names, the audience's JSON type, the mock user's subject and profile).
async fn id_token(c: &reqwest::Client, issuer: &str, start: &str, redirect: &str) -> String {
    let mut url = start.to_string();
    let code = loop {
        let r = c.get(&url).send().await.unwrap();
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let next = reqwest::Url::parse(&url).unwrap().join(&loc).unwrap();
        if !next.as_str().starts_with(issuer) {
            break next
                .query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
        }
        url = next.to_string();
    };
    let body: Value = c
        .post(format!("{issuer}/token"))
        .basic_auth("argo-cd", Some("app-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let payload = body["id_token"]
        .as_str()
        .unwrap_or("")
        .split('.')
        .nth(1)
        .unwrap_or("");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
        .unwrap_or_default();
    let claims: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let mut names: Vec<&String> = claims
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    names.sort();
    format!(
        "claims {names:?}; aud a {}; sub {}; email {}; name {}; token response fields {:?}",
        if claims["aud"].is_string() {
            "string"
        } else {
            "list"
        },
        claims["sub"],
        claims["email"],
        claims["name"],
        {
            let mut k: Vec<&String> = body
                .as_object()
                .map(|m| m.keys().collect())
                .unwrap_or_default();
            k.sort();
            k
        }
    )
}

/// The reference provider (`dexcheck serve --config`) against real Dex with the same config:
/// every aspect a relying party can see either matches or is a difference the README lists.
#[test]
fn the_reference_provider_answers_as_dex_does() {
    for version in VERSIONS {
        let Some(bin) = dex::binary_or_skip("the_reference_provider_answers_as_dex_does", version)
        else {
            return;
        };
        let port = support::procs::free_port();
        let issuer = format!("http://127.0.0.1:{port}/orchestrator/api/dex");
        let redirect = format!("http://127.0.0.1:{port}/orchestrator/auth/callback");
        let client = [Client {
            id: "argo-cd",
            secret: "app-secret",
            redirect: &redirect,
        }];
        let real = {
            let _d = dex::start_on(&bin, port, &issuer, &client, MOCK);
            rt().block_on(seen(&issuer, &redirect))
        };
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("dex.yaml");
        std::fs::write(
            &cfg,
            format!("issuer: {issuer}\nstaticClients:\n- id: argo-cd\n  name: argo-cd\n  secret: app-secret\n  redirectURIs: [\"{redirect}\"]\nconnectors:\n{MOCK}"),
        )
        .unwrap();
        let release = if *version == "v2.30" { "2.30" } else { "2.45" };
        let mut serve = std::process::Command::new(BIN);
        serve
            .args(["serve", "--dex-version", release, "--config"])
            .arg(&cfg);
        let (_serve, _) = support::procs::start(serve, "Ctrl-C");
        let ours = rt().block_on(seen(&issuer, &redirect));
        let differ: Vec<String> = real
            .iter()
            .filter(|(k, v)| ours.get(*k) != Some(v))
            .map(|(k, v)| {
                format!(
                    "{k}:\n    Dex {version}: {v}\n    dexcheck serve: {}",
                    ours.get(k).map_or("(none)", String::as_str)
                )
            })
            .collect();
        // The README's "What the reference provider still does differently" lists these.
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Real Dex as Argo CD's embedded Dex (issuer `URL/api/dex`), federating through an `oidc`
/// connector to an independent IdP (panva `oidc-provider`): every browser row and the IdP leg
/// with the connector's own client pass against both releases.
#[test]
fn real_dex_as_argo_cds_dex_federating_to_panva() {
    if !support::procs::node_or_skip("real_dex_as_argo_cds_dex_federating_to_panva") {
        return;
    }
    for version in VERSIONS {
        let Some(bin) =
            dex::binary_or_skip("real_dex_as_argo_cds_dex_federating_to_panva", version)
        else {
            return;
        };
        let port = support::procs::free_port();
        let url = format!("http://localhost:{port}");
        let callback = format!("{url}/api/dex/callback");
        let mut up = std::process::Command::new("node");
        up.args([
            "tests/js/upstream.mjs",
            &support::procs::free_port().to_string(),
            "dex-upstream",
            "UPSTREAM-SECRET-do-not-print",
            &callback,
        ]);
        let (_upstream, lines) = support::procs::start(up, "ready");
        let idp = lines
            .last()
            .unwrap()
            .trim_start_matches("ready ")
            .to_string();
        let connector = format!(
            "- type: oidc\n  id: panva\n  name: Panva\n  config:\n    issuer: {idp}\n    clientID: dex-upstream\n    clientSecret: UPSTREAM-SECRET-do-not-print\n    redirectURI: {callback}\n"
        );
        let app_callback = format!("{url}/auth/callback");
        let client = [Client {
            id: "argo-cd",
            secret: "app-secret",
            redirect: &app_callback,
        }];
        let _dex = dex::start_on(&bin, port, &format!("{url}/api/dex"), &client, &connector);
        let dir = tempfile::tempdir().unwrap();
        let cm = dir.path().join("argocd-cm.yaml");
        let indented: String = connector.lines().map(|l| format!("    {l}\n")).collect();
        std::fs::write(
            &cm,
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n  url: {url}\n  dex.config: |\n    connectors:\n{indented}"),
        )
        .unwrap();
        let o = std::process::Command::new(BIN)
            .arg("check")
            .arg(&cm)
            .args([
                "--app",
                "argocd",
                "--no-pods",
                "-o",
                "json",
                "--timeout",
                "3",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            !stdout.contains("UPSTREAM-SECRET"),
            "a secret in the report"
        );
        let r: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        for id in [
            "browser.discovery",
            "browser.keys",
            "browser.token",
            "browser.dex_auth",
            "browser.idp_discovery",
            "idp.authorize",
            "idp.client_auth",
        ] {
            assert_eq!(
                row(&r, id)["status"],
                "pass",
                "{version} {id}: {:#}",
                row(&r, id)
            );
        }
    }
}
