//! The upstream IdP leg, before anyone logs in: does the IdP accept Dex's client and callback at
//! its authorization endpoint (`idp.authorize`, the browser's view), and Dex's client secret at its
//! token endpoint (`idp.client_auth`)? With Argo CD's `oidc.config` the client is Argo CD itself,
//! with its callback `URL/auth/callback`. Both requests are built as the client builds them; nothing is ever
//! submitted to a login page, and the secret goes only to the token endpoint the configured
//! issuer's own discovery names (or the connector type's fixed one), over https or to loopback.

use serde_json::Value;

use super::http::{Fetched, Follow, Request, Response, Settings, fetch};
use super::outcome::{Class, Failure};
use crate::diagnosis::{Check, CheckId};
use crate::knowledge::idp::{self, Cause, Said};
use crate::plan::endpoints::Endpoints;
use crate::plan::predict::Outcome;
use crate::secret::Secret;
use crate::setup::{Connector, Setup};

/// Redirects followed on the IdP's side before its login page or error page.
const MAX_HOPS: usize = 5;

/// The connector as Dex will present it to the IdP.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub connector_id: String,
    pub kind: String,
    /// The configured issuer (`oidc`, `google`), whose discovery is fetched.
    pub issuer: Option<String>,
    pub client_id: String,
    pub secret: Option<Secret>,
    /// The `redirect_uri` Dex sends.
    pub callback: String,
    /// The scopes Dex asks for, in its order.
    pub scopes: Vec<String>,
    /// `basicAuthUnsupported: true`: credentials as form parameters only.
    pub post_only: bool,
    /// `false` under `--no-secret-probe`.
    pub send_secret: bool,
    pub connector: Connector,
    /// Who is the IdP's client: Dex's connector, or Argo CD itself (`oidc.config`).
    pub client: Client,
}

/// The IdP's client: whose requests the probes build, and where their fields are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Client {
    /// Dex's connector: PKCE when the IdP offers S256 (Dex ≥ 2.45).
    #[default]
    Dex,
    /// Argo CD's `oidc.config`: PKCE only with `enablePKCEAuthentication`.
    ArgoCd { pkce: bool },
}

impl Client {
    /// Who sends the requests.
    pub fn name(self) -> &'static str {
        match self {
            Client::Dex => "Dex",
            Client::ArgoCd { .. } => "Argo CD",
        }
    }
    /// Where the client's fields are written.
    pub fn fields(self) -> &'static str {
        match self {
            Client::Dex => "the connector's",
            Client::ArgoCd { .. } => "oidc.config's",
        }
    }
    /// What to restart after changing them.
    pub fn restart(self) -> &'static str {
        match self {
            Client::Dex => "restart Dex",
            Client::ArgoCd { .. } => "restart argocd-server",
        }
    }
    /// The error the client logs when the token exchange fails (Dex's `oidc` connector;
    /// Argo CD's `util/oidc` HandleCallback).
    fn token_error(self) -> &'static str {
        match self {
            Client::Dex => "oidc: failed to get token",
            Client::ArgoCd { .. } => "failed to get token",
        }
    }
}

impl Upstream {
    /// Argo CD's own client from `oidc.config`: its client id and secret, the callback
    /// `URL/auth/callback`, the scopes Argo CD asks for (`GetScopesOrDefault`: openid, profile,
    /// email, groups unless `requestedScopes` is set).
    pub fn from_direct(
        d: &crate::setup::DirectOidc,
        callback: String,
        send_secret: bool,
    ) -> Upstream {
        let scopes = match &d.requested_scopes {
            Some(s) if !s.is_empty() => s.clone(),
            _ => ["openid", "profile", "email", "groups"]
                .map(String::from)
                .to_vec(),
        };
        Upstream {
            connector_id: "oidc.config".into(),
            kind: "oidc".into(),
            issuer: d.issuer.clone(),
            client_id: d.client_id.clone().unwrap_or_default(),
            secret: d.client_secret.clone(),
            callback,
            scopes,
            post_only: false,
            send_secret,
            connector: Connector {
                kind: "oidc".into(),
                id: "oidc.config".into(),
                name: d.name.clone().unwrap_or_default(),
                config: Default::default(),
                fields: Default::default(),
                config_is_map: true,
                stray: Vec::new(),
            },
            client: Client::ArgoCd { pkce: d.pkce },
        }
    }

    /// The first connector dexcheck can probe (`oidc`, `google`, `github`, `gitlab`,
    /// `microsoft`), with the callback Dex will send.
    pub fn from_setup(setup: &Setup, eps: &Endpoints, send_secret: bool) -> Option<Upstream> {
        let c = setup.connectors.iter().find(|c| {
            matches!(
                c.kind.as_str(),
                "oidc" | "google" | "github" | "gitlab" | "microsoft"
            )
        })?;
        let cfg = &c.config;
        let expected = eps.connector_callback.clone();
        let callback = match &cfg.redirect_uri {
            Some(r) if !setup.app.overwrites_redirect_uri(&c.kind) => r.clone(),
            _ => expected,
        };
        let issuer = match c.kind.as_str() {
            "oidc" => cfg.issuer.clone(),
            "google" => Some("https://accounts.google.com".into()),
            _ => None,
        };
        Some(Upstream {
            connector_id: c.id.clone(),
            kind: c.kind.clone(),
            issuer,
            client_id: cfg.client_id.clone().unwrap_or_default(),
            secret: cfg.client_secret.clone(),
            callback,
            scopes: dex_scopes(c),
            post_only: cfg.basic_auth_unsupported == Some(true),
            send_secret,
            connector: c.clone(),
            client: Client::Dex,
        })
    }
}

/// The scopes Dex's connector sends (`connector/oidc`: openid first, then the configured ones or
/// profile and email; `github`: user:email, read:org with orgs; `gitlab`: read_user;
/// `microsoft`: user.read).
fn dex_scopes(c: &Connector) -> Vec<String> {
    let cfg = &c.config;
    let v: Vec<&str> = match c.kind.as_str() {
        "github" if cfg.orgs.is_some() || cfg.load_all_groups == Some(true) => {
            vec!["user:email", "read:org"]
        }
        "github" => vec!["user:email"],
        "gitlab" => vec!["read_user"],
        "microsoft" => vec!["user.read"],
        _ => {
            let mut v = vec!["openid".to_string()];
            match &cfg.scopes {
                Some(s) if !s.is_empty() => v.extend(s.iter().cloned()),
                _ => v.extend(["profile".to_string(), "email".to_string()]),
            }
            return v;
        }
    };
    v.into_iter().map(String::from).collect()
}

/// The IdP's endpoints and what it says it supports.
#[derive(Debug, Clone, Default)]
pub struct IdpEndpoints {
    pub authorization: String,
    pub token: String,
    /// `token_endpoint_auth_methods_supported`; empty when not said.
    pub auth_methods: Vec<String>,
    pub pkce_s256: bool,
    pub claims: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
}

impl IdpEndpoints {
    /// From a discovery document that passed the issuer check.
    pub fn from_discovery(doc: &serde_json::Map<String, Value>) -> IdpEndpoints {
        let s = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let list = |k: &str| {
            doc.get(k).and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
        };
        IdpEndpoints {
            authorization: s("authorization_endpoint"),
            token: s("token_endpoint"),
            auth_methods: list("token_endpoint_auth_methods_supported").unwrap_or_default(),
            pkce_s256: list("code_challenge_methods_supported")
                .is_some_and(|m| m.iter().any(|x| x == "S256")),
            claims: list("claims_supported"),
            scopes: list("scopes_supported"),
        }
    }

    /// The endpoints a connector type fixes (no discovery): GitHub, GitLab, Microsoft.
    pub fn fixed(u: &Upstream) -> Option<IdpEndpoints> {
        let cfg = &u.connector.config;
        let (auth, token) = match u.kind.as_str() {
            "github" => {
                let host = cfg.host_name.as_deref().unwrap_or("github.com");
                (
                    format!("https://{host}/login/oauth/authorize"),
                    format!("https://{host}/login/oauth/access_token"),
                )
            }
            "gitlab" => {
                let base = cfg.base_url.as_deref().unwrap_or("https://gitlab.com");
                let base = base.trim_end_matches('/');
                (
                    format!("{base}/oauth/authorize"),
                    format!("{base}/oauth/token"),
                )
            }
            "microsoft" => {
                let tenant = cfg.tenant.as_deref().unwrap_or("common");
                let base = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0");
                (format!("{base}/authorize"), format!("{base}/token"))
            }
            _ => return None,
        };
        Some(IdpEndpoints {
            authorization: auth,
            token,
            ..IdpEndpoints::default()
        })
    }
}

/// Both IdP probes, concurrently.
pub async fn probe(s: &Settings, u: &Upstream, e: &IdpEndpoints) -> Vec<Check> {
    let (a, c) = tokio::join!(authorize(s, u, e), client_auth(s, u, e));
    vec![a, c]
}

fn random_token() -> String {
    use base64::Engine;
    use rand_core::RngCore;
    let mut b = [0u8; 24];
    rand_core::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The authorization request Dex sends the browser with (`oauth2.Config.AuthCodeURL`), PKCE
/// included when the IdP offers S256 (Dex ≥ 2.45).
pub fn authorize_url(u: &Upstream, e: &IdpEndpoints) -> String {
    let Ok(mut url) = url::Url::parse(&e.authorization) else {
        return e.authorization.clone();
    };
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("client_id", &u.client_id)
            .append_pair("redirect_uri", &u.callback)
            .append_pair("response_type", "code")
            .append_pair("scope", &u.scopes.join(" "))
            .append_pair("state", &random_token());
        let pkce = match u.client {
            Client::Dex => e.pkce_s256,
            Client::ArgoCd { pkce } => pkce,
        };
        if pkce {
            use base64::Engine;
            use sha2::Digest;
            let challenge = sha2::Sha256::digest(random_token().as_bytes());
            q.append_pair(
                "code_challenge",
                &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(challenge),
            )
            .append_pair("code_challenge_method", "S256");
        }
    }
    url.to_string()
}

/// What one answer of the authorization endpoint settles.
enum Hop {
    /// Follow the IdP's redirect to read its error page.
    Follow(url::Url),
    Accepted(String),
    Refused(Said),
    Inconclusive(String),
    Failed(Failure),
}

pub async fn authorize(s: &Settings, u: &Upstream, e: &IdpEndpoints) -> Check {
    let first = authorize_url(u, e);
    let mut url = first.clone();
    let mut hops = Vec::new();
    let mut elapsed = std::time::Duration::ZERO;
    let mut last: Option<Fetched> = None;
    let mut hop = Hop::Inconclusive("no answer".into());
    for _ in 0..MAX_HOPS {
        let f = fetch(s, &no_follow(&url)).await;
        elapsed += f.elapsed;
        hop = read_hop(&f, u, &e.authorization);
        last = Some(f);
        match &hop {
            Hop::Follow(next) => {
                hops.push(format!("→ {}", without_query(next)));
                url = next.to_string();
            }
            _ => break,
        }
    }
    let outcome = authorize_outcome(hop, u, e);
    let mut c = Check::observed(CheckId::IdpAuthorize, &first, outcome);
    c.duration_ms = Some(elapsed.as_millis() as u64);
    c.redirects = hops;
    c.clock_ahead_s = last
        .as_ref()
        .and_then(|f| f.result.as_ref().ok())
        .and_then(super::workstation::clock_ahead);
    c.expected = Some(u.callback.clone());
    if let Client::ArgoCd { .. } = u.client {
        c = c.title(format!(
            "IdP accepts Argo CD's client and callback {}",
            u.callback
        ));
    }
    let remedy = authorize_remedy(&c, u);
    c.remedy(remedy)
}

/// One answer of the authorization endpoint at `url`, read as `idp.authorize` reads it, and what
/// a token endpoint's `status` and `body` say (for the fuzz target `idp_answer`).
pub fn read_answers(
    url: &str,
    r: Response,
    token_status: u16,
    token_body: &[u8],
    u: &Upstream,
) -> (Outcome, Outcome) {
    let e = IdpEndpoints {
        authorization: url.to_string(),
        ..IdpEndpoints::default()
    };
    let f = Fetched {
        url: url.to_string(),
        result: Ok(r),
        hops: Vec::new(),
        elapsed: std::time::Duration::ZERO,
        proxy: None,
    };
    let hop = read_hop(&f, u, url);
    (
        authorize_outcome(hop, u, &e),
        token_verdict(token_status, token_body, u, AuthStyle::Basic),
    )
}

fn no_follow(url: &str) -> Request {
    Request {
        url: url.to_string(),
        form: None,
        follow: Follow::None,
        basic: None,
        origin: None,
    }
}

fn without_query(u: &url::Url) -> String {
    let mut u = u.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// One answer: a redirect back to Dex (or to another callback with an error), a redirect to an
/// error page (followed), to a login page (accepted), or a page that says yes or no.
fn read_hop(f: &Fetched, u: &Upstream, authorization: &str) -> Hop {
    let r = match &f.result {
        Err(e) => return Hop::Failed(e.clone()),
        Ok(r) => r,
    };
    if (300..400).contains(&r.status) {
        let Some(next) = r
            .location
            .as_deref()
            .and_then(|l| url::Url::parse(&f.url).ok()?.join(l).ok())
        else {
            return Hop::Inconclusive(format!("{} without a Location", r.status_line()));
        };
        return redirect_hop(&f.url, next, u, authorization);
    }
    let error_page =
        url::Url::parse(&f.url).is_ok_and(|u| u.path().to_ascii_lowercase().contains("error"));
    page_hop(r, error_page)
}

fn redirect_hop(from: &str, next: url::Url, u: &Upstream, authorization: &str) -> Hop {
    if let Some(said) = error_in_url(&next) {
        return Hop::Refused(said);
    }
    if same_endpoint(&next, &u.callback) {
        return Hop::Accepted(format!(
            "the IdP sends the browser straight back to {}'s callback with a code (a session already signed in)",
            u.client.name()
        ));
    }
    let same_origin = url::Url::parse(from).is_ok_and(|f| f.origin() == next.origin());
    // An error page is read; so is a step of the authorization endpoint itself (Dex's
    // `/auth` → `/auth/<connector>`, where it checks the client and the redirect URI).
    let auth_step = url::Url::parse(authorization).is_ok_and(|a| {
        next.path()
            .starts_with(&format!("{}/", a.path().trim_end_matches('/')))
    });
    if same_origin && (auth_step || next.path().to_ascii_lowercase().contains("error")) {
        return Hop::Follow(next);
    }
    Hop::Accepted(format!(
        "the IdP sends the browser on to its sign-in page {}",
        without_query(&next)
    ))
}

fn same_endpoint(a: &url::Url, b: &str) -> bool {
    url::Url::parse(b).is_ok_and(|b| without_query(a) == without_query(&b))
}

/// `error` and `error_description` in a URL's query or fragment (OAuth 2.0 §4.1.2.1).
fn error_in_url(u: &url::Url) -> Option<Said> {
    let from = |pairs: Vec<(String, String)>| {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let code = get("error")?;
        Some(said_for(
            &code,
            &get("error_description").unwrap_or_default(),
        ))
    };
    let query: Vec<(String, String)> = u.query_pairs().into_owned().collect();
    let fragment: Vec<(String, String)> = u
        .fragment()
        .map(|f| {
            url::form_urlencoded::parse(f.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    from(query).or_else(|| from(fragment))
}

/// An OAuth error code and description, read with the families' words first.
fn said_for(code: &str, description: &str) -> Said {
    let words = if description.is_empty() {
        code.to_string()
    } else {
        format!("{code}: {description}")
    };
    match idp::refusal_in(&words) {
        Some(mut s) => {
            s.words = words;
            s
        }
        None => Said {
            family: None,
            cause: idp::cause_of_error(code, description),
            words,
            source: None,
        },
    }
}

/// A page (or JSON) from the authorization endpoint; `error_page`: one the IdP sent the browser
/// to as its error page, which is never a sign-in page.
fn page_hop(r: &Response, error_page: bool) -> Hop {
    let raw = String::from_utf8_lossy(&r.body);
    let text = idp::page_text(&raw);
    if let Some(said) = idp::refusal_in(&text) {
        return Hop::Refused(said);
    }
    if let Some(said) = oauth_error_in(&raw, &text) {
        return Hop::Refused(said);
    }
    if error_page {
        return Hop::Inconclusive(format!(
            "the IdP sent the browser to its error page ({}) in words dexcheck does not know: {}",
            r.status_line(),
            idp::page_text(&raw)
                .replace('\n', " ")
                .chars()
                .take(160)
                .collect::<String>()
        ));
    }
    match r.status {
        200..=299 => Hop::Accepted(format!(
            "the IdP answered {} with a page and no error: its sign-in page",
            r.status_line()
        )),
        404 | 500..=599 => Hop::Failed(Failure::new(
            Class::HttpStatus(r.status),
            format!("{} from the authorization endpoint", r.status_line()),
            "the IdP's authorization endpoint itself failed",
        )),
        _ => Hop::Inconclusive(format!(
            "{} without an error the IdP names: {}",
            r.status_line(),
            r.body_excerpt(120)
        )),
    }
}

/// An OAuth error in a JSON body, or in a page's `error: …` / `error_description: …` lines.
fn oauth_error_in(raw: &str, text: &str) -> Option<Said> {
    if let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(raw) {
        let code = doc.get("error").and_then(Value::as_str)?;
        let desc = doc
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or("");
        return Some(said_for(code, desc));
    }
    let field = |k: &str| {
        text.lines().find_map(|l| {
            let rest = l.trim().strip_prefix(k)?;
            let v = rest.trim_start().strip_prefix([':', '='])?.trim();
            (!v.is_empty()).then(|| v.to_string())
        })
    };
    let code = field("error")?;
    Some(said_for(
        &code,
        &field("error_description").unwrap_or_default(),
    ))
}

fn family_name(said: &Said, u: &Upstream) -> String {
    said.family
        .and_then(idp::family)
        .or_else(|| idp::family_of(u.issuer.as_deref().unwrap_or(""), &u.kind))
        .map(|f| f.name.to_string())
        .unwrap_or_else(|| "the IdP".into())
}

fn authorize_outcome(hop: Hop, u: &Upstream, e: &IdpEndpoints) -> Outcome {
    match hop {
        Hop::Accepted(how) => Outcome::pass(format!(
            "client {} and callback {} accepted: {how}",
            u.client_id, u.callback
        )),
        Hop::Refused(said) => {
            let who = family_name(&said, u);
            let sender = u.client.name();
            let source = said
                .source
                .map(|s| format!(" ({who}'s words, as in {s})"))
                .unwrap_or_default();
            Outcome::fail(
                said.cause.class(false),
                said.words.clone(),
                format!(
                    "{who} refused the authorization request {sender} sends for client {}: {}{source}; the callback {sender} sends is {}",
                    u.client_id,
                    said.cause
                        .describe()
                        .replace("Dex's", &format!("{sender}'s")),
                    u.callback
                ),
            )
        }
        Hop::Inconclusive(why) => Outcome {
            status: crate::plan::predict::Status::Warn,
            class: Some(Class::Inconclusive),
            go_error: None,
            note: format!(
                "the authorization endpoint {} neither showed a sign-in page nor refused: {why}",
                e.authorization
            ),
        },
        Hop::Follow(next) => Outcome {
            status: crate::plan::predict::Status::Warn,
            class: Some(Class::Inconclusive),
            go_error: None,
            note: format!(
                "the IdP redirected more than {MAX_HOPS} times without a sign-in or error page (last {})",
                without_query(&next)
            ),
        },
        Hop::Failed(f) => {
            let get = format!("Get {:?}: {}", e.authorization, f.go_error);
            Outcome::fail(f.class, get, f.note)
        }
    }
}

/// Where to fix a refusal, in the family's console words (hedged when only the issuer's form
/// suggests the family).
fn authorize_remedy(c: &Check, u: &Upstream) -> Option<String> {
    let issuer = u.issuer.as_deref().unwrap_or("");
    let at =
        idp::register_at(issuer, &u.kind).unwrap_or_else(|| "the IdP's client settings".into());
    match c.class? {
        Class::IdpRedirectUri => Some(format!(
            "Register exactly {} as a redirect URI of client {} ({at}); {} sends it byte for byte",
            u.callback,
            u.client_id,
            u.client.name()
        )),
        Class::IdpUnknownClient => Some(format!(
            "Set {} clientID to the client id the IdP lists for this application; {:?} is not one of its clients (or create the client, with {} as its redirect URI: {at})",
            u.client.fields(),
            u.client_id,
            u.callback
        )),
        Class::IdpScope => Some(format!(
            "Allow the scopes {:?} for client {} at the IdP, or remove the refused one from {} scopes",
            u.scopes.join(" "),
            u.client_id,
            u.client.fields()
        )),
        Class::IdpResponseType => Some(format!(
            "Enable the authorization code flow for client {} ({at})",
            u.client_id
        )),
        Class::Inconclusive => None,
        _ => Some(format!(
            "The IdP's discovery names {} as its authorization endpoint and it failed: check {} issuer, and that the browser reaches the IdP",
            c.url
                .as_deref()
                .and_then(|u| u.split('?').next())
                .unwrap_or(""),
            u.client.fields()
        )),
    }
}

/// Argo CD maps users to RBAC roles by the `groups` claim (`argocd-rbac-cm` `scopes`, default
/// `[groups]`, `util/rbac`): an IdP that does not list it may still send it, so a warning.
fn argo_groups_claim(u: &Upstream, e: &IdpEndpoints) -> Option<Check> {
    let claims = e.claims.as_ref()?;
    if claims.iter().any(|c| c == "groups") {
        return None;
    }
    let o = Outcome {
        status: crate::plan::predict::Status::Warn,
        class: Some(Class::ClaimNotOffered),
        go_error: None,
        note: "the IdP's discovery does not list groups in claims_supported: Argo CD's RBAC reads group membership from the groups claim (argocd-rbac-cm scopes, default [groups]), so users may log in with no role".into(),
    };
    let mut c = Check::new(CheckId::IdpClaims, o);
    c.observed = true;
    Some(c.remedy(Some(format!(
        "Have the IdP put the user's groups in a groups claim for client {} (a groups mapper or scope), or set argocd-rbac-cm scopes to the claim it does send",
        u.client_id
    ))))
}

/// The claims Dex's `oidc` connector needs against the IdP's `claims_supported` and
/// `scopes_supported` (`connector/oidc`: `email_verified` with the email scope unless
/// `insecureSkipEmailVerified`, the `userNameKey` claim, each `claimMapping` target).
pub fn claims_check(u: &Upstream, e: &IdpEndpoints) -> Option<Check> {
    if let Client::ArgoCd { .. } = u.client {
        return argo_groups_claim(u, e);
    }
    if u.kind != "oidc" {
        return None;
    }
    let cfg = &u.connector.config;
    let mut fail = Vec::new();
    let mut warn = Vec::new();
    if let Some(claims) = &e.claims {
        let has = |c: &str| claims.iter().any(|x| x == c);
        let email = u.scopes.iter().any(|s| s == "email");
        if email && !has("email_verified") && cfg.insecure_skip_email_verified != Some(true) {
            fail.push("email_verified".to_string());
        }
        let name = cfg.user_name_key.as_deref().unwrap_or("name");
        let mapped = cfg.claim_mapping.values().map(String::as_str);
        for c in std::iter::once(name).chain(mapped) {
            if !has(c) {
                warn.push(format!("claim {c:?}"));
            }
        }
    }
    if let Some(scopes) = &e.scopes {
        for sc in u.scopes.iter().filter(|s| !scopes.contains(s)) {
            warn.push(format!("scope {sc:?}"));
        }
    }
    if e.claims.is_none() && e.scopes.is_none() {
        return None;
    }
    Some(claims_outcome(u, fail, warn))
}

fn claims_outcome(u: &Upstream, fail: Vec<String>, warn: Vec<String>) -> Check {
    let url = u.issuer.clone().unwrap_or_default();
    if let Some(c) = fail.first() {
        let o = Outcome::fail(
            Class::ClaimNotOffered,
            format!("missing {c:?} claim"),
            format!(
                "the IdP's discovery does not list {c} in claims_supported, and Dex's oidc connector refuses a login without it (scopes include email){}",
                if warn.is_empty() {
                    String::new()
                } else {
                    format!("; also not listed: {}", warn.join(", "))
                }
            ),
        );
        return Check::observed(CheckId::IdpClaims, &url, o).remedy(Some(
            "Make the IdP send email_verified (a claim mapping at the IdP), or set insecureSkipEmailVerified: true in the connector (every email then counts as verified), or getUserInfo: true if its userinfo sends it".into(),
        ));
    }
    if !warn.is_empty() {
        let o = Outcome {
            status: crate::plan::predict::Status::Warn,
            class: Some(Class::ClaimNotOffered),
            go_error: None,
            note: format!(
                "the IdP's discovery does not list {} (it may still send them; Dex fails a login on a missing userNameKey claim)",
                warn.join(", ")
            ),
        };
        return Check::observed(CheckId::IdpClaims, &url, o).remedy(Some(
            "Map the claims at the IdP, or point userNameKey and claimMapping at claims the IdP lists in claims_supported".into(),
        ));
    }
    Check::observed(
        CheckId::IdpClaims,
        &url,
        Outcome::pass(format!(
            "the IdP lists every claim and scope connector {:?} needs",
            u.connector_id
        )),
    )
}

/// Go's `url.QueryEscape`, which x/oauth2 applies to the id and secret of a Basic header.
pub fn go_query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// How Dex authenticates its client at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStyle {
    Basic,
    Post,
}

impl AuthStyle {
    pub fn name(self) -> &'static str {
        match self {
            AuthStyle::Basic => "client_secret_basic",
            AuthStyle::Post => "client_secret_post",
        }
    }
}

/// The styles to try in order: x/oauth2's auto-detection tries Basic, then form parameters;
/// `basicAuthUnsupported` and the IdP's `token_endpoint_auth_methods_supported` narrow it.
pub fn auth_styles(u: &Upstream, e: &IdpEndpoints) -> Vec<AuthStyle> {
    let offers = |m: &str| e.auth_methods.is_empty() || e.auth_methods.iter().any(|x| x == m);
    let mut v = Vec::new();
    if !u.post_only && offers("client_secret_basic") {
        v.push(AuthStyle::Basic);
    }
    if offers("client_secret_post") || (u.post_only && e.auth_methods.is_empty()) {
        v.push(AuthStyle::Post);
    }
    v
}

/// Why the secret must not be sent to `url`, if it must not.
pub fn secret_destination_refused(url: &str) -> Option<String> {
    let Ok(u) = url::Url::parse(url) else {
        return Some(format!("the token endpoint {url:?} is not a URL"));
    };
    let loopback = match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match u.scheme() {
        "https" => None,
        "http" if loopback => None,
        _ => Some(format!(
            "{url} is neither https nor plain http to a loopback address: dexcheck sends no client secret there"
        )),
    }
}

/// The token request: a made-up code for Dex's callback, the client authenticated by `style`.
pub fn token_request(u: &Upstream, e: &IdpEndpoints, style: AuthStyle) -> Request {
    let secret = u.secret.clone().unwrap_or_default();
    let mut form = vec![
        ("grant_type".to_string(), "authorization_code".to_string()),
        (
            "code".to_string(),
            format!("dexcheck-probe-{}", random_token()),
        ),
        ("redirect_uri".to_string(), u.callback.clone()),
    ];
    let basic = match style {
        AuthStyle::Basic => Some((
            go_query_escape(&u.client_id),
            Secret::new(go_query_escape(secret.expose())),
        )),
        AuthStyle::Post => {
            form.push(("client_id".into(), u.client_id.clone()));
            form.push(("client_secret".into(), secret.expose().to_string()));
            None
        }
    };
    Request {
        url: e.token.clone(),
        form: Some(form),
        follow: Follow::None,
        basic,
        origin: None,
    }
}

/// Why the client-auth probe does not run, if it does not.
pub fn client_auth_skipped(u: &Upstream, e: &IdpEndpoints, styles: &[AuthStyle]) -> Option<String> {
    if !u.send_secret {
        return Some("--no-secret-probe: no client secret was sent anywhere".into());
    }
    match &u.secret {
        None => return Some("the connector has no clientSecret in this input".into()),
        Some(s) if s.is_empty() => {
            return Some(format!("{} clientSecret is empty", u.client.fields()));
        }
        Some(s) if s.expose().starts_with('$') => {
            return Some(format!(
                "{} clientSecret is a reference ($…) with no value here (see the secret_refs row); a reference is never sent as a secret",
                u.client.fields()
            ));
        }
        _ => {}
    }
    if e.token.is_empty() {
        return Some("the IdP's discovery names no token_endpoint".into());
    }
    if styles.is_empty() {
        return Some(format!(
            "the IdP offers neither client_secret_basic nor client_secret_post ({}): Dex's connector cannot authenticate with a secret",
            e.auth_methods.join(", ")
        ));
    }
    secret_destination_refused(&e.token).map(|why| format!("the token endpoint {why}"))
}

async fn client_auth(s: &Settings, u: &Upstream, e: &IdpEndpoints) -> Check {
    let styles = auth_styles(u, e);
    if let Some(why) = client_auth_skipped(u, e, &styles) {
        return Check::observed(CheckId::IdpClientAuth, &e.token, Outcome::skip(why));
    }
    let mut tried = Vec::new();
    let mut elapsed = std::time::Duration::ZERO;
    let mut result = None;
    for style in styles {
        let f = fetch(s, &token_request(u, e, style)).await;
        elapsed += f.elapsed;
        let answer = token_answer(&f, u, e, style);
        tried.push(style.name());
        let retry = answer.class == Some(Class::InvalidClient) && style == AuthStyle::Basic;
        result = Some((answer, f));
        if !retry {
            break;
        }
    }
    let Some((mut outcome, f)) = result else {
        return Check::observed(CheckId::IdpClientAuth, &e.token, Outcome::skip("not sent"));
    };
    outcome.note = format!(
        "{} (client secret sent to {} by {})",
        outcome.note,
        e.token,
        tried.join(", then ")
    );
    let mut c = Check::observed(CheckId::IdpClientAuth, &e.token, outcome);
    c.duration_ms = Some(elapsed.as_millis() as u64);
    c.clock_ahead_s = f
        .result
        .as_ref()
        .ok()
        .and_then(super::workstation::clock_ahead);
    if c.class == Some(Class::InvalidClient) {
        c.remedy = Some(secret_remedy(u));
    }
    c
}

/// The fix for a refused client id or secret.
pub fn secret_remedy(u: &Upstream) -> String {
    format!(
        "Check {f} clientID {:?}, and copy the client secret of that client from the IdP again (a secret's value, not its id; it may have been rotated or expired) into {f} clientSecret, then {}",
        u.client_id,
        u.client.restart(),
        f = u.client.fields()
    )
}

/// A token endpoint's answer to a made-up code: the client was authenticated when only the code
/// is refused.
pub fn token_answer(f: &Fetched, u: &Upstream, e: &IdpEndpoints, style: AuthStyle) -> Outcome {
    match &f.result {
        Err(err) => Outcome::fail(
            err.class,
            format!("Post {:?}: {}", e.token, err.go_error),
            err.note.clone(),
        ),
        Ok(r) => token_verdict(r.status, &r.body, u, style),
    }
}

/// The IdP's answer text with the secret (as sent, and escaped) taken out: an IdP that echoes
/// the request must not carry it into a report.
fn scrub(text: &str, u: &Upstream) -> String {
    let Some(secret) = u.secret.as_ref().filter(|s| s.expose().len() >= 4) else {
        return text.to_string();
    };
    let raw = secret.expose();
    let forms = [
        raw.to_string(),
        go_query_escape(raw),
        url::form_urlencoded::byte_serialize(raw.as_bytes()).collect(),
    ];
    forms.iter().fold(text.to_string(), |t, f| {
        t.replace(f.as_str(), crate::secret::REDACTED)
    })
}

/// What a status and body from the token endpoint say about the client's credentials; the
/// secret is scrubbed from the words however the IdP encoded an echo of it.
pub fn token_verdict(status: u16, body: &[u8], u: &Upstream, style: AuthStyle) -> Outcome {
    let mut o = token_words(status, body, u, style);
    o.note = scrub(&o.note, u);
    o.go_error = o.go_error.map(|g| scrub(&g, u));
    o
}

fn token_words(status: u16, body: &[u8], u: &Upstream, style: AuthStyle) -> Outcome {
    let text = scrub(&String::from_utf8_lossy(body), u);
    let (code, desc) = oauth_error_fields(text.as_bytes());
    let status_line = super::http::status_line(status);
    let words = match (&code, desc.is_empty()) {
        (Some(c), false) => format!("oauth2: {c:?} {desc:?}"),
        (Some(c), true) => format!("oauth2: {c:?}"),
        (None, _) => format!(
            "oauth2: cannot fetch token: {status_line}\nResponse: {}",
            text.trim().chars().take(160).collect::<String>()
        ),
    };
    let refusal = idp::refusal_in(&format!("{} {desc}", code.as_deref().unwrap_or("")));
    let cause = refusal
        .as_ref()
        .map(|s| s.cause)
        .or_else(|| code.as_deref().map(|c| idp::cause_of_error(c, &desc)));
    let code_refused = code
        .as_deref()
        .is_some_and(|c| idp::CODE_REFUSED.contains(&c));
    // RFC 6749 §5.2: a failed client authentication may answer 401 with no body a client reads.
    let bare_401 = code.is_none() && status == 401;
    if (matches!(cause, Some(Cause::ClientCredentials | Cause::UnknownClient)) && !code_refused)
        || bare_401
    {
        return Outcome::fail(
            Class::InvalidClient,
            format!("{}: {words}", u.client.token_error()),
            format!(
                "the IdP refused client {} with this secret by {}: {}; every login would end at {}'s token exchange",
                u.client_id,
                style.name(),
                Cause::ClientCredentials.describe(),
                u.client.name()
            ),
        );
    }
    if code_refused {
        return Outcome::pass(format!(
            "client {} and its secret accepted by {}: only the made-up code was refused ({})",
            u.client_id,
            style.name(),
            code.unwrap_or_default()
        ));
    }
    Outcome {
        status: crate::plan::predict::Status::Warn,
        class: Some(Class::Inconclusive),
        go_error: Some(words),
        note: format!(
            "the token endpoint answered {status_line} to a made-up code without saying whether it accepted the client"
        ),
    }
}

/// `error` and `error_description` of a token answer, JSON or form-encoded (GitHub's default).
fn oauth_error_fields(body: &[u8]) -> (Option<String>, String) {
    if let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(body) {
        let s = |k: &str| doc.get(k).and_then(Value::as_str).map(String::from);
        return (s("error"), s("error_description").unwrap_or_default());
    }
    let text = String::from_utf8_lossy(body);
    if text.trim_start().starts_with('<') {
        return (None, String::new());
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(text.trim().as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    (get("error"), get("error_description").unwrap_or_default())
}

/// What the Dex pod sends on stdin for its token request: the URL (`U `), curl config (`C `
/// lines: the form, Basic credentials when that is the style, JSON wanted) and, when the IdP
/// takes form credentials, the body for wget (`B `). Nothing of it reaches the pod's argv.
pub fn pod_token_input(u: &Upstream, e: &IdpEndpoints) -> Option<(Secret, AuthStyle)> {
    let styles = auth_styles(u, e);
    let style = *styles.first()?;
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let form = |r: &Request| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(r.form.iter().flatten())
            .finish()
    };
    // The script reads one line per field: a URL with a line break in it is not sent.
    if e.token.chars().any(char::is_control) {
        return None;
    }
    let first = token_request(u, e, style);
    let mut lines = vec![
        format!("U {}", e.token),
        format!("C data = {}", quote(&form(&first))),
        "C header = \"Accept: application/json\"".to_string(),
    ];
    if let Some((user, pass)) = &first.basic {
        lines.push(format!(
            "C user = {}",
            quote(&format!("{user}:{}", pass.expose()))
        ));
    }
    if styles.contains(&AuthStyle::Post) {
        lines.push(format!("B {}", form(&token_request(u, e, AuthStyle::Post))));
    }
    Some((Secret::new(lines.join("\n") + "\n"), style))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_escape_as_go_does() {
        assert_eq!(go_query_escape("a+b c/d~*"), "a%2Bb+c%2Fd~%2A");
    }

    #[test]
    fn the_secret_goes_only_to_https_or_loopback() {
        assert!(secret_destination_refused("https://idp.example/token").is_none());
        assert!(secret_destination_refused("http://127.0.0.1:9/token").is_none());
        assert!(secret_destination_refused("http://[::1]:9/token").is_none());
        assert!(secret_destination_refused("http://idp.example/token").is_some());
        assert!(secret_destination_refused("http://127.0.0.1.evil.example/t").is_some());
    }
}
