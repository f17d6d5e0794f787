//! What every renderer shares: status glyphs and colours, a check's result label and its detail
//! lines. Renderers only arrange these.

use colored::{Color, Colorize};

use super::Style;
use crate::diagnosis::Check;
use crate::plan::predict::Status;

/// The status glyph, Unicode or ASCII.
pub fn glyph(s: Status, ascii: bool) -> &'static str {
    match (s, ascii) {
        (Status::Pass, false) => "✓",
        (Status::Warn, false) => "⚠",
        (Status::Fail, false) => "✗",
        (Status::Unknown, false) => "?",
        (Status::Skip, false) => "-",
        (Status::Pass, true) => "OK",
        (Status::Warn, true) => "WARN",
        (Status::Fail, true) => "FAIL",
        (Status::Unknown, true) => "??",
        (Status::Skip, true) => "SKIP",
    }
}

/// The status as an emoji, for Markdown.
pub fn emoji(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
        Status::Unknown => "❔",
        Status::Skip => "⏭️",
    }
}

/// The terminal colour of a status (none for skipped).
pub fn colour(s: Status) -> Option<Color> {
    match s {
        Status::Pass => Some(Color::Green),
        Status::Warn => Some(Color::Yellow),
        Status::Fail => Some(Color::Red),
        Status::Unknown => Some(Color::Cyan),
        Status::Skip => None,
    }
}

/// `text` in the status's colour, when the style colours.
pub fn paint(text: &str, s: Status, style: Style) -> String {
    match (style.color, colour(s)) {
        (true, Some(c)) => text.color(c).to_string(),
        _ => text.to_string(),
    }
}

/// Bold, when the style colours.
pub fn bold(text: &str, style: Style) -> String {
    if style.color {
        text.bold().to_string()
    } else {
        text.to_string()
    }
}

/// A check's result in a word or two: `ok`, the class, `skipped`, …
pub fn result_label(c: &Check) -> String {
    match c.status {
        Status::Pass => "ok".into(),
        Status::Unknown => "needs live check".into(),
        Status::Skip => "skipped".into(),
        _ => c
            .class
            .map(|c| c.to_string())
            .unwrap_or_else(|| "warning".into()),
    }
}

/// A check's details, label and text, in the order every format shows them.
pub fn details(c: &Check) -> Vec<(&'static str, String)> {
    let mut d = Vec::new();
    if let Some(u) = &c.url {
        d.push(("url", u.clone()));
    }
    d.push(("why", c.message.clone()));
    if let (Some(e), Some(a)) = (&c.expected, &c.actual)
        && (c.status == Status::Fail || c.status == Status::Warn)
    {
        d.push(("expected", e.clone()));
        d.push(("actual", a.clone()));
    }
    if let Some(e) = &c.error {
        d.push(("error", e.clone()));
    }
    if let Some(x) = &c.cause {
        d.push(("cause", x.clone()));
    }
    for h in &c.redirects {
        d.push(("redirect", h.clone()));
    }
    if let Some(p) = &c.proxy {
        d.push(("proxy", p.clone()));
    }
    if let Some(r) = &c.remedy {
        d.push(("fix", r.clone()));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::CheckId;
    use crate::plan::predict::Outcome;
    use crate::probe::class::Class;

    #[test]
    fn a_failure_shows_its_class_error_and_fix_in_order() {
        let c = Check::new(
            CheckId::PodDiscovery,
            Outcome::fail(
                Class::Refused,
                "dial tcp [::1]:8082: connect: connection refused",
                "nothing listens",
            ),
        )
        .url("http://localhost:8082/x")
        .remedy(Some("forward 8080".into()));
        assert_eq!(result_label(&c), "refused");
        let labels: Vec<_> = details(&c).into_iter().map(|(l, _)| l).collect();
        assert_eq!(labels, ["url", "why", "error", "fix"]);
        assert_eq!(glyph(c.status, true), "FAIL");
    }

    #[test]
    fn a_pass_hides_expected_and_actual() {
        let c = Check::new(CheckId::BrowserApp, Outcome::pass("fine")).values("a", "a");
        assert!(details(&c).iter().all(|(l, _)| *l != "expected"));
        assert_eq!(result_label(&c), "ok");
    }
}
