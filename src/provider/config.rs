//! What the reference provider serves: clients, connectors, the issuer. Built from flags, a Dex
//! config (`issuer`, `staticClients`, `connectors`) or the seed's Devtron connector YAML.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::secret::Secret;

#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: Option<Secret>,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub public: bool,
}

/// The user the mock connector signs in.
#[derive(Debug, Clone)]
pub struct MockUser {
    pub user_id: String,
    pub username: String,
    pub preferred_username: String,
    pub email: String,
    pub groups: Vec<String>,
}

impl Default for MockUser {
    fn default() -> Self {
        MockUser {
            // Dex's mock connector (`connector/mock`): this user id, no preferred username.
            user_id: "0-385-28089-0".into(),
            username: "Kilgore Trout".into(),
            preferred_username: String::new(),
            email: "kilgore@kilgore.trout".into(),
            groups: vec!["authors".into()],
        }
    }
}

#[derive(Debug, Clone)]
pub struct OidcConnector {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub claim_mapping: BTreeMap<String, String>,
    pub user_name_key: Option<String>,
    pub user_id_key: Option<String>,
}

#[derive(Debug, Clone)]
pub enum ConnectorKind {
    Mock(MockUser),
    Oidc(OidcConnector),
}

#[derive(Debug, Clone)]
pub struct Connector {
    pub id: String,
    pub name: String,
    pub kind: ConnectorKind,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub issuer: String,
    pub clients: Vec<Client>,
    pub connectors: Vec<Connector>,
    /// The Dex release whose answers it gives where releases differ (`--dex-version`).
    pub release: Release,
    /// Groups added to every user's `groups` claim (`--groups N`), for tokens of the size a
    /// user in many groups gets.
    pub extra_groups: usize,
}

/// The Dex releases whose client-visible answers the provider can give.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Release {
    /// v2.30.2, as Devtron ships it: no `introspection_endpoint`, no token-exchange grant, and
    /// refusals that quote the value (`Invalid client_id ("x").`).
    #[value(name = "2.30")]
    V2_30,
    /// v2.45.1.
    #[default]
    #[value(name = "2.45")]
    V2_45,
}

/// The client Devtron and Argo CD generate: `argo-cd`, redirect `URL/auth/callback`.
pub fn app_client(app_callback: &str, secret: Option<Secret>) -> Client {
    Client {
        id: "argo-cd".into(),
        secret,
        name: "Argo CD".into(),
        redirect_uris: vec![app_callback.to_string()],
        public: false,
    }
}

pub fn mock_connector() -> Connector {
    Connector {
        id: "mock".into(),
        name: "Example".into(),
        kind: ConnectorKind::Mock(MockUser::default()),
    }
}

/// `staticClients` in a Dex config.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DexClient {
    id: String,
    #[serde(default)]
    secret: Option<Secret>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "redirectURIs")]
    redirect_uris: Vec<String>,
    #[serde(default)]
    public: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DexFile {
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    static_clients: Vec<DexClient>,
}

/// Reads `issuer` and `staticClients` from a Dex config text (connectors come from the setup
/// loader). Returns `None` when the text has neither.
pub fn dex_file_clients(text: &str) -> Result<(Option<String>, Vec<Client>), String> {
    let f: DexFile = match serde_saphyr::from_str(text) {
        Ok(f) => f,
        Err(_) => return Ok((None, Vec::new())),
    };
    let clients = f
        .static_clients
        .into_iter()
        .map(|c| Client {
            name: c.name.unwrap_or_else(|| c.id.clone()),
            id: c.id,
            secret: c.secret,
            redirect_uris: c.redirect_uris,
            public: c.public,
        })
        .collect();
    Ok((f.issuer, clients))
}

/// Dex's `validateRedirectURI` (v2.45): registered URIs byte for byte; a public client without
/// registered URIs accepts the OOB URN, `/device/callback` and http loopback URIs.
pub fn redirect_allowed(client: &Client, redirect: &str) -> bool {
    if !client.redirect_uris.is_empty() || !client.public {
        return client.redirect_uris.iter().any(|r| r == redirect);
    }
    if redirect == "urn:ietf:wg:oauth:2.0:oob" || redirect == "/device/callback" {
        return true;
    }
    let Some(rest) = redirect.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host == "localhost" {
        return true;
    }
    if let Some((h, port)) = host.rsplit_once(':')
        && port.chars().all(|c| c.is_ascii_digit())
    {
        if h == "localhost" {
            return true;
        }
        let h = h.trim_start_matches('[').trim_end_matches(']');
        return h
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> Client {
        Client {
            id: "p".into(),
            secret: None,
            name: "p".into(),
            redirect_uris: vec![],
            public: true,
        }
    }

    #[test]
    fn dex_redirect_rules() {
        let p = public();
        assert!(redirect_allowed(&p, "http://localhost:8000/cb"));
        assert!(redirect_allowed(&p, "http://127.0.0.1:5555/callback"));
        assert!(redirect_allowed(&p, "http://[::1]:5555/callback"));
        assert!(redirect_allowed(&p, "urn:ietf:wg:oauth:2.0:oob"));
        assert!(!redirect_allowed(&p, "https://localhost/"));
        assert!(!redirect_allowed(&p, "http://localhost.localhost:8080/"));
        assert!(!redirect_allowed(&p, "http://[::1]/"));
        let mut c = public();
        c.redirect_uris = vec!["http://localhost:33768/".into()];
        assert!(!redirect_allowed(&c, "http://localhost:33768"));
        assert!(!redirect_allowed(&c, "http://localhost:1/"));
        c.public = false;
        assert!(redirect_allowed(&c, "http://localhost:33768/"));
    }
}
