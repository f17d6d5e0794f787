//! `clock.skew`: every clock the live run saw (the `Date` of the app, Dex and the IdP, the app
//! and Dex pods' own clocks) against this machine's. Tokens carry `exp`, `iat` and `nbf`; past a
//! few minutes' difference one side refuses the other's tokens.

use super::{Check, CheckId, Vantage};
use crate::plan::predict::{Outcome, Status};
use crate::probe::class::Class;

/// The leeway most token validators allow (go-oidc's `nbf`, Entra ID, Keycloak's default).
pub const LEEWAY_S: i64 = 300;

/// Who a check's clock belongs to.
fn whose(c: &Check) -> Option<&'static str> {
    Some(match (c.vantage, c.id.check()) {
        // The control is dexcheck's own provider on this machine's clock.
        (_, CheckId::ControlDiscovery) => return None,
        (Vantage::AppPod, _) => "the app pod",
        (Vantage::DexPod, _) => "the Dex pod",
        (_, CheckId::BrowserApp) => "the app (its Date header)",
        (_, CheckId::BrowserIdpDiscovery | CheckId::IdpAuthorize | CheckId::IdpClientAuth) => {
            "the upstream IdP (its Date header)"
        }
        _ => "Dex (its Date header)",
    })
}

/// The clock check, when any clock was seen.
pub fn clock_skew(checks: &[Check]) -> Option<Check> {
    let mut seen: Vec<(&'static str, i64)> = Vec::new();
    for c in checks.iter().filter(|c| c.observed) {
        let (Some(ahead), Some(who)) = (c.clock_ahead_s, whose(c)) else {
            continue;
        };
        match seen.iter_mut().find(|(w, _)| *w == who) {
            Some((_, a)) if ahead.abs() > a.abs() => *a = ahead,
            Some(_) => {}
            None => seen.push((who, ahead)),
        }
    }
    if seen.is_empty() {
        return None;
    }
    let list = seen
        .iter()
        .map(|(w, a)| format!("{w} {a:+} s"))
        .collect::<Vec<_>>()
        .join(", ");
    let off: Vec<_> = seen.iter().filter(|(_, a)| a.abs() > LEEWAY_S).collect();
    let outcome = match off.first() {
        None => Outcome::pass(format!(
            "every clock seen is within {LEEWAY_S} s of this machine's: {list}"
        )),
        Some((who, ahead)) => Outcome::fail(
            Class::ClockSkew,
            format!("oidc: token is expired or not yet valid ({who} is {ahead:+} s off)"),
            format!(
                "{who} is {} s {} this machine, beyond the {LEEWAY_S} s leeway token checks allow: tokens it issues or checks look expired or not yet valid ({list})",
                ahead.abs(),
                if *ahead > 0 { "ahead of" } else { "behind" }
            ),
        ),
    };
    let mut c = Check::observed(CheckId::ClockSkew, "", outcome);
    c.url = None;
    let remedy = (c.status >= Status::Warn).then(|| {
        "Synchronise the clocks (NTP/chrony on the nodes or this machine; a pod has its node's clock)"
            .to_string()
    });
    Some(c.remedy(remedy))
}
