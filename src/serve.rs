//! `dexcheck serve` and `dexcheck demo`: the reference provider on its own, and a whole Devtron
//! stand-in on loopback checked live.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::cli::{DemoArgs, ServeArgs};
use crate::provider::Provider;
use crate::provider::config::{self, Client, Config, Connector, ConnectorKind, OidcConnector};
use crate::secret::Secret;
use crate::setup::{self, App};
use crate::{EXIT_COULD_NOT_RUN, EXIT_INPUT, EXIT_OK, runtime};

/// The default client's secret when none is given.
pub const DEFAULT_CLIENT_SECRET: &str = "argo-cd-secret";

fn connector_from(c: &setup::Connector) -> Result<Connector, String> {
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
            (Some(_), _, false) if client.id == "argo-cd" => {
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

pub fn serve(args: &ServeArgs) -> i32 {
    let config = match serve_config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dexcheck serve: {e}");
            return EXIT_INPUT;
        }
    };
    let rt = match runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dexcheck serve: {e}");
            return EXIT_COULD_NOT_RUN;
        }
    };
    let addr = listen_addr(args, &config.issuer);
    let code = rt.block_on(async {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("dexcheck serve: cannot listen on {addr}: {e}");
                return EXIT_COULD_NOT_RUN;
            }
        };
        let bound = listener.local_addr().unwrap_or(addr);
        let provider = match Provider::new(config).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("dexcheck serve: {e}");
                return EXIT_COULD_NOT_RUN;
            }
        };
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(describe(&provider, bound, args.client_secret.is_some()).as_bytes());
        let _ = out.flush();
        drop(out);
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match provider.serve(listener, stop).await {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!("dexcheck serve: {e}");
                EXIT_COULD_NOT_RUN
            }
        }
    });
    rt.shutdown_background();
    code
}

/// Starts a provider on an ephemeral port of 127.0.0.1; `issuer` gets the port filled in for
/// `{port}`. Returns the issuer.
async fn start(
    make: impl FnOnce(u16) -> Config,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Result<(Arc<Provider>, String), String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let config = make(port);
    let issuer = config.issuer.clone();
    let provider = Provider::new(config).await?;
    let p = provider.clone();
    let mut stop = stop.clone();
    tokio::spawn(async move {
        let _ = p
            .serve(listener, async move {
                let _ = stop.changed().await;
            })
            .await;
    });
    Ok((provider, issuer))
}

/// `dexcheck demo`: an upstream IdP, a Devtron-shaped Dex under `/orchestrator/api/dex` that
/// federates to it, and `check` run live against them, with the seed's broken URLs as what-ifs.
pub fn demo(args: &DemoArgs) -> i32 {
    let rt = match runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dexcheck demo: {e}");
            return EXIT_COULD_NOT_RUN;
        }
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let started = rt.block_on(async {
        // Devtron's Dex port first: the upstream must know its callback.
        let devtron = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| e.to_string())?;
        let dport = devtron.local_addr().map_err(|e| e.to_string())?.port();
        let url = format!("http://localhost:{dport}/orchestrator");
        let callback = format!("{url}/api/dex/callback");
        let cb = callback.clone();
        let (_, idp_issuer) = start(
            move |port| Config {
                issuer: format!("http://127.0.0.1:{port}/idp"),
                clients: vec![Client {
                    id: "dexcheck-demo".into(),
                    secret: Some(Secret::new("demo-upstream-secret")),
                    name: "demo".into(),
                    redirect_uris: vec![cb],
                    public: false,
                }],
                connectors: vec![config::mock_connector()],
            },
            &rx,
        )
        .await?;
        let sso = format!(
            "# URL: {url}\nname: Demo IdP\nid: demo\ntype: oidc\nconfig:\n  issuer: {idp_issuer}\n  clientID: dexcheck-demo\n  clientSecret: demo-upstream-secret\n  redirectURI: {callback}\n  scopes: [openid, profile, email, groups]\n"
        );
        let config = Config {
            issuer: format!("{url}/api/dex"),
            clients: vec![config::app_client(&format!("{url}/auth/callback"), Some(Secret::new(DEFAULT_CLIENT_SECRET)))],
            connectors: vec![connector_from(&setup::load_str("demo", &sso, None, Some(App::DEVTRON)).map_err(|e| e.to_string())?.connectors[0])?],
        };
        let provider = Provider::new(config).await?;
        let mut stop = rx.clone();
        tokio::spawn(async move {
            let _ = provider
                .serve(devtron, async move {
                    let _ = stop.changed().await;
                })
                .await;
        });
        Ok::<(String, String), String>((url, sso))
    });
    let (url, sso) = match started {
        Ok(v) => v,
        Err(e) => {
            eprintln!("dexcheck demo: {e}");
            return EXIT_COULD_NOT_RUN;
        }
    };
    let file = std::env::temp_dir().join(format!("dexcheck-demo-{}.yaml", std::process::id()));
    if let Err(e) = std::fs::write(&file, &sso) {
        eprintln!("dexcheck demo: {}: {e}", file.display());
        return EXIT_COULD_NOT_RUN;
    }
    eprintln!(
        "dexcheck demo: a Devtron stand-in at {url} (Dex under /orchestrator/api/dex, federating to a demo IdP); checking it as the seed's operator would, port-forward URLs included"
    );
    let mut argv: Vec<String> = vec![
        "dexcheck".into(),
        "check".into(),
        file.display().to_string(),
        "--no-pods".into(),
        "--timeout".into(),
        "3".into(),
        "--candidate".into(),
        "http://localhost:8082/orchestrator".into(),
        "--candidate".into(),
        "http://devtron-service.devtroncd.svc.cluster.local/orchestrator".into(),
        "--candidate".into(),
        "http://localhost:8080/orchestrator".into(),
        "-o".into(),
        format!("{:?}", args.output).to_lowercase(),
        "--color".into(),
        format!("{:?}", args.color).to_lowercase(),
    ];
    if args.ascii {
        argv.push("--ascii".into());
    }
    // The check runs on its own runtime while the providers keep serving on theirs.
    let code = crate::run(argv.into_iter().map(Into::into).collect());
    let _ = tx.send(true);
    let _ = std::fs::remove_file(&file);
    rt.shutdown_background();
    // The demo succeeded when the check ran; its findings are the lesson, not an error.
    if code == crate::EXIT_FAILED {
        EXIT_OK
    } else {
        code
    }
}
