//! The diagnosis in-process: the seed's cases, the flow order, dependencies, the namespace in
//! remedies and candidates, and the return-URL input forms.

use super::*;
use crate::app::App;
use crate::probe::class::Class;

fn load(name: &str, text: &str) -> Setup {
    crate::setup::load_str(name, text, None, None).unwrap()
}

const LOCALHOST: &str = include_str!("../../fixtures/seed-localhost.yaml");
const CLUSTER_LOCAL: &str = include_str!("../../fixtures/seed-cluster-local.yaml");
const ARGOCD: &str = include_str!("../../fixtures/argocd-cm.yaml");

fn check(d: &Diagnosis, id: CheckId) -> &Check {
    d.checks.iter().find(|c| c.id == id).unwrap()
}

#[test]
fn seed_localhost_fails_in_the_pod_first() {
    let d = diagnose(&load("l.yaml", LOCALHOST), &Options::default());
    let pod = check(&d, CheckId::PodDiscovery);
    assert_eq!(
        (pod.status, pod.class),
        (Status::Fail, Some(Class::Refused))
    );
    assert_eq!(
        pod.error.as_deref(),
        Some(
            "Failed to query provider \"http://localhost:8082/orchestrator/api/dex\": Get \"http://localhost:8082/orchestrator/api/dex/.well-known/openid-configuration\": dial tcp [::1]:8082: connect: connection refused"
        )
    );
    assert_eq!(check(&d, CheckId::BrowserApp).status, Status::Pass);
    assert_eq!(d.verdict.blocking_check.as_deref(), Some("pod.discovery"));
    // The catalog's dependency: token and keys are skipped, not failed.
    let tk = check(&d, CheckId::PodTokenKeys);
    assert_eq!((tk.status, tk.class), (Status::Skip, None));
}

#[test]
fn seed_cluster_local_fails_at_the_return_url() {
    // The seed's topology: URL in-cluster, the browser at the port-forward. Where the browser is
    // comes from the operator (--browser-url, or the return_url of the failed login), never from
    // the connector's redirectURI, which Devtron overwrites.
    for opts in [
        Options {
            browser_url: Some("http://localhost:8082".into()),
            ..Default::default()
        },
        Options {
            return_url: Some("http://localhost:8082/orchestrator/dashboard/".into()),
            ..Default::default()
        },
    ] {
        let d = diagnose(&load("c.yaml", CLUSTER_LOCAL), &opts);
        assert_eq!(check(&d, CheckId::PodDiscovery).status, Status::Pass);
        let r = check(&d, CheckId::BrowserReturnUrl);
        assert_eq!((r.status, r.rule), (Status::Fail, Some("host")));
        assert_eq!(r.class, Some(Class::InvalidRedirect));
        assert_eq!(
            d.verdict.blocking_check.as_deref(),
            Some("browser.return_url")
        );
    }
}

#[test]
fn the_redirect_uri_never_names_the_browser() {
    // Without a word on the browser, it is at URL's own origin: the return URL passes there, and
    // the redirectURI's localhost:8082 (overwritten by Devtron) changes nothing.
    let d = diagnose(&load("c.yaml", CLUSTER_LOCAL), &Options::default());
    let origin = d.browser_origin.as_ref().map(|o| o.origin.as_str());
    assert_eq!(
        origin,
        Some("http://devtron-service.devtroncd.svc.cluster.local")
    );
    assert_eq!(check(&d, CheckId::BrowserReturnUrl).status, Status::Pass);
    // A browser at URL itself cannot resolve the in-cluster name: that is what blocks.
    assert_eq!(d.verdict.blocking_check.as_deref(), Some("browser.app"));
}

#[test]
fn the_container_port_works_for_both() {
    let s = crate::setup::load_str(
        "l.yaml",
        LOCALHOST,
        Some("http://localhost:8080/orchestrator"),
        None,
    )
    .unwrap();
    let opts = Options {
        browser_url: Some("http://localhost:8080".into()),
        ..Default::default()
    };
    let d = diagnose(&s, &opts);
    // Only the stale redirectURI warns (Devtron overwrites it); nothing blocks the login.
    assert_eq!(d.verdict.blocking_check, None, "{}", d.verdict.summary);
    assert_eq!(check(&d, CheckId::PodDiscovery).status, Status::Pass);
    assert_eq!(check(&d, CheckId::BrowserReturnUrl).status, Status::Pass);
}

#[test]
fn candidates_and_remedies_name_the_namespace_in_use() {
    let cases = [
        (LOCALHOST, "devtron-prod", "devtroncd"),
        (ARGOCD, "gitops", "-n argocd "),
    ];
    for (text, ns, stale) in cases {
        let opts = Options {
            namespace: Some(ns.into()),
            auto_candidates: true,
            ..Default::default()
        };
        let d = diagnose(&load("x.yaml", text), &opts);
        let mut said: Vec<String> = d.checks.iter().filter_map(|c| c.remedy.clone()).collect();
        said.extend(d.candidates.iter().map(|c| c.url.clone()));
        said.extend(d.candidates.iter().filter_map(|c| c.requires.clone()));
        assert!(said.iter().any(|s| s.contains(ns)), "{said:#?}");
        for s in &said {
            assert!(!s.contains(stale), "{ns}: {s}");
        }
    }
}

#[test]
fn the_manifest_namespace_is_used_without_n() {
    let d = diagnose(&load("a.yaml", ARGOCD), &Options::default());
    assert_eq!(d.install.namespace, "argocd");
    let yaml = ARGOCD.replace("namespace: argocd", "namespace: gitops");
    let d = diagnose(&load("a.yaml", &yaml), &Options::default());
    assert_eq!(
        d.install,
        crate::app::Install::new(App::ARGOCD, Some("gitops"))
    );
}

#[test]
fn return_url_input_forms() {
    let plain = "https://d.example.com/orchestrator/dashboard/";
    assert_eq!(normalise_return_url(plain).0, plain);
    let login = "https://d.example.com/orchestrator/auth/login?return_url=https%3A%2F%2Fd.example.com%2Forchestrator%2Fdashboard%2F";
    assert_eq!(normalise_return_url(login).0, plain);
    // A return URL that carries its own return_url parameter is checked as given.
    let nested = "https://d.example.com/orchestrator/dashboard/?return_url=https://evil.test/";
    assert_eq!(normalise_return_url(nested).0, nested);
    let encoded = "https%3A%2F%2Fd.example.com%2Forchestrator%2Fdashboard%2F";
    assert_eq!(normalise_return_url(encoded).0, plain);
}

#[test]
fn the_verdict_follows_the_login_flow() {
    // The pod fails (rank 2) and the return URL fails (rank 5): the pod blocks first.
    let opts = Options {
        browser_url: Some("https://elsewhere.example.com".into()),
        ..Default::default()
    };
    let d = diagnose(&load("l.yaml", LOCALHOST), &opts);
    assert_eq!(check(&d, CheckId::BrowserReturnUrl).status, Status::Fail);
    assert_eq!(d.verdict.blocking_check.as_deref(), Some("pod.discovery"));
}

/// Argo CD's direct OIDC: the seed's problem moved to the IdP. An in-cluster issuer breaks the
/// browser, a port-forwarded one the argocd-server pod; the callback is URL/auth/callback.
#[test]
fn direct_oidc_moves_the_seeds_problem_to_the_idp() {
    let cm = |issuer: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n  url: https://argocd.example.com\n  dex.config: |\n    connectors:\n    - type: github\n      id: gh\n      name: GitHub\n      config: {{clientID: a, clientSecret: b}}\n  oidc.config: |\n    name: Keycloak\n    issuer: {issuer}\n    clientID: argocd\n    clientSecret: $oidc.keycloak.clientSecret\n"
        )
    };
    let d = diagnose(
        &load(
            "a.yaml",
            &cm("http://keycloak.keycloak.svc.cluster.local/realms/main"),
        ),
        &Options::default(),
    );
    assert_eq!(
        d.oidc.as_ref().map(|o| o.issuer.as_str()),
        Some("http://keycloak.keycloak.svc.cluster.local/realms/main")
    );
    assert!(d.endpoints.is_none() && d.connectors.is_empty());
    assert_eq!(check(&d, CheckId::PodIdpDiscovery).status, Status::Pass);
    let b = check(&d, CheckId::BrowserIdpDiscovery);
    assert_eq!((b.status, b.class), (Status::Fail, Some(Class::Dns)));
    assert_eq!(
        d.verdict.blocking_check.as_deref(),
        Some("browser.idp_discovery")
    );
    assert_eq!(check(&d, CheckId::OidcSecretRefs).status, Status::Unknown);
    assert_eq!(
        d.callback.as_ref().map(|c| c.url.as_str()),
        Some("https://argocd.example.com/auth/callback")
    );
    assert!(d.checks.iter().all(|c| c.id != CheckId::PodDiscovery));

    let d = diagnose(
        &load("a.yaml", &cm("http://localhost:8080/realms/main")),
        &Options::default(),
    );
    let pod = check(&d, CheckId::PodIdpDiscovery);
    assert_eq!(
        (pod.status, pod.class),
        (Status::Fail, Some(Class::Refused))
    );
    assert_eq!(
        pod.error.as_deref(),
        Some(
            "failed to query provider \"http://localhost:8080/realms/main\": Get \"http://localhost:8080/realms/main/.well-known/openid-configuration\": dial tcp [::1]:8080: connect: connection refused"
        )
    );
    assert_eq!(
        d.verdict.blocking_check.as_deref(),
        Some("pod.idp_discovery")
    );
}

/// The what-if columns of direct OIDC are issuers: the in-cluster name fails the browser, its
/// port-forward form fails argocd-server, so neither is recommended; a name both resolve is.
#[test]
fn direct_oidc_what_if_the_issuer_were() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n  url: https://argocd.example.com\n  oidc.config: |\n    issuer: http://keycloak.keycloak.svc/realms/main\n    clientID: argocd\n    cliClientID: argocd-cli\n    clientSecret: s\n";
    let opts = Options {
        auto_candidates: true,
        candidates: vec!["https://sso.example.com/realms/main".into()],
        ..Default::default()
    };
    let d = diagnose(&load("a.yaml", text), &opts);
    let urls: Vec<&str> = d.candidates.iter().map(|c| c.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://keycloak.keycloak.svc/realms/main",
            "http://localhost:8080/realms/main",
            "https://sso.example.com/realms/main"
        ]
    );
    let status = |i: usize| (d.candidates[i].browser.status, d.candidates[i].pod.status);
    assert_eq!(status(0), (Status::Fail, Status::Pass));
    assert_eq!(status(1), (Status::Pass, Status::Fail));
    assert_eq!(
        d.candidates[1].result.label,
        "argocd-server: connection refused"
    );
    // A public name needs a live check from both sides, and is the one to try.
    assert!(d.candidates[2].recommended && !d.candidates[0].recommended);
    // The CLI's own client and callback are named.
    assert!(
        check(&d, CheckId::OidcConfig)
            .message
            .contains("client argocd-cli with the callback http://localhost:8085/auth/callback")
    );
}

/// A dex.config static client that takes the app's own id replaces the app's client in Dex.
#[test]
fn a_static_client_with_the_apps_own_id_is_a_finding() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n  url: https://argocd.example.com\n  dex.config: |\n    staticClients:\n    - id: grafana\n      secret: s\n      redirectURIs: [https://grafana.example.com/login/generic_oauth]\n    - id: argo-cd-cli\n      public: true\n    connectors:\n    - type: github\n      id: gh\n      name: GitHub\n      config: {clientID: a, clientSecret: b}\n";
    let d = diagnose(&load("a.yaml", text), &Options::default());
    let c = check(&d, CheckId::ConfigStaticClients);
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.message
            .contains("staticClients[1] has the id \"argo-cd-cli\""),
        "{}",
        c.message
    );
    // Under Devtron only argo-cd is its own: argo-cd-cli is another client.
    let d = diagnose(
        &crate::setup::load_str("a.yaml", text, None, Some(App::DEVTRON)).unwrap(),
        &Options::default(),
    );
    assert!(
        d.checks
            .iter()
            .all(|c| c.id != CheckId::ConfigStaticClients)
    );
}

/// A setting beside a connector's type and id is one Dex never reads (dexidp/dex#1675).
#[test]
fn a_connector_setting_outside_config_is_a_finding() {
    let text = "issuer: https://dex.example.com/dex\nstorage: {type: memory}\nconnectors:\n- type: ldap\n  id: ldap\n  name: LDAP\n  insecureNoSSL: true\n  config:\n    host: ldap.example.com:389\n    userSearch: {baseDN: dc=example, username: uid}\n";
    let d = diagnose(&load("dex.yaml", text), &Options::default());
    let c = check(&d, CheckId::ConfigConnectorFields);
    assert_eq!(c.status, Status::Warn);
    assert!(
        c.message
            .contains("connector \"ldap\" (ldap): insecureNoSSL")
            && c.message.contains("Network Error"),
        "{}",
        c.message
    );
    let moved = text.replace(
        "  insecureNoSSL: true\n  config:\n",
        "  config:\n    insecureNoSSL: true\n",
    );
    let d = diagnose(&load("dex.yaml", &moved), &Options::default());
    assert!(
        d.checks
            .iter()
            .all(|c| c.id != CheckId::ConfigConnectorFields)
    );
}
