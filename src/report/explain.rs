//! `dexcheck explain`'s report in every format: the text for people, `dexcheck/v1` JSON and
//! YAML, JUnit (one test case per line) and GitHub workflow commands.

use std::fmt::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::Serialize;

use super::rows::{bold, glyph, paint};
use super::{SCHEMA, Style, Tool};
use crate::cli::OutputFormat;
use crate::explain::{Explanation, Line};
use crate::knowledge::versions::Versions;
use crate::plan::predict::Status;

/// What `explain` found, as every format sees it.
#[derive(Debug, Serialize)]
pub struct ExplainReport<'a> {
    pub schema: &'static str,
    pub tool: Tool,
    pub mode: &'static str,
    pub source: &'a str,
    /// The releases the rules read, where known.
    #[serde(skip_serializing_if = "ReleasesRead::is_empty")]
    pub versions: ReleasesRead,
    pub lines: &'a [Line],
    pub summary: ExplainSummary,
}

/// The app's and Dex's releases as the rules read them.
#[derive(Debug, Default, Serialize)]
pub struct ReleasesRead {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dex: Option<String>,
}

impl ReleasesRead {
    pub fn of(v: &Versions) -> ReleasesRead {
        ReleasesRead {
            app: v.app.as_ref().map(ToString::to_string),
            dex: v.dex.as_ref().map(ToString::to_string),
        }
    }
    fn is_empty(&self) -> bool {
        self.app.is_none() && self.dex.is_none()
    }
}

#[derive(Debug, Serialize)]
pub struct ExplainSummary {
    pub lines: usize,
    pub recognised: usize,
    pub exit_code: i32,
}

impl<'a> ExplainReport<'a> {
    pub fn new(source: &'a str, lines: &'a [Line], exit_code: i32) -> Self {
        ExplainReport {
            schema: SCHEMA,
            tool: Tool::this(),
            mode: "explain",
            source,
            versions: ReleasesRead::default(),
            lines,
            summary: ExplainSummary {
                lines: lines.len(),
                recognised: lines.iter().filter(|l| l.recognised).count(),
                exit_code,
            },
        }
    }
}

impl ExplainReport<'_> {
    /// The same report, naming the releases its rules read.
    pub fn with_versions(mut self, v: &Versions) -> Self {
        self.versions = ReleasesRead::of(v);
        self
    }
}

/// The report in `format`.
pub fn render(r: &ExplainReport, format: OutputFormat, style: Style) -> String {
    match format {
        OutputFormat::Table => text(r, style),
        OutputFormat::Json => serde_json::to_string_pretty(r).unwrap_or_default() + "\n",
        OutputFormat::Yaml => serde_saphyr::to_string(r).unwrap_or_default(),
        OutputFormat::Junit => junit(r),
        OutputFormat::Github => github(r),
        // `explain -o prometheus` is refused before it gets here (`cmd::explain`).
        OutputFormat::Prometheus => text(r, style),
    }
}

/// The text report.
fn text(r: &ExplainReport, style: Style) -> String {
    let mut out = String::new();
    if r.lines.is_empty() {
        let _ = writeln!(out, "Nothing recognised in {}.", r.source);
        return out;
    }
    if let Some(v) = &r.versions.app {
        let _ = writeln!(out, "Rules read the app's release as {v}.");
    }
    if let Some(v) = &r.versions.dex {
        let _ = writeln!(out, "Rules read Dex's release as {v}.");
    }
    for l in r.lines {
        let excerpt: String = l.text.chars().take(300).collect();
        let status = if l.recognised {
            Status::Fail
        } else {
            Status::Skip
        };
        let g = paint(glyph(status, style.ascii), status, style);
        let _ = writeln!(out, "{g} {} {}: {excerpt}", bold("line", style), l.line);
        match &l.explanation {
            None => {
                if let Some(s) = &l.source {
                    let _ = writeln!(out, "  printed by:  {} ({})", s.printed_by, s.evidence);
                }
                let _ = writeln!(
                    out,
                    "  not recognised: dexcheck knows the errors of Devtron, Argo CD, Dex, go-oidc and the programs around them (Argo Workflows, oauth2-proxy, ingress-nginx, Envoy, the IdPs); this line is none it can explain\n"
                );
            }
            Some(e) => explanation(&mut out, l, e),
        }
    }
    out
}

fn explanation(out: &mut String, l: &Line, e: &Explanation) {
    let _ = writeln!(out, "  what failed: {}", e.what);
    let _ = writeln!(out, "  path:        {}", e.path.label());
    match (&l.source, e.app) {
        (Some(s), _) => {
            let _ = writeln!(out, "  printed by:  {} ({})", s.printed_by, s.evidence);
        }
        (None, Some(a)) => {
            let _ = writeln!(out, "  printed by:  {a}");
        }
        (None, None) => {
            let _ = writeln!(
                out,
                "  printed by:  not named in the line (the causes below cover each app that prints it)"
            );
        }
    }
    for (i, c) in e.causes.iter().enumerate() {
        let label = if i == 0 {
            "  causes:     "
        } else {
            "              "
        };
        let _ = writeln!(out, "{label}{}. {c}", i + 1);
    }
    let _ = writeln!(out, "  fix:         {}\n", e.remedy);
}

/// One test case per line: a recognised error is a failure with its fix, the rest pass.
fn junit(r: &ExplainReport) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let mut suite = BytesStart::new("testsuite");
    suite.push_attribute(("name", "dexcheck explain"));
    suite.push_attribute(("tests", r.summary.lines.to_string().as_str()));
    suite.push_attribute(("failures", r.summary.recognised.to_string().as_str()));
    let _ = w.write_event(Event::Start(suite));
    for l in r.lines {
        let mut case = BytesStart::new("testcase");
        case.push_attribute(("classname", "dexcheck.explain"));
        case.push_attribute(("name", format!("line {}", l.line).as_str()));
        let _ = w.write_event(Event::Start(case));
        if let Some(e) = &l.explanation {
            let mut f = BytesStart::new("failure");
            f.push_attribute(("type", e.id.as_str()));
            f.push_attribute(("message", e.what.as_str()));
            let _ = w.write_event(Event::Start(f));
            let body = format!("{}\npath: {}\nfix: {}", l.text, e.path.label(), e.remedy);
            let _ = w.write_event(Event::Text(BytesText::new(&body)));
            let _ = w.write_event(Event::End(BytesEnd::new("failure")));
        }
        let _ = w.write_event(Event::End(BytesEnd::new("testcase")));
    }
    let _ = w.write_event(Event::End(BytesEnd::new("testsuite")));
    String::from_utf8_lossy(&w.into_inner()).into_owned() + "\n"
}

/// An `::error` per recognised line, a `::notice` with the count.
fn github(r: &ExplainReport) -> String {
    let mut out = String::new();
    for l in r.lines {
        if let Some(e) = &l.explanation {
            let title = format!("dexcheck explain: line {}: {}", l.line, e.what);
            let msg = format!("{}\nFix: {}", l.text, e.remedy);
            out.push_str(&super::github::command("error", &title, &msg));
        }
    }
    let summary = format!(
        "{} of {} lines recognised — exit {}",
        r.summary.recognised, r.summary.lines, r.summary.exit_code
    );
    out.push_str(&super::github::command(
        "notice",
        "dexcheck explain",
        &summary,
    ));
    out
}
