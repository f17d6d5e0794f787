//! Argo CD's `$key` and `$name:key` references, one row per config that has them
//! (`oidc.secret_refs`, `config.secret_refs`): offline each is reported unresolved; read from the
//! cluster, each is resolved as Argo CD resolves it, or reported in Argo CD's own words.
//! A value never appears: only the Secret and key it came from.

use super::{Check, CheckId};
use crate::app::Install;
use crate::plan::predict::{Outcome, Status};
use crate::probe::class::Class;
use crate::setup::{RefIn, RefState, Reference, Setup, references};

/// The row for the setup's references in `within`, if there are any.
pub(super) fn row(setup: &Setup, within: RefIn, install: &Install) -> Option<Check> {
    let refs: Vec<&Reference> = setup
        .all_references()
        .into_iter()
        .filter(|r| r.within == within)
        .collect();
    if refs.is_empty() {
        return None;
    }
    let id = match within {
        RefIn::OidcConfig => CheckId::OidcSecretRefs,
        RefIn::DexConfig => CheckId::ConfigSecretRefs,
    };
    let line = |r: &Reference| {
        let (_, key) = r.target();
        let state = match &r.state {
            RefState::NotLooked => "not resolved here".to_string(),
            RefState::Resolved { secret } => format!("resolved from Secret {secret}, key {key}"),
            RefState::Missing { why } => format!("no value: {why}{}", dex_reading(r)),
            RefState::Unread { why } => format!("unknown: {why}"),
        };
        format!("{} = {} ({state})", r.field, r.reference)
    };
    let listed = refs.iter().map(|r| line(r)).collect::<Vec<_>>().join("; ");
    let missing: Vec<&Reference> = refs
        .iter()
        .copied()
        .filter(|r| matches!(r.state, RefState::Missing { .. }))
        .collect();
    let worst = refs
        .iter()
        .map(|r| match r.state {
            RefState::Resolved { .. } => Status::Pass,
            RefState::Missing { .. } => Status::Fail,
            RefState::NotLooked | RefState::Unread { .. } => Status::Unknown,
        })
        .max()
        .unwrap_or(Status::Pass);
    let outcome = match (worst, missing.first()) {
        (Status::Fail, Some(first)) => Outcome::fail(
            Class::SecretReference,
            first.argo_warning(),
            format!(
                "{listed}: Argo CD uses the reference text itself as the value (Argo CD 3.5 and later log \"secret key does not exist in secret\")"
            ),
        ),
        (Status::Pass, _) => Outcome::pass(listed),
        _ if refs.iter().all(|r| r.state == RefState::NotLooked) => Outcome::unknown(format!(
            "{listed}: Argo CD reads $key from argocd-secret and $name:key from the Secret name (labelled app.kubernetes.io/part-of: argocd); this input does not resolve them, and no probe sends a reference as a secret"
        )),
        _ => Outcome::unknown(listed),
    };
    let remedy = missing.first().map(|r| remedy(r, install));
    Some(Check::new(id, outcome).remedy(remedy))
}

/// What Dex then reads for an unresolved reference in a connector's config.
fn dex_reading(r: &Reference) -> String {
    if r.within != RefIn::DexConfig || !references::dex_expands_field(&r.field) {
        return String::new();
    }
    format!(
        "; Dex expands it from its environment, so with no such variable there it reads {:?}",
        references::dex_expands(&r.reference)
    )
}

/// The fix for a reference Argo CD finds no value for, in the install's namespace.
fn remedy(r: &Reference, install: &Install) -> String {
    let ns = &install.namespace;
    let (name, key) = r.target();
    let why = match &r.state {
        RefState::Missing { why } => why.as_str(),
        _ => "",
    };
    let restart = format!("then {}", install.restart());
    if why.contains("lacks the label") {
        format!(
            "Label the Secret so that Argo CD reads it: kubectl -n {ns} label secret {name} app.kubernetes.io/part-of=argocd; {restart}"
        )
    } else if why.starts_with("there is no Secret") {
        format!(
            "Create the Secret {name} in namespace {ns} with the key {key}, labelled app.kubernetes.io/part-of=argocd (or fix the reference's name); {restart}"
        )
    } else {
        format!(
            "Add the key {key} to the Secret {ns}/{name} (or fix the reference's key); {restart}"
        )
    }
}
