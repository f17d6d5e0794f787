//! `dexcheck demo`: an upstream IdP, a Devtron-shaped Dex under `/orchestrator/api/dex` that
//! federates to it, and `check` run live against them, with the seed's broken URLs as what-ifs.

use std::sync::Arc;

use super::serve::{DEFAULT_CLIENT_SECRET, connector_from};
use crate::app::{App, Install};
use crate::cli::{CheckArgs, DemoArgs};
use crate::error::{EXIT_FAILED, EXIT_OK, RunError};
use crate::provider::Provider;
use crate::provider::config::{self, Client, Config};
use crate::secret::Secret;
use crate::setup;

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

/// Runs the demo.
pub fn run(args: &DemoArgs) -> i32 {
    super::finish("dexcheck demo", args.print.output, demo(args))
}

fn demo(args: &DemoArgs) -> Result<i32, RunError> {
    let rt = super::runtime()?;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let started = rt.block_on(stand_in(rx));
    let result = started.map_err(RunError::Provider).and_then(|(url, sso)| {
        eprintln!(
            "dexcheck demo: a Devtron stand-in at {url} (Dex under /orchestrator/api/dex, federating to a demo IdP); checking it as the seed's operator would, port-forward URLs included"
        );
        rt.block_on(check_stand_in(args, &sso))
    });
    let _ = tx.send(true);
    rt.shutdown_background();
    // The demo succeeded when the check ran; its findings are the lesson, not an error.
    result.map(|code| if code == EXIT_FAILED { EXIT_OK } else { code })
}

/// The upstream IdP and the Devtron stand-in that federates to it; returns the stand-in's URL
/// and its SSO config.
async fn stand_in(rx: tokio::sync::watch::Receiver<bool>) -> Result<(String, String), String> {
    {
        // Devtron's Dex port first: the upstream must know its callback.
        let devtron = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| e.to_string())?;
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
                release: Default::default(),
                extra_groups: 0,
            },
            &rx,
        )
        .await?;
        let sso = format!(
            "# URL: {url}\nname: Demo IdP\nid: demo\ntype: oidc\nconfig:\n  issuer: {idp_issuer}\n  clientID: dexcheck-demo\n  clientSecret: demo-upstream-secret\n  redirectURI: {callback}\n  scopes: [openid, profile, email, groups]\n"
        );
        let config = Config {
            issuer: format!("{url}/api/dex"),
            clients: vec![config::app_client(
                &format!("{url}/auth/callback"),
                Some(Secret::new(DEFAULT_CLIENT_SECRET)),
            )],
            connectors: vec![connector_from(
                &setup::load_str("demo", &sso, None, Some(App::DEVTRON))
                    .map_err(|e| e.to_string())?
                    .connectors[0],
            )?],
            release: Default::default(),
            extra_groups: 0,
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
    }
}

/// `check` on the stand-in, as the seed's operator would run it, with the seed's URLs as
/// candidates; the report goes to stdout.
async fn check_stand_in(args: &DemoArgs, sso: &str) -> Result<i32, RunError> {
    let file = std::env::temp_dir().join(format!("dexcheck-demo-{}.yaml", std::process::id()));
    std::fs::write(&file, sso).map_err(|e| RunError::Local(format!("{}: {e}", file.display())))?;
    let devtron = Install::new(App::DEVTRON, None);
    let mut check = CheckArgs::defaults().map_err(RunError::Local)?;
    check.file = Some(file.display().to_string());
    check.no_pods = true;
    check.timeout = std::time::Duration::from_secs(3);
    check.candidates = vec![
        devtron.base_on("http", "localhost:8082"),
        devtron.base_on("http", &devtron.server_fqdn()),
        devtron.base_on("http", "localhost:8080"),
    ];
    check.print = args.print;
    let result = super::check::check(&check).await;
    let _ = std::fs::remove_file(&file);
    let (text, code) = result?;
    super::write_stdout(&text);
    Ok(code)
}
