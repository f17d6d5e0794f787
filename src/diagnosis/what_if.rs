//! What-if columns: each candidate URL predicted for the browser, the pod and the return-URL
//! rule, the first that works recommended.

use super::{BrowserOrigin, Candidate, Cell, Options, origin_of, paths::pod_to_dex};
use crate::app::{Install, Seen};
use crate::plan::endpoints;
use crate::plan::gourl::GoUrl;
use crate::plan::predict::{self, HostKind, Outcome, Status, host_kind};
use crate::plan::redirect;
use crate::setup::Setup;

fn cell(status: Status, label: impl Into<String>) -> Cell {
    Cell {
        status,
        label: label.into(),
    }
}

fn short(o: &Outcome) -> String {
    match o.status {
        Status::Pass => "ok".into(),
        Status::Unknown => "needs live check".into(),
        Status::Skip => "skipped".into(),
        _ => match o.class {
            Some(c) => c.label(),
            None => o.note.clone(),
        },
    }
}

pub(super) fn candidates(
    setup: &Setup,
    install: &Install,
    opts: &Options,
    origin: Option<&BrowserOrigin>,
    internal: &str,
) -> Vec<Candidate> {
    let mut urls: Vec<String> = Vec::new();
    let push = |u: String, urls: &mut Vec<String>| {
        if !urls.contains(&u) {
            urls.push(u);
        }
    };
    if opts.auto_candidates {
        for u in auto_candidates(setup, install, origin) {
            push(u, &mut urls);
        }
    }
    for u in &opts.candidates {
        push(u.clone(), &mut urls);
    }
    let mut out: Vec<Candidate> = urls
        .iter()
        .map(|u| candidate(install, opts, origin, internal, u))
        .collect();
    recommend(&mut out);
    out
}

/// Recommends the first candidate that works outright, else the first that may work.
fn recommend(out: &mut [Candidate]) {
    let pick = out
        .iter()
        .position(|c| c.result.status == Status::Pass)
        .or_else(|| out.iter().position(|c| c.result.status == Status::Unknown));
    if let Some(i) = pick {
        out[i].recommended = true;
    }
}

fn auto_candidates(
    setup: &Setup,
    install: &Install,
    origin: Option<&BrowserOrigin>,
) -> Vec<String> {
    let seen = Seen {
        urls: [
            setup.url.clone(),
            origin.map(|o| o.origin.clone()),
            setup
                .connectors
                .first()
                .and_then(|c| c.config.redirect_uri.clone()),
        ]
        .into_iter()
        .flatten()
        .filter_map(|u| GoUrl::parse(&u).ok())
        .filter(|u| !u.host.is_empty())
        .collect(),
    };
    setup
        .url
        .iter()
        .cloned()
        .chain(install.candidates(&seen))
        .collect()
}

/// The return-URL rule for a browser at `o` (or, for an app without one, where its
/// `redirect_uri` sends the browser), as a what-if cell.
fn return_cell(install: &Install, o: &str, parsed: &GoUrl, url: &str) -> Cell {
    if install.profile().return_path.is_none() {
        let (uri, out) = super::paths::redirect_for(install, o, url, None, &[]);
        return match out.status {
            Status::Fail => cell(
                Status::Fail,
                format!("redirect_uri goes to {}", origin_of(&uri).unwrap_or(uri)),
            ),
            s => cell(s, format!("redirect_uri {uri}")),
        };
    }
    let r = install.return_url_for(o, Some(parsed)).unwrap_or_default();
    let v = redirect::check(&r, &[url]);
    if v.valid {
        cell(Status::Pass, format!("ok ({o})"))
    } else {
        cell(
            Status::Fail,
            format!(
                "{} {} ≠ {}",
                v.rule.id().replace('_', " "),
                v.actual,
                v.expected
            ),
        )
    }
}

fn candidate(
    install: &Install,
    opts: &Options,
    origin: Option<&BrowserOrigin>,
    internal: &str,
    url: &str,
) -> Candidate {
    let parsed = GoUrl::parse(url).unwrap_or_default();
    let browser = predict::workstation(&parsed);
    let eps = endpoints::derive(install, url, internal).ok();
    let pod = pod_to_dex(install, eps.as_ref(), Some(&parsed));
    // The browser opens the candidate itself when it can reach it, else it stays where it is.
    let browser_origin = match (&opts.browser_url, browser.status) {
        (Some(b), _) => origin_of(b),
        (None, Status::Fail) => origin.map(|o| o.origin.clone()).or_else(|| origin_of(url)),
        (None, _) => origin_of(url),
    };
    let ret = match browser_origin {
        Some(o) => return_cell(install, &o, &parsed, url),
        None => cell(Status::Skip, "no browser origin"),
    };
    let first_fail = if pod.status == Status::Fail {
        Some(short(&pod))
    } else if ret.status == Status::Fail {
        Some(match install.profile().return_path {
            Some(_) => "Invalid redirect URL".into(),
            None => "Unregistered redirect_uri".into(),
        })
    } else if browser.status == Status::Fail {
        Some(format!("browser: {}", short(&browser)))
    } else {
        None
    };
    let result = match first_fail {
        Some(f) => cell(Status::Fail, f),
        None if browser.status == Status::Unknown || pod.status == Status::Unknown => {
            cell(Status::Unknown, "may work: needs live check")
        }
        None => cell(Status::Pass, "works"),
    };
    let requires = (host_kind(parsed.hostname()) == HostKind::Loopback
        && result.status != Status::Fail)
        .then(|| {
            let port = install.profile().server.service_port;
            install.port_forward(parsed.effective_port().unwrap_or(port))
        });
    Candidate {
        url: url.to_string(),
        browser: cell(browser.status, short(&browser)),
        pod: cell(pod.status, short(&pod)),
        return_url: ret,
        result,
        recommended: false,
        requires,
    }
}

/// Argo CD's direct OIDC: what if the IdP's issuer were each candidate? The browser is sent to
/// it and the argocd-server pod fetches its discovery; Argo CD's own URL (and so its return-URL
/// rule) does not change. Auto candidates: the issuer as written and, for a cluster name, the
/// port-forward the browser would use; `--candidate` URLs are issuers here.
pub(super) fn issuer_candidates(install: &Install, opts: &Options, issuer: &str) -> Vec<Candidate> {
    let mut urls: Vec<String> = Vec::new();
    if opts.auto_candidates && GoUrl::parse(issuer).is_ok_and(|u| !u.host.is_empty()) {
        urls.push(issuer.to_string());
        urls.extend(port_forward_form(issuer));
    }
    for u in &opts.candidates {
        if !urls.contains(u) {
            urls.push(u.clone());
        }
    }
    let mut out: Vec<Candidate> = urls.iter().map(|u| issuer_candidate(install, u)).collect();
    recommend(&mut out);
    out
}

/// An in-cluster issuer as the browser sees it through `kubectl port-forward` (a privileged
/// port forwarded from 8080 or 8443).
fn port_forward_form(issuer: &str) -> Option<String> {
    let mut u = GoUrl::parse(issuer).ok()?;
    if host_kind(u.hostname()) != HostKind::Cluster {
        return None;
    }
    let port = match u.effective_port()? {
        80 => 8080,
        443 => 8443,
        p => p,
    };
    u.host = format!("localhost:{port}");
    Some(u.to_go_string())
}

fn issuer_candidate(install: &Install, issuer: &str) -> Candidate {
    let parsed = GoUrl::parse(issuer).unwrap_or_default();
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let browser = predict::workstation(&parsed);
    let pod = predict::app_pod(
        install.profile(),
        &GoUrl::parse(&discovery).unwrap_or_default(),
    );
    let result = if pod.status == Status::Fail {
        cell(Status::Fail, format!("argocd-server: {}", short(&pod)))
    } else if browser.status == Status::Fail {
        cell(Status::Fail, format!("browser: {}", short(&browser)))
    } else if browser.status == Status::Unknown || pod.status == Status::Unknown {
        cell(Status::Unknown, "may work: needs live check")
    } else {
        cell(Status::Pass, "works")
    };
    let requires = (host_kind(parsed.hostname()) == HostKind::Loopback
        && result.status != Status::Fail)
        .then(|| {
            format!(
                "a port-forward from local port {} to the IdP's Service",
                parsed.effective_port().unwrap_or(80)
            )
        });
    Candidate {
        url: issuer.to_string(),
        browser: cell(browser.status, short(&browser)),
        pod: cell(pod.status, short(&pod)),
        return_url: cell(Status::Skip, "URL unchanged"),
        result,
        recommended: false,
        requires,
    }
}
