//! `dexcheck check`: load the SSO config (file or cluster), predict, probe live, report.

use super::{block_on, write_stdout};
use crate::cli::{CheckArgs, FailOn, OutputFormat};
use crate::cluster;
use crate::diagnosis::{self, Diagnosis};
use crate::error::{EXIT_FAILED, EXIT_OK, RunError};
use crate::plan::predict::Status;
use crate::probe::live;
use crate::report::{self, Report, Style};
use crate::setup::{self, Setup};

pub fn run(args: &CheckArgs) -> i32 {
    if args.all_contexts || args.context.len() > 1 {
        return super::fleet::run(args);
    }
    let result = block_on(check(args)).map(|(text, code)| {
        write_stdout(&text);
        code
    });
    super::finish("dexcheck", args.print.output, result)
}

/// The whole check: the report text and the exit code.
pub async fn check(args: &CheckArgs) -> Result<(String, i32), RunError> {
    let (d, mode, code) = diagnosis_of(args).await?;
    let rep = Report::new(&d, mode, code);
    if args.print.output == OutputFormat::Github {
        append_step_summary(&rep);
    }
    let text = report::renderer(args.print.output, Style::resolve(&args.print)).render(&rep);
    Ok((text, code))
}

/// The check's diagnosis, its mode (`offline` or `live`) and its exit code.
pub async fn diagnosis_of(args: &CheckArgs) -> Result<(Diagnosis, &'static str, i32), RunError> {
    let har = read_har(args)?;
    // A HAR alone: the browser's own view, no config and no cluster.
    if let (Some((source, trace)), None) = (&har, &args.file) {
        let d = diagnosis::from_har(source.clone(), trace);
        let code = exit_code(&d, args.fail_on);
        return Ok((d, "har", code));
    }
    let access = connect(args).await;
    let loaded = load(args, &access).await?;
    let mut d = diagnosis::diagnose(&loaded.setup, &options(args, &loaded));
    match &loaded.live_copy {
        Some(Ok(live)) => diagnosis::drift(&mut d, &loaded.setup, live),
        Some(Err(why)) => diagnosis::drift_not_checked(&mut d, why),
        None => {}
    }
    let dumped = route_dump(args)?;
    let mode = if args.offline {
        "offline"
    } else {
        d = observe_repeatedly(args, &access, &loaded.setup, d).await?;
        d.cluster = access.context.clone();
        "live"
    };
    if let Some(objects) = dumped {
        let from: Vec<String> = args
            .objects
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        crate::route::add_to(&mut d, &objects, from.join(", "));
    }
    if let Some((_, trace)) = har {
        diagnosis::add_har(&mut d, &trace);
    }
    let code = exit_code(&d, args.fail_on);
    Ok((d, mode, code))
}

/// The HAR of `--har`, read and reduced to its exchanges and logins, with the name it was
/// given.
fn read_har(args: &CheckArgs) -> Result<Option<(String, crate::har::Trace)>, RunError> {
    let Some(input) = args.har.as_deref() else {
        return Ok(None);
    };
    if input == "-" && args.file.as_deref() == Some("-") {
        return Err(RunError::Usage(
            "--har - and the config - both read stdin: give one of them as a file".into(),
        ));
    }
    let bad = |error| RunError::Har {
        input: input.to_string(),
        error,
    };
    let trace = if input == "-" {
        crate::har::read_trace(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(input).map_err(|e| bad(crate::har::HarError::Io(e)))?;
        crate::har::read_trace(f)
    }
    .map_err(bad)?;
    // The file's own name: the GitHub annotations point at it.
    let source = if input == "-" {
        "<stdin>".to_string()
    } else {
        input.to_string()
    };
    Ok(Some((source, trace)))
}

/// The route objects of `--objects` dumps, if any were given.
fn route_dump(args: &CheckArgs) -> Result<Option<crate::route::Objects>, RunError> {
    if args.objects.is_empty() {
        return Ok(None);
    }
    let mut o = crate::route::Objects::default();
    for path in &args.objects {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| setup::InputError::Read {
            input: shown.clone(),
            error,
        })?;
        o.add_dump(&shown, &text)?;
    }
    Ok(Some(o))
}

/// The live probes, `--repeat` times `--interval` apart, folded into one diagnosis.
async fn observe_repeatedly(
    args: &CheckArgs,
    access: &Access,
    setup: &Setup,
    offline: Diagnosis,
) -> Result<Diagnosis, RunError> {
    let mut runs = Vec::new();
    for i in 0..args.repeat {
        if i > 0 {
            tokio::time::sleep(args.interval.unwrap_or(std::time::Duration::from_secs(1))).await;
        }
        let mut d = offline.clone();
        let pods = pod_plan(args, access, &d);
        live::observe(&live::Plan::new(args, setup, pods), &mut d).await?;
        runs.push(d);
    }
    if runs.len() == 1 {
        return Ok(runs.pop().unwrap_or(offline));
    }
    Ok(diagnosis::repeat::combine(runs).unwrap_or(offline))
}

/// The cluster client, or why there is none.
pub struct Access {
    pub client: Option<kube::Client>,
    pub note: Option<String>,
    /// Whether the command line allows the cluster at all.
    pub allowed: bool,
    /// The kubeconfig context in use (`in-cluster` inside a pod).
    pub context: Option<String>,
}

async fn connect(args: &CheckArgs) -> Access {
    let allowed = !args.offline && !args.no_pods;
    if !allowed {
        return Access {
            client: None,
            note: None,
            allowed,
            context: None,
        };
    }
    let target = cluster::Target {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.first().cloned(),
        namespace: args.namespace.clone(),
    };
    match cluster::client(&target).await {
        Ok(c) => Access {
            client: Some(c),
            note: None,
            allowed,
            context: cluster::context_name(&target),
        },
        Err(e) => Access {
            client: None,
            note: Some(e.to_string()),
            allowed,
            context: None,
        },
    }
}

/// The config to check, with what the cluster says beside it.
pub struct Loaded {
    pub setup: Setup,
    /// With a file and a cluster: the cluster's copy (what the app runs with), or why not.
    pub live_copy: Option<Result<Setup, String>>,
    /// The in-cluster Dex address the cluster names (Devtron's `devtron-cm`).
    pub internal_dex: Option<String>,
    /// The namespace the cluster's copy was read from.
    pub namespace: Option<String>,
}

async fn load(args: &CheckArgs, access: &Access) -> Result<Loaded, RunError> {
    let mut loaded = match args.file.as_deref() {
        Some(file) => load_file(args, access, file).await?,
        None => load_cluster(args, access).await?,
    };
    if let Some(client) = &access.client
        && let Some(values) = secret_values(client, args, &loaded).await
    {
        loaded.setup = loaded.setup.resolved(&values)?;
        // The cluster's copy is resolved alike, so that a reference is no drift.
        if let Some(Ok(live)) = &loaded.live_copy {
            loaded.live_copy = Some(live.resolved(&values).map_err(|e| e.to_string()));
        }
    }
    Ok(loaded)
}

/// The Secrets behind Argo CD's `$key` / `$name:key` references, from the install's namespace
/// (each Secret read by name, nothing listed); `None` without references.
async fn secret_values(
    client: &kube::Client,
    args: &CheckArgs,
    loaded: &Loaded,
) -> Option<setup::SecretValues> {
    let setup = &loaded.setup;
    let names = setup::references::secrets_named(setup.all_references());
    if names.is_empty() {
        return None;
    }
    let ns = args
        .namespace
        .as_deref()
        .or(loaded.namespace.as_deref())
        .or(setup.namespace.as_deref());
    let install = crate::app::Install::new(setup.app, ns);
    Some(cluster::secret_values(client, &install.namespace, &names).await)
}

async fn load_file(args: &CheckArgs, access: &Access, file: &str) -> Result<Loaded, RunError> {
    let setup = setup::load(file, args.url.as_deref(), args.app.app())?;
    let mut loaded = Loaded {
        setup,
        live_copy: None,
        internal_dex: None,
        namespace: None,
    };
    // With a file and a cluster, the cluster's copy is what the app runs with.
    if let Some(client) = &access.client {
        let app = Some(loaded.setup.app);
        loaded.live_copy = Some(
            match cluster::live_config(client, app, args.namespace.as_deref()).await {
                Ok(live) => {
                    loaded.internal_dex = live.internal_dex.clone();
                    setup::load_str(&live.source, &live.text, None, Some(live.app))
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            },
        );
    }
    Ok(loaded)
}

async fn load_cluster(args: &CheckArgs, access: &Access) -> Result<Loaded, RunError> {
    let Some(client) = &access.client else {
        return Err(if access.allowed {
            RunError::NoLiveInput(format!(
                "no input file, and the live config cannot be read: {}",
                access.note.clone().unwrap_or_default()
            ))
        } else {
            RunError::Usage("no input: give a config file (or - for stdin); without a file dexcheck reads the live config from the cluster, which --offline and --no-pods rule out".into())
        });
    };
    let live = cluster::live_config(client, args.app.app(), args.namespace.as_deref()).await?;
    let setup = setup::load_str(
        &live.source,
        &live.text,
        args.url.as_deref(),
        Some(live.app),
    )?;
    Ok(Loaded {
        setup,
        live_copy: None,
        internal_dex: live.internal_dex,
        namespace: Some(live.namespace),
    })
}

fn options(args: &CheckArgs, loaded: &Loaded) -> diagnosis::Options {
    diagnosis::Options {
        browser_url: args.browser_url.clone(),
        return_url: args.return_url.clone(),
        internal_dex: args.dex_internal.clone().or(loaded.internal_dex.clone()),
        candidates: args.candidates.clone(),
        auto_candidates: args.auto_candidates.is_some(),
        namespace: args.namespace.clone().or(loaded.namespace.clone()),
    }
}

/// Where the pod probes run (the namespace in use), or why they do not.
fn pod_plan<'a>(args: &CheckArgs, access: &'a Access, d: &Diagnosis) -> live::Pods<'a> {
    live::Pods {
        client: access.client.as_ref(),
        not_run: if args.no_pods {
            Some("--no-pods: no probes from inside pods".to_string())
        } else {
            access.note.as_ref().map(|n| format!("not run: {n}"))
        },
        namespace: d.install.namespace.clone(),
    }
}

/// `--fail-on`: which worst status makes the exit code 1.
fn exit_code(d: &Diagnosis, fail_on: FailOn) -> i32 {
    let worst = d.worst();
    match fail_on {
        FailOn::Never => EXIT_OK,
        FailOn::Error if worst >= Status::Fail => EXIT_FAILED,
        FailOn::Warning if worst >= Status::Warn => EXIT_FAILED,
        _ => EXIT_OK,
    }
}

/// `-o github` also appends the Markdown matrix to `$GITHUB_STEP_SUMMARY`, when set.
fn append_step_summary(rep: &Report) {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let appended = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .and_then(|mut f| f.write_all(report::github::step_summary(rep).as_bytes()));
    if let Err(e) = appended {
        eprintln!(
            "dexcheck: GITHUB_STEP_SUMMARY {}: {e}",
            std::path::Path::new(&path).display()
        );
    }
}
