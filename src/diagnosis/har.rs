//! The browser's HAR as a source of evidence beside the probes: alone (no config), or added to
//! a diagnosis, where its rows replace the predictions for the browser it observed and a
//! prediction it contradicts becomes a finding of its own (`har.disagrees`).

use super::{Check, CheckId, Diagnosis, observed, verdict};
use crate::app::{App, Install};
use crate::plan::predict::{Outcome, Status};
use crate::probe::class::Class;

/// What a HAR's login shows about the app: which app, and its URL (the login's origin and base
/// path).
pub fn app_of(trace: &crate::har::Trace) -> Option<(App, String)> {
    trace.exchanges.iter().find_map(|x| {
        let u = url::Url::parse(&x.url).ok()?;
        let (app, base) = App::by_login_path(u.path())?;
        Some((app, format!("{}{base}", u.origin().ascii_serialization())))
    })
}

/// The origin a HAR's first login started on, for an app no profile knows.
fn origin_of_login(trace: &crate::har::Trace) -> Option<String> {
    let l = trace.logins.first()?;
    let x = &trace.exchanges[l.start.unwrap_or(l.provider.at)];
    Some(crate::har::login::origin(&x.url))
}

/// A diagnosis of a HAR alone.
pub fn from_har(source: String, trace: &crate::har::Trace) -> Diagnosis {
    let (app, url) = match app_of(trace) {
        Some((a, u)) => (a, Some(u)),
        None => (App::DEVTRON, origin_of_login(trace)),
    };
    let checks = trace.checks();
    let mut verdict = verdict(&checks);
    // Nothing here is a prediction: the browser saw it.
    if let Some(rest) = verdict.summary.strip_prefix("no failure predicted") {
        verdict.summary = format!("no failure in the browser's HAR{rest}");
    }
    Diagnosis {
        app,
        install: Install::new(app, None),
        source,
        input: "browser HAR",
        url,
        url_source: "from the HAR's login request",
        endpoints: None,
        browser_origin: None,
        callback: None,
        oidc: None,
        connectors: Vec::new(),
        verdict,
        checks,
        candidates: Vec::new(),
        live: None,
        cluster: None,
        route: None,
    }
}

/// The browser rows a HAR row observes in place of their prediction.
const OBSERVES: &[(CheckId, CheckId)] = &[
    (CheckId::HarLogin, CheckId::BrowserReturnUrl),
    (CheckId::HarProvider, CheckId::BrowserDexAuth),
];

/// Adds a HAR's rows to `d`, and holds the route's header budget against the size its login's
/// callback measured.
pub fn add_har(d: &mut Diagnosis, trace: &crate::har::Trace) {
    let rows = trace.checks();
    if let Some(bytes) = trace.callback_set_cookie_bytes()
        && let Some(row) = d
            .checks
            .iter_mut()
            .find(|c| c.id == CheckId::RouteHeaderBudget)
    {
        crate::route::edge::budget_measured(row, bytes, "from the HAR");
    }
    let mut findings = Vec::new();
    for (har, predicted) in OBSERVES {
        let Some(h) = rows.iter().find(|c| c.id == *har && c.observed) else {
            continue;
        };
        if !matches!(h.status, Status::Pass | Status::Fail) {
            continue;
        }
        let Some(i) = d.checks.iter().position(|c| c.id == *predicted) else {
            continue;
        };
        let p = &d.checks[i];
        if (p.status == Status::Fail) != (h.status == Status::Fail) {
            findings.push(disagrees(p, h));
        }
        if !p.observed {
            d.checks.remove(i);
        }
    }
    observed::merge(d, rows.into_iter().chain(findings).collect());
    d.verdict = verdict(&d.checks);
}

fn disagrees(p: &Check, h: &Check) -> Check {
    let said = |c: &Check| format!("{} ({})", c.status.as_str(), c.message);
    let how = if p.observed { "observed" } else { "predicted" };
    let note = format!(
        "dexcheck {how} {} {}; the browser's HAR shows {} {}: the browser's own view stands, so look for what differs between this check and the user's browser (the URL opened, a proxy, an older config)",
        p.id,
        said(p),
        h.id,
        said(h)
    );
    crate::har::rows::noted(
        CheckId::HarDisagrees,
        Outcome {
            status: Status::Warn,
            class: Some(Class::PredictionDiffers),
            go_error: None,
            note,
        },
    )
}
