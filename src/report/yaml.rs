//! `-o yaml`: the `dexcheck/v1` document as YAML, the same fields as JSON.

use super::{Render, Report};

pub struct Yaml;

impl Render for Yaml {
    fn render(&self, report: &Report) -> String {
        // Plain data always serializes; an empty document would still parse if it did not.
        serde_saphyr::to_string(report).unwrap_or_default()
    }
}
