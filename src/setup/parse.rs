//! Reading and recognising the input forms.

use std::io::Read;

use base64::Engine;
use serde_json::{Map, Value};

use super::references::{self, RefIn, Reference, SecretValues};
use super::{
    App, Connector, ConnectorConfig, DEX_CONNECTOR_TYPES, InputError, InputKind, Setup, UrlSource,
};

/// An SSO config is a few kilobytes; a Secret or ConfigMap is capped at 1 MiB by Kubernetes.
/// Four MiB leaves room for a multi-document manifest and refuses anything absurd.
pub const MAX_INPUT_BYTES: usize = 4 * 1024 * 1024;

/// Reads `path` (`-` for stdin) and builds the [`Setup`].
pub fn load(path: &str, url_flag: Option<&str>, app: Option<App>) -> Result<Setup, InputError> {
    let source = if path == "-" {
        "<stdin>".to_string()
    } else {
        path.to_string()
    };
    let bytes = if path == "-" {
        read_bounded(std::io::stdin().lock(), &source)?
    } else {
        let file = std::fs::File::open(path).map_err(|error| InputError::Read {
            input: source.clone(),
            error,
        })?;
        read_bounded(file, &source)?
    };
    let text = to_text(&source, &bytes)?;
    load_str(&source, text, url_flag, app)
}

fn read_bounded(reader: impl Read, source: &str) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| InputError::Read {
            input: source.to_string(),
            error,
        })?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            input: source.to_string(),
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(bytes)
}

fn to_text<'a>(source: &str, bytes: &'a [u8]) -> Result<&'a str, InputError> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(InputError::Binary {
            input: source.to_string(),
            offset,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| InputError::NotUtf8 {
        input: source.to_string(),
        offset: e.valid_up_to(),
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Builds the [`Setup`] from text already in memory.
pub fn load_str(
    source: &str,
    text: &str,
    url_flag: Option<&str>,
    app: Option<App>,
) -> Result<Setup, InputError> {
    load_with(source, text, url_flag, app, None)
}

/// As [`load_str`], with Argo CD's `$` references replaced from `values` (read from the cluster).
pub fn load_with(
    source: &str,
    text: &str,
    url_flag: Option<&str>,
    app: Option<App>,
    values: Option<&SecretValues>,
) -> Result<Setup, InputError> {
    if text.trim().is_empty() {
        return Err(InputError::Empty {
            input: source.to_string(),
        });
    }
    let docs = documents(source, text)?;
    let (kind, obj) = recognise(source, &docs)?;
    let mut found = match super::apps::app_of(kind) {
        Some(_) => super::apps::read(source, kind, obj, &docs, Found::default())?,
        None => read(source, kind, obj, values)?,
    };
    if let Some(flag) = url_flag {
        found.url = Some(flag.to_string());
        found.url_source = UrlSource::Flag;
    } else if found.url.is_none()
        && let Some(c) = url_comment(text)
    {
        found.url = Some(c);
        found.url_source = UrlSource::Comment;
    }
    let app = app.unwrap_or(match kind {
        InputKind::ArgocdCm => App::ARGOCD,
        other => super::apps::app_of(other).unwrap_or(App::DEVTRON),
    });
    let namespace = obj
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    Ok(Setup {
        app,
        source: source.to_string(),
        input_kind: kind,
        url: found.url.filter(|u| !u.trim().is_empty()),
        url_source: found.url_source,
        additional_urls: found.additional_urls,
        connectors: found.connectors,
        direct: found.direct,
        references: found.references,
        static_clients: found.static_clients,
        registrations: found.registrations,
        app_notes: found.app_notes,
        no_sso: found.no_sso,
        namespace,
        text: text.into(),
    })
}

/// The input's YAML documents; an env file (`KEY=value` lines) is one mapping. A Helm template
/// is refused with what to do instead.
fn documents(source: &str, text: &str) -> Result<Vec<Value>, InputError> {
    let parsed = serde_saphyr::from_multiple::<Value>(text);
    let scalar_only = matches!(&parsed, Ok(d) if !d.iter().any(|v| v.is_object() || v.is_array()));
    if (parsed.is_err() || scalar_only)
        && let Some(env) = super::apps::env_file(text)
    {
        return Ok(vec![env]);
    }
    if text.contains("{{") && (parsed.is_err() || scalar_only) {
        return Err(InputError::Unrecognised {
            input: source.to_string(),
            message: "a Helm template, not a config: render it first (helm template … | dexcheck check -), or give the values file".into(),
        });
    }
    parsed.map_err(|e| InputError::Yaml {
        input: source.to_string(),
        message: yaml_message(&e),
    })
}

/// The document to read: devtron-secret wins over argocd-cm (Devtron migrates from the
/// latter), then plain configs.
fn recognise<'a>(
    source: &str,
    docs: &'a [Value],
) -> Result<(InputKind, &'a Map<String, Value>), InputError> {
    let mut candidates: Vec<(InputKind, &Map<String, Value>)> = Vec::new();
    for doc in docs {
        collect(doc, &mut candidates);
    }
    // Argo Workflows' config wins over an argocd-cm beside it: Argo CD's Dex is its provider.
    candidates.sort_by_key(|(k, _)| match k {
        InputKind::DevtronSecret => 0,
        InputKind::WorkflowsSso => 1,
        InputKind::ArgocdCm => 2,
        InputKind::KargoValues => 3,
        InputKind::ConcourseEnv => 4,
        InputKind::DexConfig => 5,
        InputKind::DevtronSso => 6,
    });
    if let Some(first) = candidates.first() {
        return Ok(*first);
    }
    let what = match docs.iter().find(|d| !d.is_null()) {
        None => "the input holds no YAML document".to_string(),
        Some(Value::Object(_)) => "no document is recognised".to_string(),
        Some(other) => format!("the document is a {}, not a mapping", kind_of(other)),
    };
    Err(InputError::Unrecognised {
        input: source.to_string(),
        message: format!(
            "{what}; expected a Devtron SSO connector (name, id, config), a Dex config \
             (connectors:), a Secret devtron-secret, a ConfigMap argocd-cm, Argo Workflows' sso \
             (workflow-controller-configmap or Helm server.sso), Concourse's web settings \
             (CONCOURSE_* in an env file, a Deployment, a Compose file or Helm values) or Kargo's \
             api.oidc values"
        ),
    })
}

/// What one recognised document says.
#[derive(Default)]
pub(super) struct Found {
    pub direct: Option<super::Direct>,
    pub url: Option<String>,
    pub url_source: UrlSource,
    pub additional_urls: Vec<String>,
    pub connectors: Vec<Connector>,
    pub references: Vec<Reference>,
    pub static_clients: Vec<String>,
    pub registrations: Vec<super::Registration>,
    pub app_notes: Vec<super::AppNote>,
    pub no_sso: bool,
}

/// One connector entry (`type`, `id`, `name`, `config`), read as Dex reads it.
pub(super) fn connector_from(
    source: &str,
    prefix: &str,
    obj: &Map<String, Value>,
) -> Result<Connector, InputError> {
    connector(source, prefix, obj, None)
}

/// The `connectors:` of a Dex config held somewhere else (a chart's values).
pub(super) fn dex_connectors_of(
    source: &str,
    prefix: &str,
    obj: &Map<String, Value>,
) -> Result<Vec<Connector>, InputError> {
    let (mut url, mut url_source) = (Some(String::new()), UrlSource::Missing);
    dex_config(source, prefix, obj, &mut url, &mut url_source)
}

fn read(
    source: &str,
    kind: InputKind,
    obj: &Map<String, Value>,
    values: Option<&SecretValues>,
) -> Result<Found, InputError> {
    let mut found = Found::default();
    if matches!(kind, InputKind::DevtronSecret | InputKind::ArgocdCm) {
        return manifest(source, kind, obj, found, values);
    }
    if let Some(v) = obj.get("url") {
        let field = |m| InputError::Field {
            input: source.to_string(),
            field: "url".into(),
            message: m,
        };
        found.url = Some(string_field(v, "url").map_err(field)?);
        found.url_source = UrlSource::UrlKey;
    }
    found.connectors = match kind {
        InputKind::DevtronSso => vec![connector(source, "", obj, Some("oidc"))?],
        _ => {
            found.static_clients = static_client_ids(obj);
            dex_config(source, "", obj, &mut found.url, &mut found.url_source)?
        }
    };
    Ok(found)
}

/// A `devtron-secret` or `argocd-cm`: `url`, `additionalUrls` and the Dex config inside.
fn manifest(
    source: &str,
    kind: InputKind,
    obj: &Map<String, Value>,
    mut found: Found,
    values: Option<&SecretValues>,
) -> Result<Found, InputError> {
    // Only Argo CD replaces `$` references (util/settings); Devtron reads its config as written.
    let values = values.filter(|_| kind == InputKind::ArgocdCm);
    let argo = kind == InputKind::ArgocdCm;
    let err_field = |field: &str, message: String| InputError::Field {
        input: source.to_string(),
        field: field.to_string(),
        message,
    };
    let data = manifest_data(source, obj, kind == InputKind::DevtronSecret)?;
    let value = |key: &str| data.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    if let Some(u) = value("url") {
        found.url = Some(u.clone());
        found.url_source = UrlSource::UrlKey;
    }
    if let Some(extra) = value("additionalUrls") {
        found.additional_urls = serde_saphyr::from_str::<Vec<String>>(extra).map_err(|e| {
            err_field(
                "data.additionalUrls",
                format!("expected a YAML list of URLs: {}", yaml_message(&e)),
            )
        })?;
    }
    let field = "data[\"dex.config\"]";
    // util/settings: oidc.config, when Argo CD can read it, wins over dex.config.
    found.direct = value("oidc.config").filter(|t| !t.is_empty()).map(|t| {
        super::direct::read(
            t,
            value("oidc.tls.insecure.skip.verify").map(String::as_str),
            values,
        )
    });
    let Some(dex_text) = value("dex.config") else {
        if found.direct.is_some() {
            return Ok(found);
        }
        return Err(err_field(
            field,
            "missing: without dex.config (or oidc.config) no connector is configured and SSO is off".into(),
        ));
    };
    let dex = dex_connectors(source, field, dex_text, &mut found, argo.then_some(values));
    match (dex, &found.direct) {
        (Ok(connectors), _) => found.connectors = connectors,
        // Argo CD signs in through oidc.config and never reads this dex.config.
        (Err(_), Some(super::Direct::Active(_))) => {}
        (Err(e), _) => return Err(e),
    }
    Ok(found)
}

/// The connectors of a manifest's `dex.config`.
fn dex_connectors(
    source: &str,
    field: &str,
    dex_text: &str,
    found: &mut Found,
    references: Option<Option<&SecretValues>>,
) -> Result<Vec<Connector>, InputError> {
    let err_field = |message: String| InputError::Field {
        input: source.to_string(),
        field: field.to_string(),
        message,
    };
    let inner: Value = serde_saphyr::from_str(dex_text)
        .map_err(|e| err_field(format!("YAML: {}", yaml_message(&e))))?;
    let mut inner = inner;
    // Argo CD replaces `$` references anywhere in dex.config before Dex reads it.
    if let Some(values) = references {
        references::replace(
            &mut inner,
            "",
            RefIn::DexConfig,
            values,
            &mut found.references,
        );
    }
    let Value::Object(inner) = inner else {
        return Err(err_field(format!(
            "expected a mapping with connectors:, found {}",
            kind_of(&inner)
        )));
    };
    found.static_clients = static_client_ids(&inner);
    dex_config(
        source,
        &format!("{field}."),
        &inner,
        &mut found.url,
        &mut found.url_source,
    )
}

/// The ids of a Dex config's `staticClients`, in order (entries without a string id left out).
fn static_client_ids(obj: &Map<String, Value>) -> Vec<String> {
    obj.get("staticClients")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|c| c.get("id").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn collect<'a>(doc: &'a Value, out: &mut Vec<(InputKind, &'a Map<String, Value>)>) {
    let Value::Object(obj) = doc else { return };
    if let Some(kind) = super::apps::kind_of(obj) {
        out.push((kind, obj));
        return;
    }
    match obj.get("kind").and_then(Value::as_str) {
        Some("List") => {
            if let Some(Value::Array(items)) = obj.get("items") {
                items.iter().for_each(|i| collect(i, out));
            }
            return;
        }
        Some("Secret") => {
            if has_dex_keys(obj) {
                out.push((InputKind::DevtronSecret, obj));
            }
            return;
        }
        Some("ConfigMap") => {
            if has_dex_keys(obj) {
                out.push((InputKind::ArgocdCm, obj));
            }
            return;
        }
        Some(_) if obj.contains_key("apiVersion") => return,
        _ => {}
    }
    if obj.contains_key("connectors") {
        out.push((InputKind::DexConfig, obj));
    } else if (obj.contains_key("config")
        && (obj.contains_key("name") || obj.contains_key("id") || obj.contains_key("type")))
        || (obj.contains_key("name") && obj.contains_key("id"))
    {
        out.push((InputKind::DevtronSso, obj));
    }
}

fn has_dex_keys(obj: &Map<String, Value>) -> bool {
    ["data", "stringData"].iter().any(|section| {
        obj.get(*section)
            .and_then(Value::as_object)
            .is_some_and(|d| {
                d.contains_key("dex.config")
                    || d.contains_key("oidc.config")
                    || d.contains_key("url")
            })
    })
}

/// `data` (base64 for Secrets) merged with `stringData` (which wins, as in the API server).
fn manifest_data(
    source: &str,
    obj: &Map<String, Value>,
    base64: bool,
) -> Result<Vec<(String, String)>, InputError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let sections: &[(&str, bool)] = if base64 {
        &[("data", true), ("stringData", false)]
    } else {
        &[("data", false)]
    };
    for (section, encoded) in sections {
        let Some(d) = obj.get(*section) else { continue };
        let Value::Object(d) = d else {
            return Err(InputError::Field {
                input: source.to_string(),
                field: section.to_string(),
                message: format!("expected a mapping, found {}", kind_of(d)),
            });
        };
        for (k, v) in d {
            let field = format!("{section}[{k:?}]");
            let Value::String(s) = v else {
                return Err(InputError::Field {
                    input: source.to_string(),
                    field,
                    message: format!("expected a string, found {}", kind_of(v)),
                });
            };
            if !matches!(
                k.as_str(),
                "url"
                    | "dex.config"
                    | "additionalUrls"
                    | "oidc.config"
                    | "oidc.tls.insecure.skip.verify"
            ) {
                continue; // other keys (passwords, signing keys) are never decoded or shown
            }
            let value = if *encoded {
                let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect();
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(cleaned.as_bytes())
                    .map_err(|e| InputError::Field {
                        input: source.to_string(),
                        field: field.clone(),
                        message: format!("not valid base64 ({e}); Secret data values are base64, use stringData for plain text"),
                    })?;
                String::from_utf8(raw).map_err(|_| InputError::Field {
                    input: source.to_string(),
                    field: field.clone(),
                    message: "decodes to bytes that are not UTF-8 text".into(),
                })?
            } else {
                s.clone()
            };
            out.retain(|(key, _)| key != k);
            out.push((k.clone(), value));
        }
    }
    Ok(out)
}

fn dex_config(
    source: &str,
    prefix: &str,
    obj: &Map<String, Value>,
    url: &mut Option<String>,
    url_source: &mut UrlSource,
) -> Result<Vec<Connector>, InputError> {
    let field = format!("{prefix}connectors");
    let list = match obj.get("connectors") {
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(InputError::Field {
                input: source.to_string(),
                field,
                message: format!("expected a list of connectors, found {}", kind_of(other)),
            });
        }
        None => {
            return Err(InputError::Field {
                input: source.to_string(),
                field,
                message: "missing: no connector is configured".into(),
            });
        }
    };
    if list.is_empty() {
        return Err(InputError::Field {
            input: source.to_string(),
            field,
            message: "empty: no connector is configured".into(),
        });
    }
    if url.is_none()
        && let Some(Value::String(issuer)) = obj.get("issuer")
        && let Some(base) = issuer.trim_end_matches('/').strip_suffix("/api/dex")
    {
        *url = Some(base.to_string());
        *url_source = UrlSource::DexIssuer;
    }
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let Value::Object(c) = c else {
                return Err(InputError::Field {
                    input: source.to_string(),
                    field: format!("{field}[{i}]"),
                    message: format!("expected a mapping, found {}", kind_of(c)),
                });
            };
            connector(source, &format!("{field}[{i}]."), c, None)
        })
        .collect()
}

fn connector(
    source: &str,
    prefix: &str,
    obj: &Map<String, Value>,
    default_type: Option<&str>,
) -> Result<Connector, InputError> {
    let field_err = |name: &str, message: String| InputError::Field {
        input: source.to_string(),
        field: format!("{prefix}{name}"),
        message,
    };
    let required = |name: &str| -> Result<String, InputError> {
        match obj.get(name) {
            None | Some(Value::Null) => Err(field_err(
                name,
                "missing (Dex requires id, type and name for every connector)".into(),
            )),
            Some(v) => string_field(v, name).map_err(|m| field_err(name, m)),
        }
    };
    let kind = match (obj.get("type"), default_type) {
        (None | Some(Value::Null), Some(d)) => d.to_string(),
        _ => required("type")?,
    };
    if !DEX_CONNECTOR_TYPES.contains(&kind.as_str()) {
        return Err(field_err(
            "type",
            format!(
                "unknown connector type {kind:?}; Dex knows {}",
                DEX_CONNECTOR_TYPES.join(", ")
            ),
        ));
    }
    let id = required("id")?;
    let name = required("name")?;
    // cmd/dex/config.go (Connector.UnmarshalJSON): the config is parsed only when present, and
    // Go's encoding/json takes null for any field as "not set".
    let fields = match obj.get("config") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => as_dex_reads(m),
        Some(v) => {
            return Err(field_err(
                "config",
                format!("expected a mapping, found {}", kind_of(v)),
            ));
        }
    };
    let config =
        serde_path_to_error::deserialize::<_, ConnectorConfig>(Value::Object(fields.clone()))
            .map_err(|e| {
                let path = e.path().to_string();
                field_err(&format!("config.{path}"), e.into_inner().to_string())
            })?;
    Ok(Connector {
        kind,
        id,
        name,
        config,
        fields: redacted(fields),
        config_is_map: matches!(obj.get("config"), Some(Value::Object(_))),
        stray: obj
            .keys()
            .filter(|k| !matches!(k.as_str(), "type" | "id" | "name" | "config"))
            .cloned()
            .collect(),
    })
}

/// Connector config field names as Dex's connector types spell them (json tags). Go's
/// `encoding/json` matches a key to a field case-insensitively when no key matches exactly, so
/// `clientId` sets `clientID`; this list lets dexcheck read such a key where Dex does.
const DEX_FIELD_NAMES: &[&str] = &[
    "clientID",
    "clientSecret",
    "issuer",
    "issuerAlias",
    "redirectURI",
    "scopes",
    "claimMapping",
    "userNameKey",
    "userIDKey",
    "baseURL",
    "hostName",
    "rootCA",
    "rootCAData",
    "rootCAs",
    "tenant",
    "basicAuthUnsupported",
    "insecureSkipEmailVerified",
    "insecureEnableGroups",
    "getUserInfo",
    "orgs",
    "org",
    "loadAllGroups",
    "teamNameField",
    "useLoginAsID",
    "preferredEmailDomain",
    "groups",
    "serviceAccountFilePath",
    "domainToAdminEmail",
    "adminEmail",
    "hostedDomains",
    "host",
    "insecureNoSSL",
    "insecureSkipVerify",
    "startTLS",
    "clientCert",
    "clientKey",
    "bindDN",
    "bindPW",
    "usernamePrompt",
    "userSearch",
    "groupSearch",
    "ssoURL",
    "ca",
    "caData",
    "entityIssuer",
    "ssoIssuer",
    "insecureSkipSignatureValidation",
    "usernameAttr",
    "emailAttr",
    "groupsAttr",
    "groupsDelim",
    "nameIDPolicyFormat",
    "keystoneHost",
    "domain",
    "adminUsername",
    "adminPassword",
    "tokenURL",
    "authorizationURL",
    "userInfoURL",
    "insecureCA",
    "userIDKey",
    "emailKey",
    "groupsKey",
    "preferredUsernameKey",
    "claimModifications",
    "promptType",
    "acrValues",
    "providerDiscoveryOverrides",
    "pkceChallenge",
    "overrideClaimMapping",
    "allowedGroups",
    "userHeader",
    "groupHeader",
    "headerPrefix",
];

/// The config fields whose values are secrets: kept only as "set" or "empty".
const SECRET_FIELDS: &[&str] = &[
    "clientSecret",
    "bindPW",
    "adminPassword",
    "keystonePassword",
    "password",
];

/// The config as Dex reads it: null-valued keys dropped at every level, each key matched to a
/// known field name as Go matches it (exact first, then case-insensitively).
fn as_dex_reads(m: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in m {
        let v = match v {
            Value::Null => continue,
            Value::Object(inner) => Value::Object(as_dex_reads(inner)),
            other => other.clone(),
        };
        let name = if DEX_FIELD_NAMES.contains(&k.as_str()) {
            k.clone()
        } else {
            DEX_FIELD_NAMES
                .iter()
                .find(|n| n.eq_ignore_ascii_case(k))
                .map_or_else(|| k.clone(), |n| n.to_string())
        };
        // When both spellings appear, the exact one is kept (Go keeps whichever comes last).
        if name != *k && m.contains_key(&name) {
            continue;
        }
        out.insert(name, v);
    }
    out
}

/// The fields with every secret's value replaced.
fn redacted(mut fields: Map<String, Value>) -> Map<String, Value> {
    for name in SECRET_FIELDS {
        if let Some(v) = fields.get_mut(*name) {
            let empty = matches!(v, Value::String(s) if s.is_empty());
            if !empty {
                *v = Value::String(crate::secret::REDACTED.to_string());
            }
        }
    }
    fields
}

fn string_field(v: &Value, _name: &str) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected a string, found {}", kind_of(other))),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The parser's message and location, without the source snippet that its `Display` renders:
/// a snippet would print the lines around the error, and those may hold a client secret.
pub fn yaml_message(e: &serde_saphyr::Error) -> String {
    e.render_with_options(
        serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off },
    )
}

/// The `# URL: https://…` line that the seed's examples carry above the connector.
fn url_comment(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix('#')?.trim_start();
        let head = rest.get(..4)?;
        if head.eq_ignore_ascii_case("url:") {
            Some(rest[4..].trim().to_string()).filter(|u| !u.is_empty())
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "# URL: http://localhost:8082/orchestrator\nname: cognito\nid: cognito\nconfig:\n claimMapping:\n  groups: cognito:groups\n clientID: abc\n clientSecret: s3cr3t\n issuer: https://idp.invalid/pool\n redirectURI: http://localhost:8082/orchestrator/api/dex/callback\n scopes:\n  - openid\n userNameKey: cognito:username\n";

    #[test]
    fn seed_yaml_with_url_comment() {
        let s = load_str("seed.yaml", SEED, None, None).unwrap();
        assert_eq!(s.url.as_deref(), Some("http://localhost:8082/orchestrator"));
        assert_eq!(s.url_source, UrlSource::Comment);
        assert_eq!(s.connectors[0].kind, "oidc");
        assert_eq!(
            s.connectors[0]
                .config
                .client_secret
                .as_ref()
                .unwrap()
                .expose(),
            "s3cr3t"
        );
        assert_eq!(
            s.connectors[0].config.claim_mapping["groups"],
            "cognito:groups"
        );
        assert!(!format!("{s:?}").contains("s3cr3t"));
    }

    #[test]
    fn url_flag_wins() {
        let s = load_str("seed.yaml", SEED, Some("https://x.test/orchestrator"), None).unwrap();
        assert_eq!(s.url_source, UrlSource::Flag);
    }

    #[test]
    fn secret_manifest_base64() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let dex = "connectors:\n- type: github\n  id: gh\n  name: GitHub\n  config:\n    clientID: a\n    clientSecret: zz\n";
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: devtron-secret\ndata:\n  url: {}\n  dex.config: {}\n  admin.password: {}\n",
            b64("https://d.test/orchestrator"),
            b64(dex),
            b64("pw")
        );
        let s = load_str("s.yaml", &text, None, None).unwrap();
        assert_eq!(s.input_kind, InputKind::DevtronSecret);
        assert_eq!(s.app, App::DEVTRON);
        assert_eq!(s.url.as_deref(), Some("https://d.test/orchestrator"));
        assert_eq!(s.connectors[0].kind, "github");
    }

    #[test]
    fn parses_as_dex_parses() {
        // Keys all commented out leave YAML null, which Go's encoding/json takes as "not set";
        // a connector without config is parsed only when present; clientId sets clientID.
        let text = "connectors:\n- type: oidc\n  id: a\n  name: A\n  config:\n    issuer: https://i.test\n    clientId: c1\n    claimMapping:\n      # email: mail\n    providerDiscoveryOverrides:\n- type: authproxy\n  id: p\n  name: P\n- type: ldap\n  id: l\n  name: L\n  config:\n    host: ldap.test:636\n    bindPW: hunter2\n";
        let s = load_str("d.yaml", text, Some("https://d.test/orchestrator"), None).unwrap();
        assert_eq!(s.connectors.len(), 3);
        let oidc = &s.connectors[0];
        assert!(oidc.config.claim_mapping.is_empty());
        assert_eq!(oidc.config.client_id.as_deref(), Some("c1"));
        assert_eq!(oidc.text("clientID").as_deref(), Some("c1"));
        assert!(!oidc.fields.contains_key("providerDiscoveryOverrides"));
        assert!(s.connectors[1].fields.is_empty());
        let ldap = &s.connectors[2];
        assert_eq!(
            ldap.text("bindPW").as_deref(),
            Some(crate::secret::REDACTED)
        );
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn wrong_type_names_the_field() {
        let text = "name: a\nid: a\nconfig:\n  scopes: openid\n";
        let e = load_str("f.yaml", text, None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("config.scopes"), "{e}");
    }
}
