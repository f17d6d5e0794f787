//! Dex's connector types as data: how each signs a user in, whether and how it compares its
//! `redirectURI`, which hosts the Dex pod (or the browser) must reach for it, which files the Dex
//! pod must have, and what Dex refuses at start. Every row was read at the connector's source in
//! dexidp/dex (`connector/<type>/`, `server/server.go`); the checks in `diagnosis/` read only
//! this table, so a new type is one row.

use crate::setup::Connector;

/// How a connector signs a user in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// A redirect to the IdP and back to Dex's `/callback`; `LoginURL` compares the configured
    /// `redirectURI` with issuer + `/callback` byte for byte and fails the login otherwise.
    Callback(Order),
    /// SAML: the browser POSTs the IdP's response to `redirectURI` (the ACS URL); Dex does not
    /// compare it at login, but the IdP must post where Dex listens: issuer + `/callback`.
    SamlPost,
    /// Dex shows its own username and password form and checks them against a backend.
    Password,
    /// Dex trusts headers set by an authenticating proxy in front of it.
    Header,
    /// A test connector that signs in a fixed user.
    Mock,
}

/// The argument order of "expected callback URL %q did not match the URL in the config %q".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `(callbackURL, c.redirectURI)`: what Dex expects first (oidc, github, …).
    ExpectedFirst,
    /// `(c.redirectURI, callbackURL)`: the configured value first (gitlab, gitea).
    ConfiguredFirst,
}

/// Who must reach a host a connector names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The Dex process, from its pod (discovery, token, LDAP, REST APIs).
    DexPod,
    /// The user's browser (a SAML IdP's sign-in page).
    Browser,
}

/// How a host field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// An absolute URL (`https://host[:port]/…`).
    Url,
    /// A bare host name, reached over https (GitHub Enterprise's `hostName`).
    HostName,
    /// LDAP's `host[:port]`: without a port Dex dials 636, or 389 with `insecureNoSSL` or
    /// `startTLS` (`connector/ldap/ldap.go`, `Open`).
    LdapHostPort,
}

/// A config field naming a host that must be reached.
#[derive(Debug, Clone, Copy)]
pub struct Host {
    pub field: &'static str,
    /// What Dex uses when the field is empty.
    pub default: Option<&'static str>,
    pub reach: Reach,
    pub form: Form,
    /// What Dex does there, for the report.
    pub purpose: &'static str,
}

/// A config Dex refuses when it opens the connector: Dex does not start (`failed to open
/// connector`).
#[derive(Debug, Clone, Copy)]
pub struct Refusal {
    pub fires: fn(&Connector) -> bool,
    /// The first Dex release that refuses it (`None`: every release).
    pub since: Option<(u16, u16)>,
    /// Dex's error, verbatim.
    pub error: &'static str,
    pub fix: &'static str,
}

/// One connector type.
#[derive(Debug)]
pub struct Type {
    pub kind: &'static str,
    pub login: Login,
    pub hosts: &'static [Host],
    /// Fields naming files (paths) the Dex process reads.
    pub files: &'static [&'static str],
    pub refusals: &'static [Refusal],
    /// Where the row was read.
    pub source: &'static str,
}

impl Refusal {
    /// Whether the Dex release `version` refuses it.
    pub fn applies_to(&self, version: (u16, u16, u16)) -> bool {
        self.since
            .is_none_or(|(major, minor)| (version.0, version.1) >= (major, minor))
    }
}

impl Type {
    /// The connector sends the browser to the IdP and back to a Dex URL it must have registered.
    pub fn has_callback(&self) -> bool {
        matches!(self.login, Login::Callback(_) | Login::SamlPost)
    }
}

/// The row for a connector type (`None` for a type Dex does not know).
pub fn of(kind: &str) -> Option<&'static Type> {
    TYPES.iter().find(|t| t.kind == kind)
}

/// Dex's callback error with the arguments in the order this type prints them.
pub fn callback_error(order: Order, expected: &str, configured: &str) -> String {
    let (first, second) = match order {
        Order::ExpectedFirst => (expected, configured),
        Order::ConfiguredFirst => (configured, expected),
    };
    format!("expected callback URL {first:?} did not match the URL in the config {second:?}")
}

/// An `oidc` connector with neither clientID nor clientSecret serves only token exchange
/// (`grant_type=…token-exchange`, a CI job's ID token): it has no browser login, by design.
pub fn token_exchange_only(c: &Connector) -> bool {
    c.kind == "oidc" && !c.has("clientID") && !c.has("clientSecret")
}

const fn url(field: &'static str, reach: Reach, purpose: &'static str) -> Host {
    Host {
        field,
        default: None,
        reach,
        form: Form::Url,
        purpose,
    }
}

const fn url_or(field: &'static str, default: &'static str, purpose: &'static str) -> Host {
    Host {
        field,
        default: Some(default),
        reach: Reach::DexPod,
        form: Form::Url,
        purpose,
    }
}

fn missing(c: &Connector, field: &str) -> bool {
    !c.has(field)
}

/// The table. Sources: dexidp/dex `connector/*/` at v2.45.1 and HEAD, `server/server.go`.
pub const TYPES: &[Type] = &[
    Type {
        kind: "oidc",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[url(
            "issuer",
            Reach::DexPod,
            "discovery at start, then token and keys at every login",
        )],
        files: &[],
        refusals: &[Refusal {
            fires: |c| c.has("hostedDomains"),
            // bc8c2276 "Fail if OIDC config contains hosted domains" (#2937), first in v2.37.0
            since: Some((2, 37)),
            error: "support for the Hosted domains option had been deprecated and removed, consider switching to the Google connector",
            fix: "remove hostedDomains (Dex v2.37 and later refuse it); use the google connector for Google Workspace domains",
        }],
        source: "connector/oidc/oidc.go",
    },
    Type {
        kind: "oauth",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[
            url(
                "tokenURL",
                Reach::DexPod,
                "the code exchange at every login",
            ),
            url(
                "userInfoURL",
                Reach::DexPod,
                "the user's claims at every login",
            ),
            url("authorizationURL", Reach::Browser, "the sign-in page"),
        ],
        files: &[],
        refusals: &[],
        source: "connector/oauth/oauth.go",
    },
    Type {
        kind: "github",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[Host {
            field: "hostName",
            default: Some("github.com"),
            reach: Reach::DexPod,
            form: Form::HostName,
            purpose: "the code exchange and the user's orgs at every login",
        }],
        files: &["rootCA"],
        refusals: &[
            Refusal {
                fires: |c| c.has("org") && c.has("orgs"),
                since: None,
                error: "github: cannot use both 'org' and 'orgs' fields simultaneously",
                fix: "keep orgs and drop the legacy org",
            },
            Refusal {
                fires: |c| c.text("hostName").is_some_and(|h| h.contains('/')),
                since: None,
                error: "invalid hostname: hostname cannot contain `/`",
                fix: "give hostName as a bare host name (git.example.com), without a scheme or path",
            },
        ],
        source: "connector/github/github.go",
    },
    Type {
        kind: "gitlab",
        login: Login::Callback(Order::ConfiguredFirst),
        hosts: &[url_or(
            "baseURL",
            "https://gitlab.com",
            "the code exchange and the user's groups at every login",
        )],
        files: &[],
        refusals: &[],
        source: "connector/gitlab/gitlab.go",
    },
    Type {
        kind: "gitea",
        login: Login::Callback(Order::ConfiguredFirst),
        hosts: &[url_or(
            "baseURL",
            "https://gitea.com",
            "the code exchange and the user at every login",
        )],
        files: &[],
        refusals: &[],
        source: "connector/gitea/gitea.go",
    },
    Type {
        kind: "google",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[],
        files: &["serviceAccountFilePath"],
        refusals: &[],
        source: "connector/google/google.go",
    },
    Type {
        kind: "microsoft",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[],
        files: &[],
        refusals: &[],
        source: "connector/microsoft/microsoft.go",
    },
    Type {
        kind: "linkedin",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[],
        files: &[],
        refusals: &[],
        source: "connector/linkedin/linkedin.go",
    },
    Type {
        kind: "bitbucket-cloud",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[],
        files: &[],
        refusals: &[],
        source: "connector/bitbucketcloud/bitbucketcloud.go",
    },
    Type {
        kind: "openshift",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[url(
            "issuer",
            Reach::DexPod,
            "the OAuth server's metadata at start, the code exchange at every login",
        )],
        files: &["rootCA"],
        refusals: &[],
        source: "connector/openshift/openshift.go",
    },
    Type {
        kind: "saml",
        login: Login::SamlPost,
        hosts: &[url("ssoURL", Reach::Browser, "the IdP's sign-in page")],
        files: &["ca"],
        refusals: &[
            Refusal {
                fires: |c| {
                    !c.flag("insecureSkipSignatureValidation") && c.has("ca") == c.has("caData")
                },
                since: None,
                error: "must provide either 'ca' or 'caData'",
                fix: "keep exactly one of ca (a file in the Dex pod) and caData (the PEM, base64)",
            },
            Refusal {
                fires: |c| missing(c, "ssoURL"),
                since: None,
                error: "missing required field \"ssoURL\"",
                fix: "set ssoURL to the IdP's SAML sign-in URL",
            },
            Refusal {
                fires: |c| missing(c, "usernameAttr"),
                since: None,
                error: "missing required field \"usernameAttr\"",
                fix: "set usernameAttr to the assertion attribute that holds the user's name",
            },
            Refusal {
                fires: |c| missing(c, "emailAttr"),
                since: None,
                error: "missing required field \"emailAttr\"",
                fix: "set emailAttr to the assertion attribute that holds the email",
            },
        ],
        source: "connector/saml/saml.go",
    },
    Type {
        kind: "ldap",
        login: Login::Password,
        hosts: &[Host {
            field: "host",
            default: None,
            reach: Reach::DexPod,
            form: Form::LdapHostPort,
            purpose: "a bind and a search at every login",
        }],
        files: &["rootCA", "clientCert", "clientKey"],
        refusals: &[Refusal {
            fires: |c| missing(c, "host"),
            since: None,
            error: "ldap: missing required field \"host\"",
            fix: "set host to the LDAP server's host:port",
        }],
        source: "connector/ldap/ldap.go",
    },
    Type {
        kind: "keystone",
        login: Login::Password,
        hosts: &[url(
            "keystoneHost",
            Reach::DexPod,
            "the token and the user's groups at every login",
        )],
        files: &[],
        refusals: &[],
        source: "connector/keystone/keystone.go",
    },
    Type {
        kind: "atlassian-crowd",
        login: Login::Password,
        hosts: &[url(
            "baseURL",
            Reach::DexPod,
            "the password check and the user's groups at every login",
        )],
        files: &[],
        refusals: &[],
        source: "connector/atlassiancrowd/atlassiancrowd.go",
    },
    Type {
        kind: "authproxy",
        login: Login::Header,
        hosts: &[],
        files: &[],
        refusals: &[],
        source: "connector/authproxy/authproxy.go",
    },
    Type {
        kind: "mockCallback",
        login: Login::Mock,
        hosts: &[],
        files: &[],
        refusals: &[],
        source: "connector/mock/connectortest.go",
    },
    Type {
        kind: "mockPassword",
        login: Login::Password,
        hosts: &[],
        files: &[],
        refusals: &[],
        source: "connector/mock/connectortest.go",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_dex_knows_has_one_row() {
        for kind in crate::setup::DEX_CONNECTOR_TYPES {
            assert_eq!(
                TYPES.iter().filter(|t| t.kind == *kind).count(),
                1,
                "{kind}"
            );
        }
        assert_eq!(TYPES.len(), crate::setup::DEX_CONNECTOR_TYPES.len());
    }

    #[test]
    fn gitlab_and_gitea_print_the_configured_url_first() {
        let e = callback_error(
            of("gitlab")
                .map(|t| t.login)
                .and_then(|l| match l {
                    Login::Callback(o) => Some(o),
                    _ => None,
                })
                .unwrap_or(Order::ExpectedFirst),
            "https://h/api/dex/callback",
            "http://x/cb",
        );
        assert_eq!(
            e,
            "expected callback URL \"http://x/cb\" did not match the URL in the config \"https://h/api/dex/callback\""
        );
        assert!(!of("ldap").is_some_and(Type::has_callback));
        assert!(of("saml").is_some_and(Type::has_callback));
    }
}
