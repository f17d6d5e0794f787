//! `dexcheck explain`: error text (arguments, stdin or the pods' logs) → what failed and the fix.

use std::io::Read;

use super::{block_on, write_stdout};
use crate::app::Install;
use crate::cli::ExplainArgs;
use crate::cluster::RecentLogs;
use crate::error::{EXIT_FAILED, EXIT_OK, RunError};
use crate::knowledge::versions::{Version, Versions};
use crate::report::Style;
use crate::report::explain::{ExplainReport, render};
use crate::{cluster, explain};

/// The most `explain` reads from stdin.
const MAX_STDIN: u64 = 4 * 1024 * 1024;

pub fn run(args: &ExplainArgs) -> i32 {
    super::finish("dexcheck explain", args.print.output, explain_text(args))
}

fn explain_text(args: &ExplainArgs) -> Result<i32, RunError> {
    if args.print.output == crate::cli::OutputFormat::Prometheus {
        return Err(RunError::Flag(
            "-o prometheus is for check (explain prints table, json, yaml, junit or github)".into(),
        ));
    }
    let (text, source, images) = read_input(args)?;
    if text.trim().is_empty() {
        return Err(RunError::Usage(
            "no text to explain: give the error text as an argument or on stdin (-), or use --from-cluster".into(),
        ));
    }
    let reading = explain::Reading {
        namespace: args.namespace.clone(),
        versions: versions(args, &images)?,
    };
    let mut lines = explain::explain_text(&text, &reading);
    if args.from_cluster {
        keep_latest_recognised(&mut lines);
    }
    let recognised = lines.iter().filter(|l| l.recognised).count();
    let code = if recognised > 0 { EXIT_OK } else { EXIT_FAILED };
    let report = ExplainReport::new(&source, &lines, code).with_versions(&reading.versions);
    let style = Style::resolve(&args.print);
    write_stdout(&render(&report, args.print.output, style));
    Ok(code)
}

/// The releases the rules read: `--app-version` and `--dex-version` as given, else the tags of
/// the images whose logs were read.
fn versions(args: &ExplainArgs, images: &RecentLogs) -> Result<Versions, RunError> {
    let given = |flag: &str, v: &Option<String>| -> Result<Option<Version>, RunError> {
        v.as_deref()
            .map(|s| {
                Version::parse(s).ok_or_else(|| {
                    RunError::Flag(format!(
                        "{flag} {s:?}: not a release (give MAJOR.MINOR[.PATCH], e.g. 2.4.7 or v3.5.0)"
                    ))
                })
            })
            .transpose()
    };
    let image = |i: &Option<String>| i.as_deref().and_then(Version::parse);
    Ok(Versions {
        app: given("--app-version", &args.app_version)?.or_else(|| image(&images.app_image)),
        dex: given("--dex-version", &args.dex_version)?.or_else(|| image(&images.dex_image)),
    })
}

/// The text, where it came from, and the images that printed it (from the cluster). Input is
/// read lossily: one invalid byte in a log must not hide the lines around it.
fn read_input(args: &ExplainArgs) -> Result<(String, String, RecentLogs), RunError> {
    if args.from_cluster {
        let install = Install::new(args.app, args.namespace.as_deref());
        let target = cluster::Target {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            namespace: args.namespace.clone(),
        };
        let ns = install.namespace.clone();
        let logs = block_on(async {
            let client = cluster::client(&target).await?;
            Ok(cluster::recent_logs(&client, &ns, args.app, args.tail).await?)
        })?;
        let text = logs.text.clone();
        return Ok((
            text,
            format!("the logs of the app and Dex pods in {ns}"),
            logs,
        ));
    }
    if args.text.is_empty() || args.text == ["-"] {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_STDIN)
            .read_to_end(&mut bytes)
            .map_err(|e| RunError::Flag(format!("<stdin>: {e}")))?;
        return Ok((
            String::from_utf8_lossy(&bytes).into_owned(),
            "<stdin>".to_string(),
            RecentLogs::default(),
        ));
    }
    Ok((
        args.text.join("\n"),
        "the arguments".to_string(),
        RecentLogs::default(),
    ))
}

/// Logs are mostly noise: keep the recognised lines, each shape once (the latest).
fn keep_latest_recognised(lines: &mut Vec<explain::Line>) {
    let mut seen = std::collections::HashSet::new();
    lines.reverse();
    lines.retain(|l| {
        l.explanation
            .as_ref()
            .is_some_and(|e| seen.insert((e.id.clone(), e.what.clone())))
    });
    lines.reverse();
}
