//! `-o prometheus`: the report as Prometheus text exposition (format 0.0.4), named after the
//! Prometheus conventions (base units, `_seconds`, `_info`, one-hot state gauges) and valid for
//! `promtool check metrics`. Meant for node_exporter's textfile collector from a CronJob.
//! Labels carry ids, vantages, the app, namespace and cluster: never a message or a secret.

use std::fmt::Write;

use super::{Render, Report};
use crate::plan::predict::Status;

pub struct Prometheus;

const STATUSES: [Status; 5] = [
    Status::Pass,
    Status::Warn,
    Status::Fail,
    Status::Skip,
    Status::Unknown,
];

/// A label value as the exposition format escapes it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `{k="v",…}` from pairs.
fn labels(pairs: &[(&str, &str)]) -> String {
    let inner = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect::<Vec<_>>()
        .join(",");
    format!("{{{inner}}}")
}

/// One metric family: its HELP, TYPE and samples (label set, value).
pub struct Family<'a> {
    pub name: &'a str,
    pub help: &'a str,
    pub samples: Vec<(String, String)>,
    /// `counter` for `_total` families; gauges otherwise.
    pub counter: bool,
}

impl<'a> Family<'a> {
    pub fn gauge(name: &'a str, help: &'a str, samples: Vec<(String, String)>) -> Self {
        Family {
            name,
            help,
            samples,
            counter: false,
        }
    }
    pub fn counter(name: &'a str, help: &'a str, value: u64) -> Self {
        Family {
            name,
            help,
            samples: vec![("".into(), value.to_string())],
            counter: true,
        }
    }
    pub fn write(&self, out: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        let kind = if self.counter { "counter" } else { "gauge" };
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {kind}", self.name);
        for (l, v) in &self.samples {
            let _ = writeln!(out, "{}{l} {v}", self.name);
        }
    }
}

/// Each check's label set (scope, check, vantage) and status, for callers that add series
/// (`watch`'s last success per check).
pub fn check_series(r: &Report) -> Vec<(String, Status)> {
    let scope = Scope::of(r);
    r.diagnosis
        .checks
        .iter()
        .map(|c| {
            let id = c.id.to_string();
            (
                scope.with(&[("check", &id), ("vantage", c.vantage.name())]),
                c.status,
            )
        })
        .collect()
}

/// The labels every sample of a run carries.
pub struct Scope {
    pub app: String,
    pub namespace: String,
    pub cluster: String,
}

impl Scope {
    pub fn of(r: &Report) -> Scope {
        let d = r.diagnosis;
        Scope {
            app: d.app.id().to_string(),
            namespace: d.install.namespace.clone(),
            cluster: d.cluster.clone().unwrap_or_default(),
        }
    }
    fn with<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> String {
        let mut v = vec![
            ("app", self.app.as_str()),
            ("namespace", self.namespace.as_str()),
            ("cluster", self.cluster.as_str()),
        ];
        v.extend_from_slice(extra);
        labels(&v)
    }
}

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// Per check: its status (one-hot), how long its probe took, and with `--repeat` its failed runs.
fn check_families(r: &Report, scope: &Scope) -> Vec<Family<'static>> {
    let mut status = Vec::new();
    let mut duration = Vec::new();
    let mut failed = Vec::new();
    let mut runs = Vec::new();
    for c in &r.diagnosis.checks {
        let id = c.id.to_string();
        let vantage = c.vantage.name();
        for s in STATUSES {
            let l = scope.with(&[("check", &id), ("vantage", vantage), ("status", s.as_str())]);
            status.push((l, u8::from(c.status == s).to_string()));
        }
        let l = scope.with(&[("check", &id), ("vantage", vantage)]);
        if let (true, Some(ms)) = (c.observed, c.duration_ms) {
            duration.push((l.clone(), secs(ms)));
        }
        if let Some(n) = &c.runs {
            failed.push((l.clone(), n.failed.to_string()));
            runs.push((l, n.total.to_string()));
        }
    }
    vec![
        Family::gauge(
            "dexcheck_check_status",
            "Status of each check in the run: 1 for the status it has, 0 for the others.",
            status,
        ),
        Family::gauge(
            "dexcheck_check_duration_seconds",
            "How long each observed check's probe took.",
            duration,
        ),
        Family::gauge(
            "dexcheck_check_failed_runs",
            "Runs in which each check failed (with --repeat).",
            failed,
        ),
        Family::gauge(
            "dexcheck_check_runs",
            "Runs each check was made in (with --repeat).",
            runs,
        ),
    ]
}

/// Per run: the verdict (one-hot), its duration, the exit code, and the build.
fn run_families(r: &Report, scope: &Scope) -> Vec<Family<'static>> {
    let d = r.diagnosis;
    let verdict = [Status::Pass, Status::Warn, Status::Fail]
        .iter()
        .map(|s| {
            (
                scope.with(&[("mode", r.mode), ("status", s.as_str())]),
                u8::from(d.verdict.status == *s).to_string(),
            )
        })
        .collect();
    let duration = d
        .live
        .as_ref()
        .map(|l| vec![(scope.with(&[]), secs(l.elapsed_ms))])
        .unwrap_or_default();
    vec![
        Family::gauge(
            "dexcheck_run_verdict",
            "The run's verdict: 1 for the one it drew (fail: SSO login fails at a check).",
            verdict,
        ),
        Family::gauge(
            "dexcheck_run_duration_seconds",
            "How long the live probes of the run took.",
            duration,
        ),
        Family::gauge(
            "dexcheck_run_exit_code",
            "The exit code dexcheck check returned (0 ok, 1 findings, 2 input, 3 cluster).",
            vec![(scope.with(&[]), r.summary.exit_code.to_string())],
        ),
        Family::gauge(
            "dexcheck_run_timestamp_seconds",
            "When the run ended, in Unix seconds.",
            vec![(scope.with(&[]), chrono::Utc::now().timestamp().to_string())],
        ),
        build_info(),
    ]
}

pub fn build_info() -> Family<'static> {
    Family::gauge(
        "dexcheck_build_info",
        "The dexcheck build that produced these metrics.",
        vec![(
            labels(&[("version", env!("CARGO_PKG_VERSION"))]),
            "1".into(),
        )],
    )
}

/// Every family of a report, build info last.
fn families(r: &Report, scope: &Scope) -> Vec<Family<'static>> {
    let mut v = check_families(r, scope);
    v.extend(run_families(r, scope));
    v
}

/// Every family of a report, build info included.
pub fn families_of(r: &Report) -> Vec<Family<'static>> {
    families(r, &Scope::of(r))
}

/// The families of a run that ended in an error, labelled with the cluster `context` if given.
pub fn error_families(kind: &str, exit_code: i32, context: Option<&str>) -> Vec<Family<'static>> {
    let cluster: Vec<(&str, &str)> = context.map(|c| ("cluster", c)).into_iter().collect();
    let mut with_kind = cluster.clone();
    with_kind.push(("kind", kind));
    vec![
        Family::gauge(
            "dexcheck_run_error",
            "The run ended in an error of this kind before any check.",
            vec![(labels(&with_kind), "1".into())],
        ),
        Family::gauge(
            "dexcheck_run_exit_code",
            "The exit code dexcheck check returned (0 ok, 1 findings, 2 input, 3 cluster).",
            vec![(labels(&cluster), exit_code.to_string())],
        ),
        build_info(),
    ]
}

/// The report's families without the build info (a caller that adds its own families writes
/// the build info once, last).
pub fn report_text(r: &Report) -> String {
    let scope = Scope::of(r);
    let mut out = String::new();
    for f in families(r, &scope)
        .iter()
        .filter(|f| f.name != "dexcheck_build_info")
    {
        f.write(&mut out);
    }
    out
}

impl Render for Prometheus {
    fn render(&self, r: &Report) -> String {
        let scope = Scope::of(r);
        let mut out = String::new();
        for f in families(r, &scope) {
            f.write(&mut out);
        }
        out
    }
}

/// A run that ended in an error (bad input, no cluster): which kind, and the build, so a textfile
/// collector shows the failure instead of stale numbers.
pub fn render_error(kind: &str, exit_code: i32) -> String {
    let mut out = String::new();
    for f in error_families(kind, exit_code, None) {
        f.write(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("a", "x\"y\\z\nw")]), "{a=\"x\\\"y\\\\z\\nw\"}");
    }
}
