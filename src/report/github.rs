//! `-o github`: workflow commands (`::error title=…::…`, `::warning …`) for every failing or
//! warning check, and, when `$GITHUB_STEP_SUMMARY` is set, a Markdown matrix appended to it.

use std::fmt::Write;

use super::{Render, Report};

pub struct Github;

impl Render for Github {
    fn render(&self, report: &Report) -> String {
        render(report)
    }
}
use crate::plan::predict::Status;

/// Escaping for a command's message (GitHub's toolkit `escapeData`).
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping for a property value (`escapeProperty`).
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command: `::LEVEL title=TITLE::MESSAGE`, escaped.
pub fn command(level: &str, title: &str, message: &str) -> String {
    format!("::{level} title={}::{}\n", property(title), data(message))
}

/// A run that could not check anything, as one `::error` command.
pub fn error_command(message: &str) -> String {
    format!("::error title=dexcheck::{}\n", data(message))
}

pub fn render(report: &Report) -> String {
    let d = report.diagnosis;
    let mut out = String::new();
    for c in &d.checks {
        let level = match c.status {
            Status::Fail => "error",
            Status::Warn => "warning",
            _ => continue,
        };
        let mut msg = c.error.clone().unwrap_or_else(|| c.message.clone());
        if c.error.is_some() {
            msg = format!("{msg}\n{}", c.message);
        }
        if let Some(r) = &c.remedy {
            msg = format!("{msg}\nFix: {r}");
        }
        let title = format!("dexcheck {}: {} ({})", c.id, c.title, c.vantage.label());
        let file = if d.source.starts_with('<') || d.source.contains("(live)") {
            String::new()
        } else {
            format!("file={},", property(&d.source))
        };
        let _ = writeln!(
            out,
            "::{level} {file}title={}::{}",
            property(&title),
            data(&msg)
        );
    }
    let _ = writeln!(
        out,
        "::notice title={}::{}",
        property("dexcheck verdict"),
        data(&format!(
            "{} — {} passed, {}, {} failed, exit {}",
            d.verdict.summary,
            report.summary.passed,
            super::count(report.summary.warnings, "warning", "warnings"),
            report.summary.failed,
            report.summary.exit_code
        ))
    );
    out
}

/// The Markdown matrix for `$GITHUB_STEP_SUMMARY`.
pub fn step_summary(report: &Report) -> String {
    let d = report.diagnosis;
    let icon = super::rows::emoji;
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### dexcheck: {}\n",
        cell(d.url.as_deref().unwrap_or("(no URL)"))
    );
    let _ = writeln!(out, "| | Path | From | Result |\n|---|---|---|---|");
    for c in d.checks.iter().filter(|c| c.matrix) {
        let result = super::rows::result_label(c);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            icon(c.status),
            cell(&c.title),
            c.vantage.label(),
            cell(&result)
        );
    }
    let _ = writeln!(
        out,
        "\n**{}** {}\n",
        icon(d.verdict.status),
        cell(&d.verdict.summary)
    );
    out
}
