//! `dexcheck serve`: the bundled Dex-compatible reference provider on its own.

use std::io::Write;
use std::net::SocketAddr;

use crate::cli::ServeArgs;
use crate::error::{EXIT_OK, RunError};
use crate::provider::Provider;
use crate::provider::config::{self, Client, Config, Connector, ConnectorKind, OidcConnector};
use crate::secret::Secret;
use crate::setup::{self, App};

/// The default client's secret when none is given.
pub const DEFAULT_CLIENT_SECRET: &str = "argo-cd-secret";

pub(super) fn connector_from(c: &setup::Connector) -> Result<Connector, String> {
    let kind = match c.kind.as_str() {
        "oidc" => ConnectorKind::Oidc(OidcConnector {
            issuer: c.config.issuer.clone().unwrap_or_default(),
            client_id: c.config.client_id.clone().unwrap_or_default(),
            client_secret: c.config.client_secret.clone(),
            redirect_uri: c.config.redirect_uri.clone().unwrap_or_default(),
            scopes: c.config.scopes.clone().unwrap_or_default(),
            claim_mapping: c.config.claim_mapping.clone(),
            user_name_key: c.config.user_name_key.clone(),
            user_id_key: None,
        }),
        "mockCallback" | "mock" => ConnectorKind::Mock(config::MockUser::default()),
        other => {
            return Err(format!(
                "connector {:?}: type {other:?} is not supported by the reference provider (oidc and mockCallback are)",
                c.id
            ));
        }
    };
    Ok(Connector {
        id: c.id.clone(),
        name: c.name.clone(),
        kind,
    })
}

/// The provider's config from the flags and the optional file.
pub fn serve_config(args: &ServeArgs) -> Result<Config, String> {
    let secret = Some(Secret::new(
        args.client_secret
            .clone()
            .unwrap_or_else(|| DEFAULT_CLIENT_SECRET.into()),
    ));
    let mut issuer = args.issuer.clone();
    let mut clients: Vec<Client> = Vec::new();
    let mut connectors = Vec::new();
    if let Some(path) = &args.config {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
        let (file_issuer, file_clients) = config::dex_file_clients(&text)?;
        clients = file_clients;
        let s =
            setup::load_str(path, &text, None, Some(App::DEVTRON)).map_err(|e| e.to_string())?;
        if issuer.is_none() {
            issuer = file_issuer.or_else(|| {
                let install = crate::app::Install::new(App::DEVTRON, None);
                let internal = install.internal_dex();
                s.url
                    .as_deref()
                    .and_then(|u| crate::plan::endpoints::derive(&install, u, &internal).ok())
                    .map(|e| e.issuer)
            });
        }
        for c in &s.connectors {
            connectors.push(connector_from(c)?);
        }
    }
    let issuer = issuer.unwrap_or_else(|| "http://127.0.0.1:5556/dex".into());
    let parsed = url::Url::parse(&issuer).map_err(|e| format!("--issuer {issuer:?}: {e}"))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(format!("--issuer {issuer:?}: not an http(s) URL"));
    }
    if clients.is_empty() {
        // Devtron's client: argo-cd, redirect URL/auth/callback, URL = issuer without /api/dex.
        let base = issuer.trim_end_matches('/').trim_end_matches("/api/dex");
        let mut c = config::app_client(&format!("{base}/auth/callback"), secret);
        c.redirect_uris.extend(args.redirect_uris.iter().cloned());
        clients.push(c);
    }
    if connectors.is_empty() {
        connectors.push(config::mock_connector());
    }
    Ok(Config {
        issuer,
        clients,
        connectors,
        release: args.dex_version,
        extra_groups: usize::from(args.groups),
    })
}

fn listen_addr(args: &ServeArgs, issuer: &str) -> SocketAddr {
    args.listen.unwrap_or_else(|| {
        let port = url::Url::parse(issuer)
            .ok()
            .and_then(|u| u.port_or_known_default())
            .unwrap_or(5556);
        SocketAddr::from(([127, 0, 0, 1], port))
    })
}

fn describe(p: &Provider, addr: SocketAddr, secret_flag: bool) -> String {
    let c = &p.config;
    let mut out = format!(
        "dexcheck serve: issuer {}\n  discovery  {}/.well-known/openid-configuration\n  listening  http://{addr}\n",
        c.issuer,
        c.issuer.trim_end_matches('/')
    );
    for client in &c.clients {
        let secret = match (&client.secret, client.public, secret_flag) {
            (_, true, _) => "public".to_string(),
            (Some(_), _, true) => "secret from --client-secret".to_string(),
            // The well-known default is no secret; any other value is never printed.
            (Some(s), _, false) if s.expose() == DEFAULT_CLIENT_SECRET => {
                format!(
                    "secret {DEFAULT_CLIENT_SECRET} (the default; --client-secret sets another)"
                )
            }
            _ => "secret from the config".to_string(),
        };
        out.push_str(&format!(
            "  client     {} ({secret}), redirect URIs: {}\n",
            client.id,
            client.redirect_uris.join(", ")
        ));
    }
    for conn in &c.connectors {
        let what = match &conn.kind {
            ConnectorKind::Mock(u) => format!("signs in {} <{}> at once", u.username, u.email),
            ConnectorKind::Oidc(o) => {
                format!("federates to {} (callback {})", o.issuer, o.redirect_uri)
            }
        };
        out.push_str(&format!(
            "  connector  {} ({}): {what}\n",
            conn.id, conn.name
        ));
    }
    out.push_str("Ctrl-C stops it.\n");
    out
}

pub fn run(args: &ServeArgs) -> i32 {
    super::finish(
        "dexcheck serve",
        crate::cli::OutputFormat::Table,
        serve(args),
    )
}

fn serve(args: &ServeArgs) -> Result<i32, RunError> {
    let config = serve_config(args).map_err(RunError::Flag)?;
    let addr = listen_addr(args, &config.issuer);
    super::block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| RunError::Local(format!("cannot listen on {addr}: {e}")))?;
        let bound = listener.local_addr().unwrap_or(addr);
        let provider = Provider::new(config).await.map_err(RunError::Provider)?;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(describe(&provider, bound, args.client_secret.is_some()).as_bytes());
        let _ = out.flush();
        drop(out);
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        provider
            .serve(listener, stop)
            .await
            .map_err(|e| RunError::Provider(e.to_string()))?;
        Ok(EXIT_OK)
    })
}
