//! Live observations merged into a diagnosis: an observation replaces the prediction of the same
//! row, a disagreement between the two becomes its own finding, and the verdict is drawn again.

use super::{Check, CheckId, Diagnosis, Id, Live, verdict};
use crate::plan::predict::{Outcome, Status};
use crate::probe::class::Class;

pub fn apply_observations(d: &mut Diagnosis, obs: Vec<Check>, live: Live) {
    d.live = Some(live);
    merge(d, obs);
}

/// Merges observed checks without touching the run's conditions: an observation replaces the
/// prediction of its row, a new row takes its catalog place, and the verdict is drawn again.
pub fn merge(d: &mut Diagnosis, obs: Vec<Check>) {
    let host_port = d
        .url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| {
            (
                u.host_str().unwrap_or("").to_string(),
                u.port_or_known_default().unwrap_or(80),
            )
        });
    let mut disagreements = Vec::new();
    for mut c in obs {
        if c.not_run
            && let Some(p) = d.checks.iter_mut().find(|p| {
                p.id == c.id
                    && !p.observed
                    && p.status != Status::Skip
                    && (c.connector.is_none() || p.connector == c.connector)
            })
        {
            // Nothing was observed: the prediction stands, with the reason it was not checked.
            p.message = format!("{} (not observed: {})", p.message, c.message);
            continue;
        }
        if c.status >= Status::Warn && c.remedy.is_none() {
            c.remedy = crate::knowledge::remedy::observed(&d.install, &c, host_port.as_ref());
        }
        // A connector's rows are told apart by connector and URL (several hosts of one type).
        // Argo CD's client is tried with each callback (URL's and each additionalUrls one).
        let other_callback = |p: &Check| {
            c.id == CheckId::IdpAuthorize && p.observed && c.observed && p.expected != c.expected
        };
        let same = |p: &Check| {
            p.id == c.id
                && !other_callback(p)
                && (c.connector.is_none()
                    || (p.connector == c.connector
                        && (p.url.is_none() || c.url.is_none() || p.url == c.url)))
        };
        match d.checks.iter().position(same) {
            Some(i) => {
                if let Some(x) = disagreement(&d.checks[i], &c) {
                    disagreements.push(x);
                }
                d.checks[i] = c;
            }
            None => {
                let rank = c.id.rank();
                let at = d
                    .checks
                    .iter()
                    .position(|p| p.id.rank() > rank)
                    .unwrap_or(d.checks.len());
                d.checks.insert(at, c);
            }
        }
    }
    d.checks.extend(disagreements);
}

/// Draws the verdict of a live run, once, after every observation is in.
pub fn conclude(d: &mut Diagnosis) {
    if let Some(c) = super::clock::clock_skew(&d.checks) {
        merge(d, vec![c]);
    }
    excuse_control_behind_proxy(d);
    d.verdict = verdict(&d.checks);
    blame_workstation(d);
}

fn failed_control(d: &Diagnosis) -> Option<&Check> {
    d.checks
        .iter()
        .find(|c| c.id == CheckId::ControlDiscovery && c.status == Status::Fail)
}

/// The target reached through the same proxy and answered: the proxy works, it just cannot
/// reach this machine's loopback. Not a blocker: the control only warns.
fn excuse_control_behind_proxy(d: &mut Diagnosis) {
    let Some(c) = failed_control(d) else { return };
    let same_proxy_ok = c.proxy.is_some()
        && d.checks.iter().any(|t| {
            t.id == CheckId::BrowserDiscovery && t.status == Status::Pass && t.proxy == c.proxy
        });
    if !same_proxy_ok {
        return;
    }
    if let Some(c) = d
        .checks
        .iter_mut()
        .find(|x| x.id == CheckId::ControlDiscovery)
    {
        c.status = Status::Warn;
        c.message = format!(
            "{} — but the target answered through the same proxy, so the proxy works; it only cannot reach this machine's loopback (add localhost to NO_PROXY to make the control meaningful)",
            c.message
        );
    }
}

/// When the control fails, this machine's own setup is at fault first: it blocks the verdict.
fn blame_workstation(d: &mut Diagnosis) {
    let Some(c) = failed_control(d) else { return };
    let cause = match &c.proxy {
        Some(p) => format!(
            "the proxy {p} from HTTP(S)_PROXY is in the way; set NO_PROXY (e.g. NO_PROXY=localhost,127.0.0.1,.svc) or fix the proxy"
        ),
        None => "this machine's own HTTP path fails".to_string(),
    };
    let summary = format!(
        "this machine cannot reach even the reference provider dexcheck started on loopback ({}): {cause}; fix that first, the target's rows may fail for the same reason",
        c.error.clone().unwrap_or_else(|| c.message.clone())
    );
    let blocking = Some(c.id.to_string());
    d.verdict.status = Status::Fail;
    d.verdict.blocking_check = blocking;
    d.verdict.summary = summary;
}

/// The finding that a decided prediction did not hold, if it did not. A loopback URL is predicted
/// to work "while a port-forward listens"; refused then means the forward is not running, which
/// the row's remedy already says.
fn disagreement(predicted: &Check, observed: &Check) -> Option<Check> {
    let decided = |s: Status| s == Status::Pass || s == Status::Fail;
    let forward_down = predicted.status == Status::Pass && observed.class == Some(Class::Refused);
    if !decided(predicted.status)
        || !decided(observed.status)
        || predicted.status == observed.status
        || forward_down
    {
        return None;
    }
    let word = |s: Status| if s == Status::Pass { "works" } else { "fails" };
    let mut c = Check::new(
        predicted.id.check(),
        Outcome {
            status: Status::Warn,
            class: Some(Class::PredictionDiffers),
            go_error: None,
            note: format!(
                "from the configuration alone this path {} ({}), but here it {}: this machine's network differs from the usual (hosts file, VPN, proxy, split DNS), so the app pod may well see something else again",
                word(predicted.status),
                predicted.message,
                word(observed.status)
            ),
        },
    );
    c.id = Id::Prediction(predicted.id.check());
    c.title = format!("prediction holds: {}", predicted.title);
    c.matrix = false;
    c.url = observed.url.clone();
    c.expected = Some(format!("{:?}", predicted.status).to_lowercase());
    c.actual = Some(format!("{:?}", observed.status).to_lowercase());
    Some(c)
}

/// Says why the pod rows stay predictions (no cluster, `--no-pods`).
pub fn note_pods_not_run(d: &mut Diagnosis, why: &str) {
    let mut c = Check::new(
        CheckId::PodsNotRun,
        Outcome::skip(format!(
            "{why}; the app pod rows are predictions from the configuration"
        )),
    );
    c.remedy = Some(
        "Give cluster access (--kubeconfig, --context, -n) with get on secrets/configmaps, list on pods and create on pods/exec".into(),
    );
    d.checks.push(c);
}

/// Where the file and the cluster's live config disagree: the app runs with the cluster's copy.
pub fn drift(d: &mut Diagnosis, file: &crate::setup::Setup, live: &crate::setup::Setup) {
    let row = |id: CheckId, status: Status, note: String, expected: &str, actual: &str| {
        let class = (status >= Status::Warn).then_some(Class::Drift);
        let remedy = (status >= Status::Warn).then(|| {
            format!(
                "Decide which is right and make both say it: save the SSO config in the app (it rewrites {}), or fix the file",
                live.source
            )
        });
        let mut c = Check::new(
            id,
            Outcome {
                status,
                class,
                go_error: None,
                note,
            },
        )
        .values(expected, actual);
        c.remedy = remedy;
        c
    };
    let (f, l) = (
        file.url.as_deref().unwrap_or(""),
        live.url.as_deref().unwrap_or(""),
    );
    let (status, note) = if f == l {
        (Status::Pass, format!("{} says the same URL", live.source))
    } else {
        (
            Status::Fail,
            format!(
                "the file says URL {f:?}, but {} says {l:?}: the app runs with the cluster's",
                live.source
            ),
        )
    };
    d.checks.push(row(CheckId::DriftUrl, status, note, f, l));
    let Some(fc) = file.connectors.first() else {
        return;
    };
    let (status, note, other) = connector_drift(fc, live);
    d.checks
        .push(row(CheckId::DriftConnector, status, note, &fc.id, &other));
}

/// The file's first connector against the cluster's of the same id (or its first): the fields
/// that differ, and the cluster's connector id.
fn connector_drift(
    fc: &crate::setup::Connector,
    live: &crate::setup::Setup,
) -> (Status, String, String) {
    let Some(lc) = live
        .connectors
        .iter()
        .find(|c| c.id == fc.id)
        .or(live.connectors.first())
    else {
        let note = format!(
            "the file has connector {:?}, {} has none",
            fc.id, live.source
        );
        return (Status::Warn, note, String::new());
    };
    let fields = |c: &crate::setup::Connector| {
        let cfg = &c.config;
        vec![
            ("id", c.id.clone()),
            ("type", c.kind.clone()),
            ("issuer", cfg.issuer.clone().unwrap_or_default()),
            ("clientID", cfg.client_id.clone().unwrap_or_default()),
            ("redirectURI", cfg.redirect_uri.clone().unwrap_or_default()),
            ("scopes", cfg.scopes.clone().unwrap_or_default().join(" ")),
        ]
    };
    let differ: Vec<String> = fields(fc)
        .into_iter()
        .zip(fields(lc))
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, b)| format!("{}: file {:?}, cluster {:?}", a.0, a.1, b.1))
        .collect();
    if differ.is_empty() {
        let note = "the connector's issuer, clientID, redirectURI and scopes match".to_string();
        return (Status::Pass, note, lc.id.clone());
    }
    let note = format!(
        "the connector differs from {}: {}",
        live.source,
        differ.join("; ")
    );
    (Status::Warn, note, lc.id.clone())
}

/// The file could not be compared with the cluster's copy: say why, so silence is not agreement.
pub fn drift_not_checked(d: &mut Diagnosis, why: &str) {
    d.checks.push(Check::new(
        CheckId::DriftNotChecked,
        Outcome::skip(format!(
            "the cluster's live config could not be read to compare with the file: {why}"
        )),
    ));
}
