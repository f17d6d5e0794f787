//! `check` for several clusters at once (`--context` repeated, `--all-contexts`): the checks run
//! for every cluster concurrently; one combined report; a cluster that cannot be checked keeps
//! its place with the reason and does not stop the others (exit 3 only when none was checked).

use super::{block_on, write_stdout};
use crate::cli::{CheckArgs, OutputFormat};
use crate::error::{EXIT_FAILED, RunError};
use crate::report::fleet::{self, Cluster, Outcome, Summary};
use crate::report::{Report, Style};

pub fn run(args: &CheckArgs) -> i32 {
    let result = block_on(fleet(args)).map(|(text, code)| {
        write_stdout(&text);
        code
    });
    super::finish("dexcheck", args.print.output, result)
}

async fn fleet(args: &CheckArgs) -> Result<(String, i32), RunError> {
    if matches!(
        args.print.output,
        OutputFormat::Junit | OutputFormat::Github
    ) {
        return Err(RunError::Flag(
            "several clusters print as table, json, yaml or prometheus".into(),
        ));
    }
    let contexts = if args.all_contexts {
        crate::cluster::contexts(args.kubeconfig.as_deref())?
    } else {
        args.context.clone()
    };
    if contexts.is_empty() {
        return Err(RunError::Flag(
            "--all-contexts: the kubeconfig has no context".into(),
        ));
    }
    let runs = futures_util::future::join_all(contexts.iter().map(|c| {
        let mut one = args.clone();
        one.context = vec![c.clone()];
        one.all_contexts = false;
        async move { super::check::diagnosis_of(&one).await }
    }))
    .await;
    let reports: Vec<_> = runs.into_iter().collect();
    let clusters: Vec<Cluster> = contexts
        .iter()
        .zip(&reports)
        .map(|(c, r)| Cluster {
            context: c.clone(),
            outcome: match r {
                Ok((d, mode, code)) => Outcome::Report(Report::new(d, mode, *code)),
                Err(e) => Outcome::Error {
                    kind: e.kind(),
                    message: e.to_string(),
                    exit_code: e.exit_code(),
                },
            },
        })
        .collect();
    let code = exit_code(&clusters);
    let summary = Summary {
        clusters: clusters.len(),
        checked: clusters
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Report(_)))
            .count(),
        exit_code: code,
    };
    let text = match args.print.output {
        OutputFormat::Json => fleet::json(&clusters, summary),
        OutputFormat::Yaml => fleet::yaml(&clusters, summary),
        OutputFormat::Prometheus => fleet::prometheus(&clusters),
        _ => fleet::table(&clusters, Style::resolve(&args.print)),
    };
    Ok((text, code))
}

/// 3 when no cluster could be checked; else the worst of the reports, a cluster that could not
/// be checked counting as a finding.
fn exit_code(clusters: &[Cluster]) -> i32 {
    let codes: Vec<i32> = clusters
        .iter()
        .filter_map(|c| match &c.outcome {
            Outcome::Report(r) => Some(r.summary.exit_code),
            Outcome::Error { .. } => None,
        })
        .collect();
    if codes.is_empty() {
        return crate::error::EXIT_COULD_NOT_RUN;
    }
    let worst = codes.iter().copied().max().unwrap_or(0);
    if codes.len() < clusters.len() {
        worst.max(EXIT_FAILED)
    } else {
        worst
    }
}
