//! The one vocabulary of failure classes, from probe to report to `explain`.
//!
//! Each class serializes as its snake_case name (`dexcheck/v1`'s `class` field); an HTTP status
//! is `http_status(N)`. Adding a class: one variant here, its name in `fixed_name` and [`Class::ALL`], and its
//! knowledge entries (remedy, explanation) in `knowledge/`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One failure class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    // Transport: what a Go HTTP client reports.
    Dns,
    Refused,
    ConnectTimeout,
    ReadTimeout,
    Reset,
    Unreachable,
    TlsUnknownCa,
    TlsNameMismatch,
    TlsExpired,
    /// Another TLS failure (handshake alert, CA certificate used as a server certificate, …).
    Tls,
    /// Plain HTTP sent to a TLS port, or TLS to a plain HTTP port.
    HttpToHttps,
    /// An https answer from a client that cannot verify certificates (busybox wget): a warning.
    TlsUnverified,
    /// The failure happened at the proxy taken from `HTTP(S)_PROXY`.
    Proxy,
    UnsupportedScheme,
    RedirectLoop,
    // The answer: what came back was not what a client expects.
    HttpStatus(u16),
    NotJson,
    TooLarge,
    /// An answer that is not HTTP, or breaks its framing (status line, chunk sizes).
    MalformedResponse,
    /// A body that ends before its `Content-Length`.
    TruncatedBody,
    IssuerMismatch,
    /// A JWKS without a usable RSA signing key.
    NoSigningKeys,
    /// A discovery document that differs from what Dex itself serves.
    DiffersFromDex,
    /// An endpoint in the discovery document outside the issuer's origin.
    EndpointOutsideIssuer,
    /// The token endpoint does not answer as OAuth 2.0 does.
    NotOauth,
    /// `id_token_signing_alg_values_supported` lacks RS256.
    UnsupportedAlgorithm,
    /// `response_types_supported` lacks `code`.
    UnsupportedResponseType,
    // Dex's own refusals.
    /// Dex refused the client's redirect URI (`Unregistered redirect_uri.`).
    UnregisteredRedirectUri,
    /// Dex does not know the client (`Invalid client_id.`).
    InvalidClientId,
    /// The connector's `redirectURI` is not issuer + `/callback`.
    CallbackMismatch,
    // The upstream IdP's refusals and dexcheck's rules about it.
    /// The IdP refused Dex's callback as a redirect URI.
    IdpRedirectUri,
    /// The IdP does not know the connector's client id.
    IdpUnknownClient,
    /// The IdP's token endpoint refused the client id or secret (`invalid_client`).
    InvalidClient,
    /// The IdP refused a scope the connector asks for.
    IdpScope,
    /// The IdP refused `response_type=code` for the client.
    IdpResponseType,
    /// Another OAuth 2.0 error from the IdP.
    IdpError,
    /// The IdP does not allow the app's origin to read its answers from the browser (CORS): an
    /// app whose page runs OIDC itself (Kargo's UI) cannot sign in.
    Cors,
    /// The answer proves neither acceptance nor refusal.
    Inconclusive,
    /// The issuer is not in the form its IdP family publishes.
    IssuerForm,
    /// A connector field its type needs is missing or wrong.
    ConnectorField,
    /// A file the connector names is not readable in the Dex pod.
    MissingFile,
    /// An Argo CD `$key` / `$name:key` reference with no value: the reference text is used.
    SecretReference,
    /// The LDAP server refused the connector's bind (`bindDN`/`bindPW`).
    LdapBind,
    /// The IdP does not say it sends a claim the connector needs.
    ClaimNotOffered,
    /// A clock differs from this machine's by more than a token's leeway.
    ClockSkew,
    /// Several Dex replicas, each with its own in-memory state.
    MemoryStorage,
    /// Replicas see different signing key ids.
    KeysDiffer,
    /// Replicas read different discovery documents.
    DiscoveryDiffers,
    /// Replicas run with different configs (their checksum annotations differ).
    ConfigDiffers,
    // The app's own logic.
    /// The return-URL rule refuses the login's `return_url`.
    InvalidRedirect,
    // The cluster's route behind URL.
    /// A rule, a backend, DNS, TLS at the edge or PROXY protocol that keeps a side from the app.
    Route,
    /// An IP allow-list in front of URL that leaves out where the app pod's requests come from.
    AllowList,
    // What only the browser's own trace shows.
    /// A cookie the browser drops or refuses: over 4,096 bytes, `Secure` from an http page,
    /// `SameSite=None` without `Secure`.
    Cookie,
    /// A token too long for the app's cookie chunks (Argo CD's `max number of cookies`).
    CookieChunks,
    /// The `state` a callback brought back is not the one its login sent, or the callback is on
    /// another host than the login (its state cookie is not sent there).
    State,
    // dexcheck's own findings.
    /// The file and the cluster's live copy disagree.
    Drift,
    /// The offline prediction and the live observation disagree.
    PredictionDiffers,
    /// Anything else the transport reported.
    Other,
}

impl Class {
    /// Every class with a fixed name, with that name (`HttpStatus` is `http_status(N)`).
    /// Every class with a fixed name (all but `HttpStatus`), for parsing and for tests.
    pub const ALL: &'static [Class] = &[
        Class::Dns,
        Class::Refused,
        Class::ConnectTimeout,
        Class::ReadTimeout,
        Class::Reset,
        Class::Unreachable,
        Class::TlsUnknownCa,
        Class::TlsNameMismatch,
        Class::TlsExpired,
        Class::Tls,
        Class::HttpToHttps,
        Class::TlsUnverified,
        Class::Proxy,
        Class::UnsupportedScheme,
        Class::RedirectLoop,
        Class::NotJson,
        Class::TooLarge,
        Class::MalformedResponse,
        Class::TruncatedBody,
        Class::IssuerMismatch,
        Class::NoSigningKeys,
        Class::DiffersFromDex,
        Class::EndpointOutsideIssuer,
        Class::NotOauth,
        Class::UnsupportedAlgorithm,
        Class::UnsupportedResponseType,
        Class::UnregisteredRedirectUri,
        Class::InvalidClientId,
        Class::CallbackMismatch,
        Class::IdpRedirectUri,
        Class::IdpUnknownClient,
        Class::InvalidClient,
        Class::IdpScope,
        Class::IdpResponseType,
        Class::IdpError,
        Class::Cors,
        Class::Inconclusive,
        Class::IssuerForm,
        Class::ConnectorField,
        Class::MissingFile,
        Class::SecretReference,
        Class::LdapBind,
        Class::ClaimNotOffered,
        Class::ClockSkew,
        Class::MemoryStorage,
        Class::KeysDiffer,
        Class::DiscoveryDiffers,
        Class::ConfigDiffers,
        Class::InvalidRedirect,
        Class::Route,
        Class::AllowList,
        Class::Cookie,
        Class::CookieChunks,
        Class::State,
        Class::Drift,
        Class::PredictionDiffers,
        Class::Other,
    ];

    /// A 404 Not Found.
    pub const NOT_FOUND: Class = Class::HttpStatus(404);

    /// The status code of an `HttpStatus`.
    pub fn status(self) -> Option<u16> {
        match self {
            Class::HttpStatus(n) => Some(n),
            _ => None,
        }
    }

    /// A 5xx answer: a gateway or the app behind it failed.
    pub fn is_server_error(self) -> bool {
        self.status().is_some_and(|n| (500..600).contains(&n))
    }

    /// A 4xx answer.
    pub fn is_client_error(self) -> bool {
        self.status().is_some_and(|n| (400..500).contains(&n))
    }

    /// A short label for a table cell: the class name in words.
    pub fn label(self) -> String {
        match self {
            Class::Refused => "connection refused".into(),
            Class::Dns => "no such host".into(),
            c => c.to_string().replace('_', " "),
        }
    }

    /// The name of every class but `HttpStatus`; exhaustive, so a new class must be named.
    fn fixed_name(self) -> &'static str {
        match self {
            Class::Dns => "dns",
            Class::Refused => "refused",
            Class::ConnectTimeout => "connect_timeout",
            Class::ReadTimeout => "read_timeout",
            Class::Reset => "reset",
            Class::Unreachable => "unreachable",
            Class::TlsUnknownCa => "tls_unknown_ca",
            Class::TlsNameMismatch => "tls_name_mismatch",
            Class::TlsExpired => "tls_expired",
            Class::Tls => "tls",
            Class::HttpToHttps => "http_to_https",
            Class::TlsUnverified => "tls_unverified",
            Class::Proxy => "proxy",
            Class::UnsupportedScheme => "unsupported_scheme",
            Class::RedirectLoop => "redirect_loop",
            Class::HttpStatus(_) => "http_status",
            Class::NotJson => "not_json",
            Class::TooLarge => "too_large",
            Class::MalformedResponse => "malformed_response",
            Class::TruncatedBody => "truncated_body",
            Class::IssuerMismatch => "issuer_mismatch",
            Class::NoSigningKeys => "no_signing_keys",
            Class::DiffersFromDex => "differs_from_dex",
            Class::EndpointOutsideIssuer => "endpoint_outside_issuer",
            Class::NotOauth => "not_oauth",
            Class::UnsupportedAlgorithm => "unsupported_algorithm",
            Class::UnsupportedResponseType => "unsupported_response_type",
            Class::UnregisteredRedirectUri => "unregistered_redirect_uri",
            Class::InvalidClientId => "invalid_client_id",
            Class::CallbackMismatch => "callback_mismatch",
            Class::IdpRedirectUri => "idp_redirect_uri",
            Class::IdpUnknownClient => "idp_unknown_client",
            Class::InvalidClient => "invalid_client",
            Class::IdpScope => "idp_scope",
            Class::IdpResponseType => "idp_response_type",
            Class::IdpError => "idp_error",
            Class::Cors => "cors",
            Class::Inconclusive => "inconclusive",
            Class::IssuerForm => "issuer_form",
            Class::ConnectorField => "connector_field",
            Class::MissingFile => "missing_file",
            Class::SecretReference => "secret_reference",
            Class::LdapBind => "ldap_bind",
            Class::ClaimNotOffered => "claim_not_offered",
            Class::ClockSkew => "clock_skew",
            Class::MemoryStorage => "memory_storage",
            Class::KeysDiffer => "keys_differ",
            Class::DiscoveryDiffers => "discovery_differs",
            Class::ConfigDiffers => "config_differs",
            Class::InvalidRedirect => "invalid_redirect",
            Class::Route => "route",
            Class::AllowList => "allow_list",
            Class::Cookie => "cookie",
            Class::CookieChunks => "cookie_chunks",
            Class::State => "state",
            Class::Drift => "drift",
            Class::PredictionDiffers => "prediction_differs",
            Class::Other => "other",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Class::HttpStatus(n) => write!(f, "http_status({n})"),
            c => f.write_str(c.fixed_name()),
        }
    }
}

/// A name that is no class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown failure class {0:?}")]
pub struct UnknownClass(pub String);

impl FromStr for Class {
    type Err = UnknownClass;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(n) = s
            .strip_prefix("http_status(")
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|n| n.parse().ok())
        {
            return Ok(Class::HttpStatus(n));
        }
        Class::ALL
            .iter()
            .find(|c| c.fixed_name() == s)
            .copied()
            .ok_or_else(|| UnknownClass(s.to_string()))
    }
}

impl Serialize for Class {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Class {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for c in Class::ALL {
            assert_eq!(c.to_string().parse::<Class>(), Ok(*c));
        }
        assert_eq!(Class::HttpStatus(502).to_string(), "http_status(502)");
        assert_eq!("http_status(404)".parse::<Class>(), Ok(Class::NOT_FOUND));
        assert!("timeout".parse::<Class>().is_err());
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = Class::ALL.iter().map(|c| c.to_string()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Class::ALL.len());
    }

    #[test]
    fn serializes_as_its_name() {
        let v = serde_json::to_string(&[Class::Refused, Class::HttpStatus(503)]).unwrap();
        assert_eq!(v, r#"["refused","http_status(503)"]"#);
    }
}
