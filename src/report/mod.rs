//! Renderers: each draws a [`Diagnosis`]; none decides anything.

pub mod github;
pub mod json;
pub mod junit;
pub mod table;

use serde::Serialize;

use crate::diagnosis::Diagnosis;
use crate::plan::predict::Status;

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

impl<'a> Report<'a> {
    pub fn new(diagnosis: &'a Diagnosis, mode: &'static str, exit_code: i32) -> Self {
        let count = |s: Status| diagnosis.checks.iter().filter(|c| c.status == s).count();
        Report {
            schema: SCHEMA,
            tool: Tool {
                name: "dexcheck",
                version: env!("CARGO_PKG_VERSION"),
            },
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
