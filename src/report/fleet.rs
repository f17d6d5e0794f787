//! Several clusters at once (`--context` repeated, `--all-contexts`): one combined report. The
//! table has one column per cluster; JSON and YAML hold one `dexcheck/v1` report per cluster
//! (schema `dexcheck/fleet/v1`); `prometheus` one exposition with every cluster's series. A
//! cluster that could not be checked keeps its column, with the reason.

use serde::Serialize;

use super::{Report, Style, rows};
use crate::diagnosis::Check;

pub const SCHEMA: &str = "dexcheck/fleet/v1";

/// One cluster's outcome: its report, or why there is none.
pub enum Outcome<'a> {
    Report(Report<'a>),
    Error {
        kind: &'static str,
        message: String,
        exit_code: i32,
    },
}

pub struct Cluster<'a> {
    pub context: String,
    pub outcome: Outcome<'a>,
}

#[derive(Serialize)]
struct ErrorDoc<'a> {
    kind: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct ClusterDoc<'a> {
    context: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<&'a Report<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorDoc<'a>>,
}

#[derive(Serialize)]
struct FleetDoc<'a> {
    schema: &'static str,
    clusters: Vec<ClusterDoc<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
pub struct Summary {
    pub clusters: usize,
    pub checked: usize,
    pub exit_code: i32,
}

fn doc<'a>(clusters: &'a [Cluster<'a>], summary: Summary) -> FleetDoc<'a> {
    FleetDoc {
        schema: SCHEMA,
        clusters: clusters
            .iter()
            .map(|c| match &c.outcome {
                Outcome::Report(r) => ClusterDoc {
                    context: &c.context,
                    report: Some(r),
                    error: None,
                },
                Outcome::Error { kind, message, .. } => ClusterDoc {
                    context: &c.context,
                    report: None,
                    error: Some(ErrorDoc { kind, message }),
                },
            })
            .collect(),
        summary,
    }
}

pub fn json(clusters: &[Cluster], summary: Summary) -> String {
    serde_json::to_string_pretty(&doc(clusters, summary)).unwrap_or_default() + "\n"
}

pub fn yaml(clusters: &[Cluster], summary: Summary) -> String {
    serde_saphyr::to_string(&doc(clusters, summary)).unwrap_or_default()
}

/// One exposition: every cluster's families, each family written once.
pub fn prometheus(clusters: &[Cluster]) -> String {
    let mut merged: Vec<super::prometheus::Family<'static>> = Vec::new();
    for c in clusters {
        let families = match &c.outcome {
            Outcome::Report(r) => super::prometheus::families_of(r),
            Outcome::Error {
                kind, exit_code, ..
            } => super::prometheus::error_families(kind, *exit_code, Some(&c.context)),
        };
        for f in families {
            match merged.iter_mut().find(|m| m.name == f.name) {
                Some(m) if f.name != "dexcheck_build_info" => m.samples.extend(f.samples),
                Some(_) => {}
                None => merged.push(f),
            }
        }
    }
    let mut out = String::new();
    for f in &merged {
        f.write(&mut out);
    }
    out
}

/// The path matrix with one column per cluster, the unreachable clusters' reasons, and each
/// cluster's verdict.
pub fn table(clusters: &[Cluster], style: Style) -> String {
    let mut out = format!(
        "{} · fleet · {} clusters\n\n",
        rows::bold("dexcheck", style),
        clusters.len()
    );
    let rows_of = matrix_rows(clusters);
    // No cluster could be checked: the reasons alone, no empty matrix.
    if !rows_of.is_empty() {
        out.push_str(&format!("{}\n\n", matrix(clusters, rows_of, style)));
    }
    for c in clusters {
        out.push_str(&verdict_line(c, style));
        out.push('\n');
    }
    out
}

/// The matrix: a row per check in `rows_of`, a column per cluster.
fn matrix(
    clusters: &[Cluster],
    rows_of: Vec<(crate::diagnosis::Id, String)>,
    style: Style,
) -> comfy_table::Table {
    let mut t = super::table::new_table(style);
    let mut header = vec!["Path".to_string()];
    header.extend(clusters.iter().map(|c| c.context.clone()));
    t.set_header(header);
    for (id, title) in rows_of {
        let mut row = vec![title];
        for c in clusters {
            row.push(match &c.outcome {
                Outcome::Report(r) => cell(r.diagnosis.checks.iter().find(|x| x.id == id), style),
                Outcome::Error { .. } => "—".into(),
            });
        }
        t.add_row(row);
    }
    t
}

/// A cluster's verdict, or why it has none.
fn verdict_line(c: &Cluster, style: Style) -> String {
    match &c.outcome {
        Outcome::Report(r) => {
            let s = r.diagnosis.verdict.status;
            format!(
                "{} {}: {}",
                rows::glyph(s, style.ascii),
                c.context,
                r.diagnosis.verdict.summary
            )
        }
        Outcome::Error { kind, message, .. } => format!(
            "{} {}: {}: {message}",
            rows::glyph(crate::plan::predict::Status::Fail, style.ascii),
            c.context,
            if *kind == "cluster" {
                "could not connect"
            } else {
                "could not check"
            }
        ),
    }
}

fn cell(c: Option<&Check>, style: Style) -> String {
    match c {
        Some(c) => rows::paint(
            &format!(
                "{} {}",
                rows::glyph(c.status, style.ascii),
                rows::result_label(c)
            ),
            c.status,
            style,
        ),
        None => String::new(),
    }
}

/// The matrix rows any cluster reported, in catalog order.
fn matrix_rows(clusters: &[Cluster]) -> Vec<(crate::diagnosis::Id, String)> {
    let mut v: Vec<(crate::diagnosis::Id, String)> = Vec::new();
    for c in clusters {
        if let Outcome::Report(r) = &c.outcome {
            for x in r.diagnosis.checks.iter().filter(|x| x.matrix) {
                if !v.iter().any(|(id, _)| *id == x.id) {
                    v.push((x.id, x.title.clone()));
                }
            }
        }
    }
    v.sort_by_key(|(id, _)| id.rank());
    v
}
