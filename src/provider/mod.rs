//! The bundled reference provider: a small, Dex-compatible OIDC provider (axum). Routes only
//! under the issuer's path, Dex's discovery document, keys, authorization with Dex's client and
//! redirect checks and error pages, a mock connector and an `oidc` connector that federates,
//! the token endpoint (authorization code with PKCE, refresh), userinfo and device code.

pub mod config;
pub mod keys;
pub mod store;
pub mod upstream;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::Digest;

use config::{Client, Config, ConnectorKind, redirect_allowed};
use keys::{Identity, Keys, TokenRequest, new_id};
use store::Bounded;
use upstream::Upstream;

/// The largest request body the provider reads (token and form posts).
const MAX_REQUEST_BODY: usize = 64 * 1024;
/// Scopes Dex accepts.
const SCOPES: &[&str] = &[
    "openid",
    "offline_access",
    "email",
    "profile",
    "groups",
    "federated:id",
];

#[derive(Debug, Clone)]
struct AuthRequest {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    state: String,
    nonce: Option<String>,
    challenge: Option<(String, String)>,
    conn_id: String,
    upstream_verifier: Option<String>,
}

#[derive(Debug, Clone)]
struct Code {
    req: AuthRequest,
    identity: Identity,
    created: Instant,
}

#[derive(Debug, Clone)]
struct Refresh {
    client_id: String,
    scopes: Vec<String>,
    conn_id: String,
    identity: Identity,
}

/// The provider's state, every map bounded and expiring (`store.rs` has the bounds).
struct Store {
    auth: Bounded<AuthRequest>,
    /// Signed-in requests between Dex's callback and its approval step.
    approvals: Bounded<(AuthRequest, Identity)>,
    codes: Bounded<Code>,
    refresh: Bounded<Refresh>,
    access: Bounded<Value>,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            auth: Bounded::new(store::AUTH_TTL, store::CAP),
            approvals: Bounded::new(store::AUTH_TTL, store::CAP),
            codes: Bounded::new(store::CODE_TTL, store::CAP),
            refresh: Bounded::new(store::REFRESH_TTL, store::CAP),
            access: Bounded::new(store::ACCESS_TTL, store::CAP),
        }
    }
}

pub struct Provider {
    pub config: Config,
    /// The issuer's path without a trailing slash ("" at the root).
    path: String,
    keys: Keys,
    discovery: String,
    upstreams: HashMap<String, Upstream>,
    store: Mutex<Store>,
}

/// Dex's discovery document for `issuer`, field for field and in Dex's order (v2.45 defaults).
pub fn discovery_document(issuer: &str) -> Value {
    discovery_of(issuer, config::Release::V2_45)
}

/// The document of `release`: v2.30 has no `introspection_endpoint` (v2.40) and no
/// token-exchange grant (v2.38).
fn discovery_of(issuer: &str, release: config::Release) -> Value {
    let mut doc = discovery_v2_45(issuer);
    if release == config::Release::V2_30
        && let Some(m) = doc.as_object_mut()
    {
        m.remove("introspection_endpoint");
        m.insert(
            "grant_types_supported".into(),
            json!([
                "authorization_code",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:device_code"
            ]),
        );
    }
    doc
}

fn discovery_v2_45(issuer: &str) -> Value {
    let at = |p: &str| format!("{}/{p}", issuer.trim_end_matches('/'));
    json!({
        "issuer": issuer,
        "authorization_endpoint": at("auth"),
        "token_endpoint": at("token"),
        "jwks_uri": at("keys"),
        "userinfo_endpoint": at("userinfo"),
        "device_authorization_endpoint": at("device/code"),
        "introspection_endpoint": at("token/introspect"),
        "grant_types_supported": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange"],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "scopes_supported": ["openid", "email", "groups", "profile", "offline_access"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "claims_supported": ["iss", "sub", "aud", "iat", "exp", "email", "email_verified", "locale", "name", "preferred_username", "at_hash"]
    })
}

fn issuer_path(issuer: &str) -> String {
    url::Url::parse(issuer)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

impl Provider {
    /// Builds the provider: generates the key, discovers every upstream (failing like Dex does
    /// when one cannot be reached).
    pub async fn new(config: Config) -> Result<Arc<Provider>, String> {
        let keys = tokio::task::spawn_blocking(Keys::generate)
            .await
            .map_err(|e| e.to_string())??;
        Provider::with_keys(config, keys).await
    }

    /// The provider with the keys given (the control's public-only key set).
    async fn with_keys(config: Config, keys: Keys) -> Result<Arc<Provider>, String> {
        let mut upstreams = HashMap::new();
        for c in &config.connectors {
            if let ConnectorKind::Oidc(o) = &c.kind {
                let u = Upstream::discover(o).await.map_err(|e| {
                    format!("server: Failed to open connector {}: failed to open connector: failed to create connector {}: {e}", c.id, c.id)
                })?;
                upstreams.insert(c.id.clone(), u);
            }
        }
        let discovery = serde_json::to_string_pretty(&discovery_of(&config.issuer, config.release))
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(Provider {
            path: issuer_path(&config.issuer),
            keys,
            discovery,
            upstreams,
            store: Mutex::new(Store::default()),
            config,
        }))
    }

    pub fn router(self: &Arc<Self>) -> Router {
        let p = &self.path;
        let root = if p.is_empty() {
            "/".to_string()
        } else {
            p.clone()
        };
        Router::new()
            .route(
                &format!("{p}/.well-known/openid-configuration"),
                any(discovery),
            )
            .route(&root, any(home))
            .route(&format!("{p}/keys"), any(keys_handler))
            .route(&format!("{p}/auth"), any(auth))
            .route(&format!("{p}/auth/{{connector}}"), any(auth_connector))
            .route(&format!("{p}/callback"), any(callback))
            .route(&format!("{p}/approval"), any(approval))
            .route(&format!("{p}/token"), any(token))
            .route(&format!("{p}/userinfo"), any(userinfo))
            .route(&format!("{p}/device/code"), any(device_code))
            .route(&format!("{p}/healthz"), any(healthz))
            .fallback(not_found)
            // Dex's forms are small: a token request is a few hundred bytes.
            .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BODY))
            .with_state(self.clone())
    }

    /// Serves on `listener` until `shutdown` resolves.
    pub async fn serve(
        self: &Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    fn client(&self, id: &str) -> Option<&Client> {
        self.config.clients.iter().find(|c| c.id == id)
    }

    /// A refusal on the authorization page in the release's words: v2.30 quotes the value
    /// (`Invalid client_id ("x").`), later releases do not (`server/oauth2.go`).
    fn refusal(&self, what: &str, value: &str) -> String {
        let release = match self.config.release {
            config::Release::V2_30 => (2, 30, 2),
            config::Release::V2_45 => (2, 45, 1),
        };
        crate::knowledge::dex_pages::refusal_words(release, what, value)
    }

    /// The signed-in user of a mock connector `conn_id`, if it is one.
    fn mock_user(&self, conn_id: &str) -> Option<Identity> {
        let c = self.config.connectors.iter().find(|c| c.id == conn_id)?;
        let ConnectorKind::Mock(user) = &c.kind else {
            return None;
        };
        Some(Identity {
            user_id: user.user_id.clone(),
            username: user.username.clone(),
            preferred_username: user.preferred_username.clone(),
            email: user.email.clone(),
            email_verified: true,
            groups: user.groups.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type P = State<Arc<Provider>>;

fn text(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

async fn not_found() -> Response {
    text(StatusCode::NOT_FOUND, "404 page not found\n")
}

/// Dex's HTML error page.
fn error_page(p: &Provider, status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = format!(
        "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n<div class=\"theme-panel\">\n  <h2 class=\"theme-heading\">{title}</h2>\n  <p>{}</p>\n</div>\n</body>\n</html>\n",
        go_html_escape(&p.config.issuer),
        go_html_escape(message)
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Go's `html/template` escaping, as Dex's pages write text and attributes (`"` as `&#34;`).
fn go_html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut v = json!({"error": error});
    if !description.is_empty() {
        v["error_description"] = json!(description);
    }
    json_response(status, &v)
}

fn redirect(status: StatusCode, to: &str) -> Response {
    let mut r = status.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// `redirect_uri` with `pairs` added to its query (Dex v2.45 merges into an existing query).
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        Err(_) => {
            let q: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs.iter())
                .finish();
            format!("{uri}{}{q}", if uri.contains('?') { "&" } else { "?" })
        }
    }
}

async fn discovery(State(p): P) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        p.discovery.clone(),
    )
        .into_response()
}

async fn home(State(p): P) -> Response {
    let body = format!(
        "<!DOCTYPE html>\n<title>Dex IdP</title>\n<h1>Dex IdP</h1>\n<h3>A Federated OpenID Connect Provider</h3>\n<p><a href=\"{}/.well-known/openid-configuration\">Discovery</a></p>\n",
        p.path
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

async fn healthz() -> Response {
    text(StatusCode::OK, "Health check passed")
}

async fn keys_handler(State(p): P) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "max-age=600, must-revalidate"),
        ],
        p.keys.jwks().to_string(),
    )
        .into_response()
}

/// `GET P/auth`: one connector (or `connector_id`) → 302 to `P/auth/<id>?…`; else a chooser.
async fn auth(State(p): P, Query(q): Query<Vec<(String, String)>>) -> Response {
    let chosen = q
        .iter()
        .find(|(k, _)| k == "connector_id")
        .map(|(_, v)| v.clone());
    let mut rest: Vec<(String, String)> =
        q.into_iter().filter(|(k, _)| k != "connector_id").collect();
    rest.sort();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(rest.iter())
        .finish();
    let target = match (chosen, p.config.connectors.as_slice()) {
        (Some(id), _) => {
            if !p.config.connectors.iter().any(|c| c.id == id) {
                return error_page(
                    &p,
                    StatusCode::BAD_REQUEST,
                    "Connector ID does not match a valid Connector",
                );
            }
            id
        }
        (None, [only]) => only.id.clone(),
        (None, all) => {
            let links: String = all
                .iter()
                .map(|c| {
                    format!(
                        "<li><a href=\"{}/auth/{}?{}\">Log in with {}</a></li>\n",
                        p.path,
                        c.id,
                        go_html_escape(&query),
                        go_html_escape(&c.name)
                    )
                })
                .collect();
            let body = format!(
                "<!DOCTYPE html>\n<title>Log in to dex</title>\n<h2>Log in to dex</h2>\n<ul>\n{links}</ul>\n"
            );
            return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
        }
    };
    redirect(
        StatusCode::FOUND,
        &format!("{}/auth/{target}?{query}", p.path),
    )
}

/// `GET P/auth/<connector>`: Dex's `parseAuthorizationRequest`, then the connector's login.
async fn auth_connector(
    State(p): P,
    Path(conn): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let Some(client) = p.client(&get("client_id")) else {
        let words = p.refusal("Invalid client_id", &get("client_id"));
        return error_page(&p, StatusCode::NOT_FOUND, &words);
    };
    let redirect_uri = get("redirect_uri");
    if !redirect_allowed(client, &redirect_uri) {
        let words = p.refusal("Unregistered redirect_uri", &redirect_uri);
        return error_page(&p, StatusCode::BAD_REQUEST, &words);
    }
    let state = get("state");
    // Past the client checks, Dex sends errors back to the client's redirect URI.
    let fail = |(error, desc): (&str, String)| {
        redirect(
            StatusCode::SEE_OTHER,
            &with_query(
                &redirect_uri,
                &[
                    ("state", &state),
                    ("error", error),
                    ("error_description", &desc),
                ],
            ),
        )
    };
    let Some(connector) = p.config.connectors.iter().find(|c| c.id == conn) else {
        // Dex's handleConnectorLogin: a page, not a redirect, in each release's words.
        let words = match p.config.release {
            config::Release::V2_30 => "Requested resource does not exist",
            config::Release::V2_45 => "Connector failed to initialize",
        };
        return error_page(&p, StatusCode::BAD_REQUEST, words);
    };
    let parsed = scopes(&get("scope")).and_then(|scopes| {
        response_type(&get("response_type"))?;
        let challenge = pkce(&get("code_challenge"), &get("code_challenge_method"))?;
        Ok((scopes, challenge))
    });
    let (scopes, challenge) = match parsed {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    let req = AuthRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.clone(),
        scopes,
        state: state.clone(),
        nonce: q.get("nonce").filter(|n| !n.is_empty()).cloned(),
        challenge,
        conn_id: connector.id.clone(),
        upstream_verifier: None,
    };
    login(&p, connector, req)
}

/// An OAuth error to send back: the `error` code and its description.
type AuthError = (&'static str, String);

fn scopes(scope: &str) -> Result<Vec<String>, AuthError> {
    let scopes: Vec<String> = scope.split_whitespace().map(str::to_string).collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err((
            "invalid_scope",
            "Missing required scope(s) [\"openid\"].".into(),
        ));
    }
    let unknown: Vec<&String> = scopes
        .iter()
        .filter(|s| !SCOPES.contains(&s.as_str()) && !s.starts_with("audience:server:client_id:"))
        .collect();
    if !unknown.is_empty() {
        return Err((
            "invalid_scope",
            format!("Unrecognized scope(s) {unknown:?}"),
        ));
    }
    Ok(scopes)
}

fn response_type(t: &str) -> Result<(), AuthError> {
    match t {
        "code" => Ok(()),
        "" => Err(("invalid_request", "No response_type provided".into())),
        other => Err((
            "unsupported_response_type",
            format!("Unsupported response type {other:?}"),
        )),
    }
}

fn pkce(challenge: &str, method: &str) -> Result<Option<(String, String)>, AuthError> {
    match (challenge, method) {
        ("", _) => Ok(None),
        (c, "" | "plain") => Ok(Some((c.to_string(), "plain".to_string()))),
        (c, "S256") => Ok(Some((c.to_string(), "S256".to_string()))),
        (_, m) => Err((
            "invalid_request",
            format!("Unsupported PKCE challenge method ({m:?})."),
        )),
    }
}

/// The connector's login: the mock signs its user in at once; `oidc` sends the browser upstream.
fn login(p: &Arc<Provider>, connector: &config::Connector, mut req: AuthRequest) -> Response {
    match &connector.kind {
        ConnectorKind::Mock(_) => {
            // Dex's mock connector sends the browser to Dex's own callback at once.
            let id = new_id();
            p.lock().auth.insert(id.clone(), req);
            redirect(
                StatusCode::FOUND,
                &with_query(
                    &format!("{}/callback", p.config.issuer.trim_end_matches('/')),
                    &[("state", &id)],
                ),
            )
        }
        ConnectorKind::Oidc(o) => {
            // Dex compares the connector's redirectURI with issuer + /callback at login time.
            let expected = format!("{}/callback", p.config.issuer.trim_end_matches('/'));
            if o.redirect_uri != expected {
                return error_page(
                    p,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!(
                        "Login error. (expected callback URL {expected:?} did not match the URL in the config {:?})",
                        o.redirect_uri
                    ),
                );
            }
            let Some(up) = p.upstreams.get(&connector.id) else {
                return error_page(p, StatusCode::INTERNAL_SERVER_ERROR, "Login error.");
            };
            let id = new_id();
            let (url, verifier) = up.login_url(&id);
            req.upstream_verifier = verifier;
            p.lock().auth.insert(id, req);
            redirect(StatusCode::FOUND, &url)
        }
    }
}

/// A signed-in user, with skipApprovalScreen as Devtron and Argo CD configure Dex: v2.45 sends
/// the browser back to the client at once; v2.30 first to its approval step (303 to
/// `approval`), which sends it back (as real Dex of each release does, `tests/real_dex.rs`).
fn finalize(p: &Provider, req: AuthRequest, identity: Identity) -> Response {
    if p.config.release == config::Release::V2_45 {
        return approved(p, req, identity);
    }
    let id = new_id();
    p.lock().approvals.insert(id.clone(), (req, identity));
    redirect(
        StatusCode::SEE_OTHER,
        &with_query(
            &format!("{}/approval", p.config.issuer.trim_end_matches('/')),
            &[("req", &id)],
        ),
    )
}

/// `GET P/approval`: skipApprovalScreen: issue the code and send the browser back to the client.
async fn approval(State(p): P, Query(q): Query<HashMap<String, String>>) -> Response {
    let id = q.get("req").cloned().unwrap_or_default();
    let Some((req, identity)) = p.lock().approvals.remove(&id) else {
        return error_page(&p, StatusCode::BAD_REQUEST, "User session error.");
    };
    approved(&p, req, identity)
}

/// Issues the code and sends the browser back to the client's redirect URI.
fn approved(p: &Provider, req: AuthRequest, mut identity: Identity) -> Response {
    identity
        .groups
        .extend((1..=p.config.extra_groups).map(|i| format!("group-{i:04}")));
    let code = new_id();
    let to = with_query(&req.redirect_uri, &[("code", &code), ("state", &req.state)]);
    p.lock().codes.insert(
        code,
        Code {
            req,
            identity,
            created: Instant::now(),
        },
    );
    redirect(StatusCode::SEE_OTHER, &to)
}

/// `GET P/callback`: the upstream sends the browser back here.
async fn callback(State(p): P, Query(q): Query<HashMap<String, String>>) -> Response {
    let state = q.get("state").cloned().unwrap_or_default();
    let Some(req) = p.lock().auth.remove(&state) else {
        return error_page(&p, StatusCode::BAD_REQUEST, "User session error.");
    };
    if let Some(e) = q.get("error") {
        let _ = e;
        return error_page(
            &p,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Authentication failed. Please contact your administrator or try again later.",
        );
    }
    if let Some(user) = p.mock_user(&req.conn_id) {
        return finalize(&p, req, user);
    }
    let Some(up) = p.upstreams.get(&req.conn_id).cloned() else {
        return error_page(
            &p,
            StatusCode::BAD_REQUEST,
            "Requested resource does not exist.",
        );
    };
    let code = q.get("code").cloned().unwrap_or_default();
    match up.identity(&code, req.upstream_verifier.as_deref()).await {
        Ok(identity) => finalize(&p, req, identity),
        Err(e) => {
            eprintln!("dexcheck serve: connector {}: {e}", req.conn_id);
            error_page(
                &p,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Authentication failed. Please contact your administrator or try again later.",
            )
        }
    }
}

/// Client credentials: Basic (each part URL-unescaped, as Dex does) or the form.
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(String, String), &'static str> {
    if let Some(h) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(b64) = h
            .strip_prefix("Basic ")
            .or_else(|| h.strip_prefix("basic "))
    {
        let raw = STANDARD
            .decode(b64.trim())
            .map_err(|_| "client_id improperly encoded")?;
        let raw = String::from_utf8(raw).map_err(|_| "client_id improperly encoded")?;
        let (id, secret) = raw.split_once(':').unwrap_or((&raw, ""));
        let unescape = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        let id = unescape(id).ok_or("client_id improperly encoded")?;
        let secret = unescape(secret).ok_or("client_secret improperly encoded")?;
        return Ok((id, secret));
    }
    Ok((
        form.get("client_id").cloned().unwrap_or_default(),
        form.get("client_secret").cloned().unwrap_or_default(),
    ))
}

async fn token(State(p): P, method: Method, headers: HeaderMap, body: String) -> Response {
    if method != Method::POST {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "method not allowed",
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (client_id, secret) = match client_credentials(&headers, &form) {
        Ok(c) => c,
        Err(e) => return token_error(StatusCode::BAD_REQUEST, "invalid_request", e),
    };
    let grant = get("grant_type");
    let supported = [
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    ];
    if !supported.contains(&grant.as_str()) {
        return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "");
    }
    let Some(client) = authenticate(&p, &client_id, &secret) else {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client credentials.",
        );
    };
    match grant.as_str() {
        "authorization_code" => code_grant(&p, &client, &get),
        "refresh_token" => refresh_grant(&p, &client, &get("refresh_token")),
        _ => token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid Device code.",
        ),
    }
}

/// The client, when its secret matches. Both sides are hashed first and the digests compared
/// in constant time, so neither the secret's bytes nor its length show in the timing.
fn authenticate(p: &Provider, client_id: &str, secret: &str) -> Option<Client> {
    use subtle::ConstantTimeEq;
    let digest = |s: &str| sha2::Sha256::digest(s.as_bytes());
    p.client(client_id)
        .filter(|c| {
            let want = c.secret.as_ref().map(|s| s.expose()).unwrap_or("");
            bool::from(digest(want).as_slice().ct_eq(digest(secret).as_slice()))
        })
        .cloned()
}

fn bad_request(error: &str, description: &str) -> Response {
    token_error(StatusCode::BAD_REQUEST, error, description)
}

/// `grant_type=authorization_code`: the code (checked first, deleted once used, as Dex keeps a
/// code across a failed PKCE check), PKCE, the redirect URI.
fn code_grant(p: &Provider, client: &Client, get: &dyn Fn(&str) -> String) -> Response {
    let code = get("code");
    if code.is_empty() {
        return bad_request("invalid_request", "Required param: code.");
    }
    let found = p.lock().codes.get(&code).cloned();
    let Some(c) =
        found.filter(|c| c.req.client_id == client.id && c.created.elapsed() < store::CODE_TTL)
    else {
        return bad_request("invalid_grant", "Invalid or expired code parameter.");
    };
    if let Err((error, description)) = check_pkce(&c, &get("code_verifier")) {
        return bad_request(error, description);
    }
    if get("redirect_uri") != c.req.redirect_uri {
        return bad_request(
            "invalid_request",
            "redirect_uri did not match URI from initial request.",
        );
    }
    if p.lock().codes.remove(&code).is_none() {
        return bad_request("invalid_grant", "Invalid or expired code parameter.");
    }
    issue(
        p,
        &client.id,
        &c.req.conn_id,
        &c.identity,
        &c.req.scopes,
        c.req.nonce.as_deref(),
        Some(&code),
    )
}

/// PKCE as Dex checks it, with Dex's error descriptions.
fn check_pkce(c: &Code, verifier: &str) -> Result<(), (&'static str, &'static str)> {
    match (&c.req.challenge, verifier.is_empty()) {
        (None, false) => Err((
            "invalid_request",
            "No PKCE flow started. Cannot check code_verifier.",
        )),
        (Some(_), true) => Err((
            "invalid_grant",
            "Expecting parameter code_verifier in PKCE flow.",
        )),
        (Some((challenge, method)), false) => {
            let computed = if method == "S256" {
                URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.to_string()
            };
            if &computed == challenge {
                Ok(())
            } else {
                Err(("invalid_grant", "Invalid code_verifier."))
            }
        }
        (None, true) => Ok(()),
    }
}

/// `grant_type=refresh_token`: single use, for the client it was issued to.
fn refresh_grant(p: &Provider, client: &Client, rt: &str) -> Response {
    if rt.is_empty() {
        return bad_request("invalid_request", "No refresh token is found in request.");
    }
    let claimed = "Refresh token is invalid or has already been claimed by another client.";
    let found = p.lock().refresh.remove(rt);
    let Some(r) = found else {
        return bad_request("invalid_request", claimed);
    };
    if r.client_id != client.id {
        p.lock().refresh.insert(rt.to_string(), r);
        return bad_request("invalid_grant", claimed);
    }
    issue(
        p,
        &client.id,
        &r.conn_id,
        &r.identity,
        &r.scopes,
        None,
        None,
    )
}

/// The token response: an access token, an ID token (at_hash, and c_hash for a code) and, with
/// `offline_access`, a refresh token (rotated on every use).
fn issue(
    p: &Provider,
    client_id: &str,
    conn_id: &str,
    identity: &Identity,
    scopes: &[String],
    nonce: Option<&str>,
    code: Option<&str>,
) -> Response {
    let lifetime = chrono::Duration::hours(24);
    let mut req = TokenRequest {
        issuer: &p.config.issuer,
        client_id,
        conn_id,
        identity,
        scopes,
        nonce,
        access_token: None,
        code: None,
        lifetime,
    };
    let access = match p.keys.sign(&req) {
        Ok(a) => a,
        Err(e) => return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e),
    };
    req.access_token = Some(&access);
    req.code = code;
    let id_token = match p.keys.sign(&req) {
        Ok(t) => t,
        Err(e) => return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e),
    };
    let claims = access
        .split('.')
        .nth(1)
        .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .unwrap_or(Value::Null);
    let mut body = json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": 86399,
    });
    {
        let mut store = p.lock();
        store.access.insert(access.clone(), claims);
        if scopes.iter().any(|s| s == "offline_access") {
            let rt = URL_SAFE_NO_PAD.encode(format!("{}:{}", new_id(), keys::random_hex(16)));
            store.refresh.insert(
                rt.clone(),
                Refresh {
                    client_id: client_id.to_string(),
                    scopes: scopes.to_vec(),
                    conn_id: conn_id.to_string(),
                    identity: identity.clone(),
                },
            );
            body["refresh_token"] = json!(rt);
        }
    }
    body["id_token"] = json!(id_token);
    json_response(StatusCode::OK, &body)
}

async fn userinfo(State(p): P, headers: HeaderMap) -> Response {
    let denied = |status: StatusCode| {
        let mut r = token_error(status, "access_denied", "Invalid bearer token.");
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    };
    let Some(h) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return denied(StatusCode::UNAUTHORIZED);
    };
    if h.len() < 7 || !h[..7].eq_ignore_ascii_case("bearer ") {
        return denied(StatusCode::UNAUTHORIZED);
    }
    let claims = p.lock().access.get(h[7..].trim()).cloned();
    match claims {
        Some(c) => json_response(StatusCode::OK, &c),
        None => denied(StatusCode::FORBIDDEN),
    }
}

async fn device_code(State(p): P, method: Method) -> Response {
    if method != Method::POST {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "method not allowed",
        );
    }
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let hex = keys::random_hex(8);
    let user: String = hex
        .bytes()
        .enumerate()
        .flat_map(|(i, b)| {
            let c = ALPHABET[(b as usize) % ALPHABET.len()] as char;
            if i == 4 { vec!['-', c] } else { vec![c] }
        })
        .collect();
    let issuer = p.config.issuer.trim_end_matches('/');
    json_response(
        StatusCode::OK,
        &json!({
            "device_code": keys::random_hex(16),
            "user_code": user,
            "verification_uri": format!("{issuer}/device"),
            "verification_uri_complete": format!("{issuer}/device?user_code={user}"),
            "expires_in": 300,
            "interval": 5
        }),
    )
}

/// Starts the provider on an ephemeral loopback port under the path of `target_issuer` (the
/// control inside `check`); returns its issuer and a guard that stops it when dropped.
pub async fn start_control(target_issuer: &str) -> Result<(String, ControlGuard), String> {
    let issuer_path = issuer_path(target_issuer);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| e.to_string())?;
    let addr: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
    // Named under .localhost (always loopback) so proxy rules treat it like a remote host.
    let issuer = format!(
        "http://dexcheck-control.localhost:{}{issuer_path}",
        addr.port()
    );
    let config = Config {
        issuer: issuer.clone(),
        clients: vec![config::app_client(
            &format!("{issuer}/../auth/callback"),
            None,
        )],
        connectors: vec![config::mock_connector()],
        release: Default::default(),
        extra_groups: 0,
    };
    // The control never signs: a fixed public key, so no run generates an RSA key.
    let provider = Provider::with_keys(config, Keys::public_only()).await?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = provider
            .serve(listener, async move {
                let _ = rx.await;
            })
            .await;
    });
    Ok((issuer, ControlGuard(Some(tx))))
}

/// Stops the control provider when dropped.
pub struct ControlGuard(Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for ControlGuard {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}
