//! Small servers for the lab: a Dex-shaped endpoint set behind an issuer path, and a TCP relay.

use std::convert::Infallible;
use std::sync::{Arc, RwLock};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// Dex's discovery document for `issuer`, as Dex v2.30.2 (the lab's Dex pod image) serves it.
pub fn dex_discovery(issuer: &str) -> String {
    let at = |p: &str| format!("{}/{p}", issuer.trim_end_matches('/'));
    let doc = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": at("auth"),
        "token_endpoint": at("token"),
        "jwks_uri": at("keys"),
        "userinfo_endpoint": at("userinfo"),
        "device_authorization_endpoint": at("device/code"),
        "grant_types_supported": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "scopes_supported": ["openid", "email", "groups", "profile", "offline_access"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "claims_supported": ["iss", "sub", "aud", "iat", "exp", "email", "email_verified", "locale", "name", "preferred_username", "at_hash"]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// A key set shaped like Dex's: one RSA signing key with a 40-hex kid (the modulus is filler;
/// the probes check the shape, not the maths).
/// The lab Dex's signing key id.
pub const DEX_KID: &str = "3c1d2f6a7b8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c";

pub fn dex_jwks() -> String {
    dex_jwks_with(DEX_KID)
}

/// Dex's key set with the key id `kid`.
pub fn dex_jwks_with(kid: &str) -> String {
    serde_json::json!({"keys": [{
        "use": "sig", "kty": "RSA", "kid": kid,
        "alg": "RS256", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
        "e": "AQAB"
    }]})
    .to_string()
}

/// Serves Dex's routes for the issuer held in `issuer` (which tests may change), only under the
/// issuer's path; `404 page not found` elsewhere, like Dex. Runs until the runtime stops.
pub async fn serve_dex(listener: TcpListener, issuer: Arc<RwLock<String>>) {
    serve_dex_keyed(listener, issuer, DEX_KID.to_string(), dex_discovery).await
}

/// As [`serve_dex`], with the signing key id `kid` (a Dex replica with other keys) and the
/// discovery document `discovery` makes of the issuer (a replica behind a rewriting proxy).
pub async fn serve_dex_keyed(
    listener: TcpListener,
    issuer: Arc<RwLock<String>>,
    kid: String,
    discovery: fn(&str) -> String,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (issuer, kid) = (issuer.clone(), kid.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let issuer = issuer.read().map(|s| s.clone()).unwrap_or_default();
                let kid = kid.clone();
                async move { Ok::<_, Infallible>(dex_route(&req, &issuer, &kid, discovery)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn text(status: StatusCode, ctype: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", ctype)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

fn dex_route(
    req: &Request<Incoming>,
    issuer: &str,
    kid: &str,
    discovery: fn(&str) -> String,
) -> Response<Full<Bytes>> {
    let prefix = url_path(issuer).trim_end_matches('/').to_string();
    let path = req.uri().path();
    let Some(rest) = path.strip_prefix(&prefix) else {
        return text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found\n".into(),
        );
    };
    match rest {
        "/.well-known/openid-configuration" => {
            text(StatusCode::OK, "application/json", discovery(issuer))
        }
        "/keys" => text(StatusCode::OK, "application/json", dex_jwks_with(kid)),
        "/auth" => redirect(&format!(
            "{prefix}/auth/lab-idp?{}",
            req.uri().query().unwrap_or("")
        )),
        "/auth/lab-idp" => {
            redirect("http://idp.lab.test/realms/main/auth?client_id=lab-client&state=lab")
        }
        "/token" => text(
            StatusCode::BAD_REQUEST,
            "application/json",
            "{\"error\":\"invalid_request\"}".into(),
        ),
        _ => text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found\n".into(),
        ),
    }
}

fn redirect(to: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::FOUND)
        .header("location", to)
        .body(Full::new(Bytes::new()))
        .unwrap_or_default()
}

/// The lab's upstream IdP under `issuer`'s path (see [`idp_answer`]).
pub async fn serve_idp(listener: TcpListener, issuer: String) {
    let base = url_path(&issuer).trim_end_matches('/').to_string();
    let doc = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/certs"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]
    })
    .to_string();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (base, doc) = (base.clone(), doc.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (base, doc) = (base.clone(), doc.clone());
                async move { Ok::<_, Infallible>(idp_answer(req, &base, doc)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// The lab IdP's client.
pub const IDP_CLIENT: &str = "lab-client";

/// Discovery, and a sign-in page for the lab client (any callback, as an IdP that registered the
/// lab's URLs). Its token endpoint is plain http on a lab address, where dexcheck sends no
/// secret, so it has none.
fn idp_answer(req: Request<Incoming>, base: &str, doc: String) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    let query = req.uri().query().unwrap_or("");
    if path == format!("{base}/.well-known/openid-configuration") {
        return text(StatusCode::OK, "application/json", doc);
    }
    if path == format!("{base}/auth") {
        return if query.contains(&format!("client_id={IDP_CLIENT}")) {
            text(
                StatusCode::OK,
                "text/html",
                "<html><form method=post><input name=password type=password></form></html>".into(),
            )
        } else {
            text(
                StatusCode::BAD_REQUEST,
                "application/json",
                r#"{"error":"invalid_client","error_description":"unknown client"}"#.into(),
            )
        };
    }
    text(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        "404 page not found\n".into(),
    )
}

fn url_path(u: &str) -> &str {
    let after = u.split_once("://").map(|(_, r)| r).unwrap_or(u);
    after.find('/').map(|i| &after[i..]).unwrap_or("")
}

/// `kubectl port-forward` stand-in: every connection to `listener` is piped to `target`.
pub async fn relay(listener: TcpListener, target: std::net::SocketAddr) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}
