//! What `explain` knows: every error shape Devtron, Argo CD, Dex, go-oidc and Go's HTTP client
//! print, as data. [`TRANSPORT`] is keyed by failure [`Class`] (the errors a Go HTTP client
//! reports inside `Failed to query provider …` or `failed to get provider: …`), [`MESSAGES`] by
//! the shape's id (the messages the apps print themselves). Each entry has alternatives (any of
//! which matches), an explicit rank (the lowest matching rank wins) and its explanation per path,
//! with remedies from [`super::remedy`] for the install in use.

use super::remedy;
use crate::app::{DexCall, Install};
use crate::explain::{Ctx, Path, quoted_after};
use crate::probe::class::Class;

/// Alternatives, any of which matches; each alternative's needles (lower case) must all occur.
pub(crate) type Patterns = &'static [&'static [&'static str]];

/// A match reads what a line says, not how one release spelled it: both sides are compared
/// with `_` read as a space and the articles a, an and the left out, so Argo CD 1.8's
/// `Invalid return_url` meets "invalid return url", and Go's older "a HTTP request" meets
/// "an HTTP request".
pub(crate) fn matches(patterns: Patterns, lower: &str) -> bool {
    let text = loose(lower);
    patterns
        .iter()
        .any(|all| all.iter().all(|n| text.contains(&loose(n))))
}

/// Lower case, `_` as a space, no articles, single spaces.
pub(crate) fn loose(s: &str) -> String {
    s.to_lowercase()
        .replace('_', " ")
        .split_whitespace()
        .filter(|w| !matches!(*w, "a" | "an" | "the"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A transport error inside a fetch, by class: its patterns, its precedence (lower wins), and
/// how to explain it per path.
pub(crate) struct Transport {
    pub class: Class,
    pub rank: u16,
    pub patterns: Patterns,
    pub explain: fn(&Ctx) -> (String, Vec<String>, String),
}

/// What a message is: a failure class of `check`'s, or a shape of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Class(Class),
    Shape(&'static str),
}

impl Key {
    pub fn id(self) -> String {
        match self {
            Key::Class(c) => c.to_string(),
            Key::Shape(s) => s.to_string(),
        }
    }
    pub fn class(self) -> Option<Class> {
        match self {
            Key::Class(c) => Some(c),
            Key::Shape(_) => None,
        }
    }
}

/// A message the app, Dex or go-oidc prints itself: its shape's id, the class when it is one,
/// its precedence (lower wins), whether it wins over a transport error around it.
pub(crate) struct Message {
    pub key: Key,
    pub rank: u16,
    pub wins_when_wrapped: bool,
    pub patterns: Patterns,
    pub path: Path,
    pub app: Option<&'static str>,
    pub explain: fn(&str, &Install) -> (String, Vec<String>, String),
}

pub(crate) fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// What makes one issuer work for both sides of Argo CD's direct OIDC.
fn one_issuer(c: &Ctx) -> String {
    let i = c.install();
    format!(
        "give oidc.config an issuer that the browser and argocd-server both resolve and reach (an ingress host, made resolvable inside the cluster with a CoreDNS rewrite or hostAliases), or run the IdP so that it names one issuer for both (Keycloak: hostname with hostname-backchannel-dynamic); then {} rollout restart deployment {}",
        i.kubectl(),
        i.profile().server.deployment
    )
}

/// argocd-server cannot resolve the host of oidc.config's issuer.
fn direct_dns(c: &Ctx) -> (String, Vec<String>, String) {
    let h = c.host();
    let cluster = crate::plan::predict::host_kind(h) == crate::plan::predict::HostKind::Cluster;
    let causes = if cluster {
        vec![
            format!(
                "{h} is a cluster name, but no such Service exists (a wrong name or namespace: NAME.NAMESPACE.svc)"
            ),
            "cluster DNS is failing".into(),
        ]
    } else {
        vec![
            format!(
                "{h} resolves only where the browser is (corporate DNS, a hosts file, a VPN), not in the cluster's DNS"
            ),
            "a typo in oidc.config's issuer".into(),
            "cluster DNS is failing".into(),
        ]
    };
    (
        format!("argocd-server cannot resolve the IdP's host {h} (oidc.config's issuer)"),
        causes,
        if cluster {
            let name = h.split('.').next().unwrap_or(h);
            format!(
                "Find the IdP's Service (kubectl get svc -A --field-selector metadata.name={name}) and name it as NAME.NAMESPACE.svc; or {}",
                one_issuer(c)
            )
        } else {
            format!("Either {}", one_issuer(c))
        },
    )
}

/// argocd-server's connection to the IdP was refused: on its own loopback, a port-forward issuer.
fn direct_refused(c: &Ctx) -> (String, Vec<String>, String) {
    let (h, p) = (c.host(), c.port.unwrap_or(80));
    if c.loopback() {
        return (
            format!(
                "argocd-server connected to {h}:{p}, its own loopback, and nothing listens there"
            ),
            s(&[
                "oidc.config's issuer is a kubectl port-forward address: it works in the browser, but inside argocd-server it is the pod itself",
            ]),
            format!(
                "Do not use a port-forward address as the issuer: {}",
                one_issuer(c)
            ),
        );
    }
    (
        format!("argocd-server reached {h}:{p} but nothing accepted the connection"),
        s(&[
            "the IdP is down, or listens on another port than the issuer names",
            "a firewall rejects the cluster's egress",
        ]),
        format!(
            "Check oidc.config's issuer and the IdP's port; test from the server: {} exec deploy/{} -- curl -sS ISSUER/.well-known/openid-configuration",
            c.install().kubectl(),
            c.install().profile().server.deployment
        ),
    )
}

/// Transport errors, most specific first.
pub(crate) const TRANSPORT: &[Transport] = &[
    Transport {
        class: Class::Dns,
        rank: 10,
        patterns: &[&["lookup ", "i/o timeout"]],
        explain: |c| {
            (
            format!("looking up {} timed out: the pod's DNS server did not answer", c.host()),
            s(&["CoreDNS is down or overloaded", "a NetworkPolicy blocks the pod's DNS traffic (UDP/TCP 53 to kube-dns)"]),
            "kubectl -n kube-system get pods -l k8s-app=kube-dns; allow egress to kube-dns port 53 in NetworkPolicies".into(),
        )
        },
    },
    Transport {
        class: Class::Dns,
        rank: 20,
        patterns: &[
            &["server misbehaving"],
            &["temporary failure in name resolution"],
        ],
        explain: dns_failure,
    },
    Transport {
        class: Class::Dns,
        rank: 40,
        patterns: &[
            &["no such host"],
            // glibc, macOS and curl phrasings of the same lookup failure
            &["name or service not known"],
            &["nodename nor servname provided"],
            &["could not resolve host"],
        ],
        explain: |c| match c.path {
            Some(Path::ArgoRewrite) => (
                format!(
                    "argocd-server cannot resolve Dex's service name {}",
                    c.host()
                ),
                s(&[
                    "argocd-dex-server lives in another namespace than argocd-server expects (the rewrite uses the bare name argocd-dex-server)",
                    "the argocd-dex-server Service is missing",
                    "cluster DNS is failing",
                ]),
                format!(
                    "Point argocd-server at Dex's real service: --dex-server http://argocd-dex-server.<namespace>.svc.cluster.local:5556 (argocd-cmd-params-cm server.dex.server), and check {} get svc argocd-dex-server",
                    c.install().kubectl()
                ),
            ),
            Some(Path::ArgoDirect) => direct_dns(c),
            Some(Path::DexUpstream) => (
                format!("Dex's pod cannot resolve the upstream IdP {}", c.host()),
                s(&[
                    "the IdP name exists only on the corporate network or in public DNS the cluster's DNS does not forward to",
                    "a typo in the connector's issuer",
                ]),
                format!(
                    "Make {} resolvable from the cluster (CoreDNS forward/stub domain for its zone), or check the connector's issuer",
                    c.host()
                ),
            ),
            _ => (
                format!("the app pod cannot resolve {} (the host of URL)", c.host()),
                vec![
                    format!(
                        "{} is a public or corporate name that the cluster's DNS does not resolve (split-horizon DNS; the ingress record exists only outside)",
                        c.host()
                    ),
                    "URL names a host only the workstation knows (hosts file, VPN)".into(),
                    "cluster DNS is failing".into(),
                ],
                format!(
                    "Make {h} resolvable inside the cluster, pointing at the ingress: {cd}; or per Deployment: {ha}",
                    h = c.host(),
                    cd = remedy::coredns_rewrite(c.host()),
                    ha = remedy::host_aliases(&c.install(), c.host())
                ),
            ),
        },
    },
    Transport {
        class: Class::Refused,
        rank: 50,
        patterns: &[
            &["connection refused"],
            // Windows Go: connectex
            &["actively refused"],
            &["no connection could be made"],
        ],
        explain: |c| {
            match c.path {
            Some(Path::ArgoRewrite) => (
                format!("argocd-server reached {} but nothing accepted the connection", c.host()),
                s(&["argocd-dex-server is not running or not ready (it exits when dex.config is invalid or a connector's discovery fails at start)", "the Service has no endpoints", "Dex listens on another port"]),
                {
                    let k = c.install().kubectl();
                    format!("{k} logs deploy/argocd-dex-server; {k} get endpoints argocd-dex-server; restart it: {k} rollout restart deployment argocd-dex-server")
                },
            ),
            Some(Path::AppPodDex) if c.loopback() => (
                format!("the app pod connected to {}:{} — its own loopback — and nothing listens there", c.host(), c.port.unwrap_or(80)),
                vec![
                    format!("URL names {} (a kubectl port-forward address): inside the pod that is the pod itself, and {} listens on {}, not {}", c.host(), c.install().profile().server_name, c.install().profile().container_port.unwrap_or(8080), c.port.unwrap_or(80)),
                    "URL was saved while browsing through a port-forward".into(),
                ],
                match remedy::port_forward_own(&c.install()) {
                    Some(f) => format!("Either {f}; or give URL a host name the browser and the pod both reach (an ingress host, with a CoreDNS rewrite or hostAliases inside the cluster)"),
                    None => "Give URL a host name the browser and the pod both reach (an ingress host, with a CoreDNS rewrite or hostAliases inside the cluster)".into(),
                },
            ),
            Some(Path::ArgoDirect) => direct_refused(c),
            _ if c.host.as_deref() == Some("") => (
                format!("the connection went to :{} with no host at all", c.port.unwrap_or(0)),
                s(&["the host setting is empty or did not reach the client (an LDAP connector's host, a URL without a host): Go dials the local machine", "a config field was renamed or moved in an upgrade, so the host is read as empty"]),
                "Set the host (with its port) where the config names the server, e.g. an LDAP connector's host: ldap.example.com:636; dexcheck check --offline shows the host Dex reads".into(),
            ),
            Some(Path::DexUpstream) => (
                format!("Dex's pod reached {} but nothing accepted the connection", c.host()),
                s(&["the IdP is down or listens on another port", "a firewall rejects the cluster's egress"]),
                format!("Check the connector's issuer URL and the IdP's port; test from the Dex pod: {} exec deploy/{} -- wget -qO- ISSUER/.well-known/openid-configuration", c.install().kubectl(), c.install().profile().dex.deployment),
            ),
            _ => (
                format!("the connection to {}:{} was refused", c.host(), c.port.unwrap_or(80)),
                s(&["the ingress or load balancer does not listen on that port for traffic from inside the cluster", "the URL's port is one only the workstation uses (a NodePort or port-forward)"]),
                format!("Use a URL whose host and port the pod can reach; verify from the pod: {} exec deploy/{} -- curl -sS URL/api/dex/.well-known/openid-configuration", c.install().kubectl(), c.install().profile().server.deployment),
            ),
        }
        },
    },
    Transport {
        class: Class::ConnectTimeout,
        rank: 60,
        patterns: &[&["i/o timeout"], &["tls handshake timeout"]],
        explain: timeout,
    },
    Transport {
        class: Class::ReadTimeout,
        rank: 70,
        patterns: &[&["context deadline exceeded"], &["client.timeout exceeded"]],
        explain: timeout,
    },
    Transport {
        class: Class::Unreachable,
        rank: 100,
        patterns: &[&["network is unreachable"]],
        explain: |c| {
            (
                format!("no route from the pod to {}", c.host()),
                s(&[
                    "an IPv6 address without IPv6 routing in the cluster",
                    "no default route for that address family",
                ]),
                "Check the address family the name resolves to; prefer a name with an A record"
                    .into(),
            )
        },
    },
    Transport {
        class: Class::Unreachable,
        rank: 110,
        patterns: &[&["no route to host"]],
        explain: |c| {
            (
            format!("no route from the pod to {}", c.host()),
            s(&["the address is on a network the cluster cannot route to", "a NetworkPolicy or firewall rejects it"]),
            "Check the address the name resolves to from the pod and the cluster's routes and NetworkPolicies".into(),
        )
        },
    },
    Transport {
        class: Class::TlsUnknownCa,
        rank: 120,
        patterns: &[
            &["certificate signed by unknown authority"],
            // OpenSSL (curl, wget) phrasings
            &["unable to get local issuer certificate"],
            &["self signed certificate"],
            &["self-signed certificate"],
        ],
        explain: |c| {
            (
            format!("the certificate of {} is signed by a CA the client does not trust", c.host()),
            s(&["a private or self-signed CA (corporate PKI, cert-manager self-signed issuer) that the client was not given (its rootCA setting or trust store)", "the server sends an incomplete chain (intermediate missing)"]),
            match c.path {
                Some(Path::ArgoDirect) => "Put the IdP's CA (PEM, the whole chain's root) in oidc.config's rootCA: argocd-server then trusts it alone; or oidc.tls.insecure.skip.verify: \"true\" for a test; then restart argocd-server".into(),
                Some(Path::DexUpstream) => "Give Dex the CA: connector rootCAs (Dex ≥ 2.36) or mount the CA into the Dex image's trust store; Devtron's Dex v2.30.2 has no rootCAs".into(),
                _ if c.app().profile().dex_call == DexCall::Rewrite => "Argo CD: oidc.config rootCA, or oidc.tls.insecure.skip.verify: \"true\" for a test; for the Dex path, match TLS modes (--dex-server-plaintext with Dex --disable-tls); then restart argocd-server".into(),
                _ => "Serve a certificate from a trusted CA with its full chain, or add the CA to the client's trust store".into(),
            },
        )
        },
    },
    Transport {
        class: Class::TlsNameMismatch,
        rank: 130,
        patterns: &[
            &["x509: certificate is valid for"],
            &["x509: certificate is not valid for any names"],
            // Go before 1.15: an IP URL without IP SANs
            &["x509: cannot validate certificate for"],
        ],
        explain: |c| {
            (
                format!(
                    "the certificate presented for {} does not name it",
                    c.host()
                ),
                s(&[
                    "the ingress serves a default or wildcard certificate for another domain",
                    "the client connects by a name (or IP) the certificate does not list",
                ]),
                format!(
                    "Issue the certificate with {} in subjectAltName, or connect by a name it lists",
                    c.host()
                ),
            )
        },
    },
    Transport {
        class: Class::TlsExpired,
        rank: 140,
        patterns: &[
            &["certificate has expired"],
            &["certificate is not yet valid"],
        ],
        explain: |c| {
            (
                format!(
                    "the certificate of {} has expired (or the client's clock is wrong)",
                    c.host()
                ),
                s(&[
                    "the certificate was not renewed (cert-manager failing)",
                    "clock skew on the node",
                ]),
                "Renew the certificate (kubectl describe certificate -A) and check the nodes' time"
                    .into(),
            )
        },
    },
    Transport {
        class: Class::HttpToHttps,
        rank: 150,
        patterns: &[&["server gave http response to https client"]],
        explain: |c| {
            (
                format!(
                    "the client spoke TLS to {}, which answered in plain HTTP",
                    c.host()
                ),
                if c.path == Some(Path::ArgoRewrite) {
                    s(&[
                        "argocd-server uses TLS to Dex (the default) while Dex runs with --disable-tls",
                    ])
                } else {
                    s(&[
                        "URL says https but the port serves plain HTTP",
                        "TLS is terminated elsewhere and this port is the backend's",
                    ])
                },
                if c.path == Some(Path::ArgoRewrite)
                    || c.app().profile().dex_call == DexCall::Rewrite
                {
                    remedy::dex_tls_pair(&c.install(), false)
                } else {
                    "Use http:// for that port, or the TLS port with https://".into()
                },
            )
        },
    },
    Transport {
        class: Class::HttpToHttps,
        rank: 160,
        patterns: &[&["client sent an http request to an https server"]],
        explain: |c| {
            (
                format!(
                    "the client spoke plain HTTP to {}, which serves TLS",
                    c.host()
                ),
                s(&[
                    "argocd-server runs with --dex-server-plaintext while Dex serves TLS (the default since Argo CD 2.5)",
                    "URL says http but the port serves TLS",
                ]),
                remedy::dex_tls_pair(&c.install(), true),
            )
        },
    },
    Transport {
        class: Class::HttpToHttps,
        rank: 170,
        patterns: &[&["plain http request was sent to https port"]],
        explain: |c| {
            (
                format!(
                    "plain HTTP reached {}'s TLS port (nginx refused it)",
                    c.host()
                ),
                s(&["URL says http:// but that port is the ingress's TLS port"]),
                "Use https:// (or the plain-HTTP port) in URL".into(),
            )
        },
    },
    Transport {
        class: Class::UnsupportedScheme,
        rank: 180,
        patterns: &[&["unsupported protocol scheme"]],
        explain: |c| {
            if c.path == Some(Path::DexUpstream) {
                (
                "Dex fetched a connector's discovery without a scheme: the connector has no issuer".into(),
                s(&["the oidc connector's issuer is missing or relative in dex.config"]),
                "Set the connector's issuer to the IdP's full issuer URL (https://…), then restart Dex".into(),
            )
            } else {
                (
                    format!(
                        "the URL fetched has no scheme (issuer {:?}): the app has no URL loaded",
                        c.issuer()
                    ),
                    s(&[
                        "the SSO config was saved but the orchestrator has not reloaded URL (Devtron before 0.6.10 needed a restart)",
                        "URL is empty in devtron-secret / argocd-cm",
                    ]),
                    format!(
                        "Set URL (Global Configurations → SSO, or the url key), then restart: {}",
                        c.install().restart()
                    ),
                )
            }
        },
    },
    Transport {
        // Envoy's own words (Istio and other meshes): its sidecar could not talk to the backend.
        class: Class::HttpStatus(503),
        rank: 185,
        patterns: &[&["upstream connect error"]],
        explain: mesh_gateway,
    },
    Transport {
        class: Class::HttpStatus(503),
        rank: 190,
        patterns: &[&["503 service unavailable"]],
        explain: gateway,
    },
    Transport {
        class: Class::HttpStatus(502),
        rank: 200,
        patterns: &[&["502 bad gateway"]],
        explain: gateway,
    },
    Transport {
        class: Class::HttpStatus(504),
        rank: 220,
        patterns: &[&["504 gateway timeout"]],
        explain: gateway,
    },
    Transport {
        class: Class::HttpStatus(403),
        rank: 230,
        patterns: &[&["403 forbidden"]],
        explain: |c| {
            (
            format!("the request to {} was refused with 403", c.host()),
            vec![
                "an HTTP proxy from HTTP_PROXY/HTTPS_PROXY intercepts the call (argo-cd#2954) because NO_PROXY lacks the host".into(),
                "an IP allow-list or WAF in front of the URL rejects the cluster's own egress (Devtron FAQ: allow the NAT gateway IPs)".into(),
            ],
            remedy::no_proxy(&c.install(), c.host.as_deref()),
        )
        },
    },
    Transport {
        class: Class::HttpStatus(404),
        rank: 240,
        patterns: &[&["404 not found"]],
        explain: not_found,
    },
    Transport {
        class: Class::IssuerMismatch,
        rank: 250,
        patterns: &[&["issuer did not match"]],
        explain: |c| {
            (
                "the discovery document names another issuer than the one expected".into(),
                s(&[
                    "URL differs from the issuer Dex was started with (changed URL, Dex not restarted)",
                    "a trailing slash, default port or letter case differs (compared byte for byte)",
                    "the request reached another Dex or a proxy rewrote the document",
                ]),
                format!(
                    "Make URL + /api/dex equal Dex's issuer exactly (expected {}), then restart: {}",
                    c.issuer(),
                    c.install().restart()
                ),
            )
        },
    },
    Transport {
        class: Class::NotJson,
        rank: 260,
        patterns: &[&["failed to decode provider discovery object"]],
        explain: |c| {
            (
            format!("{} answered something other than Dex's JSON (often an HTML page)", c.host()),
            s(&["the ingress default backend or the app's UI answered: the path is not routed to Dex", "a login page of an auth proxy in front of the URL"]),
            "Route URL/api/dex to Dex (Devtron: URL must end in /orchestrator; the ingress must send /orchestrator to devtron-service)".into(),
        )
        },
    },
    Transport {
        class: Class::HttpStatus(401),
        rank: 270,
        patterns: &[&["401 unauthorized"]],
        explain: |c| {
            (
                format!("{} demanded authentication (401)", c.host()),
                s(&[
                    "an auth proxy (oauth2-proxy, basic auth on the ingress) protects the Dex path too",
                    "the request went to a token endpoint with wrong client credentials",
                ]),
                "Exclude URL/api/dex (discovery, keys, token) from the ingress's authentication"
                    .into(),
            )
        },
    },
    Transport {
        class: Class::HttpStatus(500),
        rank: 280,
        patterns: &[&["500 internal server error"]],
        explain: |c| {
            (
                format!("{} failed internally (500)", c.host()),
                s(&[
                    "Dex has no signing keys or its storage fails",
                    "the orchestrator's proxy to Dex failed",
                ]),
                "Read the Dex and app logs at that time (dexcheck explain --from-cluster)".into(),
            )
        },
    },
    Transport {
        class: Class::Tls,
        rank: 290,
        patterns: &[&["x509:"]],
        explain: |c| {
            (
            format!("the certificate of {} was rejected", c.host()),
            s(&["a certificate problem other than trust, name or expiry (legacy Common Name, wrong key usage)"]),
            "Reissue the certificate with subjectAltName and serverAuth usage from a trusted CA".into(),
        )
        },
    },
    Transport {
        class: Class::Tls,
        rank: 300,
        patterns: &[&["remote error: tls"]],
        explain: |c| {
            (
                format!("{} ended the TLS handshake with an alert", c.host()),
                s(&[
                    "the server requires a client certificate or another TLS version",
                    "SNI names a host the server has no certificate for",
                ]),
                "Check the server's TLS settings for this host name".into(),
            )
        },
    },
    Transport {
        class: Class::Reset,
        rank: 310,
        patterns: &[
            &["connection reset by peer"],
            &["forcibly closed by the remote host"],
            &[": eof"],
        ],
        explain: reset,
    },
    Transport {
        class: Class::MalformedResponse,
        rank: 320,
        patterns: &[
            &["malformed http response"],
            &["invalid byte in chunk length"],
            &["malformed chunked encoding"],
        ],
        explain: |c| {
            (
                format!(
                    "what answers at {} does not speak HTTP as a client expects",
                    c.host()
                ),
                s(&[
                    "another protocol listens on that port (SSH, a database, a TLS port reached with http://)",
                    "a broken proxy or load balancer in front of the app",
                ]),
                format!(
                    "Check what listens on {}:{} (kubectl get svc, the ingress's backend), and use the scheme and port of the app's HTTP endpoint",
                    c.host(),
                    c.port.unwrap_or(80)
                ),
            )
        },
    },
    Transport {
        class: Class::TruncatedBody,
        rank: 330,
        patterns: &[&["unexpected eof"]],
        explain: |c| {
            (
                format!("{} cut its answer short", c.host()),
                s(&[
                    "a proxy or load balancer closes connections early (idle or response-size limits)",
                    "the backend crashed mid-answer",
                ]),
                "Check the ingress's and proxy's timeouts and buffer limits, and the app and Dex pods' restarts (kubectl get pods)".into(),
            )
        },
    },
];

/// A 404 where a discovery document was expected: Devtron's path rule when the line is
/// Devtron's, every app's reading when the line names none.
fn not_found(c: &Ctx) -> (String, Vec<String>, String) {
    let stale = "Dex runs with another issuer path than the app's URL implies (stale Dex config: restart Dex)";
    let strip = "a reverse proxy strips the path prefix";
    if c.app.is_none() {
        return (
            format!("{} answered 404 where a discovery document was expected", c.host()),
            vec![
                "the issuer path is not where the server serves it, and the line names no program, so each reading applies: Devtron serves Dex only under a URL ending in /orchestrator (…/orchestrator/api/dex); Argo CD under url/api/dex; Argo Workflows, Kubeflow and others fetch the issuer their own config names".into(),
                stale.into(),
                strip.into(),
            ],
            "Paste the lines before it (the program's name tells which app printed it), or run dexcheck check with cluster access: its discovery rows name the URL that answered 404".into(),
        );
    }
    let p = c.app().profile();
    let mut causes = vec![stale.to_string(), strip.to_string()];
    if let Some(prefix) = p.path_prefix {
        causes.insert(0, format!("URL does not end in {prefix} ({} serves Dex only under {prefix}/api/dex; the ingress has no /api/dex path)", p.name));
    }
    (
        format!("{} answered 404 for Dex's discovery path", c.host()),
        causes,
        match p.path_prefix {
            Some(prefix) => format!(
                "End URL in {prefix} ({}), then restart: {}",
                p.name,
                c.install().restart()
            ),
            None => format!(
                "Check that URL/api/dex reaches Dex, then restart: {}",
                c.install().restart()
            ),
        },
    )
}

fn dns_failure(c: &Ctx) -> (String, Vec<String>, String) {
    (
        format!("the pod's DNS failed while looking up {}", c.host()),
        s(&[
            "the cluster DNS cannot reach its upstream resolver",
            "the name's authoritative servers fail",
        ]),
        "Check CoreDNS's logs and its forward/upstream settings".into(),
    )
}

fn timeout(c: &Ctx) -> (String, Vec<String>, String) {
    (
        format!("no answer from {} in time", c.host()),
        vec![
            "the pod's traffic to the public address is dropped: the load balancer does not hairpin, or an IP allow-list blocks the cluster's NAT gateway (Devtron FAQ)".into(),
            "a NetworkPolicy or firewall drops the packets".into(),
            "the backend hangs".into(),
        ],
        format!(
            "Allow the cluster's egress IPs on the load balancer, or keep the call inside the cluster: {}",
            remedy::coredns_rewrite(c.host())
        ),
    )
}

fn gateway(c: &Ctx) -> (String, Vec<String>, String) {
    (
        format!("a proxy in front of Dex answered with a gateway error for {}", c.host()),
        vec![
            "Dex is not running or not ready (crash-looping on a bad dex.config or an unreachable upstream IdP)".into(),
            "under Istio/a mesh, the sidecar cannot speak to Dex's port (needs appProtocol: TCP)".into(),
            "Devtron installed in another namespace than devtroncd (DEX_HOST argocd-dex-server.devtroncd is hard-coded)".into(),
        ],
        format!(
            "Check Dex: {k} logs deploy/argocd-dex-server; under a mesh: {tcp}",
            k = c.install().kubectl(),
            tcp = remedy::app_protocol_tcp(&c.install())
        ),
    )
}

/// Envoy's `upstream connect error or disconnect/reset before headers`: a mesh sidecar between
/// the caller and Dex, whose protocol guess is the usual cause.
fn mesh_gateway(c: &Ctx) -> (String, Vec<String>, String) {
    let (_, mut causes, remedy) = gateway(c);
    causes.swap(0, 1);
    (
        format!(
            "a mesh sidecar (Envoy, as Istio runs it) could not talk to the backend behind {}",
            c.host()
        ),
        causes,
        remedy,
    )
}

fn reset(c: &Ctx) -> (String, Vec<String>, String) {
    (
        format!(
            "{} closed or reset the connection without an answer",
            c.host()
        ),
        s(&[
            "hairpin traffic to a load balancer with PROXY protocol: the ingress expects a PROXY header the pod's request lacks (nginx 'broken header')",
            "a proxy or firewall cuts the connection",
        ]),
        format!(
            "Keep in-cluster calls off the load balancer: {} (or hairpin-proxy / disable PROXY protocol)",
            remedy::coredns_rewrite(c.host())
        ),
    )
}

/// Messages the apps print themselves.
pub(crate) const MESSAGES: &[Message] = &[
    Message {
        key: Key::Class(Class::InvalidRedirect),
        rank: 10,
        wins_when_wrapped: false,
        patterns: &[&["invalid redirect url"]],
        path: Path::BrowserApp,
        app: None,
        explain: super::versioned::login_return_url,
    },
    Message {
        key: Key::Class(Class::InvalidRedirect),
        rank: 20,
        wins_when_wrapped: false,
        patterns: &[&["invalid return url"]],
        path: Path::BrowserApp,
        app: Some("Argo CD"),
        explain: |_, _| {
            (
            "Argo CD refused the return URL when verifying the login state".into(),
            s(&["url in argocd-cm differs from the address the browser uses: this wording is Argo CD 1.8–2.1's, releases with a single url (additionalUrls came in 2.13)"]),
            "Set url in argocd-cm to the browser's address and restart argocd-server; to serve several addresses, upgrade to 2.13 or later and list them in additionalUrls".into(),
        )
        },
    },
    Message {
        key: Key::Class(Class::InvalidRedirect),
        rank: 30,
        wins_when_wrapped: false,
        patterns: &[&["got invalid redirecturl"]],
        path: Path::BrowserApp,
        app: Some("Argo CD"),
        explain: super::versioned::state_return_url,
    },
    Message {
        key: Key::Class(Class::UnregisteredRedirectUri),
        rank: 40,
        wins_when_wrapped: false,
        patterns: &[&["unregistered redirect_uri"]],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: super::versioned::unregistered_redirect,
    },
    Message {
        key: Key::Class(Class::InvalidClientId),
        rank: 50,
        wins_when_wrapped: false,
        patterns: &[&["invalid client_id"]],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: super::versioned::unknown_client,
    },
    Message {
        key: Key::Class(Class::CallbackMismatch),
        rank: 60,
        wins_when_wrapped: false,
        patterns: &[&[
            "expected callback url",
            "did not match the url in the config",
        ]],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: |t, _| {
            let expected = quoted_after(t, "expected callback URL ")
                .unwrap_or_else(|| "ISSUER/callback".into());
            (
                "the connector's redirectURI is not exactly Dex's issuer + /callback".into(),
                s(&[
                    "redirectURI points at another host, scheme or path than URL/api/dex/callback",
                    "redirectURI is empty",
                ]),
                format!(
                    "Set the connector's redirectURI to {expected} and register exactly that at the IdP"
                ),
            )
        },
    },
    Message {
        key: Key::Shape("login_error"),
        rank: 70,
        wins_when_wrapped: false,
        patterns: &[&["login error."]],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: |_, _| {
            (
                "Dex could not start the connector's login".into(),
                s(&[
                    "the connector's redirectURI differs from issuer + /callback (Dex logs: expected callback URL … did not match the URL in the config)",
                ]),
                "Set the connector's redirectURI to URL/api/dex/callback exactly".into(),
            )
        },
    },
    Message {
        key: Key::Shape("different_provider"),
        rank: 80,
        wins_when_wrapped: true,
        patterns: &[&["id token issued by a different provider"]],
        path: Path::AppSession,
        app: None,
        explain: |_, _| {
            (
            "the ID token's iss is not the issuer the app expects".into(),
            s(&["URL (or Argo CD's --rootpath) changed after the token was issued, or differs from Dex's issuer", "two URLs in use for the same install"]),
            "Make URL + /api/dex equal Dex's issuer, restart Dex and the app, and sign in again".into(),
        )
        },
    },
    Message {
        key: Key::Shape("invalid_client"),
        rank: 90,
        wins_when_wrapped: false,
        patterns: &[&["invalid_client"]],
        path: Path::AppSession,
        app: None,
        explain: |_, i| {
            (
                "Dex refused the app's client credentials at the token endpoint".into(),
                s(&[
                    "Devtron: server.secretkey in devtron-secret changed after the orchestrator started (the client secret is derived once at start)",
                    "the client secret in the app and in Dex's config differ",
                    "a secret with + or % sent unencoded in HTTP Basic",
                ]),
                format!(
                    "Restart the app and Dex so both derive the same secret: {}",
                    i.restart()
                ),
            )
        },
    },
    Message {
        key: Key::Shape("invalid_client"),
        rank: 100,
        wins_when_wrapped: false,
        patterns: &[&["invalid client credentials"]],
        path: Path::AppSession,
        app: Some("Dex"),
        explain: |_, _| {
            (
                "Dex refused the client credentials at the token endpoint".into(),
                s(&[
                    "the client secret differs between the app and Dex's config",
                    "a secret with + or % sent unencoded in HTTP Basic",
                ]),
                "Restart the app and Dex so they agree on the secret; URL-encode Basic credentials"
                    .into(),
            )
        },
    },
    Message {
        key: Key::Shape("no_user"),
        rank: 110,
        wins_when_wrapped: false,
        patterns: &[&["no_user"], &["no user found"]],
        path: Path::AppSession,
        app: Some("Devtron"),
        explain: no_user,
    },
    Message {
        key: Key::Shape("email_verified"),
        rank: 130,
        wins_when_wrapped: true,
        patterns: &[&["missing \"email_verified\" claim"]],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |_, _| {
            (
            "the upstream IdP's ID token has no email_verified claim, which Dex's oidc connector requires with the email scope".into(),
            s(&["the IdP (Okta, Cognito, Azure AD, …) omits email_verified"]),
            "Add insecureSkipEmailVerified: true to the connector's config (or have the IdP send the claim)".into(),
        )
        },
    },
    Message {
        key: Key::Shape("missing_claim"),
        rank: 140,
        wins_when_wrapped: true,
        patterns: &[&["missing \"", "claim"]],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |t, _| {
            let claim = quoted_after(t, "missing ").unwrap_or_else(|| "name".into());
            (
                format!(
                    "the upstream IdP's ID token has no {claim:?} claim, which the connector needs"
                ),
                s(&[
                    "userNameKey (default name) or userIDKey names a claim the IdP does not send",
                    "the scope that carries the claim was not requested",
                ]),
                format!(
                    "Set userNameKey to a claim the IdP sends (e.g. preferred_username, email, cognito:username), or request the scope that carries {claim:?}"
                ),
            )
        },
    },
    Message {
        key: Key::Shape("no_token_provided"),
        rank: 150,
        wins_when_wrapped: false,
        patterns: &[&["no token provided"]],
        path: Path::AppSession,
        app: Some("Devtron"),
        explain: |_, i| {
            (
                "the orchestrator got an API call without a session token".into(),
                s(&[
                    "the login never completed: URL not loaded in the orchestrator's memory (see the Failed to query provider line next to it)",
                    "the argocd.token cookie is set for another host than the dashboard's (URL host ≠ browser host)",
                ]),
                format!("Check URL, then restart the orchestrator: {}", i.restart()),
            )
        },
    },
    Message {
        key: Key::Shape("unknown_app_state"),
        rank: 160,
        wins_when_wrapped: false,
        patterns: &[&["unknown app state"]],
        path: Path::AppSession,
        app: Some("Devtron"),
        explain: |_, _| {
            (
                "the orchestrator does not know the login's state parameter".into(),
                s(&[
                    "several orchestrator replicas without sticky sessions (state is kept in one process's memory)",
                    "the orchestrator restarted between the login and the callback",
                ]),
                "Run one orchestrator replica or make the ingress sticky, and sign in again".into(),
            )
        },
    },
    Message {
        key: Key::Shape("session_lost"),
        rank: 170,
        wins_when_wrapped: false,
        patterns: &[
            &["user session error"],
            &["requested resource does not exist"],
        ],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: dex_state,
    },
    Message {
        key: Key::Shape("callback_failed"),
        rank: 190,
        wins_when_wrapped: false,
        patterns: &[&["authentication failed. please contact your administrator"]],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |_, i| {
            (
                "Dex could not complete the login with the upstream IdP at its callback".into(),
                s(&[
                    "the code exchange with the IdP failed (wrong client secret, unreachable token endpoint)",
                    "the IdP's ID token lacks a required claim (name, email_verified)",
                    "the user is not in allowedGroups",
                ]),
                format!(
                    "Read Dex's log line for the callback ({} logs deploy/{}) and run dexcheck explain on it",
                    i.kubectl(),
                    i.profile().dex.deployment
                ),
            )
        },
    },
    Message {
        key: Key::Shape("dex_start"),
        rank: 200,
        wins_when_wrapped: false,
        patterns: &[&["failed to initialize server"]],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |_, _| {
            (
            "Dex did not start: a connector failed to open".into(),
            s(&["the connector's upstream discovery failed at start (Dex refuses to start without it)", "dex.config is malformed"]),
            "Fix what follows 'failed to get provider:' in the same line (dexcheck explain reads it), then restart Dex".into(),
        )
        },
    },
    Message {
        key: Key::Shape("audience"),
        rank: 210,
        wins_when_wrapped: false,
        patterns: &[&["oidc: expected audience"]],
        path: Path::AppSession,
        app: None,
        explain: |_, _| {
            (
            "the ID token was issued for another client: its audience (aud) is not the client the app verifies with".into(),
            s(&["the app's client ID (argo-cd) differs from the token's aud", "a token from another client reused (the CLI client's token at the server, or the reverse)"]),
            "Use the client the app is configured with (Devtron/Argo CD: argo-cd) and sign in again".into(),
        )
        },
    },
    Message {
        key: Key::Shape("expired_token"),
        rank: 220,
        wins_when_wrapped: false,
        patterns: &[&["oidc: token is expired"]],
        path: Path::AppSession,
        app: None,
        explain: |_, _| {
            (
                "the ID token has expired".into(),
                s(&[
                    "the session outlived the token (24 h by default)",
                    "clock skew between the nodes and Dex",
                ]),
                "Sign in again; check the nodes' clocks".into(),
            )
        },
    },
    Message {
        key: Key::Shape("signature"),
        rank: 230,
        wins_when_wrapped: false,
        patterns: &[&["failed to verify signature"]],
        path: Path::AppSession,
        app: None,
        explain: |_, _| {
            (
                "the token's signature did not verify against Dex's keys".into(),
                s(&[
                    "Dex restarted with memory storage and new keys",
                    "the keys endpoint could not be fetched",
                ]),
                "Sign in again; if it repeats, check that the app pod reaches URL/api/dex/keys"
                    .into(),
            )
        },
    },
    Message {
        key: Key::Shape("idp_redirect_mismatch"),
        rank: 240,
        wins_when_wrapped: false,
        // Each family's own words are in `knowledge::idp` (they outrank this entry).
        patterns: &[&["redirect_uri_mismatch"]],
        path: Path::IdpCallback,
        app: Some("Google"),
        explain: idp_callback,
    },
    Message {
        key: Key::Shape("no_id_token"),
        rank: 270,
        wins_when_wrapped: false,
        patterns: &[&["no id_token in token response"]],
        path: Path::AppSession,
        app: None,
        explain: |_, _| {
            (
            "the token endpoint answered without an id_token".into(),
            s(&["the token endpoint is not Dex's (a proxy answered)", "the openid scope was not requested"]),
            "Check that URL/api/dex/token reaches Dex from the app pod and that the scope includes openid".into(),
        )
        },
    },
    Message {
        key: Key::Shape("dex_not_configured"),
        rank: 280,
        wins_when_wrapped: false,
        patterns: &[&["dex is not configured"]],
        path: Path::AppPodDex,
        // Argo CD's argocd-dex-server (cmd/argocd-dex) and Devtron's authenticator print it alike.
        app: None,
        explain: |_, _| {
            (
                "the Dex wrapper found nothing to run: the app's settings give Dex no config, so Dex does not start".into(),
                s(&[
                    "the app's url is unset, or its dex.config key is missing or lists no connectors: both apps generate Dex's config only with url and at least one connector (a misspelt key such as dexConfig is ignored)",
                    "Devtron: SSO was never saved in Global Configurations → SSO, so devtron-secret has no dex.config",
                ]),
                "Argo CD: kubectl -n argocd get configmap argocd-cm -o yaml must show url and dex.config with connectors; Devtron: save SSO in Global Configurations (devtron-secret gets url and dex.config); then restart Dex".into(),
            )
        },
    },
    Message {
        key: Key::Shape("cors"),
        rank: 290,
        wins_when_wrapped: false,
        patterns: &[&["blocked by cors policy"]],
        path: Path::BrowserApp,
        app: Some("browser"),
        explain: |t, _| {
            // The blocked URL says whose answer it was: Dex's (under /dex) or an IdP's that a
            // page calls itself (Kargo's UI with an external issuer).
            let url = t.split('\'').nth(1).unwrap_or("");
            if url.contains("/dex/") || url.contains("/dex?") || url.ends_with("/dex") {
                return simple(
                    "the browser blocked a script's call to Dex: Dex sent no CORS headers for that origin",
                    &[
                        "a single-page app calls Dex's token or userinfo endpoint from another origin",
                        "web.allowedOrigins is not set in Dex's config",
                    ],
                    "Add the app's origin to Dex's web.allowedOrigins (and Authorization to web.allowedHeaders for userinfo)",
                );
            }
            simple(
                "the browser blocked the app page's own call to the IdP: the IdP sent no CORS headers for the page's origin",
                &[
                    "the app's page runs OIDC itself (Kargo's UI fetches the IdP's discovery and token endpoint) and the IdP's client allows no web origin for the page's address",
                    "the page is opened at another address (host, port, http against https) than the one allowed",
                ],
                "Allow the page's origin at the IdP (Keycloak: the client's Web origins; Okta: Trusted Origins with CORS; Entra ID: a Single-page application redirect URI), or open the app at the allowed address; dexcheck check shows it as browser.idp_cors",
            )
        },
    },
    Message {
        key: Key::Shape("invalid_client"),
        rank: 300,
        wins_when_wrapped: false,
        patterns: &[&["invalid client_secret"]],
        path: Path::AppSession,
        app: Some("Dex"),
        explain: |_, _| {
            simple(
                "Dex refused the client secret at the token endpoint",
                &[
                    "the secret differs between the app and Dex",
                    "a secret with + or % not URL-encoded in HTTP Basic (Dex decodes it)",
                ],
                "Make both sides use the same secret and URL-encode it in Basic authentication; restart the app and Dex",
            )
        },
    },
    Message {
        key: Key::Shape("invalid_grant"),
        rank: 310,
        wins_when_wrapped: false,
        patterns: &[&["invalid or expired code"]],
        path: Path::AppSession,
        app: Some("Dex"),
        explain: |_, _| {
            simple(
                "Dex refused the authorization code",
                &[
                    "the code was used twice (a double submit or a retried callback)",
                    "more than 30 minutes passed",
                    "several Dex replicas without shared storage",
                    "the code was issued to another client",
                ],
                "Sign in again; run one Dex replica or shared storage",
            )
        },
    },
    Message {
        key: Key::Shape("clock"),
        rank: 320,
        wins_when_wrapped: false,
        patterns: &[&["before the nbf"]],
        path: Path::AppSession,
        app: None,
        explain: |_, _| {
            simple(
                "the token is not valid yet here: the clocks differ",
                &["clock skew between the node and the token's issuer"],
                "Sync the nodes' clocks (chrony/NTP)",
            )
        },
    },
    Message {
        key: Key::Shape("malformed_jwt"),
        rank: 330,
        wins_when_wrapped: false,
        patterns: &[&["oidc: malformed jwt"]],
        path: Path::AppSession,
        app: None,
        explain: |_, _| {
            simple(
                "the token is not a JWT",
                &[
                    "an opaque access token passed where an ID token is expected",
                    "the cookie was truncated",
                ],
                "Sign in again; check that the app stores the id_token",
            )
        },
    },
    Message {
        key: Key::Shape("keys"),
        rank: 340,
        wins_when_wrapped: false,
        patterns: &[&["get keys failed"]],
        path: Path::AppPodDex,
        app: None,
        explain: |_, _| {
            simple(
                "fetching Dex's signing keys failed",
                &[
                    "the keys URL from discovery is not reachable from the app pod (same causes as discovery)",
                    "Dex answered an error for /keys",
                ],
                "Check that the app pod reaches URL/api/dex/keys (dexcheck check from a machine with cluster access)",
            )
        },
    },
    Message {
        key: Key::Shape("token_exchange"),
        rank: 350,
        wins_when_wrapped: false,
        patterns: &[&["cannot fetch token"]],
        path: Path::AppSession,
        app: None,
        explain: token_exchange,
    },
    Message {
        key: Key::Shape("id_token_verify"),
        rank: 360,
        wins_when_wrapped: false,
        patterns: &[&["failed to verify id token"]],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |_, _| {
            simple(
                "Dex could not verify the upstream IdP's ID token",
                &[
                    "the token's iss differs from the connector's issuer",
                    "its aud does not contain the connector's clientID",
                    "the IdP's keys are not reachable from Dex",
                ],
                "Check the connector's issuer and clientID against the IdP's app registration",
            )
        },
    },
    Message {
        key: Key::Shape("missing_claim"),
        rank: 370,
        wins_when_wrapped: true,
        patterns: &[&["missing email claim"]],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |_, _| {
            simple(
                "the upstream ID token has no email claim although the email scope is requested",
                &[
                    "the IdP does not release email to this app",
                    "the email is in another claim",
                ],
                "Map it: claimMapping: {email: <the IdP's claim>}, or release email at the IdP",
            )
        },
    },
    Message {
        key: Key::Shape("groups"),
        rank: 380,
        wins_when_wrapped: false,
        patterns: &[&["malformed \"groups\" claim"]],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |_, _| {
            simple(
                "the upstream groups claim has an unexpected shape",
                &["groups is neither a list of strings, a list of objects with name, nor a string"],
                "Point claimMapping.groups at a claim holding a list of names",
            )
        },
    },
    Message {
        key: Key::Shape("groups"),
        rank: 390,
        wins_when_wrapped: false,
        patterns: &[&["not a member of"]],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |_, _| {
            simple(
                "the user is in none of the connector's allowedGroups",
                &[
                    "allowedGroups names groups the IdP sends under other names",
                    "the groups claim is not sent (insecureEnableGroups, claimMapping.groups)",
                ],
                "Check the groups the IdP sends and the connector's allowedGroups",
            )
        },
    },
    Message {
        key: Key::Shape("auth_request"),
        rank: 400,
        wins_when_wrapped: false,
        patterns: &[&["missing required scope"]],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: |_, _| {
            simple(
                "the authorization request lacked the openid scope",
                &["a client not speaking OIDC"],
                "Request scope openid (plus profile email groups)",
            )
        },
    },
    Message {
        key: Key::Shape("auth_request"),
        rank: 410,
        wins_when_wrapped: false,
        patterns: &[&["unrecognized scope"]],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: |_, _| {
            simple(
                "the client asked Dex for a scope it does not know",
                &["a scope of another IdP (e.g. an API scope) sent to Dex"],
                "Use Dex's scopes: openid, profile, email, groups, offline_access, federated:id",
            )
        },
    },
    Message {
        key: Key::Shape("auth_request"),
        rank: 420,
        wins_when_wrapped: false,
        patterns: &[&["unsupported response type"]],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: |_, _| {
            simple(
                "the client asked for a response type Dex has not enabled",
                &["implicit flow (token, id_token) with Dex's default oauth2.responseTypes [code]"],
                "Use the code flow, or enable the type in Dex's oauth2.responseTypes",
            )
        },
    },
    Message {
        key: Key::Shape("auth_request"),
        rank: 430,
        wins_when_wrapped: false,
        patterns: &[&["no redirect_uri provided"]],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: |_, _| {
            simple(
                "Dex could not read the redirect_uri",
                &[
                    "the redirect_uri was escaped twice or contains an invalid % sequence (Dex decodes it twice)",
                ],
                "Send redirect_uri encoded once",
            )
        },
    },
    Message {
        key: Key::Shape("auth_request"),
        rank: 440,
        wins_when_wrapped: false,
        patterns: &[&["connector id does not match"]],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: |_, _| {
            simple(
                "the login asked for a connector Dex does not have",
                &["connector_id or the app's connector id differs from dex.config"],
                "Use a connector id present in dex.config",
            )
        },
    },
    Message {
        key: Key::Shape("auth_request"),
        rank: 450,
        wins_when_wrapped: false,
        patterns: &[&["invalid connectorid"]],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: |_, _| {
            simple(
                "the login asked for a connector Dex does not have",
                &["the connector id in the login URL differs from dex.config"],
                "Use a connector id present in dex.config",
            )
        },
    },
    Message {
        key: Key::Shape("unknown_app_state"),
        rank: 460,
        wins_when_wrapped: false,
        patterns: &[&["invalid app state"]],
        path: Path::AppSession,
        app: Some("Devtron"),
        explain: |_, _| {
            simple(
                "the orchestrator rejected the login's state",
                &[
                    "the callback came back with another state than the login started (two logins in parallel, or a replayed callback)",
                ],
                "Sign in again in one tab",
            )
        },
    },
    Message {
        key: Key::Shape("session_cookie"),
        rank: 470,
        wins_when_wrapped: false,
        patterns: &[&["argocd.token' cookie"]],
        path: Path::AppSession,
        app: Some("Argo CD"),
        explain: |_, _| {
            simple(
                "Argo CD could not read its login state cookie",
                &[
                    "the browser dropped the cookie (SameSite, another host than url)",
                    "server.secretkey changed during the login",
                ],
                "Open Argo CD at exactly its url and sign in again",
            )
        },
    },
    Message {
        key: Key::Shape("malformed_dex_config"),
        rank: 480,
        wins_when_wrapped: false,
        patterns: &[&["malformed dex configuration"]],
        path: Path::AppPodDex,
        app: Some("Devtron"),
        explain: |_, i| {
            (
                "Dex's configuration in devtron-secret does not parse".into(),
                s(&[
                    "dex.config was edited by hand and is not valid YAML",
                    "the connector JSON saved from the UI has a wrong field",
                ]),
                format!(
                    "Validate it: {} get {} {} -o yaml > s.yaml; dexcheck check s.yaml --offline",
                    i.kubectl(),
                    i.profile().config.kind(),
                    i.profile().config.name()
                ),
            )
        },
    },
    Message {
        // Go encoding/json: cannot unmarshal array into Go struct field …aud (a string field: jwt-go StandardClaims in older Argo CD)
        key: Key::Shape("aud_array"),
        rank: 630,
        wins_when_wrapped: true,
        patterns: &[&["cannot unmarshal array into go struct field", ".aud"]],
        path: Path::AppSession,
        app: None,
        explain: |_, i| {
            let _ = i;
            (
                "the app's token verifier could not read the token's aud (audience): the token lists it as an array, and the verifier's JWT library takes only a string".into(),
                s(&[
                    "the IdP writes aud as an array (several audiences, or always); Dex writes a single audience as a string",
                    "an old JWT library in the app (jwt-go StandardClaims, as older Argo CD used)",
                ]),
                "Upgrade the app to a release that reads an audience array, or have the IdP issue one audience for this client (no extra audiences or resource indicators)".into(),
            )
        },
    },
    Message {
        // coreos/go-oidc v3 oidc/verify.go: oidc: id token signed with unsupported algorithm, expected %q got %q
        key: Key::Shape("unsupported_signing_alg"),
        rank: 640,
        wins_when_wrapped: true,
        patterns: &[&["signed with unsupported algorithm"]],
        path: Path::AppSession,
        app: None,
        explain: |_, i| {
            let _ = i;
            (
                "the ID token's signing algorithm is one the verifier (go-oidc) does not accept".into(),
                s(&[
                    "the IdP signs ID tokens with RS512, ES256 or HS256 while the verifier accepts only RS256 (go-oidc's default; older Argo CD, Devtron and Dex)",
                    "the IdP client's ID token signature setting was changed",
                ]),
                "Set the IdP client's ID token signature algorithm to RS256 (Keycloak: the client → Advanced → ID token signature algorithm), or upgrade the app to one that accepts the IdP's algorithms".into(),
            )
        },
    },
    Message {
        // dex connector/saml/saml.go: response did not contain a AttributeStatement
        key: Key::Shape("saml_no_attributes"),
        rank: 650,
        wins_when_wrapped: true,
        patterns: &[&["did not contain a attributestatement"]],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |_, i| {
            let _ = i;
            (
                "Dex's SAML connector got an assertion with no attribute statements: no name, email or groups attributes to read".into(),
                s(&[
                    "the IdP's SAML app sends no attribute statements: map the attributes the connector's usernameAttr, emailAttr and groupsAttr name (Okta: the app's Attribute Statements)",
                ]),
                "Add attribute statements to the IdP's SAML app for the names the connector reads (usernameAttr, emailAttr, groupsAttr), then log in again".into(),
            )
        },
    },
    Message {
        // dex connector/ldap/ldap.go: ldap: initial bind for user %q failed; go-ldap result code 49
        key: Key::Shape("ldap_bind"),
        rank: 660,
        wins_when_wrapped: true,
        patterns: &[&["initial bind for user"], &["ldap result code 49"]],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |_, i| {
            let _ = i;
            (
                "Dex's LDAP connector could not bind with its service account (the bind DN and bindPW in its config)".into(),
                s(&[
                    "the bind DN does not exist in the directory, or bindPW is wrong (LDAP Result Code 49 \"Invalid Credentials\")",
                    "the bind DN's base is not this server's suffix (another directory, a typo in dc=…)",
                ]),
                format!("Check the connector's bindDN and bindPW against the directory (ldapwhoami -x -H ldaps://HOST -D BINDDN -W); dexcheck check binds with them (ldap.bind); then {}", i.restart()),
            )
        },
    },
    Message {
        // dex connector/github/github.go: github: user %q not in required orgs or teams
        key: Key::Shape("github_orgs"),
        rank: 670,
        wins_when_wrapped: true,
        patterns: &[&["not in required orgs or teams"]],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: |_, i| {
            let _ = i;
            (
                "GitHub signed the user in, but Dex found no membership in the connector's orgs or teams".into(),
                s(&[
                    "the user is not a member of a listed org or team (teams by their slug, with teamNameField)",
                    "the GitHub OAuth app has not been granted access to the organization (third-party access restrictions), so the membership lookup returns nothing",
                ]),
                "Grant the OAuth app access to the organization (GitHub: the org → Settings → Third-party access), or fix the connector's orgs/teams; then log in again".into(),
            )
        },
    },
    Message {
        // dex cmd/dex/serve.go: failed to initialize storage: %v
        key: Key::Shape("storage_init"),
        rank: 680,
        wins_when_wrapped: true,
        patterns: &[&["failed to initialize storage"]],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |text, i| {
            let mut causes = s(&[
                "the database (Postgres, MySQL) was not reachable yet when Dex started: Dex does not retry",
                "kubernetes storage: the service account token lacks the namespace claim (bound tokens on Kubernetes 1.21+ with an old Dex): set KUBERNETES_POD_NAMESPACE or upgrade Dex",
            ]);
            // The line names the service account token: the second cause is the one it shows.
            if text.to_lowercase().contains("service account token") {
                causes.reverse();
            }
            (
                "Dex could not open its storage and exited".into(),
                causes,
                format!(
                    "Start the database before Dex (or let the pod restart once it is up); for kubernetes storage, set KUBERNETES_POD_NAMESPACE on the Dex Deployment: {} set env deployment/{} KUBERNETES_POD_NAMESPACE={}",
                    i.kubectl(),
                    i.profile().dex.deployment,
                    i.namespace
                ),
            )
        },
    },
    Message {
        // oauth2-proxy providers/provider_data.go and pkg/apis/middleware/session.go: email in id_token (%s) isn't verified
        key: Key::Shape("unverified_email"),
        rank: 690,
        wins_when_wrapped: true,
        patterns: &[&["email in id_token", "isn't verified"]],
        path: Path::IdpCallback,
        app: Some("oauth2-proxy"),
        explain: |_, i| {
            let _ = i;
            (
                "oauth2-proxy refused the ID token: its email is not verified (email_verified is false)".into(),
                s(&[
                    "the user has not verified the email address at the IdP",
                    "the IdP does not send email_verified true for this kind of account",
                ]),
                "Have the user verify the email at the IdP; or start oauth2-proxy with --insecure-oidc-allow-unverified-email (accepting unverified addresses)".into(),
            )
        },
    },
    Message {
        // oauth2-proxy oauthproxy.go: Login Failed: Unable to find a valid CSRF token; unable to obtain CSRF cookie
        key: Key::Shape("csrf_cookie"),
        rank: 700,
        wins_when_wrapped: true,
        patterns: &[
            &["unable to find a valid csrf token"],
            &["unable to obtain csrf cookie"],
        ],
        path: Path::IdpCallback,
        app: Some("oauth2-proxy"),
        explain: |_, i| {
            let _ = i;
            (
                "oauth2-proxy found no CSRF cookie on the callback: the csrf cookie set at /oauth2/start did not come back".into(),
                s(&[
                    "the cookie's domain, path, SameSite or Secure setting does not fit the way the browser reaches the callback (another host, a gateway, http)",
                    "the login took longer than the CSRF cookie's lifetime",
                ]),
                "Make the callback reach oauth2-proxy under the host that set the cookie, and set --cookie-domain, --cookie-secure, --cookie-samesite and --cookie-csrf-per-request/--cookie-csrf-expire for the setup".into(),
            )
        },
    },
    Message {
        // Go net/http Request.Cookie: http: named cookie not present (Argo CD's argocd.oauthstate, Concourse's state cookie)
        key: Key::Shape("state_cookie_missing"),
        rank: 710,
        wins_when_wrapped: true,
        patterns: &[&["named cookie not present"]],
        path: Path::IdpCallback,
        app: None,
        explain: |_, i| {
            let _ = i;
            (
                "the login's callback came without its state cookie: the cookie's host or cookie path did not match the callback".into(),
                s(&[
                    "the browser opened the app under another host than the configured external URL (127.0.0.1 against localhost, http against https): the cookie belongs to the other host",
                    "the cookie path does not cover the callback's path (a base href or path prefix)",
                    "the browser blocked the cookie (SameSite, privacy settings)",
                ]),
                "Open the app exactly at its configured URL (scheme, host and port), and keep the callback under the cookie's path; then log in again".into(),
            )
        },
    },
    Message {
        // Chromium devtools-frontend front_end/core/sdk/NetworkRequest.js, CookieBlockedReason NotOnPath
        key: Key::Shape("cookie_path_blocked"),
        rank: 720,
        wins_when_wrapped: true,
        patterns: &[&["cookie was blocked because its path"]],
        path: Path::BrowserApp,
        app: None,
        explain: |_, i| {
            let _ = i;
            (
                "the browser dropped the login's state cookie: its cookie path does not cover the callback's path".into(),
                s(&[
                    "the app serves under a base href (Argo Workflows base_href, a path prefix) while the callback is at the root, or the other way round",
                ]),
                "Serve the app and its callback under the same path prefix (or set the base href back to /); then log in again".into(),
            )
        },
    },
    Message {
        // go-jose v4 jwt/jwt.go: asymmetric encryption algorithms not supported for JWT: invalid key encryption algorithm (argo-workflows took v4 in c786f25b9c, fixed in 326c5d77b7)
        key: Key::Shape("jwe_key_algorithm"),
        rank: 730,
        wins_when_wrapped: true,
        patterns: &[&["invalid key encryption algorithm"]],
        path: Path::AppSession,
        app: Some("Argo Workflows"),
        explain: |_, i| {
            let _ = i;
            (
                "argo-server could not read its own SSO session token: it is a JWE encrypted with RSA-OAEP-256, which its go-jose version no longer accepts".into(),
                s(&[
                    "an argo-server built with go-jose v4, which dropped public-key encrypted JWTs (argo-workflows 3.6 pre-releases)",
                ]),
                "Upgrade argo-server to a release with the fix (a nested JWT inside the JWE), then log in again".into(),
            )
        },
    },
    Message {
        // argo-workflows server/auth/gatekeeper.go: "token not valid for running mode" (3.0–3.4), "token not valid. see …/faq/" (3.5 and later)
        key: Key::Shape("running_mode"),
        rank: 740,
        wins_when_wrapped: true,
        patterns: &[
            &["token not valid for running mode"],
            &["token not valid. see"],
        ],
        path: Path::AppSession,
        app: Some("Argo Workflows"),
        explain: |_, i| {
            let _ = i;
            (
                "argo-server refused the request's token: in sso mode it accepts only the session token its own SSO callback issued".into(),
                s(&[
                    "the IdP's redirect URL is not argo-server's /oauth2/callback, so the login never reached argo-server's callback",
                    "--auth-mode does not list the kind of token sent (sso, client, server)",
                ]),
                "Register and configure argo-server's own callback (https://ARGO-SERVER/oauth2/callback) as the sso redirectUrl; check --auth-mode".into(),
            )
        },
    },
    Message {
        // cobra's `unknown command %q for %q`: rundex was argo-cd cmd/argocd-util (1.x), moved to cmd/argocd-dex (2.0)
        key: Key::Shape("rundex_command"),
        rank: 750,
        wins_when_wrapped: true,
        patterns: &[&["unknown command \"rundex\""]],
        path: Path::DexUpstream,
        app: Some("Argo CD"),
        explain: |_, i| {
            let _ = i;
            (
                "the Dex container runs Argo CD's old \"argocd-util rundex\" command, which Argo CD 2.x moved to the argocd-dex binary".into(),
                s(&[
                    "an operator or manifest written for Argo CD 1.x deploys Dex with an Argo CD 2.x image",
                ]),
                "Run Dex with the command of your Argo CD release (2.x: /shared/argocd-dex rundex); upgrade the operator".into(),
            )
        },
    },
    Message {
        // argo-cd server/server.go (3.0 and later): claims.MapClaimsToArgoClaims failed on the token's claims
        key: Key::Shape("groups_claim_shape"),
        rank: 760,
        wins_when_wrapped: true,
        patterns: &[&["invalid argo claims"]],
        path: Path::AppSession,
        app: Some("Argo CD"),
        explain: |_, i| {
            let _ = i;
            (
                "Argo CD could not read the token's claims: a claim has another JSON type than it expects (the groups claim as a string where a list is expected)".into(),
                s(&[
                    "the IdP sends groups as a single string (JumpCloud, custom mappers) where Argo CD 3.x expects a list of strings",
                ]),
                "Make the IdP send groups as a list (or not at all), or map the claim on the IdP side; then log in again".into(),
            )
        },
    },
    Message {
        // dex connector/oidc/oidc.go, connector/microsoft/microsoft.go: failed to get token: %v, with Go's context canceled
        key: Key::Shape("token_request_cancelled"),
        rank: 770,
        wins_when_wrapped: true,
        patterns: &[
            &["failed to get token", "context canceled"],
            &["failed to get token", "context cancelled"],
        ],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |_, i| {
            let _ = i;
            (
                "Dex's token request to the IdP (the code exchange) did not finish before it was cancelled: a timeout on the way".into(),
                s(&[
                    "a gateway or load balancer in front of Dex timed out the callback while Dex waited for the IdP",
                    "an egress proxy or firewall holds Dex's connection to the IdP's token endpoint",
                ]),
                "Check that the Dex pod reaches the IdP's token endpoint quickly (dexcheck check: dexpod.idp_client_auth), and raise the gateway's timeout for Dex's callback".into(),
            )
        },
    },
    Message {
        // dex connector/ldap/ldap.go do() (v2.30.0 L315-329): insecureNoSSL dials plain LDAP,
        // startTLS plain then StartTLS, anything else TLS (default port 636); go-ldap reports a
        // connection the server closed as `LDAP Result Code 200 "Network Error": EOF`.
        key: Key::Shape("ldap_tls_mismatch"),
        rank: 780,
        wins_when_wrapped: true,
        patterns: &[
            &["ldap result code 200", ": eof"],
            &[
                "ldap result code 200",
                "first record does not look like a tls handshake",
            ],
            &["ldap result code 200", "tls: "],
        ],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |_, i| {
            (
                "the LDAP server closed Dex's connection at once: Dex and the server do not agree on TLS".into(),
                s(&[
                    "Dex speaks TLS (its default, with insecureNoSSL and startTLS false) to a plain LDAP port such as 389: insecureNoSSL: true or startTLS: true must sit under the connector's config:, where Dex reads them; beside type and id they are ignored",
                    "Dex speaks plain LDAP (insecureNoSSL: true) to the TLS port 636",
                    "a firewall or proxy on the way cuts LDAP connections",
                ]),
                format!(
                    "Use host: HOST:636 with TLS, or put startTLS: true (or insecureNoSSL: true, plain text) under the connector's config: for port 389; dexcheck check --offline shows the fields Dex reads; then {}",
                    i.restart()
                ),
            )
        },
    },
    Message {
        // dex connector/google/google.go getGroups: the Admin SDK token is a service-account JWT
        // (serviceAccountFilePath) impersonating domainToAdminEmail, for the
        // admin.directory.group.readonly scope; `could not retrieve groups: %v`.
        key: Key::Shape("google_groups"),
        rank: 345,
        wins_when_wrapped: true,
        patterns: &[
            &["could not retrieve groups", "not authorized"],
            &["could not retrieve groups", "unauthorized_client"],
            &["could not retrieve groups", "403"],
            &["could not list groups", "403"],
        ],
        path: Path::DexUpstream,
        app: Some("Dex"),
        explain: |_, i| {
            (
                "Dex's Google connector signed the user in but could not read their groups from Google's Admin SDK".into(),
                s(&[
                    "the service account (serviceAccountFilePath) has no domain-wide delegation for the scope https://www.googleapis.com/auth/admin.directory.group.readonly: Google answers \"Requested client not authorized\" (Admin console → Security → API controls → Domain-wide delegation, the service account's client id with that scope)",
                    "the user it impersonates (domainToAdminEmail, formerly adminEmail) is not a Workspace admin allowed to read groups: Google answers 403 \"Not Authorized to access this resource/api\"",
                    "the Admin SDK API is not enabled in the service account's project",
                ]),
                format!(
                    "Grant the service account's client id domain-wide delegation for admin.directory.group.readonly, impersonate a Workspace admin, then sign in again (no Dex restart needed unless the key file changed: {})",
                    i.restart()
                ),
            )
        },
    },
    Message {
        // go-oidc jwks.go updateKeys: `oidc: failed to decode keys: %v %s` (the body follows);
        // go-jose jwk.go UnmarshalJSON refuses a key whose x5t (20 bytes) or x5t#S256 (32
        // bytes) thumbprint has another size, or that is not base64url.
        key: Key::Shape("jwks_undecodable"),
        rank: 225,
        wins_when_wrapped: true,
        patterns: &[&["failed to decode keys"], &["invalid jwk"]],
        path: Path::AppSession,
        app: None,
        explain: |t, _| {
            let thumbprint = t.to_lowercase().contains("x5t") || t.contains("base64");
            let mut causes = s(&[
                "a key in the IdP's set has a field the JOSE library refuses: an x5t or x5t#S256 thumbprint of the wrong length (20 and 32 bytes) or in padded or standard base64 instead of base64url; go-jose checks them (Argo Workflows from 3.1: argo-workflows#6843, #3626)",
                "the jwks_uri answers something that is not a key set (an HTML login or error page, a proxy's answer): the body is printed after the error",
            ]);
            if !thumbprint {
                causes.swap(0, 1);
            }
            (
                "the app fetched the IdP's key set (jwks_uri) but could not decode it, so no token's signature could be checked (this is not a key mismatch)".into(),
                causes,
                "Fetch the key set the discovery document names (curl JWKS_URI) and check every key: x5t and x5t#S256 base64url without padding, 20 and 32 bytes decoded; fix or drop the thumbprints at the IdP, or run a release of the app whose JOSE library accepts them".into(),
            )
        },
    },
    Message {
        // nginx ngx_http_proxy_module: the upstream's status line and headers do not fit in
        // proxy_buffer_size; ingress-nginx answers 502 (argo-cd#9475: at /auth/callback, where
        // the app sets the token cookie).
        key: Key::Shape("proxy_header_too_big"),
        rank: 785,
        wins_when_wrapped: true,
        patterns: &[&["upstream sent too big header"]],
        path: Path::AppSession,
        app: Some("ingress-nginx (nginx)"),
        explain: |t, _| {
            let callback = t.contains("/callback");
            (
                format!(
                    "nginx in front of the app could not read the app's answer{}: its headers are larger than proxy-buffer-size, so the browser gets 502",
                    if callback { " to the login callback" } else { "" }
                ),
                s(&[
                    "the session cookie the app sets after the login (the ID token: Argo CD's argocd.token, Devtron's) is larger than nginx's buffer (4k or 8k by default), most often because the token carries many groups",
                    "another large header from the app (a long redirect Location)",
                ]),
                "Raise the buffer on the app's Ingress: nginx.ingress.kubernetes.io/proxy-buffer-size: \"16k\" (or proxy-buffer-size in the controller's ConfigMap), or send fewer groups in the token".into(),
            )
        },
    },
    Message {
        // argo-cd util/http/http.go MakeCookieMetadata (2.2 and later; 1.3–2.1: "invalid cookie,
        // at N long it is longer than the max length of 4093"; 1.0–1.2: "invalid cookie, longer
        // than max length 4093"); Devtron's authenticator oidc/http.go prints the 2.2 text.
        key: Key::Shape("token_too_large"),
        rank: 610,
        wins_when_wrapped: true,
        patterns: &[
            &["requires", "cookies but the max number of cookies is"],
            &["invalid cookie", "longer than"],
        ],
        path: Path::AppSession,
        app: None,
        explain: |_, i| {
            (
                "the login succeeded, but the app could not store its session: the ID token is longer than its session cookies can hold".into(),
                s(&[
                    "the ID token carries many groups (Entra ID, Okta, Google send every group of the user)",
                    "the app splits the token into at most ARGOCD_MAX_COOKIE_NUMBER cookies of 4 KB (Argo CD: 20 by default; Devtron's authenticator: 10, at most 30); Argo CD before 2.2 kept it in one cookie",
                ]),
                format!(
                    "Allow more cookies on the app's server: {} set env deployment/argocd-server ARGOCD_MAX_COOKIE_NUMBER=30 (Devtron: deployment/devtron); or send fewer groups (Entra ID: groupMembershipClaims ApplicationGroup or app roles; Dex: the connector's groups filter); on Argo CD before 2.2, upgrade",
                    i.kubectl()
                ),
            )
        },
    },
    Message {
        // dex server/handlers.go handleConnectorCallback: storage.ErrNotFound for the state
        // (v2.30: "Invalid 'state' parameter provided: not found"; v2.45: "invalid 'state'
        // parameter provided"), then the page "Requested resource does not exist.".
        key: Key::Shape("auth_request_lost"),
        rank: 620,
        wins_when_wrapped: true,
        patterns: &[
            &["invalid 'state' parameter provided"],
            &["failed to get auth request", "not found"],
        ],
        path: Path::IdpCallback,
        app: Some("Dex"),
        explain: |_, i| {
            (
                "Dex no longer has the auth request (the pending login) that the IdP's callback names by its state".into(),
                s(&[
                    "several Dex replicas with memory storage (as Devtron and Argo CD configure Dex): the callback reached another replica than the one the login started on",
                    "Dex restarted during the login: memory storage loses every pending login",
                    "the browser came back with an old or copied callback URL",
                ]),
                format!(
                    "Run one Dex replica ({k} scale deployment/{d} --replicas=1) or give Dex shared storage; then start the login again (dexcheck check names replicas with memory storage)",
                    k = i.kubectl(),
                    d = i.profile().dex.deployment
                ),
            )
        },
    },
    Message {
        key: Key::Shape("invalid_oidc_config"),
        rank: 490,
        wins_when_wrapped: false,
        patterns: &[
            &["invalid oidc config"],
            &["failed to validate oidc config"],
        ],
        path: Path::ArgoDirect,
        app: Some("Argo CD"),
        explain: |_, i| {
            (
                "Argo CD could not read oidc.config: SSO through it is off (with a dex.config beside it, Argo CD signs in through Dex instead)".into(),
                s(&[
                    "a value that YAML reads as a mapping where a string is meant ({client_id} unquoted)",
                    "a flag followed by a // comment (true // …), which YAML reads as a string",
                    "indentation that puts keys outside oidc.config",
                ]),
                format!(
                    "Check it as Argo CD reads it: {} get configmap argocd-cm -o yaml > cm.yaml; dexcheck check cm.yaml --offline",
                    i.kubectl()
                ),
            )
        },
    },
    Message {
        key: Key::Shape("secret_reference"),
        rank: 500,
        wins_when_wrapped: false,
        patterns: &[
            &["secret key does not exist in secret"],
            &["config referenced", "does not exist in secret"],
        ],
        path: Path::ArgoDirect,
        app: Some("Argo CD"),
        explain: |text, i| {
            let mut causes = s(&[
                "the key is missing from argocd-secret ($key) or from the Secret name ($name:key)",
                "the Secret lacks the label app.kubernetes.io/part-of: argocd, so Argo CD does not read it",
            ]);
            // A `$name:key` reference reads another Secret, which Argo CD sees only with the label.
            if crate::explain::quoted_after(text, "config referenced ")
                .or_else(|| text.split("'$").nth(1).map(str::to_string))
                .is_some_and(|r| r.contains(':'))
            {
                causes.reverse();
            }
            (
                "Argo CD could not resolve a $key or $name:key reference in argocd-cm: the value stays the reference itself".into(),
                causes,
                format!(
                    "Add the key, and label the Secret: {} label secret NAME app.kubernetes.io/part-of=argocd; then restart argocd-server",
                    i.kubectl()
                ),
            )
        },
    },
    Message {
        key: Key::Shape("unresolved_reference_url"),
        rank: 510,
        // Inside "failed to query provider …" it says more than the wrapper does.
        wins_when_wrapped: true,
        patterns: &[&["first path segment in url cannot contain colon"]],
        path: Path::ArgoDirect,
        app: None,
        explain: |_, _| {
            simple(
                "a URL field holds something Go cannot parse as a URL: typically an unresolved $name:key reference (argo-cd#7786)",
                &[
                    "oidc.config's issuer (or another URL) is a $name:key reference whose Secret or key Argo CD did not find",
                    "a URL written without its scheme and with a colon in its first segment",
                ],
                "Resolve the reference (the key in the Secret, the Secret labelled app.kubernetes.io/part-of: argocd) or write the URL itself",
            )
        },
    },
];

/// Go's oauth2 `cannot fetch token: STATUS` (with `Response: BODY`): a token endpoint answered,
/// and its OAuth 2.0 error says why; without a status, the exchange did not get an answer.
fn token_exchange(t: &str, i: &Install) -> (String, Vec<String>, String) {
    let lower = t.to_lowercase();
    if lower.contains("invalid_client") || lower.contains("401") {
        return simple(
            "the code exchange was refused: the token endpoint did not accept the client's id or secret (invalid_client)",
            &[
                "the secret the client sends differs from the one registered (rotated, copied with a trailing newline, or a $ reference that did not resolve)",
                "Devtron: server.secretkey changed after the orchestrator started (the secret it gives Dex is derived from it)",
            ],
            &format!(
                "Compare the client secret on both sides (dexcheck check compares them by digest), then restart the client: {}",
                i.restart()
            ),
        );
    }
    if lower.contains("invalid_grant") {
        return simple(
            "the code exchange was refused: the token endpoint no longer accepts the authorization code (invalid_grant)",
            &[
                "the code was spent by an earlier attempt: Go's oauth2 auto-detects the client auth style, sending the secret in the header first and then in the body, and an IdP that consumes the code on the refused first try refuses the retry (argo-workflows#5332); or the callback was loaded twice",
                "the code expired before the exchange (a slow or retried callback, clocks apart)",
                "the redirect_uri of the exchange differs from the authorization's",
            ],
            "Set the client's token endpoint auth method at the IdP to client_secret_basic (or the style the client uses first), and sign in again once; dexcheck check exchanges a code with the client's settings (idp.client_auth)",
        );
    }
    let status = [
        "400 bad request",
        "403 forbidden",
        "404 not found",
        "500 internal",
        "502 bad gateway",
        "503 service",
    ]
    .into_iter()
    .find(|s| lower.contains(s));
    if let Some(status) = status {
        return (
            format!("the token endpoint answered the code exchange with {status}: it was reached, and refused or failed"),
            s(&[
                "the body after Response: names the OAuth 2.0 error (invalid_request, unauthorized_client, …) or the proxy that answered",
                "a proxy or ingress in front of the token endpoint answered instead of the IdP",
            ]),
            "Read the Response: body in the log; dexcheck check shows the exchange from the client's own pod".into(),
        );
    }
    simple(
        "the code exchange at the token endpoint got no answer",
        &[
            "the token endpoint is unreachable from the client's pod (same causes as discovery)",
            "the code expired or was used twice",
        ],
        "Read the error after cannot fetch token; check the client's pod reaches the token endpoint (dexcheck check: pod.token_keys)",
    )
}

fn simple(what: &str, causes: &[&str], remedy: &str) -> (String, Vec<String>, String) {
    (what.to_string(), s(causes), remedy.to_string())
}

fn no_user(_: &str, _: &Install) -> (String, Vec<String>, String) {
    (
        "the login worked, but the user does not exist in Devtron".into(),
        s(&["the user was never added (Devtron does not create users on first login)", "the IdP sends another email than the one added"]),
        "Add the user in Devtron (Global Configurations → Authorization → User Permissions) with the exact email the IdP sends".into(),
    )
}

fn dex_state(_: &str, _: &Install) -> (String, Vec<String>, String) {
    (
        "Dex does not know the login in progress".into(),
        s(&[
            "Dex restarted between the authorization and the callback (memory storage)",
            "several Dex replicas without shared storage",
        ]),
        "Run one Dex replica (or shared storage) and sign in again".into(),
    )
}

fn idp_callback(_: &str, _: &Install) -> (String, Vec<String>, String) {
    (
        "the upstream IdP refused Dex's callback URL".into(),
        s(&[
            "the IdP has another callback registered than URL/api/dex/callback (host, port, scheme or path differ)",
            "URL changed (e.g. to a port-forward address) after the IdP app was registered",
        ]),
        remedy::register_callback("URL/api/dex"),
    )
}
