//! Remedies to paste, filled with the operator's own names, ports and namespace: the builders
//! (port-forward, CoreDNS rewrite, `hostAliases`, `NO_PROXY`, TLS pairing, `appProtocol`) that
//! `check` and `explain` share, and the remedy of each check by class and vantage.

use crate::app::{DexCall, Install};
use crate::diagnosis::{BrowserOrigin, Check, Vantage};
use crate::plan::gourl::GoUrl;
use crate::plan::predict::{HostKind, Outcome, host_kind};
use crate::plan::redirect;
use crate::probe::class::Class;

/// Behind a port-forward: the server container's own port serves the browser and the pod alike
/// (Devtron's 8080). `None` for an app without such a port.
pub fn port_forward_own(i: &Install) -> Option<String> {
    let p = i.profile();
    let port = p.container_port?;
    let url = i.base_on("http", &format!("localhost:{port}"));
    Some(format!(
        "{}, then set {} to {url} in {} (inside the pod localhost:{port} is {} itself); the IdP must accept {url}/api/dex/callback",
        i.port_forward(port),
        p.url_setting,
        p.url_where,
        p.server_name
    ))
}

/// A CoreDNS `rewrite` so pods resolve the public name to the ingress controller's Service.
pub fn coredns_rewrite(host: &str) -> String {
    coredns_rewrite_to(
        host,
        "ingress-nginx-controller.ingress-nginx.svc.cluster.local",
    )
}

/// A CoreDNS `rewrite` of `host` to `target` (a Service's cluster name).
pub fn coredns_rewrite_to(host: &str, target: &str) -> String {
    format!(
        "kubectl -n kube-system edit configmap coredns, and inside the server block add: rewrite name exact {host} {target} (for a regex: rewrite stop {{ name regex (.*)\\.{} {target} answer auto }}); then kubectl -n kube-system rollout restart deployment coredns",
        host.split_once('.')
            .map(|(_, d)| d.replace('.', "\\."))
            .unwrap_or_else(|| host.replace('.', "\\."))
    )
}

/// `hostAliases` on the app's Deployment, mapping the public name to an address pods can reach.
pub fn host_aliases(i: &Install, host: &str) -> String {
    format!(
        "{} patch deployment {} --type merge -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"hostAliases\":[{{\"ip\":\"INGRESS_CLUSTER_IP\",\"hostnames\":[\"{host}\"]}}]}}}}}}}}' (INGRESS_CLUSTER_IP: kubectl -n ingress-nginx get svc ingress-nginx-controller -o jsonpath='{{.spec.clusterIP}}')",
        i.kubectl(),
        i.profile().server.deployment
    )
}

/// The `NO_PROXY` value the app pod needs so calls to itself and to Dex bypass the proxy.
pub fn no_proxy(i: &Install, extra_host: Option<&str>) -> String {
    let p = i.profile();
    let ns = &i.namespace;
    let mut v: Vec<String> = extra_host.map(str::to_string).into_iter().collect();
    v.push(p.dex.service.to_string());
    v.push(format!("{}.{ns}", p.dex.service));
    v.push(format!("{}.{ns}", p.server.service));
    v.extend([".svc", ".cluster.local", "localhost", "127.0.0.1"].map(String::from));
    format!(
        "{} set env deployment/{} NO_PROXY={} (and no_proxy likewise)",
        i.kubectl(),
        p.server.deployment,
        v.join(",")
    )
}

/// The app's server and Dex must agree on TLS (Argo CD's server↔Dex modes pair up).
pub fn dex_tls_pair(i: &Install, server_sends_plain_to_tls: bool) -> String {
    let restart = i.restart();
    if server_sends_plain_to_tls {
        format!(
            "{} talks plain HTTP to a Dex that serves TLS: either let Dex drop TLS too (argocd-cmd-params-cm: dexserver.disable.tls: \"true\", which runs Dex with --disable-tls) or remove server.dex.server.plaintext / --dex-server-plaintext; then {restart}",
            i.profile().server_name
        )
    } else {
        format!(
            "{} speaks TLS to a Dex that serves plain HTTP: set server.dex.server.plaintext: \"true\" in argocd-cmd-params-cm (--dex-server-plaintext) to match Dex's --disable-tls, or give Dex TLS back; then {restart}",
            i.profile().server_name
        )
    }
}

/// Under a service mesh, Dex's port must be plain TCP to the sidecar.
pub fn app_protocol_tcp(i: &Install) -> String {
    format!(
        "{} patch service {} --type json -p '[{{\"op\":\"add\",\"path\":\"/spec/ports/0/appProtocol\",\"value\":\"TCP\"}}]'",
        i.kubectl(),
        i.profile().dex.service
    )
}

/// For an app without a return-URL rule, when the `redirect_uri` it sends for a browser at
/// `origin` fails: the app's URL setting made the browser's origin, or the browser sent to the
/// configured URL, and the URI registered where the provider keeps its clients.
pub(crate) fn redirect_uri(install: &Install, origin: &str, uri: &str, base: &str) -> String {
    let p = install.profile();
    // A loopback URL is served by a port-forward on its own port.
    let same_port = GoUrl::parse(base)
        .ok()
        .filter(|b| host_kind(b.hostname()) == HostKind::Loopback)
        .and_then(|b| b.effective_port())
        .map(|port| {
            format!(
                "; or open {base} itself, forwarding its port: {}",
                install.port_forward(port)
            )
        });
    match p.redirect_uri {
        crate::app::RedirectUri::FromBase => format!(
            "Set {} ({}) to the address the browser uses, {origin}, then {}{}",
            p.url_setting,
            p.url_where,
            install.restart(),
            same_port.unwrap_or_default()
        ),
        crate::app::RedirectUri::FromRequest => format!(
            "Register {uri} for {}'s client at the provider (Dex: that client's redirectURIs), or set {} ({}) to an address the browser opens and the provider lists; then {}",
            p.name,
            p.url_setting,
            p.url_where,
            install.restart()
        ),
    }
}

/// The callback the upstream IdP must have registered.
pub fn register_callback(issuer: &str) -> String {
    format!(
        "Register exactly {}/callback as a redirect (callback) URL at the IdP, and set the connector's redirectURI to the same string",
        issuer.trim_end_matches('/')
    )
}

// Remedies for the checks, keyed by class and vantage, for the install's profile.

pub(crate) fn workstation(install: &Install, o: &Outcome, url: &GoUrl) -> Option<String> {
    let p = install.profile();
    let setting = p.url_setting;
    let prefix = p.path_prefix.unwrap_or("");
    match o.class? {
        Class::Dns => Some(match p.container_port {
            Some(port) => format!(
                "{} resolves only inside the cluster. Give {setting} a name the browser and the pod both reach (an ingress host), or use a port-forward on local port {port} with {setting} {}",
                url.hostname(),
                install.base_on("http", &format!("localhost:{port}"))
            ),
            None => format!(
                "{} resolves only inside the cluster; set {setting} to the address the browser uses",
                url.hostname()
            ),
        }),
        Class::NOT_FOUND => Some(format!("End {setting} in {prefix}")),
        Class::UnsupportedScheme => {
            Some(format!("Give {setting} as http(s)://host[:port]{prefix}"))
        }
        _ => None,
    }
}

pub(crate) fn pod(install: &Install, o: &Outcome, base: Option<&GoUrl>) -> Option<String> {
    let b = base?;
    let p = install.profile();
    let setting = p.url_setting;
    let own = |port: u16| install.base_on("http", &format!("localhost:{port}"));
    match (p.container_port, o.class?) {
        (Some(port), Class::Refused) => Some(format!(
            "Inside the pod {} is the pod itself. Forward local port {port} ({}'s own port) instead: {} and set {setting} to {}; or use a host name both the browser and the pod resolve (ingress + CoreDNS rewrite or hostAliases)",
            b.hostname(),
            p.server_name,
            install.port_forward(port),
            own(port)
        )),
        (Some(port), Class::HttpToHttps) => Some(format!(
            "Use {}: {}'s port speaks plain HTTP",
            own(port),
            p.server_name
        )),
        (_, Class::NOT_FOUND) if p.path_prefix.is_some() => Some(format!(
            "End {setting} in {}: {}",
            p.path_prefix.unwrap_or(""),
            install.base_on(&b.scheme, &b.host)
        )),
        (_, Class::UnsupportedScheme) => Some(format!(
            "Set {setting} to an absolute http(s) URL and restart the app pod"
        )),
        _ => None,
    }
}

pub(crate) fn redirect(
    install: &Install,
    v: &redirect::RedirectVerdict,
    origin: Option<&BrowserOrigin>,
) -> String {
    let p = install.profile();
    let setting = p.url_setting;
    let suffix = p.path_prefix.unwrap_or("");
    match (v.rule, origin) {
        (redirect::Rule::Host | redirect::Rule::Scheme, Some(o)) => {
            let loopback = GoUrl::parse(&o.origin)
                .is_ok_and(|u| host_kind(u.hostname()) == HostKind::Loopback);
            match (port_forward_own(install), p.container_port) {
                // The browser is on a port-forward: only the container's own port serves both.
                (Some(forward), Some(port)) if loopback => format!(
                    "One address must serve the browser and the pod. Through a port-forward that is local port {port}: {forward}. Or an ingress host both resolve, as {setting} {}",
                    install.base_on("https", "HOST")
                ),
                _ => format!(
                    "Set {setting} to the origin the browser uses: {}{suffix} — and make sure the app pod can reach that same address (CoreDNS rewrite or hostAliases)",
                    o.origin
                ),
            }
        }
        (redirect::Rule::HostDefaultPort, _) => format!("Remove the explicit default port from {setting}"),
        (redirect::Rule::HostCase, _) => format!("Write {setting}'s host in lower case"),
        (redirect::Rule::PathTrailingSlash, _) => format!("Remove the trailing slash from {setting}"),
        (redirect::Rule::Relative, _) => "The return URL is relative; open the app through its full URL (Argo CD 3.5.0 had this bug, fixed by adding the origin)".into(),
        _ => format!("Make {setting}'s scheme, host[:port] and path prefix match the return URL ({})", v.actual),
    }
}

/// A concrete next step for an observed failure, in the operator's own names.
/// What an observed check's URL names.
struct Seen {
    url: String,
    host: String,
    port: u16,
    loopback: bool,
}

impl Seen {
    fn of(o: &Check) -> Seen {
        let url = o.url.clone().unwrap_or_default();
        let parsed = url::Url::parse(&url).ok();
        let host = parsed
            .as_ref()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let port = parsed
            .as_ref()
            .and_then(|u| u.port_or_known_default())
            .unwrap_or(80);
        let loopback = host_kind(&host) == HostKind::Loopback;
        Seen {
            url,
            host,
            port,
            loopback,
        }
    }
}

/// The fix for an observed failure, by class and vantage, in the install's names. `base` is
/// URL's host and port.
pub(crate) fn observed(i: &Install, o: &Check, base: Option<&(String, u16)>) -> Option<String> {
    let class = o.class?;
    let seen = Seen::of(o);
    let from_pod = match o.vantage {
        Vantage::AppPod => from_app_pod(i, class, &seen),
        Vantage::DexPod if class == Class::Dns => Some(format!(
            "Dex's pod cannot resolve {}: make the IdP's name resolvable in the cluster (CoreDNS forward or stub domain for its zone), then restart Dex",
            seen.host
        )),
        _ => None,
    };
    from_pod
        .or_else(|| transport(i, class, &seen, o))
        .or_else(|| answer(i, class, &seen, base))
}

/// From inside the app pod the same classes call for other fixes.
fn from_app_pod(i: &Install, class: Class, seen: &Seen) -> Option<String> {
    let host = &seen.host;
    let rewrites = i.profile().dex_call == DexCall::Rewrite;
    match class {
        Class::Refused if seen.loopback => port_forward_own(i),
        Class::Dns | Class::ConnectTimeout | Class::Unreachable | Class::Reset => Some(format!(
            "Make {host} reach the ingress from inside the cluster: {}; or per Deployment: {}",
            coredns_rewrite(host),
            host_aliases(i, host)
        )),
        Class::Proxy => Some(no_proxy(i, Some(host))),
        Class::HttpToHttps if rewrites => Some(dex_tls_pair(i, false)),
        Class::IssuerMismatch | Class::NOT_FOUND => Some(format!(
            "Dex runs with another issuer than URL implies: save the SSO config again, then restart: {}",
            i.restart()
        )),
        c if c.is_server_error() && rewrites => Some(app_protocol_tcp(i)),
        _ => None,
    }
}

/// Failures on the way: name resolution, connection, TLS, proxy.
fn transport(i: &Install, class: Class, seen: &Seen, o: &Check) -> Option<String> {
    let (host, port, loopback) = (&seen.host, seen.port, seen.loopback);
    Some(match class {
        Class::Dns => format!(
            "{host} does not resolve on this machine: fix its DNS record, or test one ingress address before DNS changes with --resolve {host}:{port}:<ingress IP>"
        ),
        Class::Refused if loopback => format!(
            "Nothing listens on local port {port}: start the port-forward first: {}", i.port_forward(port)
        ),
        Class::Refused => format!("Nothing listens on {host}:{port}: check the LoadBalancer/ingress address and that its port is open"),
        Class::ConnectTimeout | Class::Unreachable => format!(
            "Packets to {host}:{port} are dropped or not routed: check security groups, firewalls and IP allow-lists (Devtron's FAQ: allow the cluster's NAT gateway IPs as well)"
        ),
        Class::ReadTimeout => "The server accepted the connection but did not answer in time: check the app/Dex pods and the ingress's upstream timeouts".into(),
        Class::TlsUnknownCa => format!(
            "Trust the CA that signed {host}'s certificate (--cacert ca.pem here; the browser and the app pod need it too), or serve a publicly trusted certificate"
        ),
        Class::TlsNameMismatch => format!("Issue the certificate with {host} in subjectAltName (or open the app by a name the certificate lists)"),
        Class::TlsExpired => format!("Renew {host}'s certificate (with cert-manager: kubectl describe certificate -A)"),
        Class::Tls => o.message.clone(),
        Class::TlsUnverified => "Probe from a client that verifies TLS (an image with curl, or --ephemeral --ephemeral-image with curl in it): Dex itself verifies the IdP's certificate, so what busybox accepts can still fail the login".into(),
        Class::HttpToHttps => format!("Use the scheme {host}:{port} speaks: https:// for a TLS port, http:// for a plain one"),
        Class::Proxy => format!(
            "The request went through the proxy from the environment: add {host} to NO_PROXY (e.g. export NO_PROXY={host},$NO_PROXY), or fix the proxy"
        ),
        _ => return None,
    })
}

/// Answers that are not Dex's, or Dex's with another config.
fn answer(i: &Install, class: Class, seen: &Seen, base: Option<&(String, u16)>) -> Option<String> {
    let p = i.profile();
    let (host, o_url) = (&seen.host, &seen.url);
    let (kubectl, svc) = (i.kubectl(), p.server.service);
    let setting = p.url_setting;
    Some(match class {
        Class::IssuerMismatch => match (p.path_prefix, base) {
            (Some(prefix), Some((h, _))) => format!(
                "Make {setting} + /api/dex equal the issuer Dex serves: set {setting} to the address users open (here {h}) ending in {prefix}, save the SSO config, then restart Dex and {}: {}",
                p.server_name,
                i.restart()
            ),
            _ => format!(
                "Make {setting} + /api/dex equal the issuer Dex serves (set {setting} in {}, then restart: {})",
                p.url_where,
                i.restart()
            ),
        },
        Class::NotJson | Class::TooLarge => format!(
            "Something other than Dex answers {}: route the issuer path to Dex (the ingress must send {} to {svc})",
            o_url,
            p.path_prefix.unwrap_or("/api/dex")
        ),
        Class::Cors => format!(
            "Allow the page's origin as a web origin of {}'s client at the IdP (Keycloak: the client's Web origins; Okta: Trusted Origins with CORS; Entra ID: a Single-page application redirect URI)",
            p.name
        ),
        Class::RedirectLoop => "The redirects go round: typically TLS terminated at the ingress while the backend redirects to https (set X-Forwarded-Proto, or the app's insecure/plain-HTTP mode behind the ingress)".into(),
        Class::UnregisteredRedirectUri | Class::InvalidClientId => format!(
            "Dex runs a config generated for another {setting}: check {setting} in {}, save the SSO config again, then restart Dex and {}: {}",
            p.url_where,
            p.server_name,
            i.restart()
        ),
        Class::MalformedResponse => format!(
            "Something other than an HTTP server answers {host}: check what listens there (the Service's targetPort, the ingress backend), and the URL's scheme and port"
        ),
        Class::TruncatedBody => format!(
            "Answers from {host} are cut short: check the proxy's or ingress's timeouts and buffer limits, and whether the app or Dex pod restarts"
        ),
        Class::NoSigningKeys => "Dex serves no usable signing key: check Dex's storage and logs (key rotation)".into(),
        c if c.is_server_error() => format!(
            "The ingress or proxy in front of {host} cannot reach the service behind it: check the Service's endpoints ({kubectl} get endpoints {svc}); under a mesh, set appProtocol: TCP on Dex's port"
        ),
        Class::NOT_FOUND => match p.path_prefix {
            Some(prefix) => format!(
                "Dex is not served at this path: {setting} must end in {prefix}, and the ingress must route {prefix} to {svc}"
            ),
            None => format!(
                "Dex is not served at this path: check {setting} in {} and that {} proxies /api/dex",
                p.url_where, p.server_name
            ),
        },
        c if c.status().is_some_and(|n| (400..410).contains(&n)) => format!(
            "Something refuses the request ({c}): an auth proxy, WAF or HTTP proxy in front of {host}; let the discovery, keys and token paths through"
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::App;

    #[test]
    fn every_remedy_names_the_namespace_in_use() {
        for (app, ns) in [(App::DEVTRON, "devtron-prod"), (App::ARGOCD, "gitops")] {
            let i = Install::new(app, Some(ns));
            let all = [
                port_forward_own(&i).unwrap_or_default(),
                host_aliases(&i, "sso.example.com"),
                no_proxy(&i, Some("sso.example.com")),
                dex_tls_pair(&i, true),
                dex_tls_pair(&i, false),
                app_protocol_tcp(&i),
                i.restart(),
            ];
            for r in all.iter().filter(|r| !r.is_empty()) {
                assert!(r.contains(ns), "{r}");
                assert!(!r.contains("devtroncd") && !r.contains("-n argocd "), "{r}");
            }
        }
    }
}
