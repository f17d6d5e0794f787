//! Every replica: the pods of one workload probed concurrently (at most [`IN_FLIGHT`] execs at a
//! time, one exec per pod), and their rows folded into one per check. A row fails if any replica
//! fails, and says which (`1 of 3 app pods (devtron-…-x2): …`).

use futures_util::stream::{self, StreamExt};

use crate::diagnosis::{Check, CheckId};
use crate::plan::predict::Status;
use crate::probe::class::Class;

/// Execs in flight at once.
pub const IN_FLIGHT: usize = 4;

/// Awaits `futs` (one per pod), at most [`IN_FLIGHT`] at a time, in their order.
pub async fn buffered<T>(futs: Vec<impl std::future::Future<Output = T>>) -> Vec<T> {
    stream::iter(futs).buffered(IN_FLIGHT).collect().await
}

/// One row per check over the replicas' rows (`(pod name, its rows)`): the worst replica's row,
/// naming the replicas that share its status when there is more than one replica.
pub fn fold(what: &str, replicas: Vec<(String, Vec<Check>)>) -> Vec<Check> {
    let total = replicas.len();
    let Some((_, first)) = replicas.first() else {
        return Vec::new();
    };
    if total == 1 {
        return first.clone();
    }
    // A row is its check, and for a connector's rows also the connector and the URL.
    let keys: Vec<_> = first
        .iter()
        .map(|c| (c.id, c.connector.clone(), c.url.clone()))
        .collect();
    keys.into_iter()
        .filter_map(|(id, connector, url)| {
            let rows: Vec<(&str, &Check)> = replicas
                .iter()
                .filter_map(|(pod, rows)| {
                    rows.iter()
                        .find(|c| {
                            c.id == id
                                && c.connector == connector
                                && (connector.is_none() || c.url == url)
                        })
                        .map(|c| (pod.as_str(), c))
                })
                .collect();
            fold_one(what, total, &rows)
        })
        .collect()
}

fn fold_one(what: &str, total: usize, rows: &[(&str, &Check)]) -> Option<Check> {
    let worst = rows.iter().map(|(_, c)| c.status).max()?;
    let (_, row) = *rows.iter().find(|(_, c)| c.status == worst)?;
    let at: Vec<&str> = rows
        .iter()
        .filter(|(_, c)| c.status == worst)
        .map(|(p, _)| *p)
        .collect();
    let mut c = row.clone();
    c.message = if at.len() == total {
        format!("all {total} {what}: {}", c.message)
    } else {
        format!(
            "{} of {total} {what} ({}): {}",
            at.len(),
            at.join(", "),
            c.message
        )
    };
    c.duration_ms = rows.iter().filter_map(|(_, c)| c.duration_ms).max();
    Some(c)
}

/// More than one Dex pod on the embedded Dex's `storage: memory` (Argo CD's generated config,
/// which Devtron runs too): each replica keeps its own auth requests, codes and keys, so a login
/// that crosses replicas fails.
pub fn memory_storage(
    pods: &[crate::cluster::PodRef],
    app: crate::app::App,
    namespace: &str,
) -> Option<Check> {
    use crate::plan::predict::Outcome;
    if pods.len() < 2 {
        return None;
    }
    let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    let outcome = Outcome::fail(
        Class::MemoryStorage,
        "Requested resource does not exist.",
        format!(
            "{} Dex pods ({}) with the embedded Dex's storage: memory ({} generates it): a code or a login session issued by one replica is unknown to the others, so logins fail now and then (Invalid or expired code, User session error, failed to verify id token signature)",
            pods.len(),
            names.join(", "),
            app.name()
        ),
    );
    let workload = app.profile().dex.deployment;
    let kubectl = crate::app::Install::new(app, Some(namespace)).kubectl();
    Some(
        Check::observed(CheckId::DexReplicas, "", outcome).remedy(Some(format!(
            "Run one Dex replica: {kubectl} scale deployment {workload} --replicas=1 (the embedded Dex keeps its state in memory; several replicas need shared storage Argo CD does not configure)"
        ))),
    )
}

/// Replicas that read the key set but see different key ids (a Dex replica with other keys:
/// in-memory storage, or a rotation one replica missed): the key-set row fails, naming them.
pub fn compare_keys(rows: &mut [Check], kids: &[(String, Vec<String>)]) {
    let seen: Vec<&(String, Vec<String>)> = kids.iter().filter(|(_, k)| !k.is_empty()).collect();
    let Some((_, first)) = seen.first() else {
        return;
    };
    if seen.iter().all(|(_, k)| k == first) {
        return;
    }
    let Some(row) = rows.iter_mut().find(|c| c.id == CheckId::PodTokenKeys) else {
        return;
    };
    let each = seen
        .iter()
        .map(|(p, k)| format!("{p}: {}", k.join(" ")))
        .collect::<Vec<_>>()
        .join("; ");
    row.status = crate::plan::predict::Status::Fail;
    row.class = Some(Class::KeysDiffer);
    row.error = Some("failed to verify id token signature".into());
    row.message = format!(
        "the app replicas see different signing keys ({each}): a token signed with a key one replica does not have fails there"
    );
    row.remedy = Some(
        "Run one Dex replica (its keys live in memory) and restart the app pods so all fetch the same key set".into(),
    );
}

/// What one replica read as a discovery document: its endpoints and digest (`(pod, words)`).
pub type Document = (String, Vec<(String, String)>);

/// Replicas that read different discovery documents under the same issuer (a proxy that
/// rewrites one replica's answers, a Dex replica on another config or version): `id`'s row
/// fails when an endpoint differs, naming each value and its replicas, and warns when only the
/// digest does. A row that already fails keeps its own, more specific, failure.
pub fn compare_discovery(
    rows: &mut [Check],
    id: CheckId,
    what: &str,
    docs: &[Document],
    remedy: &str,
) {
    let seen: Vec<&Document> = docs.iter().filter(|(_, d)| !d.is_empty()).collect();
    if seen.len() < 2 {
        return;
    }
    let Some(row) = rows
        .iter_mut()
        .find(|c| c.id == id && c.status != Status::Fail)
    else {
        return;
    };
    let endpoints: Vec<String> = differing(&seen, |k| k != "digest");
    let (status, message) = if !endpoints.is_empty() {
        (
            Status::Fail,
            format!(
                "the {what} read different discovery documents ({}): which endpoints a login uses depends on the replica that serves it",
                endpoints.join("; ")
            ),
        )
    } else if let Some(digests) = digests_differ(&seen) {
        (
            Status::Warn,
            format!(
                "the {what} read the same endpoints but different discovery documents ({digests}): a Dex version or config that reached only some replicas"
            ),
        )
    } else {
        return;
    };
    row.status = status;
    row.class = Some(Class::DiscoveryDiffers);
    row.error = None;
    row.message = message;
    row.remedy = Some(remedy.to_string());
}

/// The value of `name` in a replica's words ("" when absent; every value, in order, when a
/// nested object such as `mtls_endpoint_aliases` repeats the name).
fn word(words: &[(String, String)], name: &str) -> String {
    words
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each field (chosen by `pick`) whose value differs between replicas, as
/// `field: value at pod, pod; other at pod`.
fn differing(seen: &[&Document], pick: impl Fn(&str) -> bool) -> Vec<String> {
    let mut names: Vec<&str> = Vec::new();
    for (_, words) in seen {
        for (k, _) in words {
            if pick(k) && !names.contains(&k.as_str()) {
                names.push(k);
            }
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
            for (pod, words) in seen {
                let v = word(words, name);
                match groups.iter_mut().find(|(g, _)| *g == v) {
                    Some((_, pods)) => pods.push(pod),
                    None => groups.push((v, vec![pod])),
                }
            }
            (groups.len() > 1).then(|| {
                let each: Vec<String> = groups
                    .iter()
                    .map(|(v, pods)| {
                        let v = if v.is_empty() { "(none)" } else { v.as_str() };
                        format!("{v} at {}", pods.join(", "))
                    })
                    .collect();
                format!("{name}: {}", each.join("; "))
            })
        })
        .collect()
}

/// The digests, when every replica's is of one algorithm and they are not all equal.
fn digests_differ(seen: &[&Document]) -> Option<String> {
    let sums: Vec<String> = seen.iter().map(|(_, w)| word(w, "digest")).collect();
    let algorithm = |s: &str| {
        s.split_once(':')
            .filter(|(_, h)| !h.is_empty())
            .map(|(a, _)| a.to_string())
    };
    let first = algorithm(sums.first()?)?;
    if sums
        .iter()
        .any(|s| algorithm(s).as_deref() != Some(first.as_str()))
    {
        return None;
    }
    // Nothing differs when all are equal.
    differing(seen, |k| k == "digest").into_iter().next()
}

/// App replicas whose config checksum annotations differ: one runs a stale config.
pub fn config_differs(pods: &[crate::cluster::PodRef], i: &crate::app::Install) -> Option<Check> {
    use crate::plan::predict::Outcome;
    let sums: Vec<(&str, &str)> = pods
        .iter()
        .filter_map(|p| p.config_checksum.as_deref().map(|c| (p.name.as_str(), c)))
        .collect();
    let (_, first) = sums.first()?;
    if sums.len() < 2 {
        return None;
    }
    let outcome = if sums.iter().all(|(_, c)| c == first) {
        Outcome::pass(format!(
            "all {} app replicas carry the same config checksum",
            sums.len()
        ))
    } else {
        let each = sums
            .iter()
            .map(|(p, c)| format!("{p}: {c}"))
            .collect::<Vec<_>>()
            .join("; ");
        Outcome::fail(
            Class::ConfigDiffers,
            "",
            format!(
                "the app replicas run different configs ({each}): logins work or fail by which replica answers"
            ),
        )
    };
    let mut c = Check::observed(CheckId::PodsConfig, "", outcome);
    c.error = None;
    Some(c.remedy(Some(format!(
        "Restart the app so every replica runs the current config: {}",
        i.restart()
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::predict::Outcome;

    #[test]
    fn the_failing_replica_is_named() {
        let ok = || Check::observed(CheckId::PodDiscovery, "u", Outcome::pass("fine"));
        let bad = Check::observed(
            CheckId::PodDiscovery,
            "u",
            Outcome::fail(
                Class::IssuerMismatch,
                "oidc: issuer did not match",
                "other issuer",
            ),
        );
        let rows = fold(
            "app pods",
            vec![
                ("a-1".into(), vec![ok()]),
                ("a-2".into(), vec![bad]),
                ("a-3".into(), vec![ok()]),
            ],
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].class, Some(Class::IssuerMismatch));
        assert_eq!(rows[0].message, "1 of 3 app pods (a-2): other issuer");
        let one = fold("app pods", vec![("a-1".into(), vec![ok()])]);
        assert_eq!(one[0].message, "fine");
    }

    fn doc(token: &str, digest: &str) -> Vec<(String, String)> {
        vec![
            ("authorization_endpoint".into(), "http://d/dex/auth".into()),
            ("token_endpoint".into(), token.into()),
            ("digest".into(), digest.into()),
        ]
    }

    fn discovery_row() -> Vec<Check> {
        vec![Check::observed(
            CheckId::PodDiscovery,
            "u",
            Outcome::pass("all 3 app pods: fine"),
        )]
    }

    #[test]
    fn a_replica_with_other_endpoints_fails_the_discovery_row() {
        let mut rows = discovery_row();
        let docs = vec![
            ("a-1".into(), doc("http://d/dex/token", "sha256:aa")),
            ("a-2".into(), doc("https://d/dex/token", "sha256:bb")),
            ("a-3".into(), doc("http://d/dex/token", "sha256:aa")),
        ];
        compare_discovery(
            &mut rows,
            CheckId::PodDiscovery,
            "app replicas",
            &docs,
            "fix",
        );
        assert_eq!(rows[0].status, Status::Fail);
        assert_eq!(rows[0].class, Some(Class::DiscoveryDiffers));
        let m = &rows[0].message;
        assert!(
            m.contains(
                "token_endpoint: http://d/dex/token at a-1, a-3; https://d/dex/token at a-2"
            ),
            "{m}"
        );
        assert!(!m.contains("authorization_endpoint"), "{m}");
        assert_eq!(rows[0].remedy.as_deref(), Some("fix"));
    }

    #[test]
    fn only_the_digest_differing_warns_and_equal_documents_pass() {
        let same = |d: &str| ("p".to_string() + d, doc("http://d/dex/token", d));
        let mut rows = discovery_row();
        compare_discovery(
            &mut rows,
            CheckId::PodDiscovery,
            "app replicas",
            &[same("sha256:aa"), same("sha256:bb")],
            "fix",
        );
        assert_eq!(rows[0].status, Status::Warn);
        assert!(
            rows[0]
                .message
                .contains("digest: sha256:aa at psha256:aa; sha256:bb at psha256:bb"),
            "{}",
            rows[0].message
        );
        let mut rows = discovery_row();
        let docs = vec![
            ("a-1".into(), doc("http://d/dex/token", "sha256:aa")),
            ("a-2".into(), doc("http://d/dex/token", "sha256:aa")),
        ];
        compare_discovery(
            &mut rows,
            CheckId::PodDiscovery,
            "app replicas",
            &docs,
            "fix",
        );
        assert_eq!(rows[0].status, Status::Pass);
        // Digests of two algorithms (two images) say nothing.
        let mut rows = discovery_row();
        compare_discovery(
            &mut rows,
            CheckId::PodDiscovery,
            "app replicas",
            &[same("sha256:aa"), same("md5:bb")],
            "fix",
        );
        assert_eq!(rows[0].status, Status::Pass);
    }

    #[test]
    fn a_row_that_already_fails_keeps_its_failure() {
        let mut rows = vec![Check::observed(
            CheckId::PodDiscovery,
            "u",
            Outcome::fail(
                Class::IssuerMismatch,
                "oidc: issuer did not match",
                "other issuer",
            ),
        )];
        let docs = vec![
            ("a-1".into(), doc("http://d/dex/token", "sha256:aa")),
            ("a-2".into(), doc("https://d/dex/token", "sha256:bb")),
        ];
        compare_discovery(
            &mut rows,
            CheckId::PodDiscovery,
            "app replicas",
            &docs,
            "fix",
        );
        assert_eq!(rows[0].class, Some(Class::IssuerMismatch));
    }
}
