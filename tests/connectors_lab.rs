//! Connectors checked where they lead: an LDAP connector from the Dex pod against a real LDAP server (Debian's `slapd`, LDAPS
//! with a certificate from a test CA) in the lab: a working host passes, a refused port, an
//! unknown CA and `localhost:636` are each named in the words Dex's LDAP connector logs, a CA
//! file missing from the pod is named, the bind Dex makes is tried from this machine (a wrong
//! password named in Dex's words), and the bind password appears in no output and in no exec's
//! argv. Needs root, `ip`, `kubectl`, `curl` and `slapd` (skips otherwise, unless
//! DEXCHECK_REQUIRE_LAB=1).

mod support;

use serde_json::Value;
use support::lab::{DEX_POD, INGRESS_HOST, LDAP_ADDR, Lab};
use support::ldap::{BIND_DN, SUFFIX, Slapd};
use support::web::Pki;

const BIN: &str = env!("CARGO_BIN_EXE_dexcheck");
const BIND_PW: &str = "LAB-SECRET-ldap-bind-7c1e";

fn ready(test: &str) -> bool {
    if !support::lab_or_skip(test) {
        return false;
    }
    if support::ldap::binary().is_none() {
        let msg = format!("{test}: needs slapd (apt-get install slapd); skipped");
        if std::env::var("DEXCHECK_REQUIRE_LAB").is_ok_and(|v| v == "1") {
            panic!("{msg} (DEXCHECK_REQUIRE_LAB=1 forbids skipping)");
        }
        eprintln!("{msg}");
        return false;
    }
    true
}

/// The live config: one LDAP connector with `host` and `rootCA` as given.
fn ldap_config(host: &str, root_ca: &str) -> String {
    ldap_config_pw(host, root_ca, BIND_PW)
}

fn ldap_config_pw(host: &str, root_ca: &str, bind_pw: &str) -> String {
    format!(
        "connectors:\n- type: ldap\n  id: ldap\n  name: LDAP\n  config:\n    host: {host}\n    rootCA: {root_ca}\n    bindDN: {BIND_DN}\n    bindPW: {bind_pw}\n    userSearch:\n      baseDN: ou=people,{SUFFIX}\n      username: uid\n      idAttr: uid\n      emailAttr: mail\n      nameAttr: cn\n"
    )
}

struct Run {
    report: Value,
    out: String,
}

impl Run {
    fn lacks(&self, id: &str) -> bool {
        self.report["checks"]
            .as_array()
            .is_some_and(|c| c.iter().all(|c| c["id"] != id))
    }
    fn row(&self, id: &str) -> &Value {
        self.report["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["id"] == id))
            .unwrap_or_else(|| panic!("no {id} in {:#}", self.report))
    }
}

/// The ingress host both sides resolve: every row but the connector's passes.
fn url() -> String {
    format!("http://{INGRESS_HOST}/orchestrator")
}

fn check(lab: &Lab, dex: &str) -> Run {
    check_with(lab, dex, &[])
}

fn check_with(lab: &Lab, dex: &str, args: &[&str]) -> Run {
    lab.put_dex_config(&url(), dex);
    *lab.issuer.write().unwrap() = format!("{}/api/dex", url());
    let mut c = lab.in_ws(BIN);
    c.arg("check")
        .arg("--kubeconfig")
        .arg(&lab.kubeconfig)
        .args(["-o", "json", "--timeout", "2"])
        .args(args);
    support::clear_proxies(&mut c);
    let o = c.output().expect("spawn");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let report = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    Run { report, out }
}

#[test]
fn ldap_from_the_dex_pod_in_dexs_words() {
    if !ready("ldap_from_the_dex_pod_in_dexs_words") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let pki = Pki::new();
    let _slapd = Slapd::start(&lab, &pki, BIND_PW).expect("slapd");
    let ca = lab.dir.join("ldap-ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let other = lab.dir.join("other-ca.pem");
    std::fs::write(&other, Pki::named("another CA").ca_pem).unwrap();
    let ca = ca.to_str().unwrap();

    // A working ldaps:// host, verified with the connector's CA; the CA file is in the pod.
    let r = check(&lab, &ldap_config("ldap.lab.test:636", ca));
    let host = r.row("dexpod.connector_host");
    assert_eq!(host["status"], "pass", "{host:#}");
    assert_eq!(host["observed"], true);
    assert_eq!(host["url"], "ldap.lab.test:636");
    assert!(
        host["message"]
            .as_str()
            .unwrap()
            .contains("TLS verified with"),
        "{host:#}"
    );
    assert_eq!(r.row("dexpod.connector_files")["status"], "pass");
    // The bind Dex makes before every search, tried from this machine with the same CA.
    let bind = r.row("ldap.bind");
    assert_eq!(bind["status"], "pass", "{bind:#}");
    assert_eq!(bind["connector"], "ldap");
    assert!(r.lacks("idp.callback"));
    assert!(
        r.report["verdict"]["blocking_check"].is_null(),
        "{:#}",
        r.report
    );

    // A port nothing listens on.
    let r = check(&lab, &ldap_config("ldap.lab.test:637", ca));
    let host = r.row("dexpod.connector_host");
    assert_eq!(host["class"], "refused", "{host:#}");
    assert_eq!(
        host["error"],
        format!(
            "failed to connect: LDAP Result Code 200 \"Network Error\": dial tcp {LDAP_ADDR}:637: connect: connection refused"
        )
    );
    assert_eq!(
        r.report["verdict"]["blocking_check"],
        "dexpod.connector_host"
    );

    // A CA that did not sign the server's certificate (Dex's rootCA replaces the system roots).
    let r = check(
        &lab,
        &ldap_config("ldap.lab.test:636", other.to_str().unwrap()),
    );
    let host = r.row("dexpod.connector_host");
    assert_eq!(host["class"], "tls_unknown_ca", "{host:#}");
    let err = host["error"].as_str().unwrap();
    assert!(
        err.starts_with("failed to connect: LDAP Result Code 200 \"Network Error\": tls: failed to verify certificate: x509:"),
        "{err}"
    );

    // localhost is the Dex pod itself: predicted offline, observed refused in the pod.
    let r = check(&lab, &ldap_config("localhost:636", ca));
    let host = r.row("dexpod.connector_host");
    assert_eq!(host["class"], "refused", "{host:#}");
    let err = host["error"].as_str().unwrap();
    assert!(
        err.starts_with("failed to connect: LDAP Result Code 200 \"Network Error\": dial tcp ")
            && err.ends_with(":636: connect: connection refused"),
        "{err}"
    );

    // A CA file the Dex pod does not have.
    let r = check(
        &lab,
        &ldap_config("ldap.lab.test:636", "/etc/dex/no-such-ca.pem"),
    );
    let files = r.row("dexpod.connector_files");
    assert_eq!(files["status"], "fail", "{files:#}");
    assert_eq!(files["class"], "missing_file");
    assert!(
        files["message"]
            .as_str()
            .unwrap()
            .contains("/etc/dex/no-such-ca.pem")
    );

    // A wrong bind password, named from this machine in Dex's words; never sent with
    // --no-secret-probe.
    let r = check(
        &lab,
        &ldap_config_pw("ldap.lab.test:636", ca, "LAB-SECRET-wrong-bind"),
    );
    let bind = r.row("ldap.bind");
    assert_eq!(bind["class"], "ldap_bind", "{bind:#}");
    assert_eq!(
        bind["error"],
        format!(
            "ldap: initial bind for user \"{BIND_DN}\" failed: LDAP Result Code 49 \"Invalid Credentials\": "
        )
    );
    assert!(!r.out.contains("LAB-SECRET-wrong-bind"));
    let r = check_with(
        &lab,
        &ldap_config("ldap.lab.test:636", ca),
        &["--no-secret-probe"],
    );
    assert!(r.lacks("ldap.bind"));

    // The bind password: in no output, in no exec's argv.
    assert!(!r.out.contains(BIND_PW));
    let argv = lab.state.exec_argv.lock().unwrap().clone();
    assert!(!argv.is_empty());
    assert!(
        argv.iter().flatten().all(|a| !a.contains(BIND_PW)),
        "{argv:?}"
    );
    // One exec per run in the Dex pod: the connector's hosts and files together.
    assert_eq!(lab.state.exec_count("devtroncd", DEX_POD), 7);
}

/// A SAML connector's `ssoURL` is where the browser goes: opened from this machine. A page
/// that answers at all (the lab IdP answers a plain GET with 404) is reached; a name that does
/// not resolve here is not, in Go's words.
#[test]
fn saml_sso_url_is_opened_from_this_machine() {
    if !support::lab_or_skip("saml_sso_url_is_opened_from_this_machine") {
        return;
    }
    let lab = Lab::start().expect("lab");
    let saml = |sso: &str| {
        format!(
            "connectors:\n- type: saml\n  id: saml\n  name: SAML\n  config:\n    ssoURL: {sso}\n    caData: \"\"\n    insecureSkipSignatureValidation: true\n    usernameAttr: name\n    emailAttr: email\n"
        )
    };
    let r = check(&lab, &saml("http://idp.lab.test/sso/saml"));
    let page = r.row("browser.connector_host");
    assert_eq!(page["status"], "pass", "{page:#}");
    assert_eq!(page["observed"], true);
    let r = check(&lab, &saml("http://sso.nowhere.lab.test/sso/saml"));
    let page = r.row("browser.connector_host");
    assert_eq!(page["class"], "dns", "{page:#}");
    assert!(
        page["error"].as_str().unwrap().starts_with(
            "Get \"http://sso.nowhere.lab.test/sso/saml\": dial tcp: lookup sso.nowhere.lab.test"
        ),
        "{page:#}"
    );
}
