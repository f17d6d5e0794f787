//! `-o json`: the versioned `dexcheck/v1` document.

use super::{Render, Report};

pub struct Json;

impl Render for Json {
    fn render(&self, report: &Report) -> String {
        render(report)
    }
}

pub fn render(report: &Report) -> String {
    // Serialising plain data into a String cannot fail; fall back to an error object all the same.
    serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        format!(
            "{{\"schema\":\"dexcheck/v1\",\"error\":{{\"kind\":\"internal\",\"message\":{:?}}}}}",
            e.to_string()
        )
    }) + "\n"
}

/// The document printed instead of a report when the input cannot be used.
pub fn render_error(kind: &str, message: &str, exit_code: i32) -> String {
    let v = serde_json::json!({
        "schema": super::SCHEMA,
        "error": {"kind": kind, "message": message},
        "summary": {"exit_code": exit_code},
    });
    format!("{v:#}\n")
}
