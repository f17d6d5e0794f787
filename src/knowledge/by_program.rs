//! What words mean when the program that printed them is known (from the line's own words or
//! the line it continues, `knowledge::sources`): `Error: 404 Not Found:` from argo-server at
//! start-up is its SSO issuer's discovery, not a Devtron path. Entries here are tried before the
//! general tables, and only for their program.

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

/// Argo Workflows' namespace in commands: the one named, else the quick-start's `argo`.
fn argo_ns(c: &Ctx) -> &str {
    c.ns.as_deref().unwrap_or("argo")
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
                    "kubectl -n {ns} get configmap workflow-controller-configmap -o yaml (it must hold sso: with issuer, clientId and clientSecret as Secret key references); create or fix it, then kubectl -n {ns} rollout restart deployment argo-server",
                    ns = argo_ns(c)
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
                    "kubectl -n {ns} get configmap; create workflow-controller-configmap with the sso block (or point --configmap at the one that exists), then kubectl -n {ns} rollout restart deployment argo-server",
                    ns = argo_ns(c)
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
