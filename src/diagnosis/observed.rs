//! Live observations merged into a diagnosis: an observation replaces the prediction of the same
//! row, a disagreement between the two becomes its own finding, and the verdict is drawn again.

use super::{Check, CheckId, Diagnosis, Id, Live, Vantage, verdict};
use crate::app::{DexCall, Install};
use crate::plan::predict::{Outcome, Status};
use crate::probe::class::Class;

pub fn apply_observations(d: &mut Diagnosis, obs: Vec<Check>, live: Live) {
    d.live = Some(live);
    merge(d, obs);
}

/// Merges observed checks without touching the run's conditions: an observation replaces the
/// prediction of its row, a new row takes its catalog place, and the verdict is drawn again.
pub fn merge(d: &mut Diagnosis, obs: Vec<Check>) {
    let host_port = d
        .url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| {
            (
                u.host_str().unwrap_or("").to_string(),
                u.port_or_known_default().unwrap_or(80),
            )
        });
    let mut disagreements = Vec::new();
    for mut c in obs {
        if c.not_run
            && let Some(p) = d
                .checks
                .iter_mut()
                .find(|p| p.id == c.id && !p.observed && p.status != Status::Skip)
        {
            // Nothing was observed: the prediction stands, with the reason it was not checked.
            p.message = format!("{} (not observed: {})", p.message, c.message);
            continue;
        }
        if c.status >= Status::Warn && c.remedy.is_none() {
            c.remedy = remedy(&d.install, &c, host_port.as_ref());
        }
        match d.checks.iter().position(|p| p.id == c.id) {
            Some(i) => {
                if let Some(x) = disagreement(&d.checks[i], &c) {
                    disagreements.push(x);
                }
                d.checks[i] = c;
            }
            None => {
                let rank = c.id.rank();
                let at = d
                    .checks
                    .iter()
                    .position(|p| p.id.rank() > rank)
                    .unwrap_or(d.checks.len());
                d.checks.insert(at, c);
            }
        }
    }
    d.checks.extend(disagreements);
}

/// Draws the verdict of a live run, once, after every observation is in.
pub fn conclude(d: &mut Diagnosis) {
    excuse_control_behind_proxy(d);
    d.verdict = verdict(&d.checks);
    blame_workstation(d);
}

fn failed_control(d: &Diagnosis) -> Option<&Check> {
    d.checks
        .iter()
        .find(|c| c.id == CheckId::ControlDiscovery && c.status == Status::Fail)
}

/// The target reached through the same proxy and answered: the proxy works, it just cannot
/// reach this machine's loopback. Not a blocker: the control only warns.
fn excuse_control_behind_proxy(d: &mut Diagnosis) {
    let Some(c) = failed_control(d) else { return };
    let same_proxy_ok = c.proxy.is_some()
        && d.checks.iter().any(|t| {
            t.id == CheckId::BrowserDiscovery && t.status == Status::Pass && t.proxy == c.proxy
        });
    if !same_proxy_ok {
        return;
    }
    if let Some(c) = d
        .checks
        .iter_mut()
        .find(|x| x.id == CheckId::ControlDiscovery)
    {
        c.status = Status::Warn;
        c.message = format!(
            "{} — but the target answered through the same proxy, so the proxy works; it only cannot reach this machine's loopback (add localhost to NO_PROXY to make the control meaningful)",
            c.message
        );
    }
}

/// When the control fails, this machine's own setup is at fault first: it blocks the verdict.
fn blame_workstation(d: &mut Diagnosis) {
    let Some(c) = failed_control(d) else { return };
    let cause = match &c.proxy {
        Some(p) => format!(
            "the proxy {p} from HTTP(S)_PROXY is in the way; set NO_PROXY (e.g. NO_PROXY=localhost,127.0.0.1,.svc) or fix the proxy"
        ),
        None => "this machine's own HTTP path fails".to_string(),
    };
    let summary = format!(
        "this machine cannot reach even the reference provider dexcheck started on loopback ({}): {cause}; fix that first, the target's rows may fail for the same reason",
        c.error.clone().unwrap_or_else(|| c.message.clone())
    );
    let blocking = Some(c.id.to_string());
    d.verdict.status = Status::Fail;
    d.verdict.blocking_check = blocking;
    d.verdict.summary = summary;
}

/// The finding that a decided prediction did not hold, if it did not. A loopback URL is predicted
/// to work "while a port-forward listens"; refused then means the forward is not running, which
/// the row's remedy already says.
fn disagreement(predicted: &Check, observed: &Check) -> Option<Check> {
    let decided = |s: Status| s == Status::Pass || s == Status::Fail;
    let forward_down = predicted.status == Status::Pass && observed.class == Some(Class::Refused);
    if !decided(predicted.status)
        || !decided(observed.status)
        || predicted.status == observed.status
        || forward_down
    {
        return None;
    }
    let word = |s: Status| if s == Status::Pass { "works" } else { "fails" };
    let mut c = Check::new(
        predicted.id.check(),
        Outcome {
            status: Status::Warn,
            class: Some(Class::PredictionDiffers),
            go_error: None,
            note: format!(
                "from the configuration alone this path {} ({}), but here it {}: this machine's network differs from the usual (hosts file, VPN, proxy, split DNS), so the app pod may well see something else again",
                word(predicted.status),
                predicted.message,
                word(observed.status)
            ),
        },
    );
    c.id = Id::Prediction(predicted.id.check());
    c.title = format!("prediction holds: {}", predicted.title);
    c.matrix = false;
    c.url = observed.url.clone();
    c.expected = Some(format!("{:?}", predicted.status).to_lowercase());
    c.actual = Some(format!("{:?}", observed.status).to_lowercase());
    Some(c)
}

/// A concrete next step for an observed failure, in the operator's own names.
fn remedy(i: &Install, o: &Check, base: Option<&(String, u16)>) -> Option<String> {
    let p = i.profile();
    let rewrites = p.dex_call == DexCall::Rewrite;
    let o_url = o.url.as_deref().unwrap_or("");
    let url = url::Url::parse(o_url).ok();
    let host = url
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let port = url
        .as_ref()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(80);
    let class = o.class?;
    // From inside a pod the same classes call for other fixes.
    if o.vantage == Vantage::AppPod {
        let loopback =
            crate::plan::predict::host_kind(&host) == crate::plan::predict::HostKind::Loopback;
        let r = match class {
            Class::Refused if loopback => crate::remedy::port_forward_own(i),
            Class::Dns | Class::ConnectTimeout | Class::Unreachable | Class::Reset => {
                Some(format!(
                    "Make {host} reach the ingress from inside the cluster: {}; or per Deployment: {}",
                    crate::remedy::coredns_rewrite(&host),
                    crate::remedy::host_aliases(i, &host)
                ))
            }
            Class::Proxy => Some(crate::remedy::no_proxy(i, Some(&host))),
            Class::HttpToHttps if rewrites => Some(crate::remedy::dex_tls_pair(i, false)),
            Class::IssuerMismatch | Class::NOT_FOUND => Some(format!(
                "Dex runs with another issuer than URL implies: save the SSO config again, then restart: {}",
                i.restart()
            )),
            c if c.is_server_error() && rewrites => Some(crate::remedy::app_protocol_tcp(i)),
            _ => None,
        };
        if r.is_some() {
            return r;
        }
    }
    if o.vantage == Vantage::DexPod && class == Class::Dns {
        return Some(format!(
            "Dex's pod cannot resolve {host}: make the IdP's name resolvable in the cluster (CoreDNS forward or stub domain for its zone), then restart Dex"
        ));
    }
    let (kubectl, svc) = (i.kubectl(), p.server.service);
    let setting = p.url_setting;
    let loopback =
        crate::plan::predict::host_kind(&host) == crate::plan::predict::HostKind::Loopback;
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
        Class::HttpToHttps => format!("Use the scheme {host}:{port} speaks: https:// for a TLS port, http:// for a plain one"),
        Class::Proxy => format!(
            "The request went through the proxy from the environment: add {host} to NO_PROXY (e.g. export NO_PROXY={host},$NO_PROXY), or fix the proxy"
        ),
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
        Class::RedirectLoop => "The redirects go round: typically TLS terminated at the ingress while the backend redirects to https (set X-Forwarded-Proto, or the app's insecure/plain-HTTP mode behind the ingress)".into(),
        Class::UnregisteredRedirectUri | Class::InvalidClientId => format!(
            "Dex runs a config generated for another {setting}: check {setting} in {}, save the SSO config again, then restart Dex and {}: {}",
            p.url_where,
            p.server_name,
            i.restart()
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

/// Says why the pod rows stay predictions (no cluster, `--no-pods`).
pub fn note_pods_not_run(d: &mut Diagnosis, why: &str) {
    let mut c = Check::new(
        CheckId::PodsNotRun,
        Outcome::skip(format!(
            "{why}; the app pod rows are predictions from the configuration"
        )),
    );
    c.remedy = Some(
        "Give cluster access (--kubeconfig, --context, -n) with get on secrets/configmaps, list on pods and create on pods/exec".into(),
    );
    d.checks.push(c);
}

/// Where the file and the cluster's live config disagree: the app runs with the cluster's copy.
pub fn drift(d: &mut Diagnosis, file: &crate::setup::Setup, live: &crate::setup::Setup) {
    let mut push = |id: CheckId, status: Status, note: String, expected: &str, actual: &str| {
        let mut c = Check::new(
            id,
            Outcome {
                status,
                class: (status == Status::Fail || status == Status::Warn).then_some(Class::Drift),
                go_error: None,
                note,
            },
        );
        c.expected = Some(expected.to_string());
        c.actual = Some(actual.to_string());
        if status >= Status::Warn {
            c.remedy = Some(format!(
                "Decide which is right and make both say it: save the SSO config in the app (it rewrites {}), or fix the file",
                live.source
            ));
        }
        d.checks.push(c);
    };
    let (f, l) = (
        file.url.as_deref().unwrap_or(""),
        live.url.as_deref().unwrap_or(""),
    );
    if f == l {
        push(
            CheckId::DriftUrl,
            Status::Pass,
            format!("{} says the same URL", live.source),
            f,
            l,
        );
    } else {
        push(
            CheckId::DriftUrl,
            Status::Fail,
            format!(
                "the file says URL {f:?}, but {} says {l:?}: the app runs with the cluster's",
                live.source
            ),
            f,
            l,
        );
    }
    let Some(fc) = file.connectors.first() else {
        return;
    };
    let Some(lc) = live
        .connectors
        .iter()
        .find(|c| c.id == fc.id)
        .or(live.connectors.first())
    else {
        push(
            CheckId::DriftConnector,
            Status::Warn,
            format!(
                "the file has connector {:?}, {} has none",
                fc.id, live.source
            ),
            &fc.id,
            "",
        );
        return;
    };
    let fields = |c: &crate::setup::Connector| {
        vec![
            ("id", c.id.clone()),
            ("type", c.kind.clone()),
            ("issuer", c.config.issuer.clone().unwrap_or_default()),
            ("clientID", c.config.client_id.clone().unwrap_or_default()),
            (
                "redirectURI",
                c.config.redirect_uri.clone().unwrap_or_default(),
            ),
            (
                "scopes",
                c.config.scopes.clone().unwrap_or_default().join(" "),
            ),
        ]
    };
    let differ: Vec<String> = fields(fc)
        .into_iter()
        .zip(fields(lc))
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, b)| format!("{}: file {:?}, cluster {:?}", a.0, a.1, b.1))
        .collect();
    if differ.is_empty() {
        push(
            CheckId::DriftConnector,
            Status::Pass,
            "the connector's issuer, clientID, redirectURI and scopes match".into(),
            &fc.id,
            &lc.id,
        );
    } else {
        push(
            CheckId::DriftConnector,
            Status::Warn,
            format!(
                "the connector differs from {}: {}",
                live.source,
                differ.join("; ")
            ),
            &fc.id,
            &lc.id,
        );
    }
}

/// The file could not be compared with the cluster's copy: say why, so silence is not agreement.
pub fn drift_not_checked(d: &mut Diagnosis, why: &str) {
    d.checks.push(Check::new(
        CheckId::DriftNotChecked,
        Outcome::skip(format!(
            "the cluster's live config could not be read to compare with the file: {why}"
        )),
    ));
}
