//! Inputs → one typed [`Setup`], whatever the form: the Devtron SSO YAML of the seed, a Dex config
//! (`connectors:`), a `devtron-secret` Secret or an `argocd-cm` ConfigMap (multi-document, stdin).

mod apps;
mod direct;
mod parse;
pub mod references;

pub use direct::{Direct, DirectOidc};
pub use references::{RefIn, RefState, Reference, SecretValues};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::secret::Secret;

pub use parse::{MAX_INPUT_BYTES, load, load_str, load_with, yaml_message};

pub use crate::app::App;

/// The shape the input had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// The connector YAML of Devtron's SSO screen (`name`, `id`, `config`).
    DevtronSso,
    /// A Dex config or fragment with `connectors:`.
    DexConfig,
    /// Secret `devtron-secret` with `url` and `dex.config`.
    DevtronSecret,
    /// ConfigMap `argocd-cm` with `url` and `dex.config`.
    ArgocdCm,
    /// Argo Workflows' `sso` config: `workflow-controller-configmap`, Helm `server.sso`, or a
    /// docs fragment.
    WorkflowsSso,
    /// Concourse's web node settings: an env file, a Deployment's env, a Compose service, Helm
    /// values.
    ConcourseEnv,
    /// Kargo's Helm values (`api.oidc`) or its `kargo-api` ConfigMap.
    KargoValues,
}

impl InputKind {
    pub fn describe(self) -> &'static str {
        match self {
            InputKind::DevtronSso => "Devtron SSO connector YAML",
            InputKind::DexConfig => "Dex config",
            InputKind::DevtronSecret => "Secret devtron-secret",
            InputKind::ArgocdCm => "ConfigMap argocd-cm",
            InputKind::WorkflowsSso => "Argo Workflows sso config",
            InputKind::ConcourseEnv => "Concourse web settings",
            InputKind::KargoValues => "Kargo API settings",
        }
    }
}

/// The connector fields that matter to the checks. Unknown keys are accepted and ignored, as Dex
/// ignores what a connector type does not use.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorConfig {
    #[serde(rename = "clientID")]
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// `ldap`: the password of `bindDN`, which Dex binds as before every search.
    #[serde(rename = "bindPW")]
    pub bind_pw: Option<Secret>,
    pub issuer: Option<String>,
    #[serde(rename = "redirectURI")]
    pub redirect_uri: Option<String>,
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub claim_mapping: BTreeMap<String, String>,
    pub user_name_key: Option<String>,
    /// `gitlab`: the GitLab instance (default `https://gitlab.com`).
    #[serde(rename = "baseURL")]
    pub base_url: Option<String>,
    /// `github`: a GitHub Enterprise host (default `github.com`).
    pub host_name: Option<String>,
    /// `microsoft`: the tenant (default `common`).
    pub tenant: Option<String>,
    /// `oidc`: `true` sends the client secret as form parameters (`client_secret_post`).
    pub basic_auth_unsupported: Option<bool>,
    pub insecure_skip_email_verified: Option<bool>,
    pub insecure_enable_groups: Option<bool>,
    pub get_user_info: Option<bool>,
    /// `github`: the organisations (and teams) allowed in.
    pub orgs: Option<Vec<serde_json::Value>>,
    /// `github`: every org and team becomes a group.
    pub load_all_groups: Option<bool>,
    /// `microsoft`, `google`: groups to fetch or require.
    pub groups: Option<Vec<serde_json::Value>>,
    /// `google`: the service account that reads groups.
    pub service_account_file_path: Option<String>,
    /// `google`: the admin a service account impersonates to read groups.
    pub domain_to_admin_email: Option<BTreeMap<String, String>>,
    pub admin_email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Connector {
    pub kind: String,
    pub id: String,
    pub name: String,
    pub config: ConnectorConfig,
    /// Every field of `config` as Dex reads it (null-valued keys dropped, names matched as Go's
    /// `encoding/json` matches them), secret values replaced by [`crate::secret::REDACTED`]:
    /// what the connector-type table's rules read by field name.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// `config` is a mapping (not absent, not null): Argo CD and Devtron refuse a connector of a
    /// type whose redirectURI they overwrite without one.
    pub config_is_map: bool,
    /// Keys of the connector entry beside `type`, `id`, `name` and `config`: Dex reads only
    /// those four (cmd/dex/config.go, Connector.UnmarshalJSON) and ignores the rest.
    pub stray: Vec<String>,
}

impl Connector {
    /// A field's text as Dex reads it (a string; a number or a boolean as written), if set
    /// and not empty.
    pub fn text(&self, field: &str) -> Option<String> {
        let v = self.fields.get(field)?;
        let s = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => return None,
        };
        (!s.trim().is_empty()).then_some(s)
    }
    /// Whether a field is set to something other than empty (`false` counts as unset).
    pub fn has(&self, field: &str) -> bool {
        !field.contains('.') && self.has_path(field)
    }
    /// Like [`Connector::has`] for a dotted path into nested mappings (`userSearch.baseDN`).
    pub fn has_path(&self, path: &str) -> bool {
        let mut parts = path.split('.');
        let Some(first) = parts.next() else {
            return false;
        };
        let mut v = self.fields.get(first);
        for p in parts {
            v = v.and_then(|x| x.get(p));
        }
        match v {
            None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => false,
            Some(serde_json::Value::String(s)) => !s.trim().is_empty(),
            Some(serde_json::Value::Array(a)) => !a.is_empty(),
            Some(serde_json::Value::Object(o)) => !o.is_empty(),
            Some(_) => true,
        }
    }
    /// A boolean field, `true` only when written as true.
    pub fn flag(&self, field: &str) -> bool {
        matches!(self.fields.get(field), Some(serde_json::Value::Bool(true)))
    }
}

/// Where the base URL came from, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlSource {
    Flag,
    UrlKey,
    Comment,
    DexIssuer,
    /// The app's own setting (`CONCOURSE_EXTERNAL_URL`, `redirectUrl`, `api.host`).
    Setting,
    /// The app's default, as the setting is unset (Concourse's `http://127.0.0.1:8080`).
    AppDefault,
    #[default]
    Missing,
}

impl UrlSource {
    pub fn describe(&self) -> &'static str {
        match self {
            UrlSource::Flag => "from --url",
            UrlSource::UrlKey => "from the url key",
            UrlSource::Comment => "from the # URL: comment",
            UrlSource::DexIssuer => "derived from the Dex issuer",
            UrlSource::Setting => "from the app's own setting",
            UrlSource::AppDefault => "the app's default, as its setting is unset",
            UrlSource::Missing => "missing",
        }
    }
}

/// Everything the checks need, in one typed model.
#[derive(Debug, Clone)]
pub struct Setup {
    pub app: App,
    pub source: String,
    pub input_kind: InputKind,
    /// The base URL as written (`None` when absent or empty).
    pub url: Option<String>,
    pub url_source: UrlSource,
    /// Argo CD's `additionalUrls`.
    pub additional_urls: Vec<String>,
    pub connectors: Vec<Connector>,
    /// Argo CD's `oidc.config`, when the input has one: OIDC straight to the IdP.
    pub direct: Option<Direct>,
    /// The manifest's `metadata.namespace`, when the input is one.
    pub namespace: Option<String>,
    /// Argo CD's `$` references in `dex.config` (those of `oidc.config` are in [`DirectOidc`]).
    pub references: Vec<Reference>,
    /// The ids of the Dex config's own `staticClients`, in order.
    pub static_clients: Vec<String>,
    /// The clients the provider has registered for the app, where the input shows them (the
    /// Kargo chart's own; Argo CD's `staticClients` beside Argo Workflows' config).
    pub registrations: Vec<Registration>,
    /// What the app itself makes of its settings, beyond Dex's rules (a connector it drops,
    /// SSO it leaves off).
    pub app_notes: Vec<AppNote>,
    /// The input sets no way to log in (Kargo values without Dex or an issuer): only the URL's
    /// form and the app's own settings are checked.
    pub no_sso: bool,
    /// The input's text, to read again once the references' Secrets are known.
    text: RawText,
}

/// A client registered at the provider the app signs in with: its id and allowed redirects.
#[derive(Debug, Clone)]
pub struct Registration {
    pub client: String,
    pub redirect_uris: Vec<String>,
    /// A public client: with no redirect URIs, Dex allows any loopback one.
    pub public: bool,
    /// Where the input shows it.
    pub from: String,
}

impl Registration {
    /// Whether Dex accepts `uri` for this client (server/oauth2.go `validateRedirectURI`): one
    /// of its redirect URIs exactly; for a public client with none, any `http` loopback.
    pub fn accepts(&self, uri: &str) -> bool {
        if !self.public || !self.redirect_uris.is_empty() {
            return self.redirect_uris.iter().any(|r| r == uri);
        }
        let Some(rest) = uri.strip_prefix("http://") else {
            return false;
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
        matches!(name, "localhost" | "127.0.0.1" | "[::1]")
    }
}

/// One thing the app makes of its own settings.
#[derive(Debug, Clone)]
pub struct AppNote {
    pub fail: bool,
    pub text: String,
    /// The app's own words, where it prints some.
    pub error: Option<String>,
}

impl AppNote {
    pub fn fail(text: impl Into<String>, error: Option<String>) -> AppNote {
        AppNote {
            fail: true,
            text: text.into(),
            error,
        }
    }
    pub fn warn(text: impl Into<String>) -> AppNote {
        AppNote {
            fail: false,
            text: text.into(),
            error: None,
        }
    }
}

/// The input as read: it may hold secrets, so it never prints itself.
#[derive(Clone)]
struct RawText(std::sync::Arc<str>);

impl std::fmt::Debug for RawText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<input text>")
    }
}

impl From<&str> for RawText {
    fn from(s: &str) -> Self {
        RawText(s.into())
    }
}

impl Setup {
    /// Every `$` reference Argo CD would replace: `oidc.config`'s, then `dex.config`'s.
    pub fn all_references(&self) -> Vec<&Reference> {
        let direct = match &self.direct {
            Some(Direct::Active(d)) => d.references.iter().collect(),
            _ => Vec::new(),
        };
        direct.into_iter().chain(&self.references).collect()
    }

    /// The same input read again with the references' values from the cluster.
    pub fn resolved(&self, values: &SecretValues) -> Result<Setup, InputError> {
        let flag = (self.url_source == UrlSource::Flag)
            .then_some(self.url.as_deref())
            .flatten();
        load_with(
            &self.source,
            &self.text.0,
            flag,
            Some(self.app),
            Some(values),
        )
    }

    /// More than one connector: rows about one name it.
    pub fn several_connectors(&self) -> bool {
        self.connectors.len() > 1
    }
}

/// Input problems: each names the input, the field and the value where it is safe to show.
#[derive(Debug, Error)]
pub enum InputError {
    #[error("{input}: cannot read: {error}")]
    Read {
        input: String,
        error: std::io::Error,
    },
    #[error("{input}: input is larger than {limit} bytes; this is not an SSO config")]
    TooLarge { input: String, limit: usize },
    #[error("{input}: input is empty")]
    Empty { input: String },
    #[error("{input}: not text: binary data (a NUL byte at offset {offset})")]
    Binary { input: String, offset: usize },
    #[error("{input}: not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { input: String, offset: usize },
    #[error("{input}: YAML: {message}")]
    Yaml { input: String, message: String },
    #[error("{input}: field `{field}`: {message}")]
    Field {
        input: String,
        field: String,
        message: String,
    },
    #[error("{input}: {message}")]
    Unrecognised { input: String, message: String },
    #[error("--url {value:?}: {message}")]
    UrlFlag { value: String, message: String },
}

/// The connector types Dex knows (`server/server.go` ConnectorsConfig).
pub const DEX_CONNECTOR_TYPES: &[&str] = &[
    "oidc",
    "oauth",
    "saml",
    "ldap",
    "github",
    "gitlab",
    "gitea",
    "google",
    "microsoft",
    "linkedin",
    "bitbucket-cloud",
    "openshift",
    "keystone",
    "atlassian-crowd",
    "authproxy",
    "mockCallback",
    "mockPassword",
];
