//! Argo CD's `oidc.config`: OIDC straight to the IdP, no Dex. Read as Argo CD reads it
//! (`util/settings/settings.go`, `oidcConfig()`): the YAML into a map, every `$ref` string
//! replaced from the Secrets (`ReplaceMapSecrets`), then into its struct through
//! `sigs.k8s.io/yaml`, which turns a scalar into a string where the field is a string and
//! otherwise decodes as Go's `encoding/json` does, strictly. A config Argo CD cannot read is
//! logged as `invalid oidc config: …` and its SSO through `oidc.config` is off.

use serde_json::{Map, Value};

use super::references::{self, RefIn, Reference, SecretValues};
use crate::secret::Secret;

/// The fields of `oidc.config` that the checks read.
#[derive(Debug, Clone, Default)]
pub struct DirectOidc {
    pub name: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub cli_client_id: Option<String>,
    pub requested_scopes: Option<Vec<String>>,
    /// `rootCA` is set (PEM the server trusts for the IdP, alone).
    pub root_ca: Option<String>,
    pub pkce: bool,
    /// `oidc.tls.insecure.skip.verify: "true"` beside it.
    pub insecure_skip_verify: bool,
    /// Values that are Secret references (`$key` from argocd-secret, `$name:key` from the
    /// Secret `name`), and what became of each.
    pub references: Vec<Reference>,
    /// The redirect URL the app sends, when configured (argo-server's `redirectUrl`).
    pub redirect_url: Option<String>,
    /// argo-server's `issuerAlias`: the discovery's issuer is not compared, tokens carry this.
    pub issuer_alias: Option<String>,
    /// Client credentials the app reads from Secrets at start-up, described
    /// (`clientId from Secret argo-workflows-sso key client-id`).
    pub secret_keys: Vec<String>,
}

/// What Argo CD makes of `oidc.config`.
#[derive(Debug, Clone)]
pub enum Direct {
    /// Argo CD reads it: it signs users in through it (and ignores `dex.config`).
    Active(Box<DirectOidc>),
    /// Argo CD cannot read it: `invalid oidc config: <error>`, SSO through it is off.
    Refused(String),
}

const STRING_FIELDS: &[&str] = &[
    "name",
    "issuer",
    "clientID",
    "clientSecret",
    "cliClientID",
    "userInfoBaseURL",
    "userInfoPath",
    "userInfoCacheExpiration",
    "logoutURL",
    "rootCA",
    "domainHint",
    "refreshTokenThreshold",
];
const BOOL_FIELDS: &[&str] = &["enableUserInfoGroups", "enablePKCEAuthentication"];
const AZURE_STRINGS: &[&str] = &["graphApiEndpoint", "userGroupOverageClaimCacheExpiration"];
const AZURE_BOOLS: &[&str] = &["useWorkloadIdentity", "enableUserGroupOverageClaim"];

/// Reads `oidc.config` (its text) and the `oidc.tls.insecure.skip.verify` value beside it, its
/// `$` references replaced from `values` as Argo CD replaces them (none offline).
pub fn read(text: &str, insecure: Option<&str>, values: Option<&SecretValues>) -> Direct {
    let value: Value = match serde_saphyr::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Direct::Refused(format!(
                "error converting YAML to JSON: {}",
                super::parse::yaml_message(&e)
            ));
        }
    };
    let mut refs = Vec::new();
    let map = match value {
        Value::Object(m) => {
            let mut v = Value::Object(m);
            references::replace(&mut v, "", RefIn::OidcConfig, values, &mut refs);
            match v {
                Value::Object(m) => m,
                _ => Map::new(),
            }
        }
        Value::Null => Map::new(),
        other => {
            return Direct::Refused(json_error(
                &other,
                "Go value of type map[string]interface {}",
            ));
        }
    };
    match decode(&map) {
        Ok(mut d) => {
            d.insecure_skip_verify = insecure == Some("true");
            d.references = refs;
            Direct::Active(Box::new(d))
        }
        Err(e) => Direct::Refused(format!("error unmarshaling JSON: while decoding JSON: {e}")),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null => "null",
    }
}

fn json_error(v: &Value, into: &str) -> String {
    format!("json: cannot unmarshal {} into {into}", kind(v))
}

/// A string field: a scalar becomes its text (sigs.k8s.io/yaml), a mapping or a list is refused.
fn text(
    m: &Map<String, Value>,
    key: &str,
    strct: &str,
    path: &str,
) -> Result<Option<String>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(v) => Err(json_error(
            v,
            &format!("Go struct field {strct}.{path} of type string"),
        )),
    }
}

fn flag(m: &Map<String, Value>, key: &str, strct: &str, path: &str) -> Result<bool, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(json_error(
            v,
            &format!("Go struct field {strct}.{path} of type bool"),
        )),
    }
}

fn list(m: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, String> {
    let into = format!("Go struct field oidcConfig.{key} of type []string");
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                other => Err(json_error(
                    other,
                    &format!("Go struct field oidcConfig.{key} of type string"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(v) => Err(json_error(v, &into)),
    }
}

/// The struct decode, in the order Go meets the fields, with Go's error for the first mismatch.
fn decode(m: &Map<String, Value>) -> Result<DirectOidc, String> {
    let mut strings = std::collections::BTreeMap::new();
    for key in STRING_FIELDS {
        if let Some(s) = text(m, key, "oidcConfig", key)? {
            strings.insert(*key, s);
        }
    }
    let mut bools = std::collections::BTreeMap::new();
    for key in BOOL_FIELDS {
        bools.insert(*key, flag(m, key, "oidcConfig", key)?);
    }
    let scopes = list(m, "requestedScopes")?;
    list(m, "allowedAudiences")?;
    flag(
        m,
        "skipAudienceCheckWhenTokenHasNoAudience",
        "oidcConfig",
        "skipAudienceCheckWhenTokenHasNoAudience",
    )?;
    match m.get("azure") {
        None | Some(Value::Null) => {}
        Some(Value::Object(a)) => {
            for key in AZURE_STRINGS {
                text(a, key, "AzureOIDCConfig", &format!("azure.{key}"))?;
            }
            for key in AZURE_BOOLS {
                flag(a, key, "AzureOIDCConfig", &format!("azure.{key}"))?;
            }
        }
        Some(v) => {
            return Err(json_error(
                v,
                "Go struct field oidcConfig.azure of type settings.AzureOIDCConfig",
            ));
        }
    }
    if let Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Array(_))) =
        m.get("requestedIDTokenClaims")
    {
        return Err(json_error(
            v,
            "Go struct field oidcConfig.requestedIDTokenClaims of type map[string]*oidc.Claim",
        ));
    }
    let take = |k: &str| strings.get(k).cloned();
    Ok(DirectOidc {
        name: take("name"),
        issuer: take("issuer"),
        client_id: take("clientID"),
        client_secret: take("clientSecret").map(Secret::new),
        cli_client_id: take("cliClientID"),
        requested_scopes: scopes,
        root_ca: take("rootCA"),
        pkce: bools
            .get("enablePKCEAuthentication")
            .copied()
            .unwrap_or(false),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(text: &str) -> DirectOidc {
        match read(text, None, None) {
            Direct::Active(d) => *d,
            Direct::Refused(e) => panic!("refused: {e}"),
        }
    }

    #[test]
    fn argo_reads_what_it_reads() {
        let d = active(
            "name: Okta\nissuer: https://dev.okta.test\nclientID: 12345\nclientSecret: $oidc.okta.clientSecret\nrequestedScopes: [\"openid\", \"groups\"]\nenablePKCEAuthentication: true\n",
        );
        assert_eq!(d.client_id.as_deref(), Some("12345"));
        assert!(d.pkce);
        let r = &d.references[0];
        assert_eq!(
            (r.field.as_str(), r.reference.as_str()),
            ("clientSecret", "$oidc.okta.clientSecret")
        );
    }

    #[test]
    fn argo_refuses_what_it_refuses() {
        // Argo CD's Entra ID doc: `{client_id}` is a YAML mapping, `true // …` a string.
        let e = match read("clientID: {azure_ad_application_client_id}\n", None, None) {
            Direct::Refused(e) => e,
            Direct::Active(_) => panic!("accepted"),
        };
        assert_eq!(
            e,
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go struct field oidcConfig.clientID of type string"
        );
        let e = match read(
            "azure:\n  useWorkloadIdentity: true // if using Workload Identity\n",
            None,
            None,
        ) {
            Direct::Refused(e) => e,
            Direct::Active(_) => panic!("accepted"),
        };
        assert!(e.ends_with("json: cannot unmarshal string into Go struct field AzureOIDCConfig.azure.useWorkloadIdentity of type bool"), "{e}");
    }
}
