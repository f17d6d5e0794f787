//! Every URL that matters, derived from the base URL exactly as upstream derives it.

use serde::Serialize;

use super::gourl::{GoUrl, GoUrlError, join};
use crate::app::Install;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Endpoints {
    pub issuer: String,
    pub discovery: String,
    pub authorization: String,
    pub token: String,
    pub keys: String,
    pub userinfo: String,
    pub device_authorization: String,
    /// Where Dex sends the browser back to the app: `URL/auth/callback` (client `argo-cd`).
    pub app_callback: String,
    /// Where the upstream IdP sends the browser back to Dex: issuer + `/callback`.
    pub connector_callback: String,
    /// Dex inside the cluster, with the issuer's path.
    pub internal_discovery: String,
    /// The client the app's login is at Dex (`argo-cd`, `concourse-web`): what the live probes
    /// of Dex's authorization and token endpoints send.
    #[serde(skip)]
    pub client_id: String,
}

/// Derives the endpoints. Devtron: `u.Path = path.Join(u.Path, "api/dex")` on Go's parsed URL;
/// Argo CD: the plain string `URL + "/api/dex"`. Dex builds each endpoint as
/// `path.Join(issuer.Path, p)`, and clients fetch discovery at
/// `strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"`.
pub fn derive(install: &Install, base: &str, internal_dex: &str) -> Result<Endpoints, GoUrlError> {
    let parsed = GoUrl::parse(base)?;
    let issuer = install.issuer(base, &parsed);
    let issuer_url = GoUrl::parse(&issuer)?;
    let at = |p: &str| {
        let mut u = issuer_url.clone();
        u.path = join(&[&u.path, p]);
        u.to_go_string()
    };
    let app_callback = install.app_callback(base, &parsed);
    let internal_discovery = format!(
        "{}{}/.well-known/openid-configuration",
        internal_dex.trim_end_matches('/'),
        issuer_url.path.trim_end_matches('/')
    );
    Ok(Endpoints {
        discovery: format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ),
        authorization: at("auth"),
        token: at("token"),
        keys: at("keys"),
        userinfo: at("userinfo"),
        device_authorization: at("device/code"),
        connector_callback: at("callback"),
        app_callback,
        internal_discovery,
        issuer,
        client_id: install
            .profile()
            .own_clients
            .first()
            .unwrap_or(&"argo-cd")
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::App;

    #[test]
    fn devtron_issuer_is_path_join() {
        let i = Install::new(App::DEVTRON, None);
        let e = derive(
            &i,
            "https://devtron.example.com/orchestrator/",
            &i.internal_dex(),
        )
        .unwrap();
        assert_eq!(e.issuer, "https://devtron.example.com/orchestrator/api/dex");
        assert_eq!(
            e.discovery,
            "https://devtron.example.com/orchestrator/api/dex/.well-known/openid-configuration"
        );
        assert_eq!(
            e.token,
            "https://devtron.example.com/orchestrator/api/dex/token"
        );
        assert_eq!(
            e.keys,
            "https://devtron.example.com/orchestrator/api/dex/keys"
        );
        assert_eq!(
            e.app_callback,
            "https://devtron.example.com/orchestrator/auth/callback"
        );
        assert_eq!(
            e.connector_callback,
            "https://devtron.example.com/orchestrator/api/dex/callback"
        );
        assert_eq!(
            e.internal_discovery,
            "http://argocd-dex-server.devtroncd:5556/orchestrator/api/dex/.well-known/openid-configuration"
        );
    }

    #[test]
    fn empty_url_gives_the_scheme_less_issuer() {
        let i = Install::new(App::DEVTRON, None);
        let e = derive(&i, "", &i.internal_dex()).unwrap();
        assert_eq!(e.issuer, "api/dex");
        assert_eq!(e.discovery, "api/dex/.well-known/openid-configuration");
    }

    #[test]
    fn argocd_concatenates() {
        let i = Install::new(App::ARGOCD, None);
        let e = derive(&i, "https://argocd.example.com", &i.internal_dex()).unwrap();
        assert_eq!(e.issuer, "https://argocd.example.com/api/dex");
        assert_eq!(
            e.internal_discovery,
            "https://argocd-dex-server:5556/api/dex/.well-known/openid-configuration"
        );
    }
}
