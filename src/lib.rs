//! dexcheck: diagnose OIDC single sign-on through a Dex embedded behind an application's URL.

pub mod app;
pub mod cli;
pub mod cluster;
pub mod diagnosis;
pub mod explain;
pub mod plan;
pub mod probe;
mod progress;
pub mod provider;
pub mod remedy;
pub mod report;
pub mod secret;
pub mod serve;
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
        Some(Command::Serve(a)) => return serve::serve(&a),
        Some(Command::Demo(a)) => return serve::demo(&a),
        Some(Command::Explain(a)) => return explain_command(&a),
        Some(Command::Completions { shell }) => {
            let mut cmd = Cli::command();
            let name = if plugin {
                "kubectl-dexcheck"
            } else {
                "dexcheck"
            };
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, name, &mut buf);
            write_stdout(&String::from_utf8_lossy(&buf));
            return EXIT_OK;
        }
        Some(Command::Man) => {
            let mut buf = Vec::new();
            if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut buf) {
                eprintln!("dexcheck man: {e}");
                return EXIT_COULD_NOT_RUN;
            }
            write_stdout(&String::from_utf8_lossy(&buf));
            return EXIT_OK;
        }
        None => cli.check,
    };
    check(&args)
}

/// The async runtime every command runs on. The process's one rustls crypto provider (ring,
/// STACK.md) is installed first; a second call is harmless.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))
}

/// Reports a run that could not produce a report: stderr always, and the error in the
/// machine formats that have one. Returns `code`.
fn report_error(prefix: &str, output: OutputFormat, kind: &str, message: &str, code: i32) -> i32 {
    eprintln!("{prefix}: {message}");
    match output {
        OutputFormat::Json => write_stdout(&report::json::render_error(kind, message, code)),
        OutputFormat::Github => write_stdout(&report::github::error_command(message)),
        _ => {}
    }
    code
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
        report_error("dexcheck", args.output, kind, &message, code)
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => return fail("internal", e, EXIT_COULD_NOT_RUN),
    };
    let code = runtime.block_on(check_async(args, &fail));
    runtime.shutdown_background();
    code
}

async fn check_async(args: &CheckArgs, fail: &dyn Fn(&str, String, i32) -> i32) -> i32 {
    let target = cluster::Target {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace: args.namespace.clone(),
    };
    let use_cluster = !args.offline && !args.no_pods;
    // The cluster client: needed for the live config, and for the pod probes.
    let (client, cluster_note) = if use_cluster {
        match cluster::client(&target).await {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e.to_string())),
        }
    } else {
        (None, None)
    };
    let mut internal_from_cluster = None;
    let mut namespace = args.namespace.clone();
    let mut live_copy = None;
    let setup = match args.file.as_deref() {
        Some(file) => match setup::load(file, args.url.as_deref(), args.app.app()) {
            Ok(s) => {
                // With a file and a cluster, the cluster's copy is what the app runs with.
                if let Some(client) = &client {
                    match cluster::live_config(client, Some(s.app), args.namespace.as_deref()).await
                    {
                        Ok(live) => {
                            internal_from_cluster = live.internal_dex.clone();
                            live_copy = match setup::load_str(
                                &live.source,
                                &live.text,
                                None,
                                Some(live.app),
                            ) {
                                Ok(l) => Some(Ok(l)),
                                Err(e) => Some(Err(e.to_string())),
                            };
                        }
                        Err(e) => live_copy = Some(Err(e.to_string())),
                    }
                }
                s
            }
            Err(e) => return fail("input", e.to_string(), EXIT_INPUT),
        },
        None => {
            let Some(client) = &client else {
                let why = if !use_cluster {
                    "no input: give a config file (or - for stdin); without a file dexcheck reads the live config from the cluster, which --offline and --no-pods rule out".to_string()
                } else {
                    format!(
                        "no input file, and the live config cannot be read: {}",
                        cluster_note.clone().unwrap_or_default()
                    )
                };
                let code = if use_cluster {
                    EXIT_COULD_NOT_RUN
                } else {
                    EXIT_INPUT
                };
                return fail("usage", why, code);
            };
            let live = match cluster::live_config(client, args.app.app(), args.namespace.as_deref())
                .await
            {
                Ok(l) => l,
                Err(e) => return fail("cluster", e.to_string(), EXIT_COULD_NOT_RUN),
            };
            internal_from_cluster = live.internal_dex.clone();
            namespace = Some(live.namespace.clone());
            match setup::load_str(
                &live.source,
                &live.text,
                args.url.as_deref(),
                Some(live.app),
            ) {
                Ok(s) => s,
                Err(e) => return fail("input", e.to_string(), EXIT_INPUT),
            }
        }
    };
    let opts = diagnosis::Options {
        browser_url: args.browser_url.clone(),
        return_url: args.return_url.clone(),
        internal_dex: args.dex_internal.clone().or(internal_from_cluster),
        candidates: args.candidates.clone(),
        auto_candidates: args.auto_candidates.is_some(),
        namespace: namespace.clone(),
    };
    let mut d = diagnosis::diagnose(&setup, &opts);
    match &live_copy {
        Some(Ok(live)) => diagnosis::drift(&mut d, &setup, live),
        Some(Err(why)) => diagnosis::drift_not_checked(&mut d, why),
        None => {}
    }
    let mode = if args.offline {
        "offline"
    } else {
        let namespace = d.install.namespace.clone();
        let pods = PodPlan {
            client: client.as_ref(),
            not_run: if args.no_pods {
                Some("--no-pods: no probes from inside pods".to_string())
            } else {
                cluster_note.map(|n| format!("not run: {n}"))
            },
            namespace,
        };
        if let Err((kind, message, code)) = live(args, &setup, &mut d, pods).await {
            return fail(kind, message, code);
        }
        "live"
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
        OutputFormat::Yaml => serde_saphyr::to_string(&rep).unwrap_or_default(),
        OutputFormat::Junit => report::junit::render(&rep),
        OutputFormat::Github => {
            if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
                use std::io::Write as _;
                let appended = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(&path)
                    .and_then(|mut f| f.write_all(report::github::step_summary(&rep).as_bytes()));
                if let Err(e) = appended {
                    eprintln!(
                        "dexcheck: GITHUB_STEP_SUMMARY {}: {e}",
                        std::path::Path::new(&path).display()
                    );
                }
            }
            report::github::render(&rep)
        }
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

/// Where the pod probes run, or why they do not.
struct PodPlan<'a> {
    client: Option<&'a kube::Client>,
    not_run: Option<String>,
    namespace: String,
}

type LiveError = (&'static str, String, i32);

/// Runs the workstation and pod probes concurrently and merges what they saw into `d`.
async fn live(
    args: &CheckArgs,
    setup: &setup::Setup,
    d: &mut diagnosis::Diagnosis,
    pods: PodPlan<'_>,
) -> Result<(), LiveError> {
    use std::time::{Duration, Instant};

    let input = |m: String| ("input", m, EXIT_INPUT);
    let pins = args
        .resolve
        .iter()
        .map(|p| probe::resolve::Pin::parse(p).map_err(|e| input(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let mut roots = Vec::new();
    for path in &args.cacert {
        use rustls::pki_types::pem::PemObject;
        let pem =
            std::fs::read(path).map_err(|e| input(format!("--cacert {}: {e}", path.display())))?;
        let certs = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                input(format!(
                    "--cacert {}: not a PEM certificate bundle: {e}",
                    path.display()
                ))
            })?;
        if certs.is_empty() {
            return Err(input(format!(
                "--cacert {}: no certificate in the file",
                path.display()
            )));
        }
        roots.extend(certs);
    }
    let start = Instant::now();
    let budget = args.timeout * 3;
    let settings = probe::http::Settings::new(
        args.timeout,
        start + budget,
        probe::resolve::Resolver::new(pins, args.timeout),
        probe::proxy::ProxyEnv::from_env(),
        roots,
    )
    .map_err(|m| ("internal", m, EXIT_COULD_NOT_RUN))?;
    let idp = setup.connectors.iter().find_map(|c| {
        c.config
            .issuer
            .clone()
            .filter(|_| c.kind == "oidc")
            .map(|i| (c.id.clone(), i))
    });
    let endpoints = d.endpoints.clone().filter(|e| e.discovery.contains("://"));
    let target = probe::workstation::Target {
        base: setup.url.clone().filter(|u| url::Url::parse(u).is_ok()),
        endpoints: endpoints.clone(),
        idp: idp.clone(),
    };
    // The control: the reference provider on loopback under the target's issuer path, started
    // (key generation included) while the other probes run.
    let target_issuer = endpoints
        .as_ref()
        .map(|e| e.issuer.clone())
        .unwrap_or_default();
    let control = async {
        match provider::start_control(&target_issuer).await {
            Ok((issuer, guard)) => {
                let o = probe::workstation::probe_control(&settings, &issuer).await;
                drop(guard);
                Some(o)
            }
            Err(e) => {
                eprintln!("dexcheck: the control provider did not start: {e}");
                None
            }
        }
    };
    let spinner = progress::Spinner::start("probing from this machine and the pods");
    let workstation = async {
        // The budget bounds the run even if a probe misbehaves.
        tokio::time::timeout(
            budget + Duration::from_millis(500),
            probe::workstation::probe(&settings, &target),
        )
        .await
        .unwrap_or_default()
    };
    let pod_targets = endpoints.map(|e| probe::pod::PodTargets {
        app: setup.app,
        namespace: pods.namespace.clone(),
        endpoints: e,
        idp_issuer: idp.map(|(_, i)| i),
        timeout: args.timeout,
        ephemeral: args.ephemeral.then(|| args.ephemeral_image.clone()),
    });
    let in_pods = async {
        match (pods.client, &pod_targets) {
            (Some(client), Some(t)) => Some(probe::pod::run(client, t).await),
            _ => None,
        }
    };
    let (control, observations, pod_result) = tokio::join!(control, workstation, in_pods);
    spinner.finish();
    let observations: Vec<_> = control.into_iter().chain(observations).collect();
    let mut pod_notes = Vec::new();
    let pod_observations = match pod_result {
        Some(Ok(run)) => {
            pod_notes = run.notes;
            run.observations
        }
        Some(Err(e)) => return Err(("cluster", e.to_string(), EXIT_COULD_NOT_RUN)),
        None => {
            if let Some(why) = &pods.not_run {
                pod_notes.push(why.clone());
            }
            Vec::new()
        }
    };
    let live = diagnosis::Live {
        timeout_ms: args.timeout.as_millis() as u64,
        elapsed_ms: start.elapsed().as_millis() as u64,
        proxy_env: settings.proxy.clone(),
        resolve: args.resolve.clone(),
        pods: pod_notes.clone(),
    };
    diagnosis::apply_observations(d, observations, live);
    diagnosis::merge(d, pod_observations);
    if pods.client.is_none()
        && let Some(why) = pods.not_run
    {
        diagnosis::note_pods_not_run(d, &why);
    }
    Ok(())
}

fn explain_command(args: &cli::ExplainArgs) -> i32 {
    let json = args.output == OutputFormat::Json;
    // Only JSON has an error document; the other formats fall back to the text report.
    let error_format = if json {
        OutputFormat::Json
    } else {
        OutputFormat::Table
    };
    let fail = |kind: &str, message: String, code: i32| {
        report_error("dexcheck explain", error_format, kind, &message, code)
    };
    let (text, source) = if args.from_cluster {
        let rt = match runtime() {
            Ok(r) => r,
            Err(e) => return fail("internal", e, EXIT_COULD_NOT_RUN),
        };
        let target = cluster::Target {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            namespace: args.namespace.clone(),
        };
        let ns = app::Install::new(args.app, args.namespace.as_deref()).namespace;
        let got = rt.block_on(async {
            let client = cluster::client(&target).await?;
            cluster::recent_logs(&client, &ns, args.app, args.tail).await
        });
        rt.shutdown_background();
        match got {
            Ok(t) => (t, format!("the logs of the app and Dex pods in {ns}")),
            Err(e) => return fail("cluster", e.to_string(), EXIT_COULD_NOT_RUN),
        }
    } else if args.text.is_empty() || args.text == ["-"] {
        use std::io::Read;
        let mut t = String::new();
        if let Err(e) = std::io::stdin()
            .take(4 * 1024 * 1024)
            .read_to_string(&mut t)
        {
            return fail("input", format!("<stdin>: {e}"), EXIT_INPUT);
        }
        (t, "<stdin>".to_string())
    } else {
        (args.text.join("\n"), "the arguments".to_string())
    };
    if text.trim().is_empty() {
        return fail("usage", "no text to explain: give the error text as an argument or on stdin (-), or use --from-cluster".into(), EXIT_INPUT);
    }
    let mut lines = explain::explain_text(&text, args.namespace.as_deref());
    if args.from_cluster {
        // Logs are mostly noise: keep the recognised lines, each shape once (the latest).
        let mut seen = std::collections::HashSet::new();
        lines.reverse();
        lines.retain(|l| {
            l.explanation
                .as_ref()
                .is_some_and(|e| seen.insert((e.id.clone(), e.what.clone())))
        });
        lines.reverse();
    }
    let recognised = lines.iter().filter(|l| l.recognised).count();
    let code = if recognised > 0 { EXIT_OK } else { EXIT_FAILED };
    let out = if json {
        let v = serde_json::json!({
            "schema": report::SCHEMA,
            "tool": {"name": "dexcheck", "version": env!("CARGO_PKG_VERSION")},
            "mode": "explain",
            "source": source,
            "lines": lines,
            "summary": {"lines": lines.len(), "recognised": recognised, "exit_code": code},
        });
        format!("{v:#}\n")
    } else {
        explain::render(&lines, &source)
    };
    write_stdout(&out);
    code
}
