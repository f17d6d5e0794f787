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

/// A config Dex cannot open the connector with (`failed to open connector`): Dex before v2.45
/// does not start; later releases (`DEX_CONTINUE_ON_CONNECTOR_FAILURE`, on by default) log it
/// and show "Connector failed to initialize" at every login through it.
#[derive(Debug, Clone, Copy)]
pub struct Refusal {
    /// Dex's error, verbatim, when the config has the defect.
    pub check: fn(&Connector) -> Option<String>,
    /// The first Dex release that refuses it (`None`: every release).
    pub since: Option<(u16, u16)>,
    pub fix: &'static str,
}

/// A config field naming a file the Dex process reads.
#[derive(Debug, Clone, Copy)]
pub struct File {
    pub field: &'static str,
    /// Whether Dex reads it with this config.
    pub read: fn(&Connector) -> bool,
}

const fn file(field: &'static str) -> File {
    File {
        field,
        read: |_| true,
    }
}

/// One connector type.
#[derive(Debug)]
pub struct Type {
    pub kind: &'static str,
    pub login: Login,
    pub hosts: &'static [Host],
    /// Fields naming files (paths) the Dex process reads.
    pub files: &'static [File],
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

/// The address Dex's LDAP connector dials (`ldap.go` Open): `host` as written when Go's
/// `net.SplitHostPort` finds a port in it, else the host with 636, or 389 with `insecureNoSSL`
/// alone (`startTLS` still dials 636). The host name comes without brackets; `None` when `host`
/// is empty or its port is not a number.
pub fn ldap_address(c: &Connector) -> Option<(String, u16)> {
    let value = c.text("host")?.trim().to_string();
    let split = match value.rsplit_once(':') {
        // A bare IPv6 address (several colons, no brackets) has no port.
        Some((n, _)) if !n.ends_with(']') && n.contains(':') => None,
        Some((n, p)) => Some((n.to_string(), p)),
        None => None,
    };
    let (name, port) = match split {
        Some((n, p)) => (n, p.parse::<u16>().ok()?),
        None => (value, if c.flag("insecureNoSSL") { 389 } else { 636 }),
    };
    Some((name.trim_matches(['[', ']']).to_string(), port))
}

/// `host:port`, with brackets around an IPv6 host (Go's `net.JoinHostPort`).
pub fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
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

/// A host the type reaches whatever the config says (`field` empty), or when a field is empty.
const fn url_or(field: &'static str, default: &'static str, purpose: &'static str) -> Host {
    Host {
        field,
        default: Some(default),
        reach: Reach::DexPod,
        form: Form::Url,
        purpose,
    }
}

/// `missing required field %q` for the first of `fields` that is empty, with `prefix`.
fn first_missing(c: &Connector, prefix: &str, fields: &[&str]) -> Option<String> {
    fields
        .iter()
        .find(|f| !c.has_path(f))
        .map(|f| format!("{prefix}missing required field {f:?}"))
}

/// SAML's form: one missing field as `%q`, several as a Go `%q` of a string slice.
fn saml_missing(c: &Connector) -> Option<String> {
    let missing: Vec<&str> = ["ssoURL", "usernameAttr", "emailAttr", "redirectURI"]
        .into_iter()
        .filter(|f| !c.has(f))
        .collect();
    match missing.as_slice() {
        [] => None,
        [one] => Some(format!("missing required field {one:?}")),
        many => Some(format!(
            "missing required fields [{}]",
            many.iter()
                .map(|f| format!("{f:?}"))
                .collect::<Vec<_>>()
                .join(" ")
        )),
    }
}

/// SAML's `caData` as Dex reads it: Go decodes a JSON `[]byte` as standard base64 (line breaks
/// skipped) when it parses the config, then looks for a PEM certificate when it opens the
/// connector. A placeholder (`<…>`, `BASE64-ENCODED-CERTIFICATE-DATA`) is not judged.
fn saml_ca_data(c: &Connector) -> Option<String> {
    use base64::Engine;
    let v: String = c
        .text("caData")?
        .chars()
        .filter(|ch| *ch != '\n' && *ch != '\r')
        .collect();
    let v = v.trim();
    let upper_words = v
        .chars()
        .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '-' || ch == '_');
    if v.contains('<') || v.contains(' ') || (upper_words && v.contains('-')) {
        return None;
    }
    match base64::engine::general_purpose::STANDARD.decode(v) {
        Err(base64::DecodeError::InvalidByte(at, _)) => Some(format!(
            "parse connector config: illegal base64 data at input byte {at}"
        )),
        Err(_) => Some("parse connector config: illegal base64 data at input byte 0".into()),
        Ok(pem) if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") => {
            Some("no certificates found in ca data".into())
        }
        Ok(_) => None,
    }
}

fn when(fires: bool, error: &str) -> Option<String> {
    fires.then(|| error.to_string())
}

/// The table. Read at dexidp/dex `ab64ed77` (HEAD), cross-checked at v2.45.1 and v2.30.2;
/// `connector/<type>/`, `server/connector.go` (the type map), `server/authflow/login.go`.
pub const TYPES: &[Type] = &[
    Type {
        kind: "oidc",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[url(
            "issuer",
            Reach::DexPod,
            "discovery when Dex opens the connector, then token and keys at every login",
        )],
        files: &[file("rootCAs")],
        refusals: &[Refusal {
            check: |c| {
                when(
                    c.has("hostedDomains"),
                    "support for the Hosted domains option had been deprecated and removed, consider switching to the Google connector",
                )
            },
            // bc8c2276 "Fail if OIDC config contains hosted domains" (#2937), first in v2.37.0
            since: Some((2, 37)),
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
        files: &[file("rootCAs")],
        refusals: &[],
        source: "connector/oauth/oauth.go",
    },
    Type {
        kind: "github",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[Host {
            field: "hostName",
            default: Some("api.github.com"),
            reach: Reach::DexPod,
            form: Form::HostName,
            purpose: "the code exchange and the user's orgs and teams at every login",
        }],
        files: &[file("rootCA")],
        refusals: &[
            Refusal {
                check: |c| {
                    when(
                        c.has("org") && c.has("orgs"),
                        "github: cannot use both 'org' and 'orgs' fields simultaneously",
                    )
                },
                since: None,
                fix: "keep orgs and drop the legacy org",
            },
            Refusal {
                check: |c| {
                    when(
                        c.text("hostName").is_some_and(|h| h.contains('/')),
                        "invalid hostname: hostname cannot contain `/`",
                    )
                },
                since: None,
                fix: "give hostName as a bare host name (git.example.com), without a scheme or path",
            },
            Refusal {
                check: |c| {
                    when(
                        c.has("rootCA") && !c.has("hostName"),
                        "invalid connector config: Host name field required for a root certificate file",
                    )
                },
                since: None,
                fix: "rootCA is only for GitHub Enterprise: set hostName as well, or drop rootCA",
            },
            Refusal {
                check: |c| {
                    let f = c.text("teamNameField")?;
                    (!matches!(f.as_str(), "name" | "slug" | "both")).then(|| {
                        format!("invalid connector config: unsupported team name field value `{f}`")
                    })
                },
                since: None,
                fix: "set teamNameField to name, slug or both",
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
            "the code exchange and the user at every login (system CAs only)",
        )],
        files: &[],
        refusals: &[],
        source: "connector/gitea/gitea.go",
    },
    Type {
        kind: "google",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[url_or(
            "",
            "https://accounts.google.com",
            "discovery when Dex opens the connector, then token and keys at every login",
        )],
        // read only for the groups lookup (google.go createDirectoryService)
        files: &[File {
            field: "serviceAccountFilePath",
            read: |c| c.has("domainToAdminEmail") || c.has("adminEmail"),
        }],
        refusals: &[],
        source: "connector/google/google.go",
    },
    Type {
        kind: "microsoft",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[
            url_or(
                "apiURL",
                "https://login.microsoftonline.com",
                "the code exchange at every login",
            ),
            url_or(
                "graphURL",
                "https://graph.microsoft.com",
                "the user and its groups at every login",
            ),
        ],
        files: &[file("clientAssertion")],
        refusals: &[Refusal {
            check: |c| {
                let f = c.text("groupNameFormat")?;
                (!matches!(f.as_str(), "id" | "name"))
                    .then(|| format!("invalid groupNameFormat: {f}"))
            },
            since: None,
            fix: "set groupNameFormat to id or name",
        }],
        source: "connector/microsoft/microsoft.go",
    },
    Type {
        kind: "linkedin",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[url_or(
            "",
            "https://api.linkedin.com",
            "the code exchange and the profile at every login",
        )],
        files: &[],
        refusals: &[],
        source: "connector/linkedin/linkedin.go",
    },
    Type {
        kind: "bitbucket-cloud",
        login: Login::Callback(Order::ExpectedFirst),
        hosts: &[url_or(
            "",
            "https://api.bitbucket.org",
            "the code exchange and the user's teams at every login",
        )],
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
            "the OAuth server's metadata when Dex opens the connector, the code exchange and the user at every login",
        )],
        files: &[file("rootCA")],
        refusals: &[],
        source: "connector/openshift/openshift.go",
    },
    Type {
        kind: "saml",
        login: Login::SamlPost,
        hosts: &[url("ssoURL", Reach::Browser, "the IdP's sign-in page")],
        // never read with insecureSkipSignatureValidation (saml.go Open)
        files: &[File {
            field: "ca",
            read: |c| !c.flag("insecureSkipSignatureValidation"),
        }],
        refusals: &[
            Refusal {
                check: saml_missing,
                since: None,
                fix: "set ssoURL, usernameAttr, emailAttr and redirectURI",
            },
            Refusal {
                check: |c| {
                    when(
                        !c.flag("insecureSkipSignatureValidation")
                            && c.has("ca") == c.fields.contains_key("caData"),
                        "must provide either 'ca' or 'caData'",
                    )
                },
                since: None,
                fix: "keep exactly one of ca (a file in the Dex pod) and caData (the PEM, base64)",
            },
            Refusal {
                check: saml_ca_data,
                since: None,
                fix: "give caData as the base64 of the IdP's PEM signing certificate (base64 -w0 idp-ca.pem)",
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
        // the client pair only when both are set (ldap.go Open)
        files: &[
            file("rootCA"),
            File {
                field: "clientCert",
                read: |c| c.has("clientKey"),
            },
            File {
                field: "clientKey",
                read: |c| c.has("clientCert"),
            },
        ],
        refusals: &[Refusal {
            check: |c| {
                first_missing(
                    c,
                    "ldap: ",
                    &["host", "userSearch.baseDN", "userSearch.username"],
                )
            },
            since: None,
            fix: "set host, userSearch.baseDN and userSearch.username",
        }],
        source: "connector/ldap/ldap.go",
    },
    Type {
        kind: "keystone",
        login: Login::Password,
        hosts: &[url(
            "keystoneHost",
            Reach::DexPod,
            "the token and the user's groups at every login (system CAs only)",
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
            "the password check and the user's groups at every login (system CAs only)",
        )],
        files: &[],
        refusals: &[Refusal {
            check: |c| {
                when(
                    !c.has("baseURL"),
                    "crowd: no baseURL provided for crowd connector",
                )
            },
            since: None,
            fix: "set baseURL to the Crowd server's URL",
        }],
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
        refusals: &[
            Refusal {
                check: |c| when(!c.has("username"), "no username supplied"),
                since: None,
                fix: "set username",
            },
            Refusal {
                check: |c| when(!c.has("password"), "no password supplied"),
                since: None,
                fix: "set password",
            },
        ],
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

    #[test]
    fn saml_ca_data_is_read_as_dex_reads_it() {
        use base64::Engine;
        let saml = |ca_data: &str| {
            let text = format!(
                "connectors:\n- type: saml\n  id: s\n  name: S\n  config:\n    caData: {ca_data:?}\n"
            );
            let s = crate::setup::load_str("s.yaml", &text, Some("https://a.test"), None).unwrap();
            saml_ca_data(&s.connectors[0])
        };
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let good = base64::engine::general_purpose::STANDARD.encode(pem);
        assert_eq!(saml(&good), None);
        // Line breaks inside are skipped, as Go's decoder skips them.
        assert_eq!(saml(&format!("{}\n{}", &good[..8], &good[8..])), None);
        assert_eq!(
            saml("not*base64").as_deref(),
            Some("parse connector config: illegal base64 data at input byte 3")
        );
        let not_pem = base64::engine::general_purpose::STANDARD.encode("hello");
        assert_eq!(
            saml(&not_pem).as_deref(),
            Some("no certificates found in ca data")
        );
        // Placeholders are not judged.
        assert_eq!(saml("BASE64-ENCODED-CERTIFICATE-DATA"), None);
        assert_eq!(saml("<CA cert passed through base64 encoding>"), None);
    }

    #[test]
    fn ldap_address_as_dex_derives_it() {
        let addr = |cfg: &str| {
            let text = format!("connectors:\n- type: ldap\n  id: l\n  name: L\n  config:\n{cfg}");
            let s = crate::setup::load_str("l.yaml", &text, Some("https://a.test"), None).unwrap();
            ldap_address(&s.connectors[0]).map(|(h, p)| join_host_port(&h, p))
        };
        assert_eq!(
            addr("    host: ldap.test\n").as_deref(),
            Some("ldap.test:636")
        );
        assert_eq!(
            addr("    host: ldap.test\n    startTLS: true\n").as_deref(),
            Some("ldap.test:636")
        );
        assert_eq!(
            addr("    host: ldap.test\n    insecureNoSSL: true\n").as_deref(),
            Some("ldap.test:389")
        );
        assert_eq!(
            addr("    host: ldap.test:3269\n").as_deref(),
            Some("ldap.test:3269")
        );
        assert_eq!(addr("    host: \"[::1]\"\n").as_deref(), Some("[::1]:636"));
        assert_eq!(
            addr("    host: \"[::1]:10636\"\n").as_deref(),
            Some("[::1]:10636")
        );
        assert_eq!(addr("    bindDN: x\n"), None);
    }
}
