//! Argo CD's secret references: a string value of `oidc.config` or `dex.config` that starts with
//! `$` is looked up in the settings' secret values and replaced by the value, trimmed
//! (`util/settings/settings.go`, `ReplaceMapSecrets` / `replaceStringSecret`). The values are
//! every key of `argocd-secret` as `key`, and every key of each Secret in Argo CD's namespace
//! labelled `app.kubernetes.io/part-of: argocd` as `name:key` (`updateSettingsFromSecret`,
//! `getSecrets`). A reference with no value stays the text `$…` itself, and Argo CD logs a
//! warning: `config referenced '$…', but key does not exist in secret` up to 3.4,
//! `secret key does not exist in secret` from 3.5.
//!
//! Offline, nothing is resolved: each reference is reported as such, and no probe sends one.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::secret::Secret;

/// The label that makes a Secret one of Argo CD's settings Secrets.
pub const PART_OF: (&str, &str) = ("app.kubernetes.io/part-of", "argocd");
/// The Secret `$key` references read.
pub const ARGOCD_SECRET: &str = "argocd-secret";

/// Which config a reference is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefIn {
    OidcConfig,
    DexConfig,
}

/// What became of one reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefState {
    /// Offline: not looked up.
    NotLooked,
    /// Replaced by a value of this Secret.
    Resolved { secret: String },
    /// Argo CD finds no value: it keeps the reference text. `why` names the Secret and key.
    Missing { why: String },
    /// dexcheck could not read the Secret (RBAC, API error): Argo CD's answer is unknown.
    Unread { why: String },
}

/// One `$…` value, where it is, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub within: RefIn,
    /// The field's path (`clientSecret`, `connectors[0].config.clientSecret`).
    pub field: String,
    /// The reference as written (`$oidc.okta.clientSecret`, `$okta:clientSecret`).
    pub reference: String,
    pub state: RefState,
}

impl Reference {
    /// The Secret the reference names (`argocd-secret` for `$key`) and the key.
    pub fn target(&self) -> (String, String) {
        target_of(&self.reference)
    }

    /// Argo CD's log line for a reference it finds no value for (3.5 and later print the
    /// second form).
    pub fn argo_warning(&self) -> String {
        format!(
            "config referenced '{}', but key does not exist in secret",
            self.reference
        )
    }
}

fn target_of(reference: &str) -> (String, String) {
    let key = reference.strip_prefix('$').unwrap_or(reference);
    match key.split_once(':') {
        Some((name, k)) => (name.to_string(), k.to_string()),
        None => (ARGOCD_SECRET.to_string(), key.to_string()),
    }
}

/// What dexcheck saw of one Secret.
#[derive(Debug, Clone)]
pub enum SeenSecret {
    /// Read: its labels say whether Argo CD reads it; its data (values kept as [`Secret`]).
    Read {
        part_of_argocd: bool,
        data: BTreeMap<String, Secret>,
    },
    NotFound,
    /// Could not be read, and why (forbidden, API error).
    Unreadable(String),
}

/// The Secrets the references name, as read from the cluster, and the namespace.
#[derive(Debug, Clone, Default)]
pub struct SecretValues {
    pub namespace: String,
    pub secrets: BTreeMap<String, SeenSecret>,
}

impl SecretValues {
    /// Argo CD's lookup of `key` (the reference without `$`), and the state to report.
    fn lookup(&self, reference: &str) -> (Option<&Secret>, RefState) {
        let (name, key) = target_of(reference);
        let plain = !reference.contains(':');
        let ns = &self.namespace;
        match self.secrets.get(&name) {
            None => (None, RefState::NotLooked),
            Some(SeenSecret::Unreadable(why)) => (
                None,
                RefState::Unread {
                    why: format!("Secret {ns}/{name} could not be read: {why}"),
                },
            ),
            Some(SeenSecret::NotFound) => (
                None,
                RefState::Missing {
                    why: format!("there is no Secret {ns}/{name}"),
                },
            ),
            Some(SeenSecret::Read {
                part_of_argocd,
                data,
            }) => {
                // argocd-secret is read by name; any other only through the label selector.
                if !plain && !part_of_argocd {
                    let why = format!(
                        "Secret {ns}/{name} lacks the label {}: {}, so Argo CD does not read it",
                        PART_OF.0, PART_OF.1
                    );
                    return (None, RefState::Missing { why });
                }
                match data.get(&key) {
                    Some(v) => (Some(v), RefState::Resolved { secret: name }),
                    None => (
                        None,
                        RefState::Missing {
                            why: format!("Secret {ns}/{name} has no key {key}"),
                        },
                    ),
                }
            }
        }
    }
}

/// The Secrets to read for these references: `argocd-secret` for `$key`, `name` for
/// `$name:key`.
pub fn secrets_named<'a>(refs: impl IntoIterator<Item = &'a Reference>) -> BTreeSet<String> {
    refs.into_iter().map(|r| r.target().0).collect()
}

/// Replaces every `$…` string in `v` (at any depth) as Argo CD does, recording each reference
/// under its field path. With `values` `None` nothing is replaced.
pub fn replace(
    v: &mut Value,
    path: &str,
    within: RefIn,
    values: Option<&SecretValues>,
    out: &mut Vec<Reference>,
) {
    match v {
        Value::Object(m) => {
            for (k, inner) in m.iter_mut() {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                replace(inner, &p, within, values, out);
            }
        }
        Value::Array(a) => {
            for (i, inner) in a.iter_mut().enumerate() {
                replace(inner, &format!("{path}[{i}]"), within, values, out);
            }
        }
        Value::String(s) if s.starts_with('$') => {
            let (found, state) = match values {
                Some(vals) => vals.lookup(s),
                None => (None, RefState::NotLooked),
            };
            out.push(Reference {
                within,
                field: path.to_string(),
                reference: s.clone(),
                state,
            });
            if let Some(secret) = found {
                *s = secret.expose().trim().to_string();
            }
        }
        _ => {}
    }
}

/// What Dex makes of a string in a connector's config that still holds `$`: Go's `os.ExpandEnv`
/// (`cmd/dex/config.go`, on by default through the `expand_env` feature flag), with every
/// variable unset: `$name` and `${name}` become empty, `$` before anything else stays.
pub fn dex_expands(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' || i + 1 >= b.len() {
            let ch = s[i..].chars().next().unwrap_or_default();
            out.push(ch);
            i += ch.len_utf8().max(1);
            continue;
        }
        let rest = &b[i + 1..];
        let width = match rest[0] {
            // `${name}`; `${}` is eaten whole, an unclosed `${` alone (Go: invalid syntax).
            b'{' => rest.iter().position(|c| *c == b'}').map_or(1, |p| p + 1),
            c if b"*#$@!?-".contains(&c) || c.is_ascii_digit() => 1,
            _ => rest
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count(),
        };
        if width == 0 {
            out.push('$');
        }
        i += 1 + width;
    }
    out
}

/// Whether Dex expands this field: the connectors' config (and storage's), nothing else.
pub fn dex_expands_field(field: &str) -> bool {
    field.starts_with("connectors[") && field.contains("].config.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> SecretValues {
        let data = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Secret::new(*v)))
                .collect()
        };
        let mut s = SecretValues {
            namespace: "argocd".into(),
            ..Default::default()
        };
        s.secrets.insert(
            "argocd-secret".into(),
            SeenSecret::Read {
                part_of_argocd: false,
                data: data(&[("oidc.okta.clientSecret", " s3cret\n")]),
            },
        );
        s.secrets.insert(
            "okta".into(),
            SeenSecret::Read {
                part_of_argocd: true,
                data: data(&[("clientSecret", "other")]),
            },
        );
        s.secrets.insert(
            "plain".into(),
            SeenSecret::Read {
                part_of_argocd: false,
                data: data(&[("clientSecret", "x")]),
            },
        );
        s
    }

    #[test]
    fn resolves_as_argo_cd_does() {
        let mut v = serde_json::json!({
            "issuer": "https://idp.test",
            "clientSecret": "$oidc.okta.clientSecret",
            "nested": [{"a": "$okta:clientSecret"}, {"b": "$plain:clientSecret"}],
            "gone": "$okta:nokey",
        });
        let mut refs = Vec::new();
        replace(&mut v, "", RefIn::OidcConfig, Some(&values()), &mut refs);
        // argocd-secret needs no label for `$key`; the value is trimmed.
        assert_eq!(v["clientSecret"], "s3cret");
        assert_eq!(v["nested"][0]["a"], "other");
        // An unlabelled Secret is not among Argo CD's values: the reference stays.
        assert_eq!(v["nested"][1]["b"], "$plain:clientSecret");
        assert_eq!(v["gone"], "$okta:nokey");
        let state = |f: &str| refs.iter().find(|r| r.field == f).unwrap().state.clone();
        assert!(
            matches!(state("nested[1].b"), RefState::Missing { why } if why.contains("lacks the label"))
        );
        assert!(
            matches!(state("gone"), RefState::Missing { why } if why.contains("has no key nokey"))
        );
        assert_eq!(
            state("clientSecret"),
            RefState::Resolved {
                secret: "argocd-secret".into()
            }
        );
    }

    #[test]
    fn dex_expands_as_go_does() {
        // An unresolved Argo CD reference reaches Dex, which reads `$dex` as a variable.
        assert_eq!(
            dex_expands("$dex.github.clientSecret"),
            ".github.clientSecret"
        );
        assert_eq!(dex_expands("$okta:clientSecret"), ":clientSecret");
        assert_eq!(dex_expands("a${X}b$"), "ab$");
        assert_eq!(dex_expands("$ and $1x"), "$ and x");
        assert_eq!(dex_expands("${abc"), "abc");
    }

    #[test]
    fn offline_nothing_is_replaced() {
        let mut v = serde_json::json!({"clientSecret": "$x"});
        let mut refs = Vec::new();
        replace(&mut v, "", RefIn::DexConfig, None, &mut refs);
        assert_eq!(v["clientSecret"], "$x");
        assert_eq!(refs[0].state, RefState::NotLooked);
        assert_eq!(
            secrets_named(&refs),
            BTreeSet::from(["argocd-secret".to_string()])
        );
    }
}
