//! The seed's cases with Devtron's own code in the lab: the pod runs Devtron's login code
//! (devtron-labs/authenticator: HandleLogin, HandleCallback, the Dex proxy, under /orchestrator
//! on :8080) and real Dex v2.30.2 with the config Devtron's code generates, behind
//! `argocd-dex-server.devtroncd:5556`. The browser is curl in the workstation namespace, through a
//! port-forward relay. What Devtron answers is then what dexcheck must have said.
//! Needs root, `ip`, `kubectl`, `curl` and `scripts/build-go-peers` (skips otherwise, unless
//! DEXCHECK_REQUIRE_LAB=1).

mod support;

use support::row;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::lab::Lab;
use support::procs::{self, Child};

const BIN: &str = env!("CARGO_BIN_EXE_dexcheck");
const MOCK: &str = "connectors:\n- type: mockCallback\n  id: mock\n  name: Example\n";

struct Peers {
    dex: std::path::PathBuf,
    login: std::path::PathBuf,
}

fn peers(test: &str) -> Option<Peers> {
    if !support::lab_or_skip(test) {
        return None;
    }
    Some(Peers {
        dex: support::dex::peer_or_skip(test, "dex-v2.30")?,
        login: support::dex::peer_or_skip(test, "devtron-login")?,
    })
}

/// Devtron installed with `url`: devtron-secret in the API server, Dex with the config Devtron
/// generates from it, and the orchestrator's login code; both stop on drop.
fn devtron(lab: &Lab, p: &Peers, url: &str) -> (Child, Child) {
    lab.put_dex_config(url, MOCK);
    let raw = lab.dir.join("dex.config");
    std::fs::write(&raw, MOCK).unwrap();
    let generated = Command::new(&p.login)
        .args(["dex-config", "-url", url, "-dex-config"])
        .arg(&raw)
        .output()
        .expect("devtron-login dex-config");
    assert!(generated.status.success(), "{generated:?}");
    let cfg = lab.dir.join("dex.yaml");
    std::fs::write(&cfg, &generated.stdout).unwrap();
    let mut dex = lab.in_pod(&p.dex);
    dex.arg("serve")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let dex = Child(dex.spawn().expect("dex"));
    let issuer_path = url::Url::parse(url)
        .unwrap()
        .path()
        .trim_end_matches('/')
        .to_string();
    let discovery =
        format!("http://127.0.0.1:5556{issuer_path}/api/dex/.well-known/openid-configuration");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !lab
        .in_pod("curl")
        .args(["-sf", "-o", "/dev/null", &discovery])
        .status()
        .is_ok_and(|s| s.success())
    {
        assert!(
            Instant::now() < deadline,
            "Dex never answered at {discovery}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut login = lab.in_pod(&p.login);
    login.args([
        "serve",
        "-url",
        url,
        "-dex",
        "http://argocd-dex-server.devtroncd:5556",
        "-listen",
        "0.0.0.0:8080",
    ]);
    let (login, _) = procs::start(login, "ready");
    (dex, login)
}

/// The browser: curl in the workstation namespace, following redirects with a cookie jar.
fn browse(lab: &Lab, url: &str) -> (u16, String, String) {
    let jar = lab.dir.join("cookies");
    let out = lab
        .in_ws("curl")
        .args(["-s", "-L", "--max-redirs", "10", "-c"])
        .arg(&jar)
        .arg("-b")
        .arg(&jar)
        .args(["-w", "\n%{http_code} %{url_effective}", url])
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, tail) = text.rsplit_once('\n').unwrap_or(("", ""));
    let (code, at) = tail.split_once(' ').unwrap_or(("0", ""));
    (
        code.parse().unwrap_or(0),
        at.to_string(),
        body.trim().to_string(),
    )
}

fn dexcheck(lab: &Lab, extra: &[&str]) -> Value {
    let mut c = lab.in_ws(BIN);
    c.args(["check", "--kubeconfig"])
        .arg(&lab.kubeconfig)
        .args(["-o", "json", "--timeout", "3", "--no-idp"])
        .args(extra);
    support::clear_proxies(&mut c);
    support::json_report(&c.output().expect("spawn"))
}

/// The seed's first case: URL is the port-forward address. Devtron's login fails inside the pod
/// with its own words, and dexcheck's pod row said exactly those words.
#[test]
fn port_forward_url_fails_in_the_pod_in_devtrons_own_words() {
    let Some(p) = peers("port_forward_url_fails_in_the_pod_in_devtrons_own_words") else {
        return;
    };
    let mut lab = Lab::start_bare().expect("lab");
    lab.forward(8082).expect("forward");
    let url = "http://localhost:8082/orchestrator";
    let _devtron = devtron(&lab, &p, url);
    let (code, _, body) = browse(
        &lab,
        &format!("{url}/auth/login?return_url={url}/dashboard"),
    );
    assert_eq!(code, 500, "{body}");
    let r = dexcheck(&lab, &[]);
    let pod = row(&r, "pod.discovery");
    assert_eq!(pod["observed"], true, "{pod:#}");
    assert_eq!(pod["error"], body, "dexcheck's words against Devtron's");
}

/// The seed's second case: URL an ingress host both sides reach, the browser on a port-forward.
/// Devtron refuses the return URL; dexcheck's return-URL row said so in the same words.
#[test]
fn browser_on_a_port_forward_meets_devtrons_invalid_redirect_url() {
    let Some(p) = peers("browser_on_a_port_forward_meets_devtrons_invalid_redirect_url") else {
        return;
    };
    let mut lab = Lab::start_bare().expect("lab");
    lab.forward(8082).expect("forward");
    let url = format!("http://{}/orchestrator", support::lab::INGRESS_HOST);
    let _devtron = devtron(&lab, &p, &url);
    let browser = "http://localhost:8082/orchestrator";
    let (code, _, body) = browse(
        &lab,
        &format!("{browser}/auth/login?return_url={browser}/dashboard"),
    );
    assert_eq!(code, 400, "{body}");
    let r = dexcheck(&lab, &["--browser-url", "http://localhost:8082"]);
    let ret = row(&r, "browser.return_url");
    assert_eq!(ret["status"], "fail", "{ret:#}");
    assert_eq!(ret["error"], body, "dexcheck's words against Devtron's");
    assert_eq!(row(&r, "pod.discovery")["status"], "pass");
}

/// The exception: forwarding local port 8080, the container's own. A whole login through
/// Devtron's code and real Dex ends on the dashboard with Devtron's token cookie, and dexcheck
/// passes every path it checks.
#[test]
fn port_forward_on_8080_logs_in_through_devtrons_code() {
    let Some(p) = peers("port_forward_on_8080_logs_in_through_devtrons_code") else {
        return;
    };
    let mut lab = Lab::start_bare().expect("lab");
    lab.forward(8080).expect("forward");
    let url = "http://localhost:8080/orchestrator";
    let _devtron = devtron(&lab, &p, url);
    let (code, at, body) = browse(
        &lab,
        &format!("{url}/auth/login?return_url={url}/dashboard"),
    );
    assert_eq!(
        (code, at.as_str()),
        (200, format!("{url}/dashboard").as_str()),
        "{body}"
    );
    let jar = std::fs::read_to_string(lab.dir.join("cookies")).unwrap_or_default();
    assert!(jar.contains("argocd.token"), "no session cookie: {jar}");
    let r = dexcheck(&lab, &[]);
    for id in [
        "browser.app",
        "browser.discovery",
        "browser.keys",
        "browser.token",
        "browser.dex_auth",
        "browser.return_url",
        "pod.discovery",
        "pod.token_keys",
        "pod.internal_dex",
    ] {
        assert_eq!(row(&r, id)["status"], "pass", "{id}: {:#}", row(&r, id));
    }
    // Real Dex v2.30.2, and the Dex pod's image says v2.30.2: nothing to compare against.
    let compared = support::rows_prefixed(&r, "compare.");
    assert!(compared.is_empty(), "{compared:#?}");
}
