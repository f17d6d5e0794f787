//! What words mean when the program that printed them is known (from the line's own words or
//! the line it continues, `knowledge::sources`): `Error: 404 Not Found:` from argo-server at
//! start-up is its SSO issuer's discovery, not a Devtron path. Entries here are tried before the
//! general tables, and only for their program.

use crate::app::{App, Install};
use crate::explain::{Ctx, Path};
use crate::knowledge::explain::{Patterns, s};

/// A message as one program prints it: its program's id (`knowledge::sources::PROGRAMS`), a
/// stable id, its precedence (lower wins) and its explanation.
pub(crate) struct ByProgram {
    pub program: &'static str,
    pub id: &'static str,
    pub rank: u16,
    pub patterns: Patterns,
    pub path: Path,
    pub explain: fn(&str, &Ctx) -> (String, Vec<String>, String),
}

/// An app in the namespace named, else its profile's default (Argo Workflows' quick-start
/// `argo`): where a fix's commands come from.
fn install(c: &Ctx, app: App) -> Install {
    Install::new(app, c.ns.as_deref())
}

/// Argo Workflows' namespace in commands.
fn argo_ns(c: &Ctx) -> String {
    install(c, App::ARGO_WORKFLOWS).namespace
}

pub(crate) const BY_PROGRAM: &[ByProgram] = &[
    ByProgram {
        // argo-server `server/auth/sso/sso.go` newSso: with --auth-mode sso it reads `sso` from
        // its ConfigMap (`--configmap`, default workflow-controller-configmap) and refuses an
        // empty issuer, client id or secret reference before any network call.
        program: "argo-server",
        id: "argo_sso_settings_missing",
        rank: 10,
        patterns: &[
            &["issuer empty"],
            &["clientid empty"],
            &["clientsecret empty"],
        ],
        path: Path::AppConfig,
        explain: |t, c| {
            let field = if t.to_lowercase().contains("issuer empty") {
                "issuer"
            } else {
                "clientId/clientSecret"
            };
            (
                format!(
                    "argo-server started with --auth-mode sso but its SSO settings have no {field}"
                ),
                s(&[
                    "the ConfigMap argo-server reads (workflow-controller-configmap, or the one --configmap names) is missing from its namespace or has no sso key: 3.3 reads a missing one as empty settings",
                    "the sso block is indented under another key, so the field is not where argo-server looks",
                ]),
                format!(
                    "kubectl -n {ns} get configmap workflow-controller-configmap -o yaml (it must hold sso: with issuer, clientId and clientSecret as Secret key references); create or fix it, then {restart}",
                    ns = argo_ns(c),
                    restart = install(c, App::ARGO_WORKFLOWS).restart()
                ),
            )
        },
    },
    ByProgram {
        // argo-server 3.4 and later (config/controller.go Get): the ConfigMap read is an error.
        program: "argo-server",
        id: "argo_configmap_missing",
        rank: 15,
        patterns: &[&["configmaps", "not found"]],
        path: Path::AppConfig,
        explain: |_, c| {
            (
                "argo-server could not read its ConfigMap at start-up (with --auth-mode sso its SSO settings live there)".into(),
                s(&[
                    "workflow-controller-configmap (or the name --configmap gives) does not exist in argo-server's namespace: it is created by the install, or renamed by a Helm release name",
                    "argo-server runs in another namespace than the ConfigMap (--namespace, or a namespaced install)",
                ]),
                format!(
                    "kubectl -n {ns} get configmap; create workflow-controller-configmap with the sso block (or point --configmap at the one that exists), then {restart}",
                    ns = argo_ns(c),
                    restart = install(c, App::ARGO_WORKFLOWS).restart()
                ),
            )
        },
    },
    ByProgram {
        // go-oidc NewProvider: a non-200 discovery answer is `STATUS: BODY`; argo-server calls it
        // at start-up (sso.go) and exits through cobra's `Error: …`. A missing ConfigMap gives
        // `issuer empty` (3.3) or `configmaps "…" not found` (3.4 and later) instead.
        program: "argo-server",
        id: "argo_issuer_not_found",
        rank: 20,
        patterns: &[&["404 not found"]],
        path: Path::AppConfig,
        explain: |_, c| {
            (
                "argo-server stopped at start-up: the SSO issuer in its ConfigMap answered 404 for its discovery document (ISSUER/.well-known/openid-configuration)".into(),
                s(&[
                    "sso.issuer in the ConfigMap argo-server reads (workflow-controller-configmap, or --configmap) is not the issuer's own base URL: Argo CD's Dex is https://ARGOCD/api/dex, Keycloak https://HOST/realms/NAME (older: /auth/realms/NAME)",
                    "the ConfigMap argo-server reads is not the one that was edited (another name or namespace), so it runs with other settings",
                    "a path-based ingress in front of the issuer sends /.well-known elsewhere",
                ]),
                format!(
                    "kubectl -n {ns} get configmap workflow-controller-configmap -o jsonpath='{{.data.sso}}'; then curl ISSUER/.well-known/openid-configuration from the argo-server pod: it must answer 200 with that exact issuer",
                    ns = argo_ns(c)
                ),
            )
        },
    },
    ByProgram {
        // sso.go HandleCallback: the state cookie set at /oauth2/redirect is not sent back.
        program: "argo-server",
        id: "argo_state_cookie_lost",
        rank: 30,
        patterns: &[&["failed to get cookie"]],
        path: Path::IdpCallback,
        explain: |_, _| {
            (
                "argo-server's callback got no state cookie: the browser did not send back the cookie set when the login started (400)".into(),
                s(&[
                    "sso.redirectUrl names another host than the one the login started on (a port-forward, another ingress host), so the cookie of the first host is not sent to the second",
                    "the cookie is Secure (argo-server with TLS, or --secure) and the callback is plain http",
                ]),
                "Set sso.redirectUrl to https://THE-HOST-USERS-OPEN/oauth2/callback (the address the browser starts on), register the same URI at the IdP or in Argo CD's dex.config staticClients, and restart argo-server".into(),
            )
        },
    },
    ByProgram {
        // sso.go: oidc.NewProvider from argo-server's pod at start-up, no rewrite, no timeout;
        // the error goes out through cobra's `Error: …` and the server exits (CrashLoopBackOff).
        program: "argo-server",
        id: "argo_issuer_unreachable",
        rank: 25,
        patterns: &[
            &["dial tcp"],
            &["no such host"],
            &["x509:"],
            &["tls:"],
            &["i/o timeout"],
        ],
        path: Path::AppConfig,
        explain: |t, c| {
            let tls = t.contains("x509") || t.contains("tls:");
            (
                format!(
                    "argo-server stopped at start-up: its pod could not fetch the SSO issuer's discovery ({})",
                    if tls { "TLS" } else { "the network" }
                ),
                s(&[
                    "sso.issuer is a URL only the workstation reaches (a kubectl port-forward, localhost, a NodePort): inside argo-server's pod that address is the pod itself or nothing",
                    "the issuer's public host (Argo CD's URL/api/dex) does not resolve, or does not route back in (hairpin), from inside the cluster",
                    "the issuer's certificate is not trusted by argo-server: sso.rootCA (v4.0 and later) or insecureSkipVerify",
                ]),
                format!(
                    "Give sso.issuer a name argo-server's pod reaches and the browser reaches too: an ingress host both resolve (CoreDNS rewrite of it to the ingress controller's Service), the same string as the issuer's own discovery says; then {restart}. Check it from the pod: kubectl -n {ns} exec deploy/argo-server -- wget -qO- ISSUER/.well-known/openid-configuration",
                    ns = argo_ns(c),
                    restart = install(c, App::ARGO_WORKFLOWS).restart()
                ),
            )
        },
    },
    ByProgram {
        // Concourse's web node opens every Dex connector at boot (skymarshal/dexserver, Dex
        // server.go OpenConnector); the oidc connector discovers its issuer then, and the web
        // node exits through cmd/concourse/main.go (`error: …`).
        program: "concourse",
        id: "concourse_connector_at_boot",
        rank: 10,
        patterns: &[&["failed to open connector"]],
        path: Path::DexUpstream,
        explain: |t, c| {
            let i = install(c, App::CONCOURSE);
            let (k, web) = (i.kubectl(), i.profile().server.deployment);
            let tls = t.contains("x509") || t.contains("tls:");
            (
                "Concourse's web node exits at boot: its Dex could not open the connector (the oidc connector fetches CONCOURSE_OIDC_ISSUER's discovery from the web pod then)".into(),
                s(&[
                    if tls {
                        "the IdP's certificate is not trusted by the web node: CONCOURSE_OIDC_CA_CERT (Helm concourse.web.auth.oidc.useCaCert) or CONCOURSE_OIDC_SKIP_SSL_VALIDATION"
                    } else {
                        "the web pod cannot resolve or reach CONCOURSE_OIDC_ISSUER (cluster DNS, egress, a proxy)"
                    },
                    "CONCOURSE_OIDC_ISSUER is not the IdP's exact issuer (go-oidc compares it with the discovery's issuer, trailing slash included)",
                    "CONCOURSE_OIDC_ISSUER_URL was set instead: that is Concourse's own ID-token issuer, not the SSO upstream",
                ]),
                format!(
                    "Make CONCOURSE_OIDC_ISSUER reachable from the web pod (check: {k} exec deploy/{web} -- wget -qO- ISSUER/.well-known/openid-configuration), then {}",
                    i.rollout_restart(&[web])
                ),
            )
        },
    },
    ByProgram {
        // Dex refuses a redirect_uri Concourse did not register: Concourse registers only
        // EXTERNAL_URL/sky/callback (skymarshal/dexserver) and sends the browser to EXTERNAL_URL.
        program: "concourse",
        id: "concourse_not_at_external_url",
        rank: 20,
        patterns: &[&["unregistered redirect_uri"]],
        path: Path::IdpCallback,
        explain: |_, c| {
            let i = install(c, App::CONCOURSE);
            (
                "Dex in Concourse's web node refused the redirect_uri: the browser is not at CONCOURSE_EXTERNAL_URL, the only address Concourse registers (EXTERNAL_URL/sky/callback)".into(),
                s(&[
                    "the browser came through a port-forward or host other than CONCOURSE_EXTERNAL_URL (unset, it is http://127.0.0.1:8080), and the address was edited by hand to follow the login",
                    "web nodes boot with different CONCOURSE_EXTERNAL_URL values: they share one Dex store and the last to boot rewrites concourse-web's redirect URI for all",
                ]),
                format!(
                    "Set CONCOURSE_EXTERNAL_URL (Helm concourse.web.externalUrl) to the address users open, the same on every web node, then {}; behind a port-forward, forward the external URL's own port: {} with EXTERNAL_URL http://127.0.0.1:8080",
                    i.rollout_restart(&[i.profile().server.deployment]),
                    i.port_forward(8080)
                ),
            )
        },
    },
    ByProgram {
        // skymarshal/skyserver: the state at /sky/callback, by release: a cookie
        // (skymarshal_state, ≤ 8.0) or an HMAC-signed token (8.1 and later).
        program: "concourse",
        id: "concourse_state",
        rank: 30,
        patterns: &[
            &["failed-to-verify-state"],
            &["invalid state token"],
            &["unexpected state token"],
            &["failed-to-fetch-cookie-state"],
        ],
        path: Path::IdpCallback,
        explain: |t, _| {
            let first = if t.contains("signature mismatch") {
                "web nodes sign the state with different keys: CONCOURSE_SESSION_SIGNING_KEY unset (each node makes its own) or, on 8.1.0–8.2.1, per-node database credentials"
            } else if t.contains("cookie") {
                "the browser opened Concourse under another host than CONCOURSE_EXTERNAL_URL (127.0.0.1 against localhost, another port): the state cookie (skymarshal_state, 8.0 and earlier) belongs to the other host, so the callback finds none"
            } else {
                "the callback reached another web node than the login started on, and the nodes do not share CONCOURSE_SESSION_SIGNING_KEY"
            };
            (
                "Concourse's /sky/callback refused the login's state (400 invalid state token)".into(),
                s(&[
                    first,
                    "the login took longer than the state's hour, or the browser opened the callback under another host than CONCOURSE_EXTERNAL_URL",
                ]),
                "Give every web node the same CONCOURSE_SESSION_SIGNING_KEY (the Helm chart's secrets.sessionSigningKey), open Concourse at CONCOURSE_EXTERNAL_URL, and log in again".into(),
            )
        },
    },
    ByProgram {
        // pkg/server/auth_middleware.go getKeySet: the API server fetches the issuer's discovery
        // from its pod; since #3456 it logs the error and fails each authenticated request (500).
        program: "kargo",
        id: "kargo_issuer_unreachable",
        rank: 10,
        patterns: &[
            &["error making discovery request"],
            &["error getting keys from openid connect provider"],
        ],
        path: Path::AppSession,
        explain: |_, c| {
            let i = install(c, App::KARGO);
            let (k, api) = (i.kubectl(), i.profile().server.deployment);
            (
                "Kargo's API server could not fetch the OIDC issuer's discovery from its pod: it keeps running and every signed-in request fails (500 internal server error)".into(),
                s(&[
                    "OIDC_ISSUER_URL (Helm api.oidc.issuerURL) is a URL only browsers reach: a port-forward, localhost, or a public name the cluster's DNS does not resolve",
                    "with Kargo's Dex: DEX_SERVER_ADDRESS (https://kargo-dex-server.NS.svc) does not answer, or its CA (DEX_CA_CERT_PATH) does not match",
                ]),
                format!(
                    "Use an issuer the {api} pod reaches under the same name as the browser (an ingress host both resolve), then {}; check from the pod: {k} exec deploy/{api} -- wget -qO- ISSUER/.well-known/openid-configuration",
                    i.rollout_restart(&[api])
                ),
            )
        },
    },
    ByProgram {
        // kargo#3599: the CLI's token carries its own client id as audience.
        program: "kargo",
        id: "kargo_audience",
        rank: 20,
        patterns: &[&["expected audience"]],
        path: Path::AppSession,
        explain: |_, _| {
            (
                "Kargo's API server refused a token whose audience is not the client it expects".into(),
                s(&[
                    "the token was issued to the CLI client (<api.host>-cli) or the UI client (<api.host>) and the API server checks the other: OIDC_CLIENT_ID and OIDC_CLI_CLIENT_ID must name the clients the IdP issues to",
                    "api.host changed after Dex's clients were written, so the client ids (which are the host) no longer match",
                ]),
                "Set api.oidc.clientID and api.oidc.cliClientID (or, with Kargo's Dex, api.host) so the API server expects the clients the IdP issues tokens to; then restart kargo-api".into(),
            )
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_ranks_are_unique_per_program() {
        let mut seen = std::collections::HashSet::new();
        for b in BY_PROGRAM {
            assert!(seen.insert((b.program, b.rank)), "{} {}", b.program, b.rank);
            assert!(
                crate::knowledge::sources::PROGRAMS
                    .iter()
                    .any(|p| p.id == b.program),
                "{}",
                b.program
            );
        }
    }
}
