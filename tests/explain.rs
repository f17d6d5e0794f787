//! `dexcheck explain` on the error strings the references quote (Devtron, Argo CD, Dex, go-oidc
//! failure lists): each names the right path and cause. Unknown text: "not recognised", exit 1.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn explain(text: &str) -> (Value, i32) {
    let out = cargo_bin_cmd!("dexcheck")
        .args(["explain", "-o", "json", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

/// (text, id, path, a phrase the explanation must contain)
const CASES: &[(&str, &str, &str, &str)] = &[
    // Devtron
    (
        "Failed to query provider \"http://localhost:8082/orchestrator/api/dex\": Get \"http://localhost:8082/orchestrator/api/dex/.well-known/openid-configuration\": dial tcp [::1]:8082: connect: connection refused",
        "refused",
        "app_pod_dex",
        "port-forward svc/devtron-service 8080:80",
    ),
    (
        "Failed to query provider \"https://fqdn/orchestrator/api/dex\": Get \"https://fqdn/orchestrator/api/dex/.well-known/openid-configuration\": dial tcp: lookup fqdn on 10.100.0.10:53: no such host.",
        "dns",
        "app_pod_dex",
        "rewrite name exact fqdn",
    ),
    (
        "Failed to query provider \"api/dex\": Get \"api/dex/.well-known/openid-configuration\": unsupported protocol scheme",
        "unsupported_scheme",
        "app_pod_dex",
        "delete pod -l app=devtron",
    ),
    (
        "{\"level\":\"error\",\"msg\":\"service err, AuthVerification\",\"err\":\"no token provided\"}",
        "no_token_provided",
        "app_session",
        "restart",
    ),
    (
        "SSO login: Throwing 502 Bad gateway error",
        "http_status(502)",
        "app_pod_dex",
        "devtroncd",
    ),
    (
        "no user found and please login again",
        "no_user",
        "app_session",
        "Add the user",
    ),
    (
        "/dashboard/login?err=NO_USER",
        "no_user",
        "app_session",
        "Add the user",
    ),
    (
        "Failed to query provider \"https://devtron.example.com/orchestrator/api/dex\": Get \"https://devtron.example.com/orchestrator/api/dex/.well-known/openid-configuration\": dial tcp 203.0.113.7:443: i/o timeout",
        "connect_timeout",
        "app_pod_dex",
        "NAT",
    ),
    (
        "Failed to query provider \"https://devtron.example.com/orchestrator/api/dex\": 404 Not Found: 404 page not found",
        "http_status(404)",
        "app_pod_dex",
        "/orchestrator",
    ),
    (
        "Failed to query provider \"https://devtron.example.com/orchestrator/api/dex\": oidc: failed to decode provider discovery object: expected Content-Type = application/json, got \"text/html; charset=utf-8\": invalid character '<' looking for beginning of value",
        "not_json",
        "app_pod_dex",
        "Route URL/api/dex to Dex",
    ),
    (
        "Failed to query provider \"https://d.example.com/orchestrator/api/dex\": Get \"https://d.example.com/orchestrator/api/dex/.well-known/openid-configuration\": EOF",
        "reset",
        "app_pod_dex",
        "PROXY protocol",
    ),
    (
        "failed to get token: oauth2: cannot fetch token: 401 Unauthorized Response: {\"error\":\"invalid_client\",\"error_description\":\"Invalid client credentials.\"}",
        "invalid_client",
        "app_session",
        "server.secretkey",
    ),
    (
        "failed to initialize server: server: Failed to open connector oidc: failed to open connector: failed to create connector oidc: failed to get provider: Get \"https://idp.example.com/.well-known/openid-configuration\": dial tcp: lookup idp.example.com on 10.96.0.10:53: no such host",
        "dns",
        "dex_upstream",
        "idp.example.com",
    ),
    (
        "dex is not configured",
        "dex_not_configured",
        "app_pod_dex",
        "SSO",
    ),
    (
        "malformed Dex configuration found",
        "malformed_dex_config",
        "app_pod_dex",
        "dexcheck check",
    ),
    (
        "unknown app state abcdefghij",
        "unknown_app_state",
        "app_session",
        "replica",
    ),
    // Argo CD
    (
        "Failed to query provider \"https://argocd.xyz.com/api/dex\": Get \"https://argocd-dex-server:5556/api/dex/.well-known/openid-configuration\": dial tcp 10.1.2.3:5556: connect: connection refused",
        "refused",
        "argo_rewrite",
        "argocd-dex-server",
    ),
    (
        "Failed to query provider \"https://<argocd_url>/api/dex\": 400 Bad Request: Client sent an HTTP request to an HTTPS server.",
        "http_to_https",
        "argo_rewrite",
        "dexserver.disable.tls",
    ),
    (
        "argocd: Failed to query provider \"https://argocd.mydomain.com/api/dex\"",
        "query_provider",
        "argo_rewrite",
        "dexcheck check",
    ),
    (
        "Failed to query provider <url>/api/dex: 503 Service Unavailable: upstream connect error or disconnect/reset before headers. reset reason: connection termination",
        "http_status(503)",
        "argo_rewrite",
        "appProtocol",
    ),
    (
        "Failed to query provider \"https://argocd-url/api/dex\": 502 Bad Gateway",
        "http_status(502)",
        "argo_rewrite",
        "argocd-dex-server",
    ),
    (
        "Failed to query provider \"https://argocd.example.com/api/dex\": 403 Forbidden:",
        "http_status(403)",
        "argo_rewrite",
        "NO_PROXY=",
    ),
    (
        "failed to query provider \"https://argocd.example.com/api/dex\": Get \"https://argocd-dex-server:5556/api/dex/.well-known/openid-configuration\": http: server gave HTTP response to HTTPS client",
        "http_to_https",
        "argo_rewrite",
        "dex.server.plaintext",
    ),
    (
        "invalid session: oidc: id token issued by a different provider, expected \"https://a.example.com/argo/api/dex\" got \"https://a.example.com/api/dex\"",
        "different_provider",
        "app_session",
        "issuer",
    ),
    (
        "invalid session: Failed to query provider \"https://XXXX/api/dex\": Get \"https://XXXX/api/dex/.well-known/openid-configuration\": x509: certificate signed by unknown authority",
        "tls_unknown_ca",
        "app_pod_dex",
        "rootCA",
    ),
    (
        // Argo CD's direct OIDC with an in-cluster Keycloak: the seed's two failures, moved to the IdP.
        "failed to query provider \"http://keycloak.keycloak.svc:8080/realms/main\": Get \"http://keycloak.keycloak.svc:8080/realms/main/.well-known/openid-configuration\": dial tcp: lookup keycloak.keycloak.svc on 10.96.0.10:53: no such host",
        "dns",
        "argo_direct",
        "hostname-backchannel-dynamic",
    ),
    (
        "failed to query provider \"http://localhost:18080/realms/main\": Get \"http://localhost:18080/realms/main/.well-known/openid-configuration\": dial tcp [::1]:18080: connect: connection refused",
        "refused",
        "argo_direct",
        "port-forward address as the issuer",
    ),
    (
        // A Keycloak issuer, not Argo CD's /api/dex: argocd-server talks to the IdP itself
        // (oidc.config), and rootCA is Argo CD's fix.
        "Failed to verify token: failed to verify token: Failed to query provider \"https://id.xxxx.xxx/auth/realms/master\": Get \"https://id.xxxx.xxx/auth/realms/master/.well-known/openid-configuration\": x509: certificate signed by unknown authority",
        "tls_unknown_ca",
        "argo_direct",
        "oidc.config's rootCA",
    ),
    (
        "tls: failed to verify certificate: x509: certificate signed by unknown authority",
        "tls_unknown_ca",
        "app_pod_dex",
        "CA",
    ),
    (
        "Invalid redirect URL: the protocol and host (including port) must match and the path must be within allowed URLs if provided",
        "invalid_redirect",
        "browser_app",
        "origin the browser shows",
    ),
    // Argo CD's direct OIDC: oidc.config it cannot read, a reference it cannot resolve.
    (
        "level=warning msg=\"invalid oidc config: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go struct field oidcConfig.clientID of type string\"",
        "invalid_oidc_config",
        "argo_direct",
        "get configmap argocd-cm",
    ),
    (
        "config referenced '$oidc-secret:clientSecret', but key does not exist in secret",
        "secret_reference",
        "argo_direct",
        "app.kubernetes.io/part-of=argocd",
    ),
    (
        "failed to query provider \"$oidc-secret:issuer\": parse \"$oidc-secret:issuer\": first path segment in URL cannot contain colon",
        "unresolved_reference_url",
        "argo_direct",
        "labelled",
    ),
    // Argo CD 1.8–2.1 wrote the same refusal as `Invalid return_url` (reference §3.7).
    (
        "Invalid return_url",
        "invalid_redirect",
        "browser_app",
        "additionalUrls",
    ),
    // Go's older wording: "a HTTP request".
    (
        "Failed to query provider \"https://argocd.example.com/api/dex\": 400 Bad Request: Client sent a HTTP request to an HTTPS server.",
        "http_to_https",
        "argo_rewrite",
        "dexserver.disable.tls",
    ),
    (
        "failed to verify app state: invalid return URL",
        "invalid_redirect",
        "browser_app",
        "additionalUrls",
    ),
    (
        "Failed to verify app state - got invalid redirectURL \"/\"",
        "invalid_redirect",
        "browser_app",
        "2.4.7",
    ),
    (
        "Bad Request Unregistered redirect_uri(\"http://localhost:8085/auth/callback\")",
        "unregistered_redirect_uri",
        "idp_callback",
        "8085",
    ),
    // Dex
    (
        "Failed to parse authorization request: Unregistered redirect_uri (\"http://192.168.16.15:5555/callback\").",
        "unregistered_redirect_uri",
        "idp_callback",
        "restart Dex",
    ),
    (
        "Unregistered redirect_uri.",
        "unregistered_redirect_uri",
        "idp_callback",
        "restart Dex",
    ),
    (
        "Unregistered redirect_uri (\"/device/callback\").",
        "unregistered_redirect_uri",
        "idp_callback",
        "/device/callback",
    ),
    (
        "Invalid client_id (\"stag\").",
        "invalid_client_id",
        "idp_callback",
        "dex.config",
    ),
    (
        "Not found, invalid client_id (\"\")",
        "invalid_client_id",
        "idp_callback",
        "dex.config",
    ),
    (
        "Connector \"github\" returned error when creating callback: expected callback URL \"https://dex.jicomusic.com/callback\" did not match the URL in the config \"https://dex.jicomusic/callback\"",
        "callback_mismatch",
        "idp_callback",
        "https://dex.jicomusic.com/callback",
    ),
    (
        "failed to initialize server: server: Failed to open connector keycloak: failed to open connector: failed to create connector keycloak: failed to get provider: Get https://keycloak.subdomain.domain.com/auth/realms/my-realm/.well-known/openid-configuration: x509: certificate is valid for  *.subdomain.domain.com, not keycloak.subdomain.domain.com",
        "tls_name_mismatch",
        "dex_upstream",
        "keycloak.subdomain.domain.com",
    ),
    (
        "oidc: error loading userinfo: Get \"https://dex.company.my/userinfo\": tls: failed to verify certificate: x509: certificate signed by unknown authority",
        "tls_unknown_ca",
        "app_pod_dex",
        "CA",
    ),
    (
        "failed to get provider: Get /.well-known/openid-configuration: unsupported protocol scheme \"\"",
        "unsupported_scheme",
        "dex_upstream",
        "issuer",
    ),
    (
        "failed to get provider: oidc: issuer did not match the issuer returned by provider, expected \"https://xxxxx.com\" got \"https://xxxxx.com/\"",
        "issuer_mismatch",
        "dex_upstream",
        "byte for byte",
    ),
    (
        "missing \"email_verified\" claim",
        "email_verified",
        "dex_upstream",
        "insecureSkipEmailVerified",
    ),
    (
        "missing \"name\" claim",
        "missing_claim",
        "dex_upstream",
        "userNameKey",
    ),
    (
        "Access to XMLHttpRequest at 'http://127.0.0.1:5556/dex/token' from origin 'http://127.0.0.1:3000' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header",
        "cors",
        "browser_app",
        "allowedOrigins",
    ),
    (
        "invalid_client - Invalid client credentials",
        "invalid_client",
        "app_session",
        "secret",
    ),
    (
        "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid or expired code parameter.\"}",
        "invalid_grant",
        "app_session",
        "replica",
    ),
    (
        "User session error.",
        "session_lost",
        "idp_callback",
        "replica",
    ),
    (
        "Requested resource does not exist.",
        "session_lost",
        "idp_callback",
        "replica",
    ),
    (
        "oidc: token is expired (Token Expiry: 2026-01-01 00:00:00 +0000 UTC)",
        "expired_token",
        "app_session",
        "clock",
    ),
    (
        "oidc: expected audience \"argo-cd\" got \"other\"",
        "audience",
        "app_session",
        "argo-cd",
    ),
    (
        "Authentication failed. Please contact your administrator or try again later.",
        "callback_failed",
        "dex_upstream",
        "explain",
    ),
    // Upstream IdPs, each in its family's words (knowledge::idp).
    (
        "Error 400: redirect_uri_mismatch",
        "idp_redirect_uri",
        "idp_callback",
        "Google Cloud console",
    ),
    (
        "redirect_uri_mismatch",
        "idp_redirect_mismatch",
        "idp_callback",
        "/callback",
    ),
    (
        "AADSTS50011: The redirect URI 'https://devtron.example.com/orchestrator/api/dex/callback' specified in the request does not match the redirect URIs configured for the application 'a1b2'.",
        "idp_redirect_uri",
        "idp_callback",
        "App registrations",
    ),
    (
        "AADSTS700016: Application with identifier 'dex' was not found in the directory 'Contoso'.",
        "idp_unknown_client",
        "idp_callback",
        "clientID",
    ),
    (
        "oidc: failed to get token: oauth2: \"invalid_client\" \"AADSTS7000215: Invalid client secret provided.\"",
        "invalid_client",
        "dex_upstream",
        "clientSecret",
    ),
    (
        "Invalid parameter: redirect_uri",
        "idp_redirect_uri",
        "idp_callback",
        "Valid redirect URIs",
    ),
    (
        "Client not found.",
        "idp_unknown_client",
        "idp_callback",
        "Keycloak",
    ),
    (
        "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings",
        "idp_redirect_uri",
        "idp_callback",
        "Sign-in redirect URIs",
    ),
    (
        "Callback URL mismatch. The provided redirect_uri is not in the list of allowed callback URLs.",
        "idp_redirect_uri",
        "idp_callback",
        "Allowed Callback URLs",
    ),
    (
        "The redirect URI included is not valid.",
        "idp_redirect_uri",
        "idp_callback",
        "GitLab",
    ),
    (
        "Failed to authenticate: redirect_uri_mismatch: The redirect_uri MUST match the registered callback URL for this application.",
        "idp_redirect_uri",
        "idp_callback",
        "Authorization callback URL",
    ),
    (
        "oauth2: \"incorrect_client_credentials\" \"The client_id and/or client_secret passed are incorrect.\"",
        "invalid_client",
        "dex_upstream",
        "GitHub",
    ),
    (
        "https://acme.auth.eu-west-1.amazoncognito.com/error?error=redirect_mismatch&client_id=4ex4mpl3",
        "idp_redirect_uri",
        "idp_callback",
        "Allowed callback URLs",
    ),
];

/// In-process: the knowledge itself, every reference string (the binary's JSON is tested below).
#[test]
fn every_reference_string_names_its_path_and_cause() {
    let mut failures = Vec::new();
    for (text, id, path, phrase) in CASES {
        let got = dexcheck::explain::explain_line(text, None);
        let l = serde_json::to_value(&got).unwrap();
        let all = l.to_string();
        if got.is_none() || l["id"] != *id || l["path"] != *path || !all.contains(phrase) {
            failures.push(format!(
                "{text}\n  want {id} / {path} / {phrase:?}\n  got  {} / {}",
                l["id"], l["path"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Other wordings of the same errors: case, spacing, older Go and app releases.
#[test]
fn wording_variants_are_recognised_alike() {
    let variants: &[(&str, &str)] = &[
        (
            "DIAL TCP [::1]:8082: CONNECT: CONNECTION REFUSED",
            "refused",
        ),
        (
            "dial tcp  10.0.0.1:443:   connect:\tconnection refused",
            "refused",
        ),
        // Go before 1.14 printed Get without quotes.
        (
            "Get https://d.example.com/orchestrator/api/dex/.well-known/openid-configuration: dial tcp: lookup d.example.com: no such host",
            "dns",
        ),
        // Go before 1.20: the x509 error without the tls: prefix.
        (
            "x509: certificate signed by unknown authority",
            "tls_unknown_ca",
        ),
        (
            "Get \"https://d/x\": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)",
            "read_timeout",
        ),
        (
            "dial tcp 10.0.0.1:443: connectex: No connection could be made because the target machine actively refused it.",
            "refused",
        ),
        (
            "Invalid Redirect URL: the protocol and host (including port) must match",
            "invalid_redirect",
        ),
        (
            "failed to parse authorization request: unregistered redirect_uri (\u{201c}http://x/auth/callback\u{201d})",
            "unregistered_redirect_uri",
        ),
    ];
    for (text, id) in variants {
        let got = dexcheck::explain::explain_line(text, None);
        assert_eq!(got.map(|e| e.id).as_deref(), Some(*id), "{text}");
    }
}

#[test]
fn three_pasted_lines_are_each_explained() {
    let log = "2026-11-29T10:00:00Z ERROR Failed to query provider \"http://localhost:8082/orchestrator/api/dex\": Get \"http://localhost:8082/orchestrator/api/dex/.well-known/openid-configuration\": dial tcp [::1]:8082: connect: connection refused\n\
               time=\"2026-11-29T10:00:01Z\" level=error msg=\"Failed to parse authorization request: Unregistered redirect_uri (\\\"http://localhost:8082/orchestrator/auth/callback\\\").\"\n\
               Invalid redirect URL: the protocol and host (including port) must match and the path must be within allowed URLs if provided\n";
    let (v, code) = explain(log);
    assert_eq!(code, 0);
    let ids: Vec<&str> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["refused", "unregistered_redirect_uri", "invalid_redirect"]
    );
    assert_eq!(v["summary"]["recognised"], 3);
}

#[test]
fn unknown_text_is_not_recognised_and_exits_1() {
    let out = cargo_bin_cmd!("dexcheck")
        .args(["explain", "the coffee machine is empty"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not recognised"), "{text}");
    let out = cargo_bin_cmd!("dexcheck")
        .args(["explain"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "no text is a usage error");
}

/// A log with one invalid byte is still explained line by line (read lossily), not refused.
#[test]
fn a_log_with_an_invalid_byte_is_explained_around_it() {
    let mut log = b"garbage \xff\xfe here\n".to_vec();
    log.extend_from_slice(b"dial tcp [::1]:8082: connect: connection refused\n");
    let out = cargo_bin_cmd!("dexcheck")
        .args(["explain", "-o", "json", "-"])
        .write_stdin(log)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["lines"], 2);
    assert_eq!(v["lines"][1]["id"], "refused");
}

/// `-o`, `--color` and `--ascii` work for explain as for check; `-n` reaches the remedy.
#[test]
fn explain_prints_every_format_in_the_namespace_given() {
    let line = "Failed to query provider \"http://localhost:8082/orchestrator/api/dex\": Get \"http://localhost:8082/orchestrator/api/dex/.well-known/openid-configuration\": dial tcp [::1]:8082: connect: connection refused";
    let run = |args: &[&str]| {
        let out = cargo_bin_cmd!("dexcheck")
            .arg("explain")
            .args(args)
            .arg(line)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let text = run(&["--color", "never", "--ascii", "-n", "devtron-prod"]);
    assert!(text.starts_with("FAIL line 1: "), "{text}");
    assert!(
        text.contains("kubectl -n devtron-prod port-forward svc/devtron-service 8080:80"),
        "{text}"
    );
    assert!(!text.contains("devtroncd"), "{text}");
    let yaml: Value = serde_saphyr::from_str(&run(&["-o", "yaml"])).unwrap();
    assert_eq!(yaml["lines"][0]["class"], "refused");
    let junit = run(&["-o", "junit"]);
    assert!(junit.contains("<failure type=\"refused\""), "{junit}");
    let github = run(&["-o", "github"]);
    assert!(
        github.starts_with("::error title=dexcheck explain%3A line 1"),
        "{github}"
    );
}
