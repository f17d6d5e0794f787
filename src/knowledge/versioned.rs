//! Explanations whose first cause depends on the release that printed the line: each reads the
//! line's own evidence first (the URL it quotes, the client id it names), then the release where
//! one is known (`--app-version`, `--dex-version`, the pod's image), and otherwise says what it
//! depends on with both readings.

use crate::app::{App, Install};
use crate::explain::quoted_after;
use crate::knowledge::versions;

/// The quoted value in `WORD ("…")` as Dex prints it, with or without the space (`WORD("…")`
/// in some copies).
fn quoted_in_parens(text: &str, word: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find(word)? + word.len();
    let rest = text[at..].trim_start().strip_prefix('(')?.trim_start();
    quoted_after(rest, "")
}

fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Argo CD's `Failed to verify app state - got invalid redirectURL "…"` (`util/oidc/oidc.go`
/// verifyAppState): the return URL kept in the state cookie is checked again at the callback.
pub(crate) fn state_return_url(text: &str, i: &Install) -> (String, Vec<String>, String) {
    let url = quoted_after(text, "redirectURL ").unwrap_or_default();
    let relative = !url.is_empty() && !url.contains("://");
    let what = format!(
        "Argo CD refused the return URL {} when verifying the login state at the callback",
        if url.is_empty() {
            "(not shown)".to_string()
        } else {
            format!("{url:?}")
        }
    );
    let fixed = "upgrade to 2.3.7, 2.4.8, 2.5.0 or later";
    let remedy = format!(
        "Set url in argocd-cm to the browser's address ({} get configmap argocd-cm); if the return URL is the base href and the release is 2.3.6 or 2.4.5–2.4.7, {fixed}",
        i.kubectl()
    );
    let regression = "a regression in Argo CD 2.3.6 and 2.4.5–2.4.7: they checked the state's return URL against url alone, so the base href \"/\" failed (argo-cd#10058; fixed in 2.3.7, 2.4.8 and 2.5.0 by allowing the base href)";
    let causes = match (relative, i.versions.app.as_ref()) {
        (false, _) => owned(&[
            "url in argocd-cm differs from the browser's address (scheme, host, port)",
            "the login started on an address in additionalUrls on an Argo CD before 2.13, which ignores them",
        ]),
        (true, Some(v)) if versions::argocd_rejects_base_href(v) => {
            vec![format!("{regression}: {v} is one of them")]
        }
        (true, Some(v)) => vec![
            format!(
                "the return URL {url:?} is neither within url nor the base href: on {v} the base href is allowed, so --basehref (server.basehref) is another path than {url:?}"
            ),
            "url in argocd-cm has a path that the return URL is outside".into(),
        ],
        (true, None) => vec![
            format!(
                "{regression} (depends on the version: give --app-version, or read the argocd-server image tag)"
            ),
            format!(
                "on other releases: --basehref (server.basehref) is another path than {url:?}, or url in argocd-cm has a path the return URL is outside"
            ),
        ],
    };
    (what, causes, remedy)
}

/// Dex's `Invalid client_id ("…")` (server/oauth2.go parseAuthorizationRequest): no client with
/// that id in its storage. The id tells whose client it is.
pub(crate) fn unknown_client(text: &str, i: &Install) -> (String, Vec<String>, String) {
    let id = quoted_in_parens(text, "client_id").unwrap_or_default();
    let own = App::ALL
        .iter()
        .find(|a| a.profile().own_clients.contains(&id.as_str()));
    let what = format!(
        "Dex has no client with the client_id {}",
        if id.is_empty() {
            "the request sent".to_string()
        } else {
            format!("{id:?}")
        }
    );
    if let Some(app) = own {
        return (
            what,
            owned(&[
                "Dex runs without the app's generated config (dex.config missing or Dex not restarted)",
                "the request reached another Dex",
            ]),
            format!(
                "Check that {} wrote Dex's config ({} dex.config) and restart Dex",
                app.name(),
                app.profile().config.name()
            ),
        );
    }
    let id_env = match i.versions.dex.as_ref() {
        Some(v) if v.before(versions::DEX_ID_ENV) => format!(
            "the staticClients entry sets its id with idEnv, which Dex {v} ignores (idEnv is read from Dex 2.23): the client is registered with an empty id; upgrade the Dex image"
        ),
        Some(v) => format!(
            "the staticClients entry takes its id from idEnv and the variable is unset in the Dex pod (Dex {v} reads idEnv)"
        ),
        None => "the staticClients entry sets its id with idEnv: Dex images before 2.23 ignore idEnv (the client gets an empty id), later ones read it from the Dex pod's environment (depends on the Dex image: check its tag)".into(),
    };
    (
        what,
        vec![
            "no static client in the config Dex runs has this id: this is no app's generated client, so it must be one of dex.config's staticClients (missing, misspelt, or in a config Dex was not restarted with)".into(),
            id_env,
            "the relying party (oauth2-proxy, an authservice, argo-server) sends another client id than the one registered".into(),
        ],
        "Compare the relying party's client id with Dex's staticClients (kubectl get the Dex config Secret or ConfigMap; with idEnv, kubectl exec into Dex and read the variable), check the Dex image tag, and restart Dex".into(),
    )
}

/// `Invalid redirect URL: …` (Devtron, Argo CD 2.2 and later; `HandleLogin`): the login's
/// `return_url` is not within URL (nor, on Argo CD 2.13 and later, `additionalUrls`).
pub(crate) fn login_return_url(_: &str, i: &Install) -> (String, Vec<String>, String) {
    let mut causes = owned(&[
        "the browser's origin differs from URL (port-forward port, http vs https, www vs bare host, a default port written in URL)",
        "URL is an in-cluster name (svc.cluster.local) while the browser uses another address",
        "letter case or a trailing slash in URL",
    ]);
    let dev_build = "a relative return_url (`/auth/login?return_url=%2F`): Argo CD's UI sent one after logout in development builds of 2026-05-05 to 2026-05-14 (argo-cd#27862, fixed by #27733 before 3.5.0-rc1; no release carries it)";
    match i.versions.app.as_ref() {
        Some(v) if v.unreleased && (v.major, v.minor) == (3, 5) => {
            causes.insert(0, format!("{dev_build}: {v} is such a build"));
        }
        Some(v) if v.before(versions::ARGOCD_ADDITIONAL_URLS) => causes.insert(
            1,
            format!(
                "the browser uses an address listed in additionalUrls, which Argo CD {v} ignores (it counts from 2.13): only url is accepted"
            ),
        ),
        Some(_) => causes.push("the browser uses an address that is neither url nor in additionalUrls".into()),
        None => {
            causes.push("Argo CD: the address is in additionalUrls but the release is older than 2.13, which ignores them (depends on the version: give --app-version)".into());
            causes.push(dev_build.into());
        }
    }
    (
        "the app refused the login's return URL: its scheme, host[:port] or path does not match URL".into(),
        causes,
        "Set URL to exactly the origin the browser shows (plus /orchestrator for Devtron), with no default port; run dexcheck check --return-url '<the return_url value>' to see which rule fails".into(),
    )
}

/// Dex's `Unregistered redirect_uri ("…").` (server/oauth2.go validateRedirectURI; 2.45 and
/// later print `Unregistered redirect_uri.` without the URI). The URI names whose callback it is.
pub(crate) fn unregistered_redirect(t: &str, i: &Install) -> (String, Vec<String>, String) {
    let uri = quoted_in_parens(t, "redirect_uri").unwrap_or_default();
    let newer = t.to_lowercase().contains("unregistered redirect_uri.");
    let what = if uri.is_empty() {
        format!(
            "Dex does not accept the redirect_uri the client sent{}: it is not among the client's registered redirect URIs (compared byte for byte)",
            if newer {
                " (Dex 2.45 or later: its wording no longer quotes it)"
            } else {
                ""
            }
        )
    } else {
        format!(
            "Dex does not accept the redirect_uri {uri:?}: it is not among the client's registered redirect URIs (compared byte for byte)"
        )
    };
    let restart = format!(
        "Save the SSO config again so the app regenerates Dex's config, then restart Dex and the app: {}",
        i.restart()
    );
    let (causes, remedy) = if uri.contains("localhost:8085") {
        (
            owned(&[
                "the argocd CLI client (argo-cd-cli) does not list http://localhost:8085/auth/callback: since Dex 2.26 a public client's localhost callbacks are allowed implicitly only when it lists no redirectURIs, so an Argo CD that generated argo-cd-cli without it, run with a Dex upgraded past 2.26, refuses the CLI's login (argo-cd#5094)",
            ]),
            "Run the Dex image the Argo CD release ships (or upgrade Argo CD so that it registers the CLI's callback), then restart argocd-dex-server".into(),
        )
    } else if uri.ends_with("/sky/callback") {
        // Concourse registers only CONCOURSE_EXTERNAL_URL/sky/callback (skymarshal/dexserver).
        (
            owned(&[
                "Concourse's login client (concourse-web) lists only CONCOURSE_EXTERNAL_URL/sky/callback: the browser is at another address (a port-forward on another port, another host; unset, the external URL is http://127.0.0.1:8080) and the address was edited to follow the login",
                "web nodes boot with different CONCOURSE_EXTERNAL_URL values: they share one Dex store and the last to boot rewrites concourse-web's redirect URI for all",
            ]),
            "Set CONCOURSE_EXTERNAL_URL (Helm concourse.web.externalUrl) to the address users open, the same on every web node, and restart the web nodes: kubectl -n concourse rollout restart deployment concourse-web; behind a port-forward, forward the external URL's own port".into(),
        )
    } else if uri.ends_with("/device/callback") {
        (
            owned(&[
                "device flow: the client must list /device/callback in its redirectURIs (or be public without redirectURIs)",
            ]),
            restart,
        )
    } else if uri.ends_with("/oauth2/callback") {
        (
            vec![
                format!("the static client's redirectURIs do not list this oauth2-proxy callback ({uri}; argo-server's has the same path): it registers another path (Kubeflow before 1.9 registered its authservice's /authservice/oidc/callback) or another host"),
                if uri.starts_with('/') {
                    "the relying party sent a relative URI: give it the absolute callback (oauth2-proxy --redirect-url, argo-server sso.redirectUrl) and register exactly that".into()
                } else {
                    "the relying party sends another host, port or scheme than registered".into()
                },
            ],
            "Add the exact URI to the static client's redirectURIs in Dex's config (or set the relying party's redirect URL to the registered one), then restart Dex".into(),
        )
    } else {
        (
            owned(&[
                "URL changed but Dex still runs the config generated from the old URL (its argo-cd client lists the old URL/auth/callback)",
                "the client sends another host, port, scheme or trailing slash than registered",
            ]),
            restart,
        )
    };
    (what, causes, remedy)
}
