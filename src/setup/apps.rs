//! The input forms of the apps whose SSO config is not a Dex config in a Secret or ConfigMap:
//! Argo Workflows' `sso` (in `workflow-controller-configmap`, its Helm values or a docs
//! fragment), Concourse's web environment (an env file, a Deployment's env, a Compose service,
//! or its Helm values) and Kargo's Helm values (`api.oidc`) or its `kargo-api` ConfigMap. Each is
//! read as the app reads it; the facts, with their upstream lines, are in `fixtures/apps/*/FACTS.md`.

use serde_json::{Map, Value};

use super::parse::{self, Found};
use super::{App, AppNote, DirectOidc, InputError, InputKind, Registration, UrlSource};

/// Which of these forms a document is, if any.
pub(super) fn kind_of(obj: &Map<String, Value>) -> Option<InputKind> {
    if workflows_sso(obj).is_some() {
        Some(InputKind::WorkflowsSso)
    } else if kargo(obj).is_some() {
        Some(InputKind::KargoValues)
    } else if concourse_env(obj).is_some() {
        Some(InputKind::ConcourseEnv)
    } else {
        None
    }
}

/// The app an input form belongs to.
pub(super) fn app_of(kind: InputKind) -> Option<App> {
    match kind {
        InputKind::WorkflowsSso => Some(App::ARGO_WORKFLOWS),
        InputKind::ConcourseEnv => Some(App::CONCOURSE),
        InputKind::KargoValues => Some(App::KARGO),
        _ => None,
    }
}

/// Reads a document of one of these forms; `docs` are all the input's documents (Argo CD's
/// `argocd-cm` or `argocd-dex-server` beside Argo Workflows' config).
pub(super) fn read(
    source: &str,
    kind: InputKind,
    obj: &Map<String, Value>,
    docs: &[Value],
    found: Found,
) -> Result<Found, InputError> {
    match kind {
        InputKind::WorkflowsSso => workflows::read(source, obj, docs, found),
        InputKind::ConcourseEnv => concourse::read(source, obj, found),
        InputKind::KargoValues => kargo::read(source, obj, found),
        _ => Ok(found),
    }
}

/// A text that is an env file (`KEY=value` lines, `#` comments), as a mapping.
pub(super) fn env_file(text: &str) -> Option<Value> {
    let mut map = Map::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (k, v) = line.split_once('=')?;
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
            .unwrap_or(v);
        map.insert(k.to_string(), Value::String(v.to_string()));
    }
    (!map.is_empty()).then_some(Value::Object(map))
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

/// [`get`] starting from a document's mapping.
fn at<'a>(obj: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    get(obj.get(*first)?, rest)
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
    .filter(|s| !s.trim().is_empty())
}

fn truthy(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn field_error(source: &str, field: &str, message: String) -> InputError {
    InputError::Field {
        input: source.to_string(),
        field: field.to_string(),
        message,
    }
}

/// Where an `sso` block was found, which decides how strictly it is read.
enum SsoAt {
    /// `workflow-controller-configmap` `data.sso`, or a docs fragment `sso:`: argo-server reads
    /// it with `yaml.UnmarshalStrict` (config/controller.go).
    Strict(Value, &'static str),
    /// The Helm chart's `server.sso` values, which its template renders into known keys only.
    Helm(Value),
}

fn workflows_sso(obj: &Map<String, Value>) -> Option<SsoAt> {
    if obj.get("kind").and_then(Value::as_str) == Some("ConfigMap") {
        let data = obj.get("data")?;
        if let Some(s) = data.get("sso").and_then(Value::as_str) {
            return Some(SsoAt::Strict(yaml_or_text(s), "data.sso"));
        }
        let config = yaml_or_text(data.get("config").and_then(Value::as_str)?);
        return config
            .get("sso")
            .map(|s| SsoAt::Strict(s.clone(), "data.config.sso"));
    }
    if obj.contains_key("apiVersion") {
        return None;
    }
    if let Some(s) = obj
        .get("server")
        .and_then(|v| v.get("sso"))
        .filter(|s| s.is_object())
    {
        return Some(SsoAt::Helm(s.clone()));
    }
    let s = obj.get("sso").filter(|s| s.is_object())?;
    if s.get("enabled").is_some() {
        Some(SsoAt::Helm(s.clone()))
    } else {
        Some(SsoAt::Strict(s.clone(), "sso"))
    }
}

/// A YAML string read as YAML; text that is not YAML stays a string (reported where read).
fn yaml_or_text(s: &str) -> Value {
    serde_saphyr::from_str::<Value>(s).unwrap_or_else(|_| Value::String(s.to_string()))
}

mod workflows {
    use super::*;

    /// The keys of `config.SSOConfig` (config/sso.go json tags).
    const KEYS: &[&str] = &[
        "issuer",
        "issuerAlias",
        "clientId",
        "clientSecret",
        "redirectUrl",
        "rbac",
        "scopes",
        "sessionExpiry",
        "customGroupClaimName",
        "userInfoPath",
        "insecureSkipVerify",
        "filterGroupsRegex",
        "rootCA",
    ];

    pub(super) fn read(
        source: &str,
        obj: &Map<String, Value>,
        docs: &[Value],
        mut found: Found,
    ) -> Result<Found, InputError> {
        let Some(at) = workflows_sso(obj) else {
            return Ok(found);
        };
        let (sso, strict) = match at {
            SsoAt::Strict(v, field) => (v, Some(field)),
            SsoAt::Helm(v) => {
                if truthy(v.get("enabled")) == Some(false) {
                    found.app_notes.push(AppNote::fail(
                        "server.sso.enabled is false: the chart writes no sso config and argo-server's /oauth2/redirect answers 501",
                        None,
                    ));
                }
                (v, None)
            }
        };
        let Value::Object(sso) = sso else {
            return Err(field_error(
                source,
                strict.unwrap_or("server.sso"),
                "expected a mapping with issuer, clientId, clientSecret".into(),
            ));
        };
        found.direct = Some(match decode(&sso, strict.is_some()) {
            Ok(d) => super::super::Direct::Active(Box::new(d)),
            Err(e) => super::super::Direct::Refused(e),
        });
        if let Some(super::super::Direct::Active(d)) = &found.direct
            && let Some(r) = d.redirect_url.as_deref()
        {
            found.url = Some(
                r.trim_end_matches('/')
                    .trim_end_matches("oauth2/callback")
                    .trim_end_matches('/')
                    .to_string(),
            );
            found.url_source = UrlSource::Setting;
        }
        auth_modes(docs, obj, &mut found);
        let issuer = match &found.direct {
            Some(super::super::Direct::Active(d)) => d.issuer.clone(),
            _ => None,
        };
        let clients = super::provider_clients(docs, issuer.as_deref());
        found
            .app_notes
            .extend(super::pairing::check(docs, &sso, &clients));
        found.registrations = super::registrations(&clients);
        Ok(found)
    }

    /// argo-server's checks in `sso.New` (server/auth/sso/sso.go), in its order and words.
    fn decode(sso: &Map<String, Value>, strict: bool) -> Result<DirectOidc, String> {
        if strict && let Some(k) = sso.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!(
                "error unmarshaling JSON: while decoding JSON: json: unknown field {k:?}"
            ));
        }
        let issuer = text(sso.get("issuer")).ok_or("issuer empty")?;
        let mut d = DirectOidc {
            issuer: Some(issuer),
            ..Default::default()
        };
        for (field, empty) in [
            ("clientId", "clientID empty"),
            ("clientSecret", "clientSecret empty"),
        ] {
            let sel = sso.get(field);
            let (name, key) = (
                text(sel.and_then(|s| s.get("name"))),
                text(sel.and_then(|s| s.get("key"))),
            );
            let (Some(name), Some(key)) = (name, key) else {
                return Err(empty.into());
            };
            d.secret_keys
                .push(format!("{field} from Secret {name} key {key}"));
        }
        d.redirect_url = text(sso.get("redirectUrl"));
        d.issuer_alias = text(sso.get("issuerAlias"));
        d.root_ca = text(sso.get("rootCA"));
        d.insecure_skip_verify = truthy(sso.get("insecureSkipVerify")) == Some(true);
        d.requested_scopes = sso.get("scopes").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        });
        Ok(d)
    }

    /// `--auth-mode` from an argo-server Deployment (or `server.authModes` in Helm values) in
    /// the input: SSO is read only when one of them is `sso` (argoserver.go).
    fn auth_modes(docs: &[Value], obj: &Map<String, Value>, found: &mut Found) {
        let helm = at(obj, &["server", "authModes"])
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|m| m.as_str().map(str::to_string))
                    .collect()
            });
        let modes: Option<Vec<String>> = helm.or_else(|| docs.iter().find_map(server_args));
        if let Some(modes) = modes
            && !modes.iter().any(|m| m == "sso")
        {
            found.app_notes.push(AppNote::fail(
                format!(
                    "argo-server runs with --auth-mode {}: without sso it logs \"SSO disabled\" and /oauth2/redirect answers 501",
                    if modes.is_empty() { "client (the default)".to_string() } else { modes.join(",") }
                ),
                None,
            ));
        }
    }

    /// The auth modes of an argo-server Deployment's `server` container, if the doc is one.
    fn server_args(doc: &Value) -> Option<Vec<String>> {
        if doc.get("kind").and_then(Value::as_str) != Some("Deployment") {
            return None;
        }
        let containers = get(doc, &["spec", "template", "spec", "containers"])?.as_array()?;
        let args = containers
            .iter()
            .find_map(|c| {
                let a = c.get("args")?.as_array()?;
                (a.first()?.as_str() == Some("server")).then_some(a)
            })?
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>();
        let mut modes = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if let Some(m) = a.strip_prefix("--auth-mode=") {
                modes.push(m.to_string());
            } else if *a == "--auth-mode" {
                modes.extend(it.next().map(|m| m.to_string()));
            }
        }
        Some(modes)
    }
}

/// Argo Workflows against Argo CD's Dex, from what the input holds of both sides: argo-server's
/// client id is one of Dex's `staticClients`, and the secret it reads is the one Dex has for that
/// client (`secret`, or `secretEnv` through the Dex Deployment's env). Values are compared by
/// SHA-256 digest and never kept or shown.
mod pairing {
    use super::*;
    use base64::Engine;
    use sha2::Digest;

    /// `clients`: the provider's `staticClients` entries ([`provider_clients`]).
    pub(super) fn check(
        docs: &[Value],
        sso: &Map<String, Value>,
        clients: &[Value],
    ) -> Vec<AppNote> {
        let selector = |field: &str| {
            let sel = sso.get(field)?;
            Some((text(sel.get("name"))?, text(sel.get("key"))?))
        };
        let ours_ns = docs.iter().find_map(|d| {
            (get(d, &["metadata", "name"]).and_then(Value::as_str)
                == Some("workflow-controller-configmap"))
            .then(|| text(get(d, &["metadata", "namespace"])))
            .flatten()
        });
        let theirs_ns = docs.iter().find_map(|d| {
            (get(d, &["metadata", "name"]).and_then(Value::as_str) == Some("argocd-cm"))
                .then(|| text(get(d, &["metadata", "namespace"])))
                .flatten()
        });
        let ours_value = |(n, k): (String, String)| secret_value(docs, ours_ns.as_deref(), &n, &k);
        let Some(id) = selector("clientId").and_then(ours_value) else {
            return Vec::new();
        };
        if clients.is_empty() {
            return Vec::new();
        }
        let Some(client) = clients
            .iter()
            .find(|c| text(c.get("id")).as_deref() == Some(id.as_str()))
        else {
            let ids: Vec<String> = clients.iter().filter_map(|c| text(c.get("id"))).collect();
            return vec![AppNote::fail(
                format!(
                    "argo-server's client id {id:?} (from its Secret) is not among Argo CD's staticClients ({}): Dex refuses the login",
                    ids.join(", ")
                ),
                Some(crate::knowledge::dex_pages::refusal_words(
                    App::ARGO_WORKFLOWS.profile().dex_version,
                    "Invalid client_id",
                    &id,
                )),
            )];
        };
        let ours = selector("clientSecret").and_then(ours_value);
        let theirs = text(client.get("secret")).or_else(|| {
            let env = text(client.get("secretEnv"))?;
            let (n, k) = dex_env_ref(docs, &env)?;
            secret_value(docs, theirs_ns.as_deref(), &n, &k)
        });
        match (ours, theirs) {
            (Some(a), Some(b)) if digest(&a) != digest(&b) => vec![AppNote::fail(
                format!(
                    "the client secret argo-server reads differs from the one Argo CD's Dex has for client {id:?} (compared by digest): the code exchange fails and argo-server logs \"failed to get oauth2Token by using code from the oauth2 server\" (401)"
                ),
                Some("invalid_client".into()),
            )],
            _ => Vec::new(),
        }
    }

    fn digest(v: &str) -> [u8; 32] {
        sha2::Sha256::digest(v.as_bytes()).into()
    }

    /// The Secret and key the Dex Deployment's env `name` comes from.
    fn dex_env_ref(docs: &[Value], name: &str) -> Option<(String, String)> {
        docs.iter()
            .filter(|d| d.get("kind").and_then(Value::as_str) == Some("Deployment"))
            .filter_map(|d| get(d, &["spec", "template", "spec", "containers"])?.as_array())
            .flatten()
            .filter_map(|c| c.get("env")?.as_array())
            .flatten()
            .find(|e| text(e.get("name")).as_deref() == Some(name))
            .and_then(|e| {
                let r = get(e, &["valueFrom", "secretKeyRef"])?;
                Some((text(r.get("name"))?, text(r.get("key"))?))
            })
    }

    /// A Secret's value from the input (`stringData`, else base64 `data`): the one in `ns` when
    /// the input names namespaces (the same Secret name lives in both apps' namespaces).
    fn secret_value(docs: &[Value], ns: Option<&str>, name: &str, key: &str) -> Option<String> {
        let named: Vec<&Value> = docs
            .iter()
            .filter(|d| {
                d.get("kind").and_then(Value::as_str) == Some("Secret")
                    && text(get(d, &["metadata", "name"])).as_deref() == Some(name)
            })
            .collect();
        let in_ns = |d: &&&Value| text(get(d, &["metadata", "namespace"])).as_deref() == ns;
        let s = *named.iter().find(in_ns).or(named.first())?;
        if let Some(v) = text(get(s, &["stringData", key])) {
            return Some(v);
        }
        let raw = text(get(s, &["data", key]))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw.trim())
            .ok()?;
        String::from_utf8(bytes).ok()
    }
}

/// The `staticClients` entries of an Argo CD `dex.config` in the input (`argocd-cm` or the Argo
/// CD chart's `server.config` / `configs.cm`): where Argo Workflows' client and redirect URL must
/// be. An Argo CD whose `url` + `/api/dex` is not `issuer` is another provider and is left out.
fn provider_clients(docs: &[Value], issuer: Option<&str>) -> Vec<Value> {
    let same = |url: Option<String>| match (url, issuer) {
        (Some(u), Some(i)) => {
            format!("{}/api/dex", u.trim_end_matches('/')) == i.trim_end_matches('/')
        }
        _ => true,
    };
    docs.iter()
        .filter_map(|d| {
            let data = (d.get("kind").and_then(Value::as_str) == Some("ConfigMap"))
                .then(|| d.get("data"))
                .flatten()
                .or_else(|| get(d, &["server", "config"]))
                .or_else(|| get(d, &["configs", "cm"]))?;
            let dex = data.get("dex.config").and_then(Value::as_str)?;
            same(text(data.get("url"))).then(|| yaml_or_text(dex))
        })
        .flat_map(|dex| match dex.get("staticClients") {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// The provider's clients as Dex registers them (entries without an id left out).
fn registrations(clients: &[Value]) -> Vec<Registration> {
    clients
        .iter()
        .filter_map(|c| {
            Some(Registration {
                client: text(c.get("id"))?,
                redirect_uris: c
                    .get("redirectURIs")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|u| text(Some(u))).collect())
                    .unwrap_or_default(),
                public: truthy(c.get("public")) == Some(true),
                from: "Argo CD's dex.config staticClients".into(),
            })
        })
        .collect()
}

/// A value in an app's environment: text, or a reference the cluster resolves.
fn env_value(e: &Value) -> Option<String> {
    if let Some(v) = text(e.get("value")) {
        return Some(v);
    }
    let r = get(e, &["valueFrom", "secretKeyRef"])
        .or_else(|| get(e, &["valueFrom", "configMapKeyRef"]))?;
    Some(format!(
        "<from {} key {}>",
        text(r.get("name")).unwrap_or_default(),
        text(r.get("key")).unwrap_or_default()
    ))
}

/// Concourse's `CONCOURSE_*` settings, from whichever shape the document has: every web node's
/// (several in a Compose file), the first the one read.
fn concourse_envs(obj: &Map<String, Value>) -> Vec<Map<String, Value>> {
    let is_ours = |m: &Map<String, Value>| m.keys().any(|k| k.starts_with("CONCOURSE_"));
    if is_ours(obj) {
        return vec![obj.clone()];
    }
    // Only a chart's values can hold a web node's settings without a CONCOURSE_ key.
    let helm_shaped = obj.contains_key("concourse")
        || obj.contains_key("externalUrl")
        || obj.contains_key("auth");
    let from_containers = |containers: &Value| -> Option<Map<String, Value>> {
        containers.as_array()?.iter().find_map(|c| {
            let m: Map<String, Value> = c
                .get("env")?
                .as_array()?
                .iter()
                .filter_map(|e| Some((text(e.get("name"))?, Value::String(env_value(e)?))))
                .collect();
            is_ours(&m).then_some(m)
        })
    };
    if obj.contains_key("apiVersion") {
        return at(obj, &["spec", "template", "spec", "containers"])
            .or_else(|| at(obj, &["spec", "containers"]))
            .and_then(from_containers)
            .into_iter()
            .collect();
    }
    if let Some(Value::Object(services)) = obj.get("services") {
        return compose(services);
    }
    if !helm_shaped {
        return Vec::new();
    }
    concourse::helm(&Value::Object(obj.clone()))
        .into_iter()
        .collect()
}

fn concourse_env(obj: &Map<String, Value>) -> Option<Map<String, Value>> {
    concourse_envs(obj).into_iter().next()
}

/// The Compose services that are web nodes: those with an external URL or auth settings,
/// `command: web` first.
fn compose(services: &Map<String, Value>) -> Vec<Map<String, Value>> {
    let env_of = |s: &Value| -> Option<Map<String, Value>> {
        match s.get("environment")? {
            Value::Object(m) => Some(m.clone()),
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                    .collect(),
            ),
            _ => None,
        }
    };
    let web = |s: &Value| {
        s.get("command")
            .and_then(Value::as_str)
            .is_some_and(|c| c.split_whitespace().next() == Some("web"))
    };
    let mut envs: Vec<(bool, Map<String, Value>)> = services
        .values()
        .filter_map(|s| Some((web(s), env_of(s)?)))
        .filter(|(_, m)| {
            m.keys().any(|k| {
                k == "CONCOURSE_EXTERNAL_URL"
                    || concourse::CONNECTORS
                        .iter()
                        .any(|c| k.starts_with(&format!("CONCOURSE_{}_", c.0)))
            })
        })
        .collect();
    envs.sort_by_key(|(web, _)| !*web);
    envs.into_iter().map(|(_, m)| m).collect()
}

mod concourse {
    use super::*;

    /// One connector flag group: env prefix, Dex type, the flags it needs (else the connector
    /// is dropped without a word), and env → Dex field.
    pub(super) type Group = (
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    );

    /// Connector flag groups (skymarshal/skycmd/*_flags.go).
    pub(super) const CONNECTORS: &[Group] = &[
        (
            "OIDC",
            "oidc",
            &["ISSUER", "CLIENT_ID", "CLIENT_SECRET"],
            &[
                ("ISSUER", "issuer"),
                ("CLIENT_ID", "clientID"),
                ("CLIENT_SECRET", "clientSecret"),
                ("USER_NAME_KEY", "userNameKey"),
                ("SKIP_SSL_VALIDATION", "insecureSkipVerify"),
            ],
        ),
        (
            "GITHUB",
            "github",
            &["CLIENT_ID", "CLIENT_SECRET"],
            &[
                ("CLIENT_ID", "clientID"),
                ("CLIENT_SECRET", "clientSecret"),
                ("HOST", "hostName"),
            ],
        ),
        (
            "GITLAB",
            "gitlab",
            &["CLIENT_ID", "CLIENT_SECRET"],
            &[
                ("CLIENT_ID", "clientID"),
                ("CLIENT_SECRET", "clientSecret"),
                ("HOST", "baseURL"),
            ],
        ),
        (
            "MICROSOFT",
            "microsoft",
            &["CLIENT_ID", "CLIENT_SECRET"],
            &[
                ("CLIENT_ID", "clientID"),
                ("CLIENT_SECRET", "clientSecret"),
                ("TENANT", "tenant"),
            ],
        ),
        (
            "OAUTH",
            "oauth",
            &[
                "AUTH_URL",
                "TOKEN_URL",
                "USERINFO_URL",
                "CLIENT_ID",
                "CLIENT_SECRET",
            ],
            &[
                ("CLIENT_ID", "clientID"),
                ("CLIENT_SECRET", "clientSecret"),
                ("AUTH_URL", "authorizationURL"),
                ("TOKEN_URL", "tokenURL"),
                ("USERINFO_URL", "userInfoURL"),
            ],
        ),
        (
            "LDAP",
            "ldap",
            &["HOST", "BIND_DN", "BIND_PW"],
            &[
                ("HOST", "host"),
                ("BIND_DN", "bindDN"),
                ("BIND_PW", "bindPW"),
                ("INSECURE_NO_SSL", "insecureNoSSL"),
                ("INSECURE_SKIP_VERIFY", "insecureSkipVerify"),
                ("START_TLS", "startTLS"),
                ("USER_SEARCH_BASE_DN", "userSearch.baseDN"),
                ("USER_SEARCH_USERNAME", "userSearch.username"),
            ],
        ),
    ];

    pub(super) fn read(
        source: &str,
        obj: &Map<String, Value>,
        mut found: Found,
    ) -> Result<Found, InputError> {
        let nodes = concourse_envs(obj);
        let Some(env) = nodes.first().cloned() else {
            return Ok(found);
        };
        found.app_notes.extend(nodes_disagree(&nodes));
        let var = |k: &str| text(env.get(&format!("CONCOURSE_{k}")));
        match var("EXTERNAL_URL") {
            Some(u) => {
                let u = u.trim_end_matches('/').to_string();
                if !u.contains("://") {
                    return Err(field_error(
                        source,
                        "CONCOURSE_EXTERNAL_URL",
                        format!(
                            "missing scheme in '{u}': Concourse refuses the flag and the web node does not start"
                        ),
                    ));
                }
                found.url = Some(u);
                found.url_source = UrlSource::Setting;
            }
            None => {
                // command.go DefaultURL(): http://<bind-ip, 0.0.0.0 → 127.0.0.1>:<bind-port>
                let port = var("BIND_PORT").unwrap_or_else(|| "8080".into());
                found.url = Some(format!("http://127.0.0.1:{port}"));
                found.url_source = UrlSource::AppDefault;
            }
        }
        for (prefix, kind, needs, fields) in CONNECTORS {
            let set: Vec<&str> = fields
                .iter()
                .map(|(e, _)| *e)
                .filter(|e| var(&format!("{prefix}_{e}")).is_some())
                .collect();
            if set.is_empty() {
                continue;
            }
            let missing: Vec<String> = needs
                .iter()
                .filter(|n| var(&format!("{prefix}_{n}")).is_none())
                .map(|n| format!("CONCOURSE_{prefix}_{n}"))
                .collect();
            if !missing.is_empty() {
                let text = format!(
                    "{} is not set: Concourse drops the {kind} connector without a log line, and its login button is missing",
                    missing.join(", ")
                );
                // Some required setting given and another missing is the silent drop; none of
                // them given is a fragment of a config whose rest is elsewhere.
                found.app_notes.push(if missing.len() < needs.len() {
                    AppNote::fail(text, None)
                } else {
                    AppNote::warn(format!("{text}, unless they are set elsewhere"))
                });
                continue;
            }
            found
                .connectors
                .push(connector(source, prefix, kind, fields, &var)?);
        }
        if found.connectors.is_empty() && found.app_notes.is_empty() {
            let local = var("ADD_LOCAL_USER").is_some();
            found.app_notes.push(AppNote::warn(if local {
                "only local users (CONCOURSE_ADD_LOCAL_USER): no SSO connector is configured"
            } else {
                "no SSO connector is configured (no CONCOURSE_OIDC_*, _GITHUB_*, _LDAP_* … settings)"
            }));
        }
        Ok(found)
    }

    /// Web nodes share one Dex store and each rewrites its clients and connectors at boot
    /// (skymarshal/dexserver `replaceClients`, `replaceConnectors`): settings that differ between
    /// nodes mean the last one to boot wins for all.
    fn nodes_disagree(nodes: &[Map<String, Value>]) -> Option<AppNote> {
        let first = nodes.first()?;
        let keys: Vec<&String> = nodes
            .iter()
            .flat_map(|n| n.keys())
            .filter(|k| {
                *k == "CONCOURSE_EXTERNAL_URL"
                    || CONNECTORS
                        .iter()
                        .any(|c| k.starts_with(&format!("CONCOURSE_{}_", c.0)))
            })
            .collect();
        let differ: std::collections::BTreeSet<&str> = keys
            .into_iter()
            .filter(|k| nodes.iter().any(|n| n.get(*k) != first.get(*k)))
            .map(String::as_str)
            .collect();
        if differ.is_empty() {
            return None;
        }
        Some(AppNote::fail(
            format!(
                "the {} web nodes differ in {}: they share one Dex store and each rewrites its clients and connectors when it boots, so the last node to start decides for all (logins fail at Dex's Unregistered redirect_uri or the IdP's callback check)",
                nodes.len(),
                differ.into_iter().collect::<Vec<_>>().join(", ")
            ),
            None,
        ))
    }

    /// One connector as `Serialize` writes it for Dex (id = type, redirectURI = issuer +
    /// `/callback`, which the profile's overwrite rule supplies).
    fn connector(
        source: &str,
        prefix: &str,
        kind: &str,
        fields: &[(&str, &str)],
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<super::super::Connector, InputError> {
        let mut config = Map::new();
        for (env, field) in fields {
            let Some(v) = var(&format!("{prefix}_{env}")) else {
                continue;
            };
            let v = match v.as_str() {
                "true" | "false" => Value::Bool(v == "true"),
                _ => Value::String(v),
            };
            match field.split_once('.') {
                Some((outer, inner)) => {
                    let o = config
                        .entry(outer.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(o) = o {
                        o.insert(inner.to_string(), v);
                    }
                }
                None => {
                    config.insert(field.to_string(), v);
                }
            }
        }
        if prefix == "OIDC" {
            // oidc_flags.go: user-name-key defaults to `username` (a claim Dex then requires),
            // groups and userinfo are on unless disabled.
            config
                .entry("userNameKey")
                .or_insert_with(|| Value::String("username".into()));
            let off = |flag: &str| var(&format!("OIDC_{flag}")).as_deref() == Some("true");
            config.insert(
                "insecureEnableGroups".into(),
                Value::Bool(!off("DISABLE_GROUPS")),
            );
            config.insert(
                "getUserInfo".into(),
                Value::Bool(!off("DISABLE_GET_USER_INFO")),
            );
        }
        let name = var(&format!("{prefix}_DISPLAY_NAME")).unwrap_or_else(|| prefix.to_string());
        let mut obj = Map::new();
        obj.insert("type".into(), Value::String(kind.into()));
        obj.insert("id".into(), Value::String(kind.into()));
        obj.insert("name".into(), Value::String(name));
        obj.insert("config".into(), Value::Object(config));
        parse::connector_from(source, &format!("CONCOURSE_{prefix}_*: "), &obj)
    }

    /// The chart's values (`concourse.web`, or a fragment of it, with `secrets`) as the
    /// environment its web Deployment template writes.
    pub(super) fn helm(v: &Value) -> Option<Map<String, Value>> {
        let web = get(v, &["concourse", "web"])
            .or_else(|| {
                (v.get("externalUrl").is_some() && v.get("bindPort").is_some()).then_some(v)
            })
            .or_else(|| get(v, &["auth", "mainTeam"]).map(|_| v))?;
        let mut env = Map::new();
        let mut put = |k: &str, val: Option<String>| {
            if let Some(val) = val {
                env.insert(format!("CONCOURSE_{k}"), Value::String(val));
            }
        };
        put("EXTERNAL_URL", text(web.get("externalUrl")));
        put("BIND_PORT", text(web.get("bindPort")));
        let secrets = v.get("secrets");
        let secret = |key: &str, chart_key: &str| {
            text(secrets.and_then(|s| s.get(key)))
                .or_else(|| Some(format!("<from Secret concourse-web key {chart_key}>")))
        };
        if truthy(get(web, &["auth", "oidc", "enabled"])) == Some(true) {
            let o = |k: &str| text(get(web, &["auth", "oidc", k]));
            put("OIDC_ISSUER", o("issuer"));
            put("OIDC_DISPLAY_NAME", o("displayName"));
            put("OIDC_USER_NAME_KEY", o("userNameKey"));
            put("OIDC_SKIP_SSL_VALIDATION", o("skipSslValidation"));
            put("OIDC_CLIENT_ID", secret("oidcClientId", "oidc-client-id"));
            put(
                "OIDC_CLIENT_SECRET",
                secret("oidcClientSecret", "oidc-client-secret"),
            );
        }
        if truthy(get(web, &["auth", "github", "enabled"])) == Some(true) {
            put("GITHUB_HOST", text(get(web, &["auth", "github", "host"])));
            put(
                "GITHUB_CLIENT_ID",
                secret("githubClientId", "github-client-id"),
            );
            put(
                "GITHUB_CLIENT_SECRET",
                secret("githubClientSecret", "github-client-secret"),
            );
        }
        if truthy(get(web, &["auth", "ldap", "enabled"])) == Some(true) {
            let l = |k: &str| text(get(web, &["auth", "ldap", k]));
            put("LDAP_HOST", l("host"));
            put("LDAP_BIND_DN", l("bindDn"));
            put("LDAP_BIND_PW", secret("ldapBindPw", "ldap-bind-pw"));
            put("LDAP_USER_SEARCH_BASE_DN", l("userSearchBaseDn"));
        }
        if env.is_empty() {
            // A fragment that says nothing about SSO still is the web node's: say so.
            env.insert("CONCOURSE_HELM_VALUES".into(), Value::Bool(true));
        }
        Some(env)
    }
}

fn kargo(obj: &Map<String, Value>) -> Option<Map<String, Value>> {
    if obj.get("kind").and_then(Value::as_str) == Some("ConfigMap") {
        let data = obj.get("data")?.as_object()?;
        return data.contains_key("OIDC_ISSUER_URL").then(|| data.clone());
    }
    if obj.contains_key("apiVersion") {
        return None;
    }
    let api = obj.get("api")?.as_object()?;
    (api.contains_key("oidc") || api.contains_key("host")).then(|| api.clone())
}

mod kargo {
    use super::*;

    pub(super) fn read(
        source: &str,
        obj: &Map<String, Value>,
        mut found: Found,
    ) -> Result<Found, InputError> {
        let Some(api) = kargo(obj) else {
            return Ok(found);
        };
        if api.contains_key("OIDC_ISSUER_URL") {
            return from_env(source, &api, found);
        }
        let api = Value::Object(api);
        let base = base_url(&api);
        found.url = Some(base.clone());
        found.url_source = UrlSource::Setting;
        if api.get("host").is_none() {
            found.url_source = UrlSource::AppDefault;
        }
        let oidc = |k: &[&str]| get(&api, &[&["oidc"][..], k].concat()).cloned();
        match truthy(oidc(&["enabled"]).as_ref()) {
            Some(true) => {}
            Some(false) => found.app_notes.push(AppNote::fail(
                "api.oidc.enabled is false: the chart sets no OIDC_* for the API server and Kargo's SSO is off",
                None,
            )),
            None => found.app_notes.push(AppNote::warn(
                "api.oidc.enabled is not set here (the chart's default is false): unless set elsewhere, Kargo's SSO is off",
            )),
        }
        if truthy(oidc(&["dex", "enabled"]).as_ref()) == Some(true) {
            let connectors = oidc(&["dex", "connectors"]).unwrap_or(Value::Null);
            let mut dex = Map::new();
            dex.insert("connectors".into(), connectors);
            found.connectors = parse::dex_connectors_of(source, "api.oidc.dex.", &dex)?;
            found.registrations = chart_clients(&api, &base);
            return Ok(found);
        }
        let Some(issuer) = text(oidc(&["issuerURL"]).as_ref()) else {
            found.no_sso = true;
            if truthy(oidc(&["enabled"]).as_ref()) == Some(true) {
                found.app_notes.push(AppNote::fail(
                    "api.oidc.enabled is true with neither api.oidc.dex.enabled nor api.oidc.issuerURL: the API server stops at start-up",
                    Some("required key OIDC_ISSUER_URL missing value".into()),
                ));
            }
            return Ok(found);
        };
        let d = DirectOidc {
            issuer: Some(issuer),
            client_id: text(oidc(&["clientID"]).as_ref()),
            cli_client_id: text(oidc(&["cliClientID"]).as_ref()),
            // The UI is a public client with PKCE (oidc-login.tsx).
            pkce: true,
            ..Default::default()
        };
        found.direct = Some(super::super::Direct::Active(Box::new(d)));
        Ok(found)
    }

    /// `kargo.api.baseURL` (templates/_helpers.tpl): https when TLS is on at the ingress, at
    /// the API server, or upstream; then `api.host` and `api.basePath`.
    fn base_url(api: &Value) -> String {
        let on = |p: &[&str]| truthy(get(api, p)) == Some(true);
        let ingress = on(&["ingress", "enabled"]);
        // values.yaml defaults: api.tls.enabled true, ingress.tls.enabled true
        let tls = truthy(get(api, &["tls", "enabled"])) != Some(false);
        let ingress_tls = truthy(get(api, &["ingress", "tls", "enabled"])) != Some(false);
        let use_tls =
            (ingress && ingress_tls) || (!ingress && tls) || on(&["tls", "terminatedUpstream"]);
        let host = text(api.get("host")).unwrap_or_else(|| "localhost".into());
        let path = text(api.get("basePath")).unwrap_or_default();
        format!("{}://{host}{path}", if use_tls { "https" } else { "http" })
    }

    /// The chart's Dex clients (templates/dex-server/secret.yaml): `<api.host>` with
    /// `<baseURL>/login` (none when the host starts with `localhost:`), public.
    fn chart_clients(api: &Value, base: &str) -> Vec<Registration> {
        let host = text(api.get("host")).unwrap_or_else(|| "localhost".into());
        vec![Registration {
            client: host.clone(),
            redirect_uris: if host.starts_with("localhost:") {
                Vec::new()
            } else {
                vec![format!("{base}/login")]
            },
            public: true,
            from: "the Kargo chart's Dex staticClients".into(),
        }]
    }

    /// The `kargo-api` ConfigMap: the API server's environment.
    fn from_env(
        source: &str,
        env: &Map<String, Value>,
        mut found: Found,
    ) -> Result<Found, InputError> {
        let issuer = text(env.get("OIDC_ISSUER_URL")).ok_or_else(|| {
            field_error(
                source,
                "data.OIDC_ISSUER_URL",
                "empty: required key OIDC_ISSUER_URL missing value".into(),
            )
        })?;
        if truthy(env.get("DEX_ENABLED")) == Some(true) {
            found.url = issuer
                .trim_end_matches('/')
                .strip_suffix("/dex")
                .map(str::to_string);
            found.url_source = UrlSource::DexIssuer;
            found.app_notes.push(AppNote::warn(
                "Dex's connectors are in the Secret kargo-dex-server (config.yaml), which this input does not hold: give that config to check them",
            ));
            return Ok(found);
        }
        found.direct = Some(super::super::Direct::Active(Box::new(DirectOidc {
            issuer: Some(issuer),
            client_id: text(env.get("OIDC_CLIENT_ID")),
            cli_client_id: text(env.get("OIDC_CLI_CLIENT_ID")),
            pkce: true,
            ..Default::default()
        })));
        Ok(found)
    }
}
