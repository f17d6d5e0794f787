//! Argo CD's direct OIDC (`oidc.config`) on the lab, with an independent IdP (panva
//! `oidc-provider`) running inside the lab cluster as an in-cluster IdP would (a Keycloak in its own
//! namespace): seen by the argocd-server pod under a cluster name, by the browser through a
//! port-forward, or under a name both resolve; TLS with a test CA given as `rootCA`; the client
//! secret behind a `$name:key` reference resolved from a labelled Secret, and never sent when the
//! Secret is not Argo CD's.
//! Needs root, `ip`, `kubectl`, `curl`, node and `npm ci --prefix tests/js` (skips otherwise,
//! unless DEXCHECK_REQUIRE_LAB=1).

mod support;

use serde_json::{Value, json};
use support::lab::Lab;
use support::procs::{self, Child};
use support::web::Pki;

const BIN: &str = env!("CARGO_BIN_EXE_dexcheck");
/// The in-cluster IdP's Service address (port 8180 plain, 8443 TLS; the pods already listen on 8080).
const IDP: &str = "198.18.0.14";
const CLUSTER_NAME: &str = "keycloak.keycloak.svc";
const SHARED_NAME: &str = "sso.lab.test";
const CLIENT: &str = "argocd";
const SECRET: &str = "ARGO-LAB-SECRET-do-not-print";

fn ready(test: &str) -> bool {
    support::lab_or_skip(test) && procs::node_or_skip(test)
}

struct Run {
    report: Value,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn check(&self, id: &str) -> &Value {
        self.report["checks"]
            .as_array()
            .unwrap_or_else(|| panic!("no checks: {} {}", self.stdout, self.stderr))
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {:#}", self.report))
    }
    fn status(&self, id: &str) -> &str {
        self.check(id)["status"].as_str().unwrap_or("")
    }
}

fn dexcheck(lab: &Lab, extra: &[&str]) -> Run {
    let mut c = lab.in_ws(BIN);
    c.args(["check", "--app", "argocd", "--kubeconfig"])
        .arg(&lab.kubeconfig)
        .args(["-o", "json", "--timeout", "3"])
        .args(extra);
    support::clear_proxies(&mut c);
    let o = c.output().expect("spawn");
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout {stdout} stderr {stderr}"));
    Run {
        report,
        code: o.status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// The IdP inside the pods' network namespace at `IDP:port`, naming `issuer`; TLS with `tls`
/// (certificate and key files). Token requests are logged to `log`.
fn idp(lab: &Lab, port: u16, issuer: &str, callback: &str, tls: Option<(&str, &str)>) -> Child {
    let log = lab.dir.join("token-requests.log");
    let mut cmd = lab.in_pod("node");
    cmd.args([
        "tests/js/incluster.mjs",
        IDP,
        &port.to_string(),
        issuer,
        CLIENT,
        SECRET,
        callback,
    ])
    .env("TOKEN_LOG", &log);
    if let Some((cert, key)) = tls {
        cmd.args([cert, key]);
    }
    procs::start(cmd, "ready").0
}

fn token_requests(lab: &Lab) -> Vec<String> {
    std::fs::read_to_string(lab.dir.join("token-requests.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn put_cm(lab: &Lab, url: &str, oidc: &str) {
    put_cm_with(lab, url, oidc, &[]);
}

fn put_cm_with(lab: &Lab, url: &str, oidc: &str, extra: &[(&str, &str)]) {
    let mut data = json!({"url": url, "oidc.config": oidc});
    for (k, v) in extra {
        data[*k] = Value::String(v.to_string());
    }
    lab.state.put(
        "configmaps",
        "argocd",
        "argocd-cm",
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "argocd-cm", "namespace": "argocd", "labels": {"app.kubernetes.io/part-of": "argocd"}},
            "data": data
        }),
    );
}

fn put_secret(lab: &Lab, name: &str, labelled: bool, data: &[(&str, &str)]) {
    use base64::Engine;
    let enc = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
    let data: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(enc(v))))
        .collect();
    let labels = if labelled {
        json!({"app.kubernetes.io/part-of": "argocd"})
    } else {
        json!({})
    };
    lab.state.put(
        "secrets",
        "argocd",
        name,
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": "argocd", "labels": labels},
            "data": data
        }),
    );
}

/// An issuer named for the cluster, the browser on a port-forward: the pod reaches it, the
/// browser cannot resolve it; and the reverse: the browser reaches it through the port-forward,
/// the pod finds nothing on its own loopback.
#[test]
fn an_in_cluster_idp_breaks_one_side_or_the_other() {
    if !ready("an_in_cluster_idp_breaks_one_side_or_the_other") {
        return;
    }
    let lab = Lab::start().expect("lab");
    lab.add_service(IDP, &[CLUSTER_NAME], &[]).expect("service");
    let url = format!("http://localhost:{}", lab.pf_port);
    lab.argocd(&url);
    let callback = format!("{url}/auth/callback");

    // The issuer is the cluster name: argocd-server reaches it, the browser does not.
    let issuer = format!("http://{CLUSTER_NAME}:8180/realms/test");
    let _idp = idp(&lab, 8180, &issuer, &callback, None);
    put_cm(
        &lab,
        &url,
        &format!(
            "name: Keycloak\nissuer: {issuer}\nclientID: {CLIENT}\nclientSecret: $oidc.keycloak.clientSecret\n"
        ),
    );
    let r = dexcheck(&lab, &[]);
    assert_eq!(
        r.status("pod.idp_discovery"),
        "pass",
        "{:#}",
        r.check("pod.idp_discovery")
    );
    assert_eq!(r.check("pod.idp_discovery")["observed"], true);
    let browser = r.check("browser.idp_discovery");
    assert_eq!(browser["status"], "fail", "{browser:#}");
    assert_eq!(browser["class"], "dns", "{browser:#}");
    assert!(
        browser["error"]
            .as_str()
            .unwrap()
            .starts_with(&format!("failed to query provider \"{issuer}\": Get \"{issuer}/.well-known/openid-configuration\": dial tcp: lookup {CLUSTER_NAME}")),
        "{browser:#}"
    );
    assert_eq!(r.code, 1);
    drop(_idp);

    // The issuer is the port-forward: the browser reaches it, argocd-server does not.
    lab.forward_to(18080, &format!("{IDP}:8180"))
        .expect("forward");
    let issuer = "http://localhost:18080/realms/test".to_string();
    let _idp = idp(&lab, 8180, &issuer, &callback, None);
    put_cm(
        &lab,
        &url,
        &format!("name: Keycloak\nissuer: {issuer}\nclientID: {CLIENT}\n"),
    );
    let r = dexcheck(&lab, &[]);
    assert_eq!(
        r.status("browser.idp_discovery"),
        "pass",
        "{:#}",
        r.check("browser.idp_discovery")
    );
    // Argo CD's client is accepted by the IdP with its callback URL/auth/callback.
    let authorize = r.check("idp.authorize");
    assert_eq!(authorize["status"], "pass", "{authorize:#}");
    assert!(
        authorize["url"].as_str().unwrap().contains(&format!(
            "redirect_uri={}",
            url::form_urlencoded::byte_serialize(callback.as_bytes()).collect::<String>()
        )),
        "{authorize:#}"
    );
    let pod = r.check("pod.idp_discovery");
    assert_eq!(pod["class"], "refused", "{pod:#}");
    let err = pod["error"].as_str().unwrap();
    assert!(
        err.starts_with(&format!("failed to query provider \"{issuer}\": Get \"{issuer}/.well-known/openid-configuration\": dial tcp "))
            && err.ends_with(":18080: connect: connection refused"),
        "{err}"
    );
    assert_eq!(r.code, 1);
}

/// One issuer both sides resolve, over TLS from a test CA: `rootCA` is what the argocd-server pod
/// verifies with (its absence is Argo CD's x509 error); the client secret comes from a labelled
/// Secret through `$name:key` and the IdP accepts it; an unlabelled Secret is reported in Argo
/// CD's words and its reference never reaches the token endpoint.
#[test]
fn a_shared_issuer_with_root_ca_and_a_secret_reference() {
    if !ready("a_shared_issuer_with_root_ca_and_a_secret_reference") {
        return;
    }
    let t = SharedIssuer::start();
    passes_with_root_ca_and_a_labelled_secret(&t);
    without_root_ca_the_pod_meets_x509(&t);
    an_unlabelled_secret_is_never_sent(&t);
}

/// The lab with an https IdP under a name both sides resolve, its certificate from a test CA.
struct SharedIssuer {
    lab: Lab,
    _idp: Child,
    url: String,
    issuer: String,
    root_ca: String,
    cacert: String,
}

impl SharedIssuer {
    fn start() -> SharedIssuer {
        let lab = Lab::start().expect("lab");
        lab.add_service(IDP, &[SHARED_NAME], &[SHARED_NAME])
            .expect("service");
        let url = format!("http://localhost:{}", lab.pf_port);
        lab.argocd(&url);
        let pki = Pki::named("lab in-cluster CA");
        let (cert, key) = pki.server_pem(&[SHARED_NAME]);
        let (cert_file, key_file) = (lab.dir.join("idp.crt"), lab.dir.join("idp.key"));
        std::fs::write(&cert_file, cert).unwrap();
        std::fs::write(&key_file, key).unwrap();
        let cacert = pki.ca_file(&lab.dir).to_string_lossy().to_string();
        let issuer = format!("https://{SHARED_NAME}:8443/realms/test");
        let _idp = idp(
            &lab,
            8443,
            &issuer,
            &format!("{url}/auth/callback"),
            Some((cert_file.to_str().unwrap(), key_file.to_str().unwrap())),
        );
        put_secret(&lab, "argocd-secret", true, &[("server.secretkey", "x")]);
        let root_ca = pki.ca_pem.lines().map(|l| format!("  {l}\n")).collect();
        SharedIssuer {
            lab,
            _idp,
            url,
            issuer,
            root_ca,
            cacert,
        }
    }

    fn oidc(&self, with_ca: bool) -> String {
        format!(
            "name: Keycloak\nissuer: {}\nclientID: {CLIENT}\nclientSecret: $argocd-oidc:clientSecret\n{}",
            self.issuer,
            if with_ca {
                format!("rootCA: |\n{}", self.root_ca)
            } else {
                String::new()
            }
        )
    }

    fn check(&self) -> Run {
        dexcheck(&self.lab, &["--cacert", &self.cacert])
    }
}

/// rootCA honoured in the pod, the secret from a labelled Secret accepted by the IdP.
fn passes_with_root_ca_and_a_labelled_secret(t: &SharedIssuer) {
    let secret = format!("{SECRET}\n");
    put_secret(&t.lab, "argocd-oidc", true, &[("clientSecret", &secret)]);
    put_cm(&t.lab, &t.url, &t.oidc(true));
    let r = t.check();
    for id in [
        "oidc.secret_refs",
        "pod.idp_discovery",
        "pod.idp_token_keys",
        "browser.idp_discovery",
        "idp.authorize",
        "idp.client_auth",
    ] {
        assert_eq!(r.status(id), "pass", "{id}: {:#}", r.check(id));
    }
    for id in ["pod.idp_discovery", "pod.idp_token_keys"] {
        let m = r.check(id)["message"].as_str().unwrap();
        assert!(m.contains("rootCA"), "{id}: {m}");
    }
    // The token endpoint and key set the pod's own discovery names.
    let tk = r.check("pod.idp_token_keys");
    assert_eq!(
        tk["url"],
        format!("{0}/token , {0}/jwks", t.issuer),
        "{tk:#}"
    );
    let refs = r.check("oidc.secret_refs")["message"].as_str().unwrap();
    assert!(refs.contains("resolved from Secret argocd-oidc, key clientSecret"));
    // The IdP saw Argo CD's client authenticate with the resolved secret (a made-up code refused).
    let seen = token_requests(&t.lab);
    assert!(!seen.is_empty(), "no token request reached the IdP");
    assert!(
        seen.iter().all(|l| l.contains("reference=false")),
        "{seen:?}"
    );
    assert!(!r.stdout.contains(SECRET) && !r.stderr.contains(SECRET));
}

/// Without rootCA the pod verifies with its system roots, as Argo CD would.
fn without_root_ca_the_pod_meets_x509(t: &SharedIssuer) {
    put_cm(&t.lab, &t.url, &t.oidc(false));
    let r = t.check();
    let pod = r.check("pod.idp_discovery");
    assert_eq!(pod["class"], "tls_unknown_ca", "{pod:#}");
    assert!(
        pod["error"]
            .as_str()
            .unwrap()
            .ends_with("x509: certificate signed by unknown authority"),
        "{pod:#}"
    );
    assert_eq!(r.status("browser.idp_discovery"), "pass");
}

/// The Secret without Argo CD's label: Argo CD keeps the reference text; it is never sent. And
/// an additionalUrls entry whose callback the IdP's client does not allow: its own row.
fn an_unlabelled_secret_is_never_sent(t: &SharedIssuer) {
    std::fs::remove_file(t.lab.dir.join("token-requests.log")).ok();
    put_secret(&t.lab, "argocd-oidc", false, &[("clientSecret", SECRET)]);
    let extra = [("additionalUrls", "[\"https://argocd.other.test\"]")];
    put_cm_with(&t.lab, &t.url, &t.oidc(true), &extra);
    let r = t.check();
    let refs = r.check("oidc.secret_refs");
    assert_eq!(refs["status"], "fail", "{refs:#}");
    assert_eq!(refs["class"], "secret_reference");
    assert_eq!(
        refs["error"],
        "config referenced '$argocd-oidc:clientSecret', but key does not exist in secret"
    );
    let label = "kubectl -n argocd label secret argocd-oidc app.kubernetes.io/part-of=argocd";
    assert!(refs["remedy"].as_str().unwrap().contains(label), "{refs:#}");
    assert_eq!(r.status("idp.client_auth"), "skip");
    let seen = token_requests(&t.lab);
    assert!(seen.is_empty(), "{seen:?}");
    let rows: Vec<&Value> = r.report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == "idp.authorize")
        .collect();
    let by_callback = |cb: &str| {
        rows.iter()
            .find(|c| c["expected"] == cb)
            .unwrap_or_else(|| panic!("no idp.authorize for {cb}: {rows:#?}"))
    };
    let other = by_callback("https://argocd.other.test/auth/callback");
    assert_eq!(other["class"], "idp_redirect_uri", "{other:#}");
    assert_eq!(
        by_callback(&format!("{}/auth/callback", t.url))["status"],
        "pass"
    );
    assert_eq!(r.code, 1);
}

/// Argo CD replaces references in `dex.config` too: a key argocd-secret lacks stays the
/// reference, which Dex then expands from its environment into something else.
#[test]
fn a_dex_config_reference_argocd_secret_lacks() {
    if !support::lab_or_skip("a_dex_config_reference_argocd_secret_lacks") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let url = format!("http://localhost:{}", lab.pf_port);
    lab.argocd(&url);
    // lab.argocd's dex.config: clientSecret: $oidc.lab.secret
    put_secret(&lab, "argocd-secret", true, &[("server.secretkey", "x")]);
    let r = dexcheck(&lab, &["--dex-internal", "http://argocd-dex-server:5556"]);
    let refs = r.check("config.secret_refs");
    assert_eq!(refs["status"], "fail", "{refs:#}");
    assert_eq!(
        refs["error"],
        "config referenced '$oidc.lab.secret', but key does not exist in secret"
    );
    let message = refs["message"].as_str().unwrap();
    assert!(
        message.contains("Secret argocd/argocd-secret has no key oidc.lab.secret")
            && message.contains("it reads \".lab.secret\""),
        "{message}"
    );
    // With the key, it is resolved, and the Dex pod's token request may send it.
    put_secret(
        &lab,
        "argocd-secret",
        true,
        &[("server.secretkey", "x"), ("oidc.lab.secret", SECRET)],
    );
    let r = dexcheck(&lab, &["--dex-internal", "http://argocd-dex-server:5556"]);
    assert_eq!(
        r.status("config.secret_refs"),
        "pass",
        "{:#}",
        r.check("config.secret_refs")
    );
    assert!(!r.stdout.contains(SECRET) && !r.stderr.contains(SECRET));
}
