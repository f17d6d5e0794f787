//! dexcheck: diagnose OIDC single sign-on through a Dex embedded behind an application's URL.

pub mod cli;
pub mod diagnosis;
pub mod plan;
pub mod probe;
mod progress;
pub mod report;
pub mod secret;
pub mod setup;

use std::ffi::OsString;
use std::io::{IsTerminal, Write};

use clap::{CommandFactory, FromArgMatches};

use cli::{CheckArgs, Cli, ColorChoice, Command, FailOn, OutputFormat};
use plan::predict::Status;

/// Exit codes (DESIGN.md).
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_INPUT: i32 = 2;
pub const EXIT_COULD_NOT_RUN: i32 = 3;

/// Runs the program on `args` (argv[0] first) and returns the exit code.
pub fn run(args: Vec<OsString>) -> i32 {
    let plugin = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("kubectl-"));
    let mut cmd = Cli::command();
    if plugin {
        cmd = cmd.bin_name("kubectl dexcheck").display_name("kubectl dexcheck").about(
            "kubectl plugin: which network path breaks SSO through Devtron's or Argo CD's embedded Dex, and what would work",
        );
    }
    let cli = match cmd
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_INPUT } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    let args = match cli.command {
        Some(Command::Check(a)) => a,
        None => cli.check,
    };
    check(&args)
}

fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`dexcheck … | head`) is not an error worth a panic.
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

fn use_color(choice: ColorChoice) -> bool {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                true
            } else if env("NO_COLOR").is_some() || env("CLICOLOR").is_some_and(|v| v == "0") {
                false
            } else {
                std::io::stdout().is_terminal()
            }
        }
    }
}

fn check(args: &CheckArgs) -> i32 {
    let fail = |kind: &str, message: String, code: i32| {
        eprintln!("dexcheck: {message}");
        if args.output == OutputFormat::Json {
            write_stdout(&report::json::render_error(kind, &message, code));
        }
        code
    };
    let Some(file) = args.file.as_deref() else {
        return fail(
            "usage",
            "no input: give a config file (or - for stdin); reading the live config from a cluster is not available in this build".into(),
            EXIT_INPUT,
        );
    };
    let setup = match setup::load(file, args.url.as_deref(), args.app) {
        Ok(s) => s,
        Err(e) => return fail("input", e.to_string(), EXIT_INPUT),
    };
    let opts = diagnosis::Options {
        browser_url: args.browser_url.clone(),
        return_url: args.return_url.clone(),
        internal_dex: args.dex_internal.clone(),
        candidates: args.candidates.clone(),
        auto_candidates: args.auto_candidates.is_some(),
    };
    let mut d = diagnosis::diagnose(&setup, &opts);
    let mode = if args.offline {
        "offline"
    } else {
        match live(args, &setup, &mut d) {
            Ok(()) => "live",
            Err(message) => return fail("input", message, EXIT_INPUT),
        }
    };
    let worst = d
        .checks
        .iter()
        .map(|c| c.status)
        .max()
        .unwrap_or(Status::Pass);
    let code = match args.fail_on {
        FailOn::Never => EXIT_OK,
        FailOn::Error if worst >= Status::Fail => EXIT_FAILED,
        FailOn::Warning if worst >= Status::Warn => EXIT_FAILED,
        _ => EXIT_OK,
    };
    let rep = report::Report::new(&d, mode, code);
    let text = match args.output {
        OutputFormat::Json => report::json::render(&rep),
        OutputFormat::Table => {
            let color = use_color(args.color);
            colored::control::set_override(color);
            let ascii = args.ascii || std::env::var("TERM").is_ok_and(|t| t == "dumb");
            report::table::render(&rep, report::table::Style { color, ascii })
        }
    };
    write_stdout(&text);
    code
}

/// Runs the workstation probes and merges what they saw into `d`.
fn live(
    args: &CheckArgs,
    setup: &setup::Setup,
    d: &mut diagnosis::Diagnosis,
) -> Result<(), String> {
    use std::time::{Duration, Instant};

    let pins = args
        .resolve
        .iter()
        .map(|p| probe::resolve::Pin::parse(p).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut roots = Vec::new();
    for path in &args.cacert {
        let pem = std::fs::read(path).map_err(|e| format!("--cacert {}: {e}", path.display()))?;
        use rustls::pki_types::pem::PemObject;
        let certs = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                format!(
                    "--cacert {}: not a PEM certificate bundle: {e}",
                    path.display()
                )
            })?;
        if certs.is_empty() {
            return Err(format!(
                "--cacert {}: no certificate in the file",
                path.display()
            ));
        }
        roots.extend(certs);
    }
    // One crypto provider for the whole process (STACK.md): ring. A second call is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    let start = Instant::now();
    let budget = args.timeout * 3;
    let settings = probe::http::Settings::new(
        args.timeout,
        start + budget,
        probe::resolve::Resolver::new(pins, args.timeout),
        probe::proxy::ProxyEnv::from_env(),
        roots,
    )?;
    let target = probe::workstation::Target {
        base: setup.url.clone().filter(|u| url::Url::parse(u).is_ok()),
        endpoints: d.endpoints.clone().filter(|e| e.discovery.contains("://")),
        idp: setup.connectors.iter().find_map(|c| {
            c.config
                .issuer
                .clone()
                .filter(|_| c.kind == "oidc")
                .map(|i| (c.id.clone(), i))
        }),
    };
    let spinner = progress::Spinner::start("probing from this machine");
    let observations = runtime.block_on(async {
        // The budget bounds the run even if a probe misbehaves.
        tokio::time::timeout(
            budget + Duration::from_millis(500),
            probe::workstation::probe(&settings, &target),
        )
        .await
        .unwrap_or_default()
    });
    spinner.finish();
    runtime.shutdown_background();
    let live = diagnosis::Live {
        timeout_ms: args.timeout.as_millis() as u64,
        elapsed_ms: start.elapsed().as_millis() as u64,
        proxy_env: settings.proxy.clone(),
        resolve: args.resolve.clone(),
    };
    diagnosis::apply_observations(d, observations, live);
    Ok(())
}
