//! The other apps on the lab, each with its own failure and its working setup:
//! - Concourse as its web node configures Dex (issuer `EXTERNAL_URL/sky/issuer`, client
//!   `concourse-web` registered with `EXTERNAL_URL/sky/callback`), run as real Dex v2.45 on
//!   loopback, a port-forward on another port than the external URL in front of it; and, in the
//!   lab cluster, its config read from the web Deployment's env;
//! - Argo Workflows signing in through Argo CD's Dex: real Dex v2.45 with Argo CD's
//!   `staticClients`, a `redirectUrl` it does not list; and, in the lab cluster, argo-server's pod
//!   meeting Argo CD's public Dex URL on a workstation port-forward;
//! - Kargo with an external IdP its API server's pod cannot reach.
//!
//! Real Dex needs `scripts/build-go-peers`; the lab cluster needs root, `ip`, `kubectl`, `curl`
//! (each skips otherwise, unless DEXCHECK_REQUIRE_LAB=1).

mod support;

use serde_json::{Value, json};
use support::dex::{self, Client};
use support::lab::{INGRESS_HOST, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_dexcheck");
const MOCK: &str = "- type: mockCallback\n  id: mock\n  name: Example\n";

fn check(id: &str, r: &Value) -> Value {
    r["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("no {id} in {r:#}"))
}

/// `dexcheck check` on `input` (written to a file) with `args`; the report and the exit code.
fn run_on(input: &str, name: &str, args: &[&str]) -> (Value, i32) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, input).unwrap();
    let mut c = std::process::Command::new(BIN);
    c.arg("check")
        .arg(&file)
        .args(["-o", "json", "--timeout", "3"])
        .args(args);
    support::clear_proxies(&mut c);
    let o = c.output().expect("spawn");
    (support::json_report(&o), o.status.code().unwrap_or(-1))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The sentence of a Dex error page (after its header), entities undone.
fn dex_words(body: &str) -> String {
    body.split("<p>")
        .nth(1)
        .and_then(|p| p.split("</p>").next())
        .unwrap_or(body)
        .replace("&#34;", "\"")
        .trim()
        .to_string()
}

/// What real Dex answers a browser asking its authorization endpoint at `issuer` for `client`
/// and `redirect`, redirects followed on loopback: the status and the page's sentence.
fn dex_answers(
    rt: &tokio::runtime::Runtime,
    issuer: &str,
    client: &str,
    redirect: &str,
) -> (u16, String) {
    let mut url = url::Url::parse(&format!("{issuer}/auth")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", client)
        .append_pair("redirect_uri", redirect)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("state", "lab");
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Redirects are followed on loopback only: a login that succeeds ends at the app's
        // callback, which is never looked up.
        let policy = reqwest::redirect::Policy::custom(|a| {
            if a.url().host_str() == Some("127.0.0.1") {
                a.follow()
            } else {
                a.stop()
            }
        });
        let c = reqwest::Client::builder()
            .no_proxy()
            .redirect(policy)
            .build()
            .unwrap();
        let r = c.get(url).send().await.unwrap();
        let status = r.status().as_u16();
        (status, dex_words(&r.text().await.unwrap_or_default()))
    })
}

/// Concourse's web node with CONCOURSE_EXTERNAL_URL `external`: real Dex as the web node
/// configures it, and a relay on another local port in front of it (the port-forward). The
/// browser there is sent to the external URL; taken by hand to the forward, Dex refuses the
/// redirect_uri, in the words dexcheck predicted. At the external URL's own port it works.
#[test]
fn concourse_on_another_port_than_its_external_url_ends_at_unregistered_redirect_uri() {
    let test = "concourse_on_another_port_than_its_external_url_ends_at_unregistered_redirect_uri";
    let Some(bin) = dex::binary_or_skip(test, "v2.45") else {
        return;
    };
    let port = support::procs::free_port();
    let external = format!("http://127.0.0.1:{port}");
    let callback = format!("{external}/sky/callback");
    let _dex = dex::start_on(
        &bin,
        port,
        &format!("{external}/sky/issuer"),
        &[Client {
            id: "concourse-web",
            secret: "derived-from-the-signing-key",
            redirect: &callback,
        }],
        MOCK,
    );
    let rt = rt();
    let forward = support::procs::free_port();
    let target: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", forward)))
        .unwrap();
    rt.spawn(support::servers::relay(listener, target));
    let env = format!(
        "CONCOURSE_EXTERNAL_URL={external}\nCONCOURSE_ADD_LOCAL_USER=test:test\nCONCOURSE_MAIN_TEAM_LOCAL_USER=test\n"
    );
    let here = format!("http://127.0.0.1:{forward}");
    let (r, code) = run_on(
        &env,
        "web.env",
        &["--no-pods", "--no-idp", "--browser-url", &here],
    );
    assert_eq!(r["app"], "concourse", "{r:#}");
    assert_eq!(r["endpoints"]["issuer"], format!("{external}/sky/issuer"));
    // Dex, asked as Concourse asks it (client concourse-web, EXTERNAL_URL/sky/callback), accepts.
    let auth = check("browser.dex_auth", &r);
    assert_eq!(auth["status"], "pass", "{auth:#}");
    assert_eq!(auth["observed"], true, "{auth:#}");
    // From the forward, the redirect_uri row fails with Dex's own refusal.
    let row = check("browser.redirect_uri", &r);
    assert_eq!(row["status"], "fail", "{row:#}");
    assert_eq!(row["class"], "unregistered_redirect_uri", "{row:#}");
    assert!(
        row["message"].as_str().unwrap().contains(&external),
        "{row:#}"
    );
    assert!(
        row["remedy"]
            .as_str()
            .unwrap()
            .contains("CONCOURSE_EXTERNAL_URL"),
        "{row:#}"
    );
    assert_eq!(code, 1);
    assert_eq!(r["verdict"]["blocking_check"], "browser.redirect_uri");
    // Real Dex, reached through the forward with the forward's own callback, says the same.
    let (status, words) = dex_answers(
        &rt,
        &format!("{here}/sky/issuer"),
        "concourse-web",
        &format!("{here}/sky/callback"),
    );
    assert_eq!(status, 400);
    assert_eq!(row["error"].as_str().unwrap(), words);
    // At the external URL's own port, the same login works.
    let (r, code) = run_on(
        &env,
        "web.env",
        &["--no-pods", "--no-idp", "--browser-url", &external],
    );
    assert_eq!(check("browser.redirect_uri", &r)["status"], "pass", "{r:#}");
    assert_eq!(code, 0, "{r:#}");
}

/// Argo CD's Dex (real Dex v2.45, issuer URL/api/dex) lists argo-workflows-sso with one
/// redirect URI; argo-server's redirectUrl is another. dexcheck names it from the pair of
/// ConfigMaps, in the words real Dex answers; with the listed URI it passes.
#[test]
fn an_argo_workflows_redirect_url_missing_from_argo_cds_static_clients_is_named() {
    let test = "an_argo_workflows_redirect_url_missing_from_argo_cds_static_clients_is_named";
    let Some(bin) = dex::binary_or_skip(test, "v2.45") else {
        return;
    };
    let port = support::procs::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let issuer = format!("{url}/api/dex");
    let listed = "https://argo-workflows.lab.test/oauth2/callback";
    let _dex = dex::start_on(
        &bin,
        port,
        &issuer,
        &[Client {
            id: "argo-workflows-sso",
            secret: "shared-lab-secret",
            redirect: listed,
        }],
        MOCK,
    );
    let pair = |redirect: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\ndata:\n  url: {url}\n  dex.config: |\n    connectors:\n    - type: mockCallback\n      id: mock\n      name: Example\n    staticClients:\n    - id: argo-workflows-sso\n      name: Argo Workflows\n      redirectURIs:\n      - {listed}\n      secretEnv: ARGO_WORKFLOWS_SSO_CLIENT_SECRET\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: workflow-controller-configmap\n  namespace: argo\ndata:\n  sso: |\n    issuer: {issuer}\n    clientId:\n      name: argo-workflows-sso\n      key: client-id\n    clientSecret:\n      name: argo-workflows-sso\n      key: client-secret\n    redirectUrl: {redirect}\n"
        )
    };
    let forwarded = "http://localhost:2746/oauth2/callback";
    let (r, code) = run_on(&pair(forwarded), "pair.yaml", &["--offline"]);
    assert_eq!(r["app"], "argo-workflows", "{r:#}");
    let row = check("browser.redirect_uri", &r);
    assert_eq!(row["status"], "fail", "{row:#}");
    assert_eq!(row["class"], "unregistered_redirect_uri", "{row:#}");
    let msg = row["message"].as_str().unwrap();
    assert!(msg.contains(forwarded) && msg.contains(listed), "{row:#}");
    assert_eq!(code, 1);
    let rt = rt();
    let (status, words) = dex_answers(&rt, &issuer, "argo-workflows-sso", forwarded);
    assert_eq!(status, 400);
    assert_eq!(row["error"].as_str().unwrap(), words);
    // The listed URI: Dex sends the browser on to its connector, and dexcheck passes the row.
    let (status, _) = dex_answers(&rt, &issuer, "argo-workflows-sso", listed);
    assert!(status < 400, "{status}");
    let (r, _) = run_on(
        &pair(listed),
        "pair.yaml",
        &[
            "--offline",
            "--browser-url",
            "https://argo-workflows.lab.test",
        ],
    );
    assert_eq!(check("browser.redirect_uri", &r)["status"], "pass", "{r:#}");
}

fn lab_check(lab: &Lab, app: &str, ns: &str) -> (Value, i32) {
    let mut c = lab.in_ws(BIN);
    c.args(["check", "--app", app, "-n", ns, "--kubeconfig"])
        .arg(&lab.kubeconfig)
        .args(["-o", "json", "--timeout", "3", "--no-idp"]);
    support::clear_proxies(&mut c);
    let o = c.output().expect("spawn");
    (support::json_report(&o), o.status.code().unwrap_or(-1))
}

fn put_configmap(lab: &Lab, ns: &str, name: &str, data: Value) {
    lab.state.put(
        "configmaps",
        ns,
        name,
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns},
            "data": data
        }),
    );
}

/// The issuer on the workstation's port-forward: the app's pod meets connection refused, in the
/// app's words (`head`, then the discovery URL); the browser reaches it.
fn only_the_browser_reaches(r: &Value, code: i32, head: &str) {
    let pod = check("pod.idp_discovery", r);
    assert_eq!(pod["status"], "fail", "{pod:#}");
    assert_eq!(pod["observed"], true, "{pod:#}");
    assert_eq!(pod["class"], "refused", "{pod:#}");
    let err = pod["error"].as_str().unwrap();
    assert!(
        err.starts_with(&format!(
            "{head}/.well-known/openid-configuration\": dial tcp "
        )) && err.ends_with("connect: connection refused"),
        "{err}"
    );
    assert_eq!(check("browser.idp_discovery", r)["status"], "pass", "{r:#}");
    assert_eq!(code, 1);
}

/// An issuer under a name both sides resolve: the app's pod and the browser both reach it.
fn both_reach(r: &Value) {
    for id in ["pod.idp_discovery", "browser.idp_discovery"] {
        let c = check(id, r);
        assert_eq!(c["status"], "pass", "{c:#}");
        assert_eq!(c["observed"], true, "{c:#}");
    }
}

fn workflows_sso(issuer: &str) -> Value {
    json!({"sso": format!(
        "issuer: {issuer}\nclientId:\n  name: argo-workflows-sso\n  key: client-id\nclientSecret:\n  name: argo-workflows-sso\n  key: client-secret\nredirectUrl: https://argo-workflows.lab.test/oauth2/callback\n"
    )})
}

/// argo-server discovers its issuer from its pod at start-up. Argo CD's public Dex URL on the
/// workstation's port-forward: the browser reaches it, argo-server's pod meets connection refused
/// and exits with cobra's `Error: Get …`. Under a host both sides resolve, both reach it.
#[test]
fn argo_servers_pod_meets_argo_cds_public_dex_url_as_argo_server_does() {
    if !support::lab_or_skip("argo_servers_pod_meets_argo_cds_public_dex_url_as_argo_server_does") {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.add_pod(
        "argo",
        "argo-server-5d9c7b8f6-lab01",
        json!({"app": "argo-server"}),
        "argo-server",
    );
    let url = format!("http://localhost:{}", lab.pf_port);
    lab.argocd(&url);
    let issuer = format!("{url}/api/dex");
    put_configmap(
        &lab,
        "argo",
        "workflow-controller-configmap",
        workflows_sso(&issuer),
    );
    let (r, code) = lab_check(&lab, "argo-workflows", "argo");
    only_the_browser_reaches(&r, code, &format!("Error: Get \"{issuer}"));

    // A host both resolve (the lab's ingress name): argo-server starts, the browser follows.
    let url = format!("http://{INGRESS_HOST}");
    lab.argocd(&url);
    let issuer = format!("{url}/api/dex");
    put_configmap(
        &lab,
        "argo",
        "workflow-controller-configmap",
        workflows_sso(&issuer),
    );
    both_reach(&lab_check(&lab, "argo-workflows", "argo").0);

    // Argo CD's argocd-cm, read beside argo-server's config, lists another redirect URI for the
    // client: the live check names it in Dex's words.
    let dex = "connectors:\n- type: mockCallback\n  id: mock\n  name: Example\nstaticClients:\n- id: argo-workflows-sso\n  name: Argo Workflows\n  redirectURIs: [http://localhost:2746/oauth2/callback]\n  secretEnv: ARGO_WORKFLOWS_SSO_CLIENT_SECRET\n";
    put_configmap(
        &lab,
        "argocd",
        "argocd-cm",
        json!({"url": url, "dex.config": dex}),
    );
    let (r, code) = lab_check(&lab, "argo-workflows", "argo");
    assert_eq!(
        r["source"],
        "configmap argo/workflow-controller-configmap (live), with configmap argocd/argocd-cm"
    );
    let row = check("browser.redirect_uri", &r);
    assert_eq!(row["status"], "fail", "{row:#}");
    assert_eq!(row["error"], "Unregistered redirect_uri.", "{row:#}");
    assert!(
        row["message"]
            .as_str()
            .unwrap()
            .contains("http://localhost:2746/oauth2/callback")
    );
    assert_eq!(code, 1);
}

/// Kargo with an external IdP: its API server fetches the issuer's discovery from its pod (and
/// keeps running, failing each login, since #3456). An issuer only the workstation reaches fails
/// there in the API server's words; one both resolve passes.
#[test]
fn kargos_api_pod_cannot_reach_an_external_idp() {
    if !support::lab_or_skip("kargos_api_pod_cannot_reach_an_external_idp") {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.add_pod(
        "kargo",
        "kargo-api-7f8e9d0c1-lab02",
        json!({"app.kubernetes.io/component": "api", "app.kubernetes.io/name": "kargo"}),
        "api",
    );
    let set_issuer = |issuer: &str| {
        if let Ok(mut i) = lab.issuer.write() {
            *i = issuer.to_string();
        }
        put_configmap(
            &lab,
            "kargo",
            "kargo-api",
            json!({"OIDC_ENABLED": "true", "OIDC_ISSUER_URL": issuer, "OIDC_CLIENT_ID": "kargo-ui"}),
        );
    };
    let issuer = format!("http://localhost:{}/realms/kargo", lab.pf_port);
    set_issuer(&issuer);
    let (r, code) = lab_check(&lab, "kargo", "kargo");
    assert_eq!(r["app"], "kargo", "{r:#}");
    only_the_browser_reaches(
        &r,
        code,
        &format!(
            "error making discovery request to OpenID Connect identity provider: Get \"{issuer}"
        ),
    );

    let issuer = format!("http://{INGRESS_HOST}/realms/kargo");
    set_issuer(&issuer);
    both_reach(&lab_check(&lab, "kargo", "kargo").0);
}

/// Concourse in the lab cluster, its settings read from the web Deployment's env: its own calls
/// go over the pod's loopback (they pass), the browser on the port-forward matches the external
/// URL (passes); on another forward it is sent away (the redirect_uri row fails).
#[test]
fn concourse_read_from_its_web_deployment() {
    if !support::lab_or_skip("concourse_read_from_its_web_deployment") {
        return;
    }
    let mut lab = Lab::start().expect("lab");
    lab.add_pod(
        "concourse",
        "concourse-web-6c7d8e9f0-lab03",
        json!({"app": "concourse-web", "release": "concourse"}),
        "concourse-web",
    );
    let external = format!("http://localhost:{}", lab.pf_port);
    if let Ok(mut i) = lab.issuer.write() {
        *i = format!("{external}/sky/issuer");
    }
    let env = json!([
        {"name": "CONCOURSE_EXTERNAL_URL", "value": external},
        {"name": "CONCOURSE_OIDC_ISSUER", "value": format!("http://{INGRESS_HOST}/realms/ci")},
        {"name": "CONCOURSE_OIDC_CLIENT_ID", "value": "concourse"},
        {"name": "CONCOURSE_OIDC_CLIENT_SECRET", "valueFrom": {"secretKeyRef": {"name": "concourse-web", "key": "oidc-client-secret"}}},
    ]);
    lab.state.put(
        "deployments",
        "concourse",
        "concourse-web",
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "concourse-web", "namespace": "concourse"},
            "spec": {"template": {"spec": {"containers": [{"name": "concourse-web", "args": ["web"], "env": env}]}}}
        }),
    );
    let (r, code) = lab_check(&lab, "concourse", "concourse");
    assert_eq!(
        r["source"], "deployment concourse/concourse-web (live)",
        "{r:#}"
    );
    assert_eq!(
        r["connectors"][0]["callback"],
        format!("{external}/sky/issuer/callback")
    );
    let pod = check("pod.discovery", &r);
    assert_eq!(pod["status"], "pass", "{pod:#}");
    assert_eq!(pod["observed"], true, "{pod:#}");
    assert_eq!(check("browser.redirect_uri", &r)["status"], "pass", "{r:#}");
    assert_ne!(r["verdict"]["status"], "fail", "{r:#}");
    assert!(code == 0, "{r:#}");

    // The browser on another forward is sent to the external URL.
    lab.forward(18082).expect("forward");
    let mut c = lab.in_ws(BIN);
    c.args([
        "check",
        "--app",
        "concourse",
        "-n",
        "concourse",
        "--kubeconfig",
    ])
    .arg(&lab.kubeconfig)
    .args([
        "-o",
        "json",
        "--timeout",
        "3",
        "--no-idp",
        "--browser-url",
        "http://localhost:18082",
    ]);
    support::clear_proxies(&mut c);
    let r = support::json_report(&c.output().expect("spawn"));
    let row = check("browser.redirect_uri", &r);
    assert_eq!(row["status"], "fail", "{row:#}");
    assert_eq!(row["error"], "Unregistered redirect_uri.", "{row:#}");
}

/// Kargo's UI runs OIDC in the browser: the external IdP must let the page's origin read its
/// discovery. panva's oidc-provider does; the bundled reference provider (like a Dex without
/// `allowedOrigins`) does not, and the row fails in the browser console's words.
#[test]
fn kargos_page_needs_the_idp_to_allow_its_origin() {
    if !support::procs::node_or_skip("kargos_page_needs_the_idp_to_allow_its_origin") {
        return;
    }
    let page = "http://127.0.0.1:7777";
    let values = |issuer: &str| {
        format!(
            "api:\n  host: 127.0.0.1:7777\n  tls:\n    enabled: false\n  oidc:\n    enabled: true\n    issuerURL: {issuer}\n    clientID: kargo-ui\n"
        )
    };
    let mut up = std::process::Command::new("node");
    up.args([
        "tests/js/upstream.mjs",
        &support::procs::free_port().to_string(),
        "kargo-ui",
        "unused-secret",
        &format!("{page}/login"),
    ]);
    let (_upstream, lines) = support::procs::start(up, "ready");
    let issuer = lines
        .last()
        .unwrap()
        .trim_start_matches("ready ")
        .to_string();
    let (r, _) = run_on(&values(&issuer), "values.yaml", &["--no-pods", "--no-idp"]);
    let c = check("browser.idp_cors", &r);
    assert_ne!(c["status"], "fail", "{c:#}");
    assert_eq!(c["observed"], true, "{c:#}");

    let port = support::procs::free_port();
    let issuer = format!("http://127.0.0.1:{port}/dex");
    let mut serve = std::process::Command::new(BIN);
    serve.args(["serve", "--issuer", &issuer]);
    let (_serve, _) = support::procs::start(serve, "Ctrl-C");
    let (r, code) = run_on(&values(&issuer), "values.yaml", &["--no-pods", "--no-idp"]);
    let c = check("browser.idp_cors", &r);
    assert_eq!(c["status"], "fail", "{c:#}");
    assert_eq!(c["class"], "cors", "{c:#}");
    assert_eq!(
        c["error"],
        format!(
            "Access to fetch at '{issuer}/.well-known/openid-configuration' from origin '{page}' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource."
        )
    );
    assert!(
        c["remedy"].as_str().unwrap().contains("web origin"),
        "{c:#}"
    );
    assert_eq!(code, 1);

    // An IdP nobody answers for: nothing to judge CORS by, the discovery row says why.
    let gone = format!(
        "http://127.0.0.1:{}/realms/gone",
        support::procs::free_port()
    );
    let (r, _) = run_on(&values(&gone), "values.yaml", &["--no-pods", "--no-idp"]);
    assert_eq!(check("browser.idp_cors", &r)["status"], "skip", "{r:#}");
    assert_eq!(
        check("browser.idp_discovery", &r)["status"],
        "fail",
        "{r:#}"
    );
}
