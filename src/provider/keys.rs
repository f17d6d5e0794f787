//! The signing key (RSA-2048, 40-hex `kid`, as Dex's local signer), the JWKS Dex serves, ID and
//! access tokens signed RS256 through openidconnect, and Dex's `sub` encoding.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreGenderClaim, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, AuthorizationCode, EndUserEmail, EndUserName,
    EndUserUsername, IdTokenClaims, IssuerUrl, JsonWebKeyId, LocalizedClaim, Nonce, StandardClaims,
    SubjectIdentifier,
};
use rand_core::{OsRng, RngCore};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};

/// `groups`, which openidconnect's standard claims do not carry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DexClaims {
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub groups: Vec<String>,
}
impl AdditionalClaims for DexClaims {}

/// Random bytes as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Dex's `storage.NewID()`: 16 random bytes, base32 lower-case without padding (26 chars).
pub fn new_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for byte in b {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Dex's subject: base64url (no padding) of the protobuf `{1: user_id, 2: conn_id}`.
pub fn subject(user_id: &str, conn_id: &str) -> String {
    fn field(out: &mut Vec<u8>, tag: u8, s: &str) {
        if s.is_empty() {
            return;
        }
        out.push(tag);
        let mut n = s.len();
        while n >= 0x80 {
            out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out.extend_from_slice(s.as_bytes());
    }
    let mut b = Vec::new();
    field(&mut b, 0x0a, user_id);
    field(&mut b, 0x12, conn_id);
    URL_SAFE_NO_PAD.encode(b)
}

pub struct Keys {
    pub kid: String,
    /// `None` for the control, which serves keys but never signs.
    signing: Option<CoreRsaPrivateSigningKey>,
    jwks: String,
}

/// The control's public key, made once (`openssl genrsa 2048`) and kept without its private
/// half: the control serves a well-formed key set but never signs, so no run pays for a key.
const CONTROL_N: &str = "yb349fcLXn5Ry_lzJSc8QAfYw_pjuda32lj5aV9tEimO6v06NX0GFrpTiL9qu63gcJNzJgQAWYFlon2SjrI3EaJi8Yer-EjXaZVqRZMGtdPDjxt_tfbjZ6S58o_C8YX0O9ZSbGAgn15Jp4_w-EUNfWFhv3dkYnn5nCXvmbaFshN3jI6iIoewMr2jzs_rRvJjVp0Rhi2DV8A8ZBwB66f3fAZBvFPzVVZ-DMYzXIxb4Co2EBZjsuRmqG_DsxA28V62O83ABLPHc7wuDssf50qVKvbVN36_a6Iv_XheTeg67MJnWyfmPaPa47OkrEeZO9htzaNGJZogUOJFmztfi-NyjQ";
const CONTROL_KID: &str = "d3c0c7e1a9b2f4056c8d1e2f3a4b5c6d7e8f9a0b";

/// Who signed in, as a connector reports it.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub user_id: String,
    pub username: String,
    pub preferred_username: String,
    pub email: String,
    pub email_verified: bool,
    pub groups: Vec<String>,
}

/// What goes into one token.
pub struct TokenRequest<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub conn_id: &'a str,
    pub identity: &'a Identity,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
    pub code: Option<&'a str>,
    pub lifetime: chrono::Duration,
}

impl Keys {
    /// A fresh RSA-2048 key, as Dex's local signer makes at start.
    pub fn generate() -> Result<Keys, String> {
        let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048).map_err(|e| format!("RSA key: {e}"))?;
        let kid = random_hex(20);
        let pem = key
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| format!("RSA key PEM: {e}"))?;
        let signing =
            CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(kid.clone())))?;
        let public = key.to_public_key();
        // go-jose's member order, as Dex serves it; openidconnect's JWK has no `alg`.
        let jwks = serde_json::json!({"keys": [{
            "use": "sig",
            "kty": "RSA",
            "kid": kid,
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        }]});
        let jwks = serde_json::to_string_pretty(&jwks).map_err(|e| e.to_string())?;
        Ok(Keys {
            kid,
            signing: Some(signing),
            jwks,
        })
    }

    /// The control's key set: a fixed public key, nothing to sign with.
    pub fn public_only() -> Keys {
        let jwks = serde_json::json!({"keys": [{
            "use": "sig",
            "kty": "RSA",
            "kid": CONTROL_KID,
            "alg": "RS256",
            "n": CONTROL_N,
            "e": "AQAB",
        }]});
        Keys {
            kid: CONTROL_KID.to_string(),
            signing: None,
            jwks: serde_json::to_string_pretty(&jwks).unwrap_or_default(),
        }
    }

    pub fn jwks(&self) -> &str {
        &self.jwks
    }

    /// Signs an ID token (or, without `code`/`access_token`, an access token) with Dex's claims.
    pub fn sign(&self, t: &TokenRequest) -> Result<String, String> {
        let Some(signing) = &self.signing else {
            return Err("this provider holds no signing key (the control never signs)".into());
        };
        let now = chrono::Utc::now();
        let mut standard = StandardClaims::new(SubjectIdentifier::new(subject(
            &t.identity.user_id,
            t.conn_id,
        )));
        let has = |s: &str| t.scopes.iter().any(|x| x == s);
        if has("email") {
            standard = standard
                .set_email(Some(EndUserEmail::new(t.identity.email.clone())))
                .set_email_verified(Some(t.identity.email_verified));
        }
        if has("profile") {
            standard = standard
                .set_name(Some(LocalizedClaim::from(EndUserName::new(
                    t.identity.username.clone(),
                ))))
                .set_preferred_username(
                    Some(&t.identity.preferred_username)
                        .filter(|u| !u.is_empty())
                        .map(|u| EndUserUsername::new(u.clone())),
                );
        }
        let groups = if has("groups") {
            t.identity.groups.clone()
        } else {
            Vec::new()
        };
        let issuer = IssuerUrl::new(t.issuer.to_string()).map_err(|e| e.to_string())?;
        let claims = IdTokenClaims::<DexClaims, CoreGenderClaim>::new(
            issuer,
            vec![Audience::new(t.client_id.to_string())],
            now + t.lifetime,
            now,
            standard,
            DexClaims { groups },
        )
        .set_nonce(t.nonce.map(|n| Nonce::new(n.to_string())));
        let access = t.access_token.map(|a| AccessToken::new(a.to_string()));
        let code = t.code.map(|c| AuthorizationCode::new(c.to_string()));
        let token = openidconnect::IdToken::<
            DexClaims,
            CoreGenderClaim,
            openidconnect::core::CoreJweContentEncryptionAlgorithm,
            CoreJwsSigningAlgorithm,
        >::new(
            claims,
            signing,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            access.as_ref(),
            code.as_ref(),
        )
        .map_err(|e| e.to_string())?;
        single_audience(&token.to_string(), signing)
    }
}

/// Dex writes a single audience as a string (`"aud":"argo-cd"`, `server/oauth2.go`'s
/// `audience` type), openidconnect as a one-element array, which older verifiers refuse
/// (`json: cannot unmarshal array into Go struct field … .aud`): the payload is written as Dex
/// writes it and signed again.
fn single_audience(jwt: &str, key: &CoreRsaPrivateSigningKey) -> Result<String, String> {
    use openidconnect::PrivateSigningKey;
    let mut parts = jwt.split('.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
        return Err("the signer wrote no JWT".into());
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|e| e.to_string())?;
    let mut claims: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let one = match claims.get("aud") {
        Some(serde_json::Value::Array(a)) if a.len() == 1 => a[0].clone(),
        _ => return Ok(jwt.to_string()),
    };
    claims["aud"] = one;
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).map_err(|e| e.to_string())?);
    let message = format!("{header}.{payload}");
    let signature = key
        .sign(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            message.as_bytes(),
        )
        .map_err(|e| e.to_string())?;
    Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_matches_dex_vectors() {
        assert_eq!(subject("2342749", "github"), "CgcyMzQyNzQ5EgZnaXRodWI");
        assert_eq!(subject("1234", "oidc"), "CgQxMjM0EgRvaWRj");
        assert_eq!(
            subject("08a8684b-db88-4b73-90a9-3cd1661f5466", "local"),
            "CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs"
        );
    }

    #[test]
    fn the_control_key_is_a_well_formed_rsa_2048_key_that_never_signs() {
        let k = Keys::public_only();
        let v: serde_json::Value = serde_json::from_str(k.jwks()).unwrap();
        let n = URL_SAFE_NO_PAD
            .decode(v["keys"][0]["n"].as_str().unwrap())
            .unwrap();
        assert_eq!(n.len(), 256);
        assert_eq!(v["keys"][0]["kid"].as_str().unwrap().len(), 40);
        let id = Identity::default();
        let t = TokenRequest {
            issuer: "http://127.0.0.1/x",
            client_id: "argo-cd",
            conn_id: "mock",
            identity: &id,
            scopes: &[],
            nonce: None,
            access_token: None,
            code: None,
            lifetime: chrono::Duration::minutes(1),
        };
        assert!(k.sign(&t).is_err());
    }

    #[test]
    fn ids_look_like_dex() {
        assert_eq!(new_id().len(), 26);
        assert_eq!(random_hex(20).len(), 40);
    }
}
