//! Renderers: each format is one file behind [`Render`]; each draws a [`Report`] and none decides
//! anything. Adding a format: one file here, one arm in [`renderer`], one `OutputFormat` value.

pub mod explain;
pub mod fleet;
pub mod github;
pub mod json;
pub mod junit;
pub mod prometheus;
pub mod rows;
pub mod table;
pub mod yaml;

use std::io::IsTerminal;

use serde::Serialize;

use crate::cli::{ColorChoice, OutputFormat, PrintArgs};
use crate::diagnosis::Diagnosis;
use crate::plan::predict::Status;

/// One output format.
pub trait Render {
    fn render(&self, report: &Report) -> String;
}

/// The renderer for a format.
/// `1 warning`, `2 warnings`: a count with the noun as English has it.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn renderer(format: OutputFormat, style: Style) -> Box<dyn Render> {
    match format {
        OutputFormat::Table => Box::new(table::Table(style)),
        OutputFormat::Json => Box::new(json::Json),
        OutputFormat::Yaml => Box::new(yaml::Yaml),
        OutputFormat::Junit => Box::new(junit::Junit),
        OutputFormat::Github => Box::new(github::Github),
        OutputFormat::Prometheus => Box::new(prometheus::Prometheus),
    }
}

/// How text is drawn: colour and glyphs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    pub ascii: bool,
}

impl Style {
    /// The style the flags and the environment ask for (`NO_COLOR`, `CLICOLOR`,
    /// `CLICOLOR_FORCE`, `TERM=dumb`), with the process's colour override set to match.
    pub fn resolve(print: &PrintArgs) -> Style {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let color = match print.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                if env("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                    true
                } else if env("NO_COLOR").is_some() || env("CLICOLOR").is_some_and(|v| v == "0") {
                    false
                } else {
                    std::io::stdout().is_terminal()
                }
            }
        };
        colored::control::set_override(color);
        let ascii = print.ascii || env("TERM").is_some_and(|t| t == "dumb");
        Style { color, ascii }
    }
}

/// The whole report as every renderer sees it.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub schema: &'static str,
    pub tool: Tool,
    pub mode: &'static str,
    #[serde(flatten)]
    pub diagnosis: &'a Diagnosis,
    pub summary: Summary,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub passed: usize,
    pub warnings: usize,
    pub failed: usize,
    pub skipped: usize,
    pub unknown: usize,
    pub exit_code: i32,
}

pub const SCHEMA: &str = "dexcheck/v1";

impl Tool {
    pub fn this() -> Tool {
        Tool {
            name: "dexcheck",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

impl<'a> Report<'a> {
    pub fn new(diagnosis: &'a Diagnosis, mode: &'static str, exit_code: i32) -> Self {
        let count = |s: Status| diagnosis.checks.iter().filter(|c| c.status == s).count();
        Report {
            schema: SCHEMA,
            tool: Tool::this(),
            mode,
            diagnosis,
            summary: Summary {
                passed: count(Status::Pass),
                warnings: count(Status::Warn),
                failed: count(Status::Fail),
                skipped: count(Status::Skip),
                unknown: count(Status::Unknown),
                exit_code,
            },
        }
    }
}

#[cfg(test)]
mod tests;
