//! `--repeat N`: N live runs of one diagnosis folded into one report: each observed check's
//! failures out of the runs it was made in, the details of a failing run where any failed (an
//! intermittent row fails instead of passing by luck), and the verdict drawn again.

use super::check::Runs;
use super::{Check, Diagnosis, Id, conclude, merge};
use crate::plan::predict::Status;

/// The runs folded into the last one; `None` for no runs.
pub fn combine(runs: Vec<Diagnosis>) -> Option<Diagnosis> {
    let mut out = runs.last()?.clone();
    let mut ids: Vec<Id> = Vec::new();
    for c in runs.iter().flat_map(|d| &d.checks) {
        if !ids.contains(&c.id) {
            ids.push(c.id);
        }
    }
    let mut extra = Vec::new();
    for id in ids {
        let seen: Vec<&Check> = runs
            .iter()
            .filter_map(|d| d.checks.iter().find(|c| c.id == id))
            .collect();
        let Some(folded) = fold(&seen) else { continue };
        match out.checks.iter_mut().find(|c| c.id == id) {
            Some(c) => *c = folded,
            None => extra.push(folded),
        }
    }
    merge(&mut out, extra);
    conclude(&mut out);
    Some(out)
}

/// One check over its runs: the last failing one (else the last), counted.
fn fold(seen: &[&Check]) -> Option<Check> {
    let last = *seen.last()?;
    if !last.observed {
        return Some(last.clone());
    }
    let failed = seen.iter().filter(|c| c.status == Status::Fail).count() as u32;
    let total = seen.len() as u32;
    let mut c = seen
        .iter()
        .rev()
        .find(|c| c.status == Status::Fail)
        .map_or_else(|| last.clone(), |f| (*f).clone());
    c.runs = Some(Runs { failed, total });
    if failed > 0 {
        c.message = format!("{failed}/{total} runs failed: {}", c.message);
    }
    Some(c)
}
