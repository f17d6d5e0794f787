//! One check as reported: what predictions, probes and config rules all produce, and what every
//! renderer draws. Probes build it with [`Check::observed`]; there is no separate observation type.

use serde::Serialize;

use super::catalog::{CheckId, Id, Vantage};
use crate::plan::predict::{Outcome, Status};
use crate::probe::class::Class;

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: Id,
    pub title: String,
    pub vantage: Vantage,
    /// The connector (its `id`) a connector-specific check is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector: Option<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<Class>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// For the return-URL check: the sub-rule that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    pub message: String,
    /// The error the user will see, in upstream's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What another source of evidence names as the cause (the route behind URL for a pod row).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
    /// `false`: predicted offline from the configuration; `true`: observed.
    pub observed: bool,
    /// Milliseconds the observation took; absent for predictions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The proxy an observed request went through (credentials removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// The address URL's host resolved to for whoever made an observed request (this machine's
    /// connection without a proxy or redirect; a pod's `getent hosts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Redirects an observed request followed, `STATUS → URL` each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
    /// Part of the path matrix (as opposed to a configuration finding).
    #[serde(skip)]
    pub matrix: bool,
    /// An observation that could not be made (no client in the pod, …): the prediction stands.
    #[serde(skip)]
    pub not_run: bool,
    /// The clock of whoever answered, as seconds ahead of this machine's (`clock.skew`).
    #[serde(skip)]
    pub clock_ahead_s: Option<i64>,
    /// With `--repeat`: in how many of the runs the check failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<Runs>,
}

/// A check's failures out of the runs it was made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Runs {
    pub failed: u32,
    pub total: u32,
}

impl Check {
    /// A predicted (or config) check, with the catalog's title, vantage and matrix flag.
    pub fn new(id: CheckId, outcome: Outcome) -> Check {
        let spec = id.spec();
        Check {
            id: Id::Check(id),
            title: spec.title.to_string(),
            vantage: spec.vantage,
            connector: None,
            status: outcome.status,
            class: outcome.class,
            url: None,
            expected: None,
            actual: None,
            rule: None,
            message: outcome.note,
            error: outcome.go_error,
            cause: None,
            remedy: None,
            observed: false,
            duration_ms: None,
            proxy: None,
            address: None,
            redirects: Vec::new(),
            matrix: spec.matrix,
            not_run: false,
            clock_ahead_s: None,
            runs: None,
        }
    }
    /// An observed check of `url`.
    pub fn observed(id: CheckId, url: &str, outcome: Outcome) -> Check {
        let mut c = Check::new(id, outcome);
        c.url = Some(url.to_string());
        c.observed = true;
        c.duration_ms = Some(0);
        c
    }
    /// An observation that could not be made, and why.
    pub fn not_run(id: CheckId, why: String) -> Check {
        let mut c = Check::observed(id, "", Outcome::skip(why));
        c.not_run = true;
        c
    }
    pub fn url(mut self, url: &str) -> Self {
        self.url = Some(url.into());
        self
    }
    pub fn title(mut self, title: String) -> Self {
        self.title = title;
        self
    }
    /// Attaches a remedy to a check that warns or fails.
    pub fn remedy(mut self, remedy: Option<String>) -> Self {
        if self.status >= Status::Warn {
            self.remedy = remedy;
        }
        self
    }
    /// Names the connector the check is about; with several connectors the title says which.
    pub fn for_connector(mut self, id: &str, several: bool) -> Self {
        if several {
            self.title = format!("{} — {id}", self.title);
        }
        self.connector = Some(id.to_string());
        self
    }
    pub fn values(mut self, expected: &str, actual: &str) -> Self {
        self.expected = Some(expected.into());
        self.actual = Some(actual.into());
        self
    }
}
