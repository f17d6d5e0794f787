//! The upstream IdP families as data: how each one refuses Dex at its authorization and token
//! endpoints (in its own words, each with the source of the string), where its console registers
//! a callback, and how to tell it from its issuer. `probe::idp` reads answers with these tables;
//! `explain` knows the same strings.

use serde::Serialize;

/// Why an IdP refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Dex's callback is not registered for the client.
    RedirectUri,
    /// The IdP does not know the client id.
    UnknownClient,
    /// The client id or secret was refused at the token endpoint.
    ClientCredentials,
    /// A scope the connector asks for is refused.
    Scope,
    /// `response_type=code` is refused for this client.
    ResponseType,
    /// Another OAuth 2.0 error.
    Other,
}

impl Cause {
    /// The failure class, at the authorization endpoint or (`at_token`) the token endpoint,
    /// where any refusal of the client means its credentials.
    pub fn class(self, at_token: bool) -> crate::probe::class::Class {
        use crate::probe::class::Class;
        match self {
            Cause::RedirectUri => Class::IdpRedirectUri,
            Cause::UnknownClient if !at_token => Class::IdpUnknownClient,
            Cause::UnknownClient | Cause::ClientCredentials => Class::InvalidClient,
            Cause::Scope => Class::IdpScope,
            Cause::ResponseType => Class::IdpResponseType,
            Cause::Other => Class::IdpError,
        }
    }

    /// What to do about it, `register` being where the family's console keeps the client.
    pub fn remedy(self, register: &str) -> String {
        match self {
            Cause::RedirectUri => format!(
                "Register exactly URL/api/dex/callback (what Dex sends as redirect_uri; dexcheck check prints it) as a redirect URI of the client: {register}"
            ),
            Cause::UnknownClient => "Set the connector's clientID to the client id the IdP lists for this application (not its name or object id), or create the client".into(),
            Cause::ClientCredentials => "Copy the client secret's value (not its id) from the IdP into the connector's clientSecret; it may have been rotated or expired; then restart Dex".into(),
            Cause::Scope => "Allow the connector's scopes for this client at the IdP, or remove the refused scope from the connector's scopes".into(),
            Cause::ResponseType => format!("Enable the authorization code flow for the client: {register}"),
            Cause::Other => "Read the IdP's error description; dexcheck check shows the request Dex sends".into(),
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Cause::RedirectUri => "Dex's callback is not a registered redirect URI of this client",
            Cause::UnknownClient => "the IdP does not know this client id",
            Cause::ClientCredentials => "the client id or client secret is wrong",
            Cause::Scope => "a scope the connector asks for is not allowed for this client",
            Cause::ResponseType => "the client may not use the authorization code flow",
            Cause::Other => "the IdP refused the request",
        }
    }
}

/// One IdP family: how to recognise it and where its console keeps the client's settings.
#[derive(Debug)]
pub struct Family {
    pub id: &'static str,
    pub name: &'static str,
    /// Issuer hosts (exact, or a suffix when it starts with a dot).
    pub hosts: &'static [&'static str],
    /// Dex connector types that always mean this family.
    pub connector_types: &'static [&'static str],
    /// Where the callback is registered.
    pub register: &'static str,
}

/// A refusal in a family's words: any of `any` (case-insensitive) in the answer means `cause`.
#[derive(Debug)]
pub struct Refusal {
    pub family: &'static str,
    pub cause: Cause,
    pub any: &'static [&'static str],
    /// Where the string comes from.
    pub source: &'static str,
}

pub const FAMILIES: &[Family] = &[
    Family {
        id: "dex",
        name: "Dex",
        hosts: &[],
        connector_types: &[],
        register: "the upstream Dex's config: staticClients[].redirectURIs of this client",
    },
    Family {
        id: "keycloak",
        name: "Keycloak",
        hosts: &[],
        connector_types: &[],
        register: "Keycloak admin console → Clients → the client → Settings → Valid redirect URIs",
    },
    Family {
        id: "entra",
        name: "Microsoft Entra ID",
        hosts: &[
            "login.microsoftonline.com",
            "login.microsoftonline.us",
            "login.partner.microsoftonline.cn",
            "login.windows.net",
            "sts.windows.net",
        ],
        connector_types: &["microsoft"],
        register: "Microsoft Entra admin center → App registrations → the app → Authentication → Web → Redirect URIs",
    },
    Family {
        id: "google",
        name: "Google",
        hosts: &["accounts.google.com"],
        connector_types: &["google"],
        register: "Google Cloud console → APIs & Services → Credentials → the OAuth 2.0 client → Authorized redirect URIs",
    },
    Family {
        id: "okta",
        name: "Okta",
        hosts: &[".okta.com", ".oktapreview.com", ".okta-emea.com"],
        connector_types: &[],
        register: "Okta Admin Console → Applications → the app → General → Sign-in redirect URIs",
    },
    Family {
        id: "cognito",
        name: "Amazon Cognito",
        // and cognito-idp.<region>.amazonaws.com, matched in `family_of`
        hosts: &[".amazoncognito.com"],
        connector_types: &[],
        register: "Amazon Cognito console → User pools → the pool → App clients → the client → Login pages → Allowed callback URLs",
    },
    Family {
        id: "auth0",
        name: "Auth0",
        hosts: &[".auth0.com"],
        connector_types: &[],
        register: "Auth0 Dashboard → Applications → the application → Settings → Allowed Callback URLs",
    },
    Family {
        id: "gitlab",
        name: "GitLab",
        hosts: &["gitlab.com"],
        connector_types: &["gitlab"],
        register: "GitLab → Preferences (or the group's or the admin area's) → Applications → the application → Redirect URI",
    },
    Family {
        id: "github",
        name: "GitHub",
        hosts: &["github.com"],
        connector_types: &["github"],
        register: "GitHub → Settings → Developer settings → OAuth Apps → the app → Authorization callback URL",
    },
];

const DEX_HANDLERS: &str = "dexidp/dex server/handlers.go (parseAuthorizationRequest)";
const KEYCLOAK_MESSAGES: &str = "keycloak/keycloak themes messages_en.properties (invalidParameterMessage, clientNotFoundMessage)";
const ENTRA_CODES: &str =
    "learn.microsoft.com/entra/identity-platform/reference-error-codes (AADSTS error codes)";
const GOOGLE_ERRORS: &str =
    "developers.google.com/identity/protocols/oauth2/web-server (authorization errors)";
const OKTA_ERRORS: &str =
    "developer.okta.com/docs/reference/error-codes (invalid_request, invalid_client)";
const GITHUB_AUTH: &str = "docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-authorization-request-errors";
const GITHUB_TOKEN: &str = "docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";
const DOORKEEPER: &str = "doorkeeper-gem/doorkeeper config/locales/en.yml (GitLab's OAuth server)";

/// Every family's refusals. The first entry whose family and alternative match wins.
pub const REFUSALS: &[Refusal] = &[
    Refusal {
        family: "entra",
        cause: Cause::RedirectUri,
        any: &["AADSTS50011", "AADSTS500113"],
        source: ENTRA_CODES,
    },
    Refusal {
        family: "entra",
        cause: Cause::UnknownClient,
        any: &["AADSTS700016", "AADSTS900971"],
        source: ENTRA_CODES,
    },
    Refusal {
        family: "entra",
        cause: Cause::ClientCredentials,
        any: &["AADSTS7000215", "AADSTS7000222", "AADSTS7000218"],
        source: ENTRA_CODES,
    },
    Refusal {
        family: "entra",
        cause: Cause::Scope,
        any: &["AADSTS70011", "AADSTS650053"],
        source: ENTRA_CODES,
    },
    Refusal {
        family: "entra",
        cause: Cause::ResponseType,
        any: &["AADSTS700054", "AADSTS70005:"],
        source: ENTRA_CODES,
    },
    Refusal {
        family: "dex",
        cause: Cause::RedirectUri,
        any: &["Unregistered redirect_uri"],
        source: DEX_HANDLERS,
    },
    Refusal {
        family: "dex",
        cause: Cause::UnknownClient,
        any: &["Invalid client_id"],
        source: DEX_HANDLERS,
    },
    Refusal {
        family: "keycloak",
        cause: Cause::RedirectUri,
        any: &["Invalid parameter: redirect_uri"],
        source: KEYCLOAK_MESSAGES,
    },
    Refusal {
        family: "keycloak",
        cause: Cause::UnknownClient,
        any: &["Client not found."],
        source: KEYCLOAK_MESSAGES,
    },
    Refusal {
        family: "keycloak",
        cause: Cause::ClientCredentials,
        any: &[
            "Invalid client or Invalid client credentials",
            "Invalid client secret",
        ],
        source: "keycloak/keycloak ClientAuthenticationFlow (token endpoint errors)",
    },
    Refusal {
        family: "google",
        cause: Cause::RedirectUri,
        any: &["Error 400: redirect_uri_mismatch"],
        source: GOOGLE_ERRORS,
    },
    Refusal {
        family: "google",
        cause: Cause::UnknownClient,
        any: &["The OAuth client was not found"],
        source: GOOGLE_ERRORS,
    },
    Refusal {
        family: "okta",
        cause: Cause::RedirectUri,
        any: &[
            "parameter must be a Login redirect URI in the client app settings",
            "parameter must be a Sign-in redirect URI in the client app settings",
        ],
        source: OKTA_ERRORS,
    },
    Refusal {
        family: "okta",
        cause: Cause::UnknownClient,
        any: &["Invalid value for 'client_id' parameter"],
        source: OKTA_ERRORS,
    },
    Refusal {
        family: "okta",
        cause: Cause::ClientCredentials,
        any: &["The client secret supplied for a confidential client is invalid"],
        source: OKTA_ERRORS,
    },
    Refusal {
        family: "okta",
        cause: Cause::Scope,
        any: &["One or more scopes are not configured for the authorization server"],
        source: OKTA_ERRORS,
    },
    Refusal {
        family: "cognito",
        cause: Cause::RedirectUri,
        any: &["error=redirect_mismatch", "redirect_mismatch"],
        source: "docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html and public reports of /error?error=redirect_mismatch",
    },
    Refusal {
        family: "auth0",
        cause: Cause::RedirectUri,
        any: &["Callback URL mismatch"],
        source: "auth0 Universal Login error page, as reported in auth0-samples/auth0-nodejs-webapp-sample#80",
    },
    Refusal {
        family: "gitlab",
        cause: Cause::RedirectUri,
        any: &["The redirect URI included is not valid"],
        source: DOORKEEPER,
    },
    Refusal {
        family: "gitlab",
        cause: Cause::UnknownClient,
        any: &["Client authentication failed due to unknown client"],
        source: DOORKEEPER,
    },
    Refusal {
        family: "github",
        cause: Cause::RedirectUri,
        any: &["The redirect_uri MUST match the registered callback URL"],
        source: GITHUB_AUTH,
    },
    Refusal {
        family: "github",
        cause: Cause::ClientCredentials,
        any: &["incorrect_client_credentials"],
        source: GITHUB_TOKEN,
    },
];

/// `explain` prefers an IdP family's own words (any [`REFUSALS`] entry but Dex's, whose strings
/// the message table reads as Dex answering the app) over message entries of this rank or more.
pub const REFUSAL_RANK: u16 = 85;

/// OAuth 2.0 error codes of a token endpoint that mean the client was authenticated and only the
/// (made-up) code was refused.
pub const CODE_REFUSED: &[&str] = &["invalid_grant", "bad_verification_code"];

/// A family by id.
pub fn family(id: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.id == id)
}

/// The family an issuer's host (or a connector type) names for certain.
pub fn family_of(issuer: &str, connector_type: &str) -> Option<&'static Family> {
    if let Some(f) = FAMILIES
        .iter()
        .find(|f| f.connector_types.contains(&connector_type))
    {
        return Some(f);
    }
    let url = url::Url::parse(issuer).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    if host.starts_with("cognito-idp.") && host.ends_with(".amazonaws.com") {
        return family("cognito");
    }
    FAMILIES.iter().find(|f| {
        f.hosts.iter().any(|h| match h.strip_prefix('.') {
            Some(suffix) => host.ends_with(&format!(".{suffix}")),
            None => host == *h,
        })
    })
}

/// The family an issuer's form suggests without proving it (`/realms/<realm>`: Keycloak's).
pub fn family_guess(issuer: &str) -> Option<&'static Family> {
    let url = url::Url::parse(issuer).ok()?;
    url.path()
        .contains("/realms/")
        .then(|| family("keycloak"))
        .flatten()
}

/// Where the IdP's console registers a callback, named after its family (`Keycloak: …`), or
/// hedged when only the issuer's form suggests the family (`if this is Keycloak: …`).
pub fn register_at(issuer: &str, kind: &str) -> Option<String> {
    match (family_of(issuer, kind), family_guess(issuer)) {
        (Some(f), _) => Some(format!("{}: {}", f.name, f.register)),
        (None, Some(f)) => Some(format!("if this is {}: {}", f.name, f.register)),
        (None, None) => None,
    }
}

/// What an IdP said: its family when the words tell, the cause, and the sentence it used.
#[derive(Debug, Clone, PartialEq)]
pub struct Said {
    pub family: Option<&'static str>,
    pub cause: Cause,
    /// The IdP's own words (its sentence, or `error: description`).
    pub words: String,
    pub source: Option<&'static str>,
}

/// The first refusal in `text` (a page as text, a query, a JSON body), in its family's words.
pub fn refusal_in(text: &str) -> Option<Said> {
    // ASCII lower-casing keeps byte offsets, so a match's offset is valid in `text`.
    let lower = text.to_ascii_lowercase();
    REFUSALS.iter().find_map(|r| {
        r.any.iter().find_map(|p| {
            let at = lower.find(&p.to_ascii_lowercase())?;
            Some(Said {
                family: Some(r.family),
                cause: r.cause,
                words: sentence_at(text, at),
                source: Some(r.source),
            })
        })
    })
}

/// The cause an RFC 6749 error code (and its description) names, for IdPs without an entry.
pub fn cause_of_error(code: &str, description: &str) -> Cause {
    let d = description.to_ascii_lowercase();
    match code {
        "redirect_uri_mismatch" | "invalid_redirect_uri" | "redirect_mismatch" => {
            Cause::RedirectUri
        }
        "invalid_client" | "unauthorized_client" | "unknown_client" => Cause::UnknownClient,
        "incorrect_client_credentials" => Cause::ClientCredentials,
        "invalid_scope" => Cause::Scope,
        "unsupported_response_type" => Cause::ResponseType,
        _ if d.contains("redirect") || d.contains("callback") => Cause::RedirectUri,
        _ if d.contains("response_type") || d.contains("response type") => Cause::ResponseType,
        _ if d.contains("scope") => Cause::Scope,
        _ if d.contains("client") => Cause::UnknownClient,
        _ => Cause::Other,
    }
}

/// The line around byte `at`, trimmed to at most 240 characters: the IdP's sentence.
fn sentence_at(text: &str, at: usize) -> String {
    let start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[at..].find('\n').map(|i| at + i).unwrap_or(text.len());
    let line = text[start..end].trim();
    if line.chars().count() > 240 {
        format!("{}…", line.chars().take(240).collect::<String>())
    } else {
        line.to_string()
    }
}

/// A page as text: tags dropped (inline ones without a break), entities decoded, blank lines
/// and runs of spaces collapsed.
pub fn page_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt..];
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = after[1..gt].trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let inline = matches!(
            name.as_str(),
            "strong" | "b" | "i" | "em" | "span" | "code" | "a" | "kbd" | "small" | "u"
        );
        let skip_to = match name.as_str() {
            n @ ("script" | "style") if !after[1..].starts_with('/') => {
                let close = format!("</{n}");
                after.to_ascii_lowercase().find(&close).unwrap_or(gt)
            }
            _ => gt,
        };
        if !inline {
            out.push('\n');
        }
        let jump = after[skip_to..]
            .find('>')
            .map(|i| skip_to + i + 1)
            .unwrap_or(after.len());
        rest = &after[jump..];
    }
    out.push_str(rest);
    let decoded = decode_entities(&out);
    decoded
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn decode_entities(s: &str) -> String {
    const NAMED: &[(&str, &str)] = &[
        ("&quot;", "\""),
        ("&apos;", "'"),
        ("&#39;", "'"),
        ("&#x27;", "'"),
        ("&#34;", "\""),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&nbsp;", " "),
        ("&#x2F;", "/"),
        ("&#47;", "/"),
        ("&amp;", "&"),
    ];
    NAMED
        .iter()
        .fold(s.to_string(), |acc, (from, to)| acc.replace(from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_names_a_family_and_is_reachable() {
        for r in REFUSALS {
            assert!(family(r.family).is_some(), "{}", r.family);
            assert!(!r.source.is_empty());
            for p in r.any {
                let said = refusal_in(&format!("page\n{p} and more\nend")).unwrap();
                // An earlier entry may claim a shorter alternative, but never another cause.
                assert_eq!(said.cause, r.cause, "{p}");
            }
        }
    }

    #[test]
    fn families_by_issuer() {
        let id = |i: &str, t: &str| family_of(i, t).map(|f| f.id);
        assert_eq!(
            id(
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
                "oidc"
            ),
            Some("cognito")
        );
        assert_eq!(
            id("https://login.microsoftonline.com/t/v2.0", "oidc"),
            Some("entra")
        );
        assert_eq!(id("https://kc.example/realms/x", "oidc"), None);
        assert_eq!(
            family_guess("https://kc.example/realms/x").map(|f| f.id),
            Some("keycloak")
        );
        assert_eq!(
            id("https://acme.okta.com/oauth2/default", "oidc"),
            Some("okta")
        );
        assert_eq!(id("", "github"), Some("github"));
        assert_eq!(id("https://idp.example", "oidc"), None);
        assert_eq!(id("https://evilokta.com", "oidc"), None);
    }

    #[test]
    fn pages_read_as_text() {
        let html = "<html><head><style>h1{x}</style><script>var a='<b>';</script></head><body><h1>oops!</h1><pre><strong>error</strong>: invalid_redirect_uri</pre><pre><strong>error_description</strong>: redirect_uri did not match any of the client&#39;s registered redirect_uris</pre></body></html>";
        let t = page_text(html);
        assert_eq!(
            t,
            "oops!\nerror: invalid_redirect_uri\nerror_description: redirect_uri did not match any of the client's registered redirect_uris"
        );
        let said = refusal_in(
            "Sorry, but we're having trouble signing you in.\nAADSTS50011: The redirect URI 'x' specified in the request does not match.",
        )
        .unwrap();
        assert_eq!(said.family, Some("entra"));
        assert!(said.words.starts_with("AADSTS50011: The redirect URI"));
    }

    #[test]
    fn generic_codes() {
        assert_eq!(
            cause_of_error("invalid_redirect_uri", ""),
            Cause::RedirectUri
        );
        assert_eq!(
            cause_of_error("invalid_client", "client is invalid"),
            Cause::UnknownClient
        );
        assert_eq!(
            cause_of_error("invalid_request", "Missing or invalid redirect uri"),
            Cause::RedirectUri
        );
        assert_eq!(cause_of_error("server_error", ""), Cause::Other);
    }
}
