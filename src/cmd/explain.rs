//! `dexcheck explain`: error text (arguments, stdin or the pods' logs) → what failed and the fix.

use std::io::Read;

use super::{block_on, write_stdout};
use crate::app::Install;
use crate::cli::ExplainArgs;
use crate::error::{EXIT_FAILED, EXIT_OK, RunError};
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
    let (text, source) = read_input(args)?;
    if text.trim().is_empty() {
        return Err(RunError::Usage(
            "no text to explain: give the error text as an argument or on stdin (-), or use --from-cluster".into(),
        ));
    }
    let mut lines = explain::explain_text(&text, args.namespace.as_deref());
    if args.from_cluster {
        keep_latest_recognised(&mut lines);
    }
    let recognised = lines.iter().filter(|l| l.recognised).count();
    let code = if recognised > 0 { EXIT_OK } else { EXIT_FAILED };
    let report = ExplainReport::new(&source, &lines, code);
    let style = Style::resolve(&args.print);
    write_stdout(&render(&report, args.print.output, style));
    Ok(code)
}

/// The text and where it came from. Input is read lossily: one invalid byte in a log must not
/// hide the lines around it.
fn read_input(args: &ExplainArgs) -> Result<(String, String), RunError> {
    if args.from_cluster {
        let install = Install::new(args.app, args.namespace.as_deref());
        let target = cluster::Target {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            namespace: args.namespace.clone(),
        };
        let ns = install.namespace.clone();
        let text = block_on(async {
            let client = cluster::client(&target).await?;
            Ok(cluster::recent_logs(&client, &ns, args.app, args.tail).await?)
        })?;
        return Ok((text, format!("the logs of the app and Dex pods in {ns}")));
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
        ));
    }
    Ok((args.text.join("\n"), "the arguments".to_string()))
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
