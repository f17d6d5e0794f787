//! `-o table`: the matrix for people, with details and remedies under it and the verdict last.

use std::fmt::Write;

use colored::Color;
use comfy_table::{
    Attribute, Cell as TCell, Color as TColor, ContentArrangement, Table as Grid, presets,
};

use super::rows::{colour, details, glyph, paint, result_label};
use super::{Render, Report, Style};
use crate::diagnosis::{Cell, Check, Vantage};
use crate::plan::predict::Status;

pub struct Table(pub Style);

impl Render for Table {
    fn render(&self, report: &Report) -> String {
        render(report, self.0)
    }
}

fn tcolour(s: Status) -> Option<TColor> {
    Some(match colour(s)? {
        Color::Green => TColor::Green,
        Color::Yellow => TColor::Yellow,
        Color::Red => TColor::Red,
        _ => TColor::Cyan,
    })
}

fn tcell(text: String, s: Status, style: Style) -> TCell {
    let c = TCell::new(text);
    match (style.color, tcolour(s)) {
        (true, Some(tc)) => c.fg(tc),
        _ => c,
    }
}

pub(crate) fn new_table(style: Style) -> Grid {
    let mut t = Grid::new();
    t.load_style(if style.ascii {
        // The preset draws the header line without its column joints.
        presets::ASCII_FULL_CONDENSED
            .header_separator(comfy_table::LineStyle::new('+', '=', '+', '+'))
    } else {
        presets::UTF8_FULL_CONDENSED.with_rounded_corners()
    });
    t.set_content_arrangement(ContentArrangement::Disabled);
    if style.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    header(&mut out, report, style);
    matrix(&mut out, report.diagnosis, style);
    failures(&mut out, report.diagnosis, style);
    candidates(&mut out, report.diagnosis, style);
    verdict(&mut out, report, style);
    out
}

/// Who checked what: the tool, the input, URL, issuer and the browser's origin.
fn header(out: &mut String, report: &Report, style: Style) {
    let d = report.diagnosis;
    let head = |s: &str| super::rows::bold(s, style);
    let _ = writeln!(
        *out,
        "{} {} · {} · {} ({}) · {}",
        head("dexcheck"),
        report.tool.version,
        d.app,
        d.source,
        d.input,
        report.mode
    );
    let _ = writeln!(
        *out,
        "URL      {}  ({})",
        d.url.as_deref().unwrap_or("(none)"),
        d.url_source
    );
    if let Some(e) = &d.endpoints {
        let _ = writeln!(*out, "Issuer   {}", e.issuer);
    }
    if let Some(o) = &d.oidc {
        let _ = writeln!(
            *out,
            "OIDC     {}  ({} talks to the IdP itself, no Dex{})",
            o.issuer,
            d.app.name(),
            o.client_id
                .as_deref()
                .map(|c| format!("; client {c}"))
                .unwrap_or_default()
        );
    }
    if let Some(b) = &d.browser_origin {
        let _ = writeln!(*out, "Browser  {}  ({})", b.origin, b.source);
    }
    if let Some(c) = &d.callback {
        let at = c
            .register_at
            .as_deref()
            .unwrap_or("the IdP's client settings");
        // A guessed family says so itself ("if this is Keycloak: …").
        let at = if at.starts_with("if this is") {
            format!("register it {at}")
        } else {
            format!("register at {at}")
        };
        let _ = writeln!(*out, "Callback {}  ({at})", c.url);
    }
    if d.connectors.len() > 1 {
        let list: Vec<String> = d
            .connectors
            .iter()
            .map(|c| format!("{} ({}, {})", c.id, c.kind, c.login.replace('_', " ")))
            .collect();
        let _ = writeln!(*out, "Connectors {}", list.join(", "));
    }
    if let Some(r) = &d.route {
        let _ = writeln!(
            *out,
            "Route    read from {} ({})",
            r.from,
            r.read.join(", ")
        );
        for n in &r.notes {
            let _ = writeln!(*out, "         {n}");
        }
    }
    out.push('\n');
}

/// The path matrix; in a live run, rows that are still predictions say so.
fn matrix(out: &mut String, d: &crate::diagnosis::Diagnosis, style: Style) {
    let mut t = new_table(style);
    t.set_header(
        vec!["", "Path", "From", "Result"]
            .into_iter()
            .map(|h| TCell::new(h).add_attribute(Attribute::Bold)),
    );
    let live = d.live.is_some();
    for c in d.checks.iter().filter(|c| c.matrix) {
        let mut label = result_label(c);
        let network = matches!(
            c.vantage,
            Vantage::Workstation | Vantage::AppPod | Vantage::DexPod
        );
        if live && network && !c.observed && c.status != Status::Skip {
            // In a live run, say which rows are still predictions from the configuration.
            label.push_str(" (predicted)");
        }
        t.add_row(vec![
            tcell(glyph(c.status, style.ascii).into(), c.status, style),
            TCell::new(&c.title),
            TCell::new(c.vantage.label()),
            tcell(label, c.status, style),
        ]);
    }
    let _ = writeln!(*out, "{t}");
}

/// Every check that is not a plain pass, with its details and fix.
fn failures(out: &mut String, d: &crate::diagnosis::Diagnosis, style: Style) {
    let head = |s: &str| super::rows::bold(s, style);
    let failing: Vec<&Check> = d
        .checks
        .iter()
        .filter(|c| c.status != Status::Pass || !c.matrix)
        .filter(|c| c.status != Status::Pass)
        .collect();
    if !failing.is_empty() {
        out.push('\n');
    }
    for c in failing {
        let g = paint(glyph(c.status, style.ascii), c.status, style);
        let _ = writeln!(*out, "{g} {}  [{}]", head(&c.title), c.id);
        for (label, text) in details(c) {
            let _ = writeln!(*out, "    {:<10}{text}", format!("{label}:"));
        }
    }
}

/// The what-if columns and what each needs.
fn candidates(out: &mut String, d: &crate::diagnosis::Diagnosis, style: Style) {
    let head = |s: &str| super::rows::bold(s, style);
    if !d.candidates.is_empty() {
        let title = if d.oidc.is_some() {
            "What if the IdP's issuer were…"
        } else {
            "What if URL were…"
        };
        let _ = writeln!(*out, "\n{}", head(title));
        let mut t = new_table(style);
        let star = if style.ascii {
            "(recommended) "
        } else {
            "★ "
        };
        let mut header = vec![TCell::new("")];
        header.extend(d.candidates.iter().map(|c| {
            let h = if c.recommended {
                format!("{star}{}", c.url)
            } else {
                c.url.clone()
            };
            TCell::new(h).add_attribute(Attribute::Bold)
        }));
        t.set_header(header);
        let row = |name: &str, pick: &dyn Fn(&crate::diagnosis::Candidate) -> &Cell| {
            let mut r = vec![TCell::new(name)];
            r.extend(d.candidates.iter().map(|c| {
                let cell = pick(c);
                tcell(
                    format!("{} {}", glyph(cell.status, style.ascii), cell.label),
                    cell.status,
                    style,
                )
            }));
            r
        };
        t.add_row(row("browser access", &|c| &c.browser));
        t.add_row(row("pod access", &|c| &c.pod));
        t.add_row(row("return-URL check", &|c| &c.return_url));
        t.add_row(row("result", &|c| &c.result));
        let _ = writeln!(*out, "{t}");
        if d.oidc.is_some() && !d.candidates.iter().any(|c| c.recommended) {
            let _ = writeln!(
                *out,
                "  none works from both sides: the issuer needs a name the browser and the argocd-server pod both resolve and reach (an ingress host), or an IdP that names one issuer for both (Keycloak: hostname with hostname-backchannel-dynamic)"
            );
        }
        for c in d.candidates.iter().filter(|c| c.requires.is_some()) {
            let _ = writeln!(
                *out,
                "  {} needs: {}",
                c.url,
                c.requires.as_deref().unwrap_or("")
            );
        }
    }
}

/// The verdict and the counts.
fn verdict(out: &mut String, report: &Report, style: Style) {
    let d = report.diagnosis;
    let head = |s: &str| super::rows::bold(s, style);
    out.push('\n');
    let s = &report.summary;
    let v = &d.verdict;
    let _ = writeln!(
        *out,
        "{} {}",
        paint(glyph(v.status, style.ascii), v.status, style),
        head(&v.summary)
    );
    let _ = writeln!(
        *out,
        "{} passed, {}, {} failed, {} a live check, {} skipped — exit {}",
        s.passed,
        super::count(s.warnings, "warning", "warnings"),
        s.failed,
        super::count(s.unknown, "needs", "need"),
        s.skipped,
        s.exit_code
    );
}
