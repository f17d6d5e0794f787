//! Dex's `oidc` connector: discovery of the upstream at start (Dex refuses to start without
//! it), the authorization redirect (with PKCE S256 when the upstream offers it, as Dex ≥2.45),
//! the code exchange (Basic with URL-escaped credentials, then form, as x/oauth2's auto-detect),
//! ID-token verification (openidconnect) and the claims → identity mapping.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};
use serde_json::Value;
use sha2::Digest;

use super::config::OidcConnector;
use super::keys::{Identity, random_hex};

#[derive(Debug, Clone)]
pub struct Upstream {
    pub config: OidcConnector,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub pkce_s256: bool,
    /// One HTTP client for discovery, token exchanges and keys.
    client: reqwest::Client,
}

fn http() -> Result<reqwest::Client, String> {
    let b = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::limited(5));
    crate::probe::proxy::ProxyEnv::from_env()
        .configure(b)
        .build()
        .map_err(|e| e.to_string())
}

/// A transport error in Go's words, as Dex would log it: `Get "URL": dial tcp …: connect: …`.
fn go_transport_error(url: &str, e: &reqwest::Error, started: std::time::Instant) -> String {
    let parsed = url::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str())
        .unwrap_or("")
        .trim_matches(['[', ']'])
        .to_string();
    let port = parsed
        .as_ref()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(80);
    let dial_addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let ctx = crate::probe::outcome::Context {
        scheme: parsed.as_ref().map(|u| u.scheme()).unwrap_or(""),
        host: &host,
        dial_addr,
        proxy: None,
        elapsed: started.elapsed(),
        timeout: Duration::from_secs(10),
        in_body: false,
    };
    let f = crate::probe::outcome::classify(e, &ctx);
    format!("Get {url:?}: {}", f.go_error)
}

async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value, String> {
    let started = std::time::Instant::now();
    let r = client
        .get(url)
        .send()
        .await
        .map_err(|e| go_transport_error(url, &e, started))?;
    let status = r.status();
    let body = r.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {}", body.trim()));
    }
    serde_json::from_str(&body)
        .map_err(|e| format!("oidc: failed to decode provider discovery object: {e}"))
}

impl Upstream {
    /// `getProvider`: discovery, whose `issuer` must equal the configured one exactly.
    pub async fn discover(config: &OidcConnector) -> Result<Upstream, String> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            config.issuer.trim_end_matches('/')
        );
        let client = http()?;
        let doc = get_json(&client, &url)
            .await
            .map_err(|e| format!("failed to get provider: {e}"))?;
        let got = doc["issuer"].as_str().unwrap_or("");
        if got != config.issuer {
            return Err(format!(
                "failed to get provider: oidc: issuer did not match the issuer returned by provider, expected {:?} got {got:?}",
                config.issuer
            ));
        }
        let field = |k: &str| {
            doc[k]
                .as_str()
                .map(str::to_string)
                .ok_or(format!("failed to get provider: discovery has no {k}"))
        };
        Ok(Upstream {
            config: config.clone(),
            authorization_endpoint: field("authorization_endpoint")?,
            token_endpoint: field("token_endpoint")?,
            jwks_uri: field("jwks_uri")?,
            pkce_s256: doc["code_challenge_methods_supported"]
                .as_array()
                .is_some_and(|a| a.iter().any(|m| m == "S256")),
            client,
        })
    }

    /// The scopes Dex's `oidc` connector asks for: `openid` prepended to the configured ones (so
    /// a configured `openid` is sent twice, as Dex sends it), else `openid profile email`.
    fn scopes(&self) -> String {
        let mut s = vec!["openid".to_string()];
        if self.config.scopes.is_empty() {
            s.extend(["profile".to_string(), "email".to_string()]);
        } else {
            s.extend(self.config.scopes.iter().cloned());
        }
        s.join(" ")
    }

    /// The upstream authorization URL for auth request `state`; the PKCE verifier to keep.
    pub fn login_url(&self, state: &str) -> (String, Option<String>) {
        let mut u = match url::Url::parse(&self.authorization_endpoint) {
            Ok(u) => u,
            Err(_) => return (self.authorization_endpoint.clone(), None),
        };
        let verifier = self.pkce_s256.then(|| random_hex(32));
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("client_id", &self.config.client_id)
                .append_pair("redirect_uri", &self.config.redirect_uri)
                .append_pair("response_type", "code")
                .append_pair("scope", &self.scopes())
                .append_pair("state", state);
            if let Some(v) = &verifier {
                let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.as_bytes()));
                q.append_pair("code_challenge", &challenge)
                    .append_pair("code_challenge_method", "S256");
            }
        }
        (u.to_string(), verifier)
    }

    /// The callback: exchange the code, verify the ID token, map its claims.
    pub async fn identity(&self, code: &str, verifier: Option<&str>) -> Result<Identity, String> {
        let c = &self.config;
        let secret = c
            .client_secret
            .as_ref()
            .map(|s| s.expose().to_string())
            .unwrap_or_default();
        let mut form = vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code.to_string()),
            ("redirect_uri", c.redirect_uri.clone()),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v.to_string()));
        }
        let esc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let client = &self.client;
        let basic = client
            .post(&self.token_endpoint)
            .basic_auth(esc(&c.client_id), Some(esc(&secret)))
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("oidc: failed to get token: {e}"))?;
        let resp = if basic.status().is_success() {
            basic
        } else {
            let mut f = form.clone();
            f.push(("client_id", c.client_id.clone()));
            f.push(("client_secret", secret.clone()));
            client
                .post(&self.token_endpoint)
                .form(&f)
                .send()
                .await
                .map_err(|e| format!("oidc: failed to get token: {e}"))?
        };
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("oidc: failed to get token: {e}"))?;
        let body: Value = serde_json::from_str(&text)
            .map_err(|e| format!("oidc: failed to get token: {status}: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "oidc: failed to get token: oauth2: {:?} {:?}",
                body["error"], body["error_description"]
            ));
        }
        let raw = body["id_token"]
            .as_str()
            .ok_or("oidc: no id_token in token response")?;
        let jwks: CoreJsonWebKeySet =
            serde_json::from_value(get_json(client, &self.jwks_uri).await?)
                .map_err(|e| format!("oidc: failed to decode keys: {e}"))?;
        let token: CoreIdToken = raw
            .parse()
            .map_err(|e| format!("oidc: malformed jwt: {e}"))?;
        let verifier = CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(c.client_id.clone()),
            ClientSecret::new(secret),
            IssuerUrl::new(c.issuer.clone()).map_err(|e| e.to_string())?,
            jwks,
        );
        token
            .claims(&verifier, |_: Option<&Nonce>| Ok(()))
            .map_err(|e| format!("oidc: failed to verify ID Token: {e}"))?;
        // Verified: read every claim, including the ones openidconnect has no field for.
        let payload = raw.split('.').nth(1).ok_or("oidc: malformed jwt")?;
        let claims: Value = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("oidc: failed to decode claims")?;
        identity_from_claims(c, &claims)
    }
}

/// `createIdentity` (oidc.go): sub (or userIDKey), name (or userNameKey), email and
/// email_verified, preferred_username, groups — each falling back to `claimMapping`.
pub fn identity_from_claims(c: &OidcConnector, claims: &Value) -> Result<Identity, String> {
    let get = |k: &str| claims.get(k).filter(|v| !v.is_null());
    let mapped = |std: &str| get(std).or_else(|| c.claim_mapping.get(std).and_then(|k| get(k)));
    let id_key = c.user_id_key.as_deref().unwrap_or("sub");
    let user_id = get(id_key)
        .and_then(Value::as_str)
        .ok_or(format!("missing \"{id_key}\" claim"))?
        .to_string();
    let name_key = c.user_name_key.as_deref().unwrap_or("name");
    let username = get(name_key)
        .and_then(Value::as_str)
        .ok_or(format!("missing \"{name_key}\" claim"))?
        .to_string();
    let email = mapped("email")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let email_verified = match get("email_verified") {
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("malformed \"email_verified\" claim".into()),
        None if c.scopes.is_empty() || c.scopes.iter().any(|s| s == "email") => {
            return Err("missing \"email_verified\" claim".into());
        }
        None => false,
    };
    let groups = match mapped("groups") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|g| match g {
                Value::String(s) => Ok(s.clone()),
                Value::Object(o) => o
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or(()),
                _ => Err(()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "malformed \"groups\" claim".to_string())?,
        Some(Value::String(s)) => vec![s.clone()],
        Some(_) => return Err("malformed \"groups\" claim".into()),
        None => Vec::new(),
    };
    Ok(Identity {
        preferred_username: mapped("preferred_username")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        user_id,
        username,
        email,
        email_verified,
        groups,
    })
}
