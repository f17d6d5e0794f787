//! Which program printed a line, read from the line's own words: the app (its paths, its
//! component names, the objects only it reads), Dex, an upstream IdP, the browser, an ingress or a
//! mesh, and the protocol the failing step spoke. `explain` never assumes an app the text does not
//! name: a line without evidence of its own is attributed to the line it continues, or to nobody.

use serde::Serialize;

use crate::app::App;

/// What kind of component printed a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// The application that embeds or uses Dex (its server pod).
    App,
    /// A relying party in front of an app (oauth2-proxy, Kubeflow's authservice).
    AuthProxy,
    Dex,
    /// The upstream identity provider (its page or its error code).
    Idp,
    Browser,
    /// An ingress controller or load balancer in front of the URL.
    Ingress,
    /// A service mesh or an Envoy-based gateway.
    Mesh,
}

/// The protocol of the step that failed, as the line shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Ldap,
    Saml,
    /// Tokens and key sets (JWT, JWS, JWE, JWKS).
    Jose,
    Tls,
    Dns,
    Tcp,
    Http,
}

/// A program the text can name.
pub struct Program {
    pub id: &'static str,
    /// How a report names it.
    pub name: &'static str,
    pub component: Component,
    /// The id of the app profile it belongs to, where dexcheck has one.
    pub app: Option<&'static str>,
    /// Alternatives, any of which names it; the words of one must all occur (lower case).
    pub evidence: &'static [&'static [&'static str]],
}

/// The programs, most specific first: a line naming `argocd-dex-server` is Dex's, not Argo CD's
/// server's; `argo-server` (Argo Workflows) comes before Argo CD's words because it is often
/// configured with Argo CD's URL.
pub const PROGRAMS: &[Program] = &[
    Program {
        id: "oauth2-proxy",
        name: "oauth2-proxy",
        component: Component::AuthProxy,
        app: None,
        evidence: &[
            &["oauth2-proxy"],
            &["oauth2_proxy"],
            &["oauthproxy.go"],
            &["oauth2 proxy"],
        ],
    },
    Program {
        id: "authservice",
        name: "Kubeflow's oidc-authservice",
        component: Component::AuthProxy,
        app: None,
        evidence: &[&["authservice"], &["kubeflow"]],
    },
    Program {
        id: "argo-server",
        name: "argo-server (Argo Workflows)",
        component: Component::App,
        app: Some("argo-workflows"),
        evidence: &[
            &["argo-server"],
            // cobra's exit line for go-oidc's discovery failure at start-up (sso.go, main.go)
            &["error: get \"", "/.well-known/openid-configuration"],
            &["workflow-controller-configmap"],
            &["argo-workflows"],
            &["argo workflows"],
            &["argo server [flags]"],
        ],
    },
    Program {
        id: "argocd-dex-server",
        name: "argocd-dex-server (Dex in Argo CD)",
        component: Component::Dex,
        app: Some("argocd"),
        evidence: &[&["argocd-dex-server"], &["argocd-dex rundex"]],
    },
    Program {
        id: "argocd-server",
        name: "argocd-server (Argo CD)",
        component: Component::App,
        app: Some("argocd"),
        evidence: &[
            &["argocd-server"],
            &["argocd-cm"],
            &["argocd-secret"],
            &["argocd.token"],
            &["argocd.oauthstate"],
            &["argo-cd"],
            &["argocd"],
        ],
    },
    Program {
        id: "devtron",
        name: "Devtron (orchestrator)",
        component: Component::App,
        app: Some("devtron"),
        evidence: &[&["/orchestrator"], &["devtron"]],
    },
    Program {
        id: "concourse",
        name: "Concourse (web)",
        component: Component::App,
        app: Some("concourse"),
        evidence: &[
            &["sky/issuer"],
            &["/sky/"],
            &["concourse"],
            &["skymarshal"],
            &["atc.sky."],
            // cmd/concourse/main.go: `error: %s` before Dex's own words
            &["error: server: failed to open connector"],
        ],
    },
    Program {
        id: "kargo",
        name: "Kargo (api)",
        component: Component::App,
        app: Some("kargo"),
        evidence: &[
            &["kargo"],
            // pkg/server/auth_middleware.go getKeySet
            &["error making discovery request to openid connect identity provider"],
        ],
    },
    Program {
        id: "ingress-nginx",
        name: "ingress-nginx (nginx)",
        component: Component::Ingress,
        app: None,
        evidence: &[
            &["ingress-nginx"],
            &["nginx"],
            &["access forbidden by rule"],
            &["upstream sent too big header"],
            &["broken header"],
            &["ingress controller fake certificate"],
            &["while reading response header from upstream"],
        ],
    },
    Program {
        id: "traefik",
        name: "Traefik",
        component: Component::Ingress,
        app: None,
        evidence: &[&["traefik"]],
    },
    Program {
        id: "envoy",
        name: "Envoy (a service mesh or gateway)",
        component: Component::Mesh,
        app: None,
        evidence: &[
            &["upstream connect error or disconnect/reset before headers"],
            &["no healthy upstream"],
            &["envoy"],
            &["istio"],
        ],
    },
    Program {
        id: "browser",
        name: "the browser",
        component: Component::Browser,
        app: None,
        evidence: &[
            &["err_too_many_redirects"],
            &["redirected you too many times"],
            &["net::err_"],
            &["blocked by cors policy"],
            // Chromium's console: `Access to fetch at '…' from origin '…' has been blocked …`
            &["access to fetch at", "from origin"],
            &["access to xmlhttprequest at", "from origin"],
        ],
    },
    Program {
        id: "dex",
        name: "Dex",
        component: Component::Dex,
        app: None,
        evidence: &[
            &["dexidp"],
            &["dex:"],
            &["login error:"],
            &["failed to authenticate:"],
            &["unregistered redirect_uri"],
            &["invalid client_id"],
            &["failed to get provider"],
            &["failed to open connector"],
            &["ldap result code"],
            &["invalid 'state' parameter"],
            &["failed to initialize server"],
            &["connector_id"],
        ],
    },
    Program {
        id: "entra",
        name: "Microsoft Entra ID",
        component: Component::Idp,
        app: None,
        evidence: &[&["aadsts"]],
    },
    Program {
        id: "keycloak",
        name: "Keycloak",
        component: Component::Idp,
        app: None,
        evidence: &[&["keycloak"], &["/realms/"]],
    },
    Program {
        id: "okta",
        name: "Okta",
        component: Component::Idp,
        app: None,
        evidence: &[&["okta"]],
    },
];

/// Where a line came from, and what told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The program's id (`argocd-server`, `dex`, `ingress-nginx`, …).
    pub program: &'static str,
    pub printed_by: &'static str,
    pub component: Component,
    /// The words that named it, or where it was carried from.
    pub evidence: String,
    /// The line this one continues, when its own words name nobody.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_line: Option<usize>,
}

impl Source {
    pub fn program(&self) -> Option<&'static Program> {
        PROGRAMS.iter().find(|p| p.id == self.program)
    }
    /// The app profile of the program, where dexcheck has one.
    pub fn app(&self) -> Option<App> {
        self.program().and_then(|p| p.app).and_then(App::by_id)
    }
    /// The same source, carried to line `to` from line `from`.
    pub fn carried(&self, from: usize) -> Source {
        Source {
            evidence: format!("continues line {from}, named there by {}", self.evidence),
            from_line: Some(from),
            ..self.clone()
        }
    }
}

/// The program a line names in its own words, with those words: the one named first (a log's
/// prefix comes before the hosts and URLs in its message), the most specific on a tie.
pub fn named_in(lower: &str) -> Option<Source> {
    let (_, p, words) = PROGRAMS
        .iter()
        .enumerate()
        .filter_map(|(rank, p)| {
            p.evidence
                .iter()
                .filter(|all| all.iter().all(|w| lower.contains(w)))
                .filter_map(|all| Some(((lower.find(all[0])?, rank), p, *all)))
                .min_by_key(|(at, _, _)| *at)
        })
        .min_by_key(|(at, _, _)| *at)?;
    Some(Source {
        program: p.id,
        printed_by: p.name,
        component: p.component,
        evidence: format!("the words {:?}", words.join(" … ")),
        from_line: None,
    })
}

/// The source a recognised message implies when the line names no program: the program that
/// prints those words (an explanation's `app` label), if it is one of [`PROGRAMS`].
pub fn printed_by_label(label: &str) -> Option<Source> {
    let id = match label {
        "Dex" => "dex",
        "browser" => "browser",
        "Argo CD" => "argocd-server",
        "Devtron" => "devtron",
        "oauth2-proxy" => "oauth2-proxy",
        "Argo Workflows" => "argo-server",
        _ => PROGRAMS.iter().find(|p| p.name == label)?.id,
    };
    let p = PROGRAMS.iter().find(|p| p.id == id)?;
    Some(Source {
        program: p.id,
        printed_by: p.name,
        component: p.component,
        evidence: "only it prints these words".into(),
        from_line: None,
    })
}

/// The protocol of the failing step, from the most specific sign: LDAP, SAML and token words
/// before TLS, DNS and TCP, and HTTP last.
pub fn protocol_of(lower: &str) -> Option<Protocol> {
    const SIGNS: &[(Protocol, &[&str])] = &[
        (Protocol::Ldap, &["ldap"]),
        (Protocol::Saml, &["saml"]),
        (
            Protocol::Jose,
            &[
                "jwt",
                "jwks",
                "jws",
                "jwe",
                "id_token",
                "id token",
                "x5t",
                "jose",
                "signature",
                "decode keys",
            ],
        ),
        (
            Protocol::Tls,
            &["x509", "tls:", "tls handshake", "certificate", "ssl"],
        ),
        (
            Protocol::Dns,
            &["no such host", "lookup ", "server misbehaving"],
        ),
        (
            Protocol::Tcp,
            &[
                "dial tcp",
                "connection refused",
                "i/o timeout",
                "connection reset",
                "reset before headers",
                ": eof",
            ],
        ),
        (
            Protocol::Http,
            &[
                "http",
                "get \"",
                "post \"",
                "redirect",
                "bad request",
                "not found",
                "forbidden",
                "gateway",
                "cookie",
                "status",
            ],
        ),
    ];
    SIGNS
        .iter()
        .find(|(_, words)| words.iter().any(|w| lower.contains(w)))
        .map(|(p, _)| *p)
}

/// Whether a line starts a log record of its own (a timestamp, a level, a JSON object, a klog or
/// kubectl prefix) rather than continuing the one before (`Error: …` after a program's last log
/// line, a page's body, a wrapped stack).
pub fn starts_record(line: &str) -> bool {
    let t = line.trim_start();
    let b = t.as_bytes();
    let digits = |n: usize| b.len() > n && b[..n].iter().all(u8::is_ascii_digit);
    // 2022-07-20T…, 2022/07/20 …, klog's I0720 / E0720, [pod/…], time="…", level=…, {"level":…}
    (digits(4) && matches!(b[4], b'-' | b'/'))
        || (b.len() > 5
            && matches!(b[0], b'I' | b'W' | b'E' | b'F')
            && b[1..5].iter().all(u8::is_ascii_digit))
        || t.starts_with("[pod/")
        || t.starts_with("time=")
        || t.starts_with("level=")
        || t.starts_with('{')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_program_wins() {
        let at = |l: &str| named_in(&l.to_lowercase()).map(|s| s.program);
        assert_eq!(
            at("argocd-dex-server-7d9 dex time=… msg=\"dex is not configured\""),
            Some("argocd-dex-server")
        );
        assert_eq!(
            at("argo-server: Failed to query provider \"https://argocd.example.com/api/dex\""),
            Some("argo-server")
        );
        assert_eq!(
            at("[pod/argocd-server-5c5/argocd-server] level=warning"),
            Some("argocd-server")
        );
        assert_eq!(
            at("2024/01/02 10:00:00 [error] 31#31: *9 upstream sent too big header"),
            Some("ingress-nginx")
        );
        assert_eq!(
            at("[2024/01/02 10:00:00] [oauthproxy.go:823] Error redeeming code"),
            Some("oauth2-proxy")
        );
        assert_eq!(at("Error: 404 Not Found:"), None);
    }

    #[test]
    fn the_failing_layer_names_the_protocol() {
        let p = |l: &str| protocol_of(&l.to_lowercase());
        assert_eq!(
            p("failed to connect: LDAP Result Code 200 \"Network Error\": EOF"),
            Some(Protocol::Ldap)
        );
        assert_eq!(
            p("Get \"https://x/keys\": x509: certificate signed by unknown authority"),
            Some(Protocol::Tls)
        );
        assert_eq!(
            p("failed to verify signature: fetching keys oidc: failed to decode keys"),
            Some(Protocol::Jose)
        );
        assert_eq!(p("Error: 404 Not Found:"), Some(Protocol::Http));
    }

    #[test]
    fn a_bare_line_continues_the_record_before_it() {
        assert!(starts_record(
            "time=\"2022-09-04T11:52:08.536Z\" level=info msg=\"config map\""
        ));
        assert!(starts_record("2024-05-30T14:26:55Z INFO x"));
        assert!(starts_record("E0720 15:55:59.123 x"));
        assert!(starts_record("{\"level\":\"error\"}"));
        assert!(!starts_record("Error: 404 Not Found:"));
        assert!(!starts_record(
            "Invalid client_id (\"kubeflow-oidc-authservice\")."
        ));
    }
}
