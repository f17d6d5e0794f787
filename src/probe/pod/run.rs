//! The pod probes: one exec per pod (or two, with an ephemeral container), classified.

use std::time::Duration;

use crate::app::DexCall;

use super::{
    Classified, Line, PodRun, PodTargets, Probe, Report, Tls, argv, classify, parse, replicas,
};
use crate::diagnosis::{Check, CheckId};
use crate::plan::predict::Outcome;
use crate::probe::http::status_line;
use crate::probe::idp::{self, IdpEndpoints};
use crate::probe::outcome::Class;
use crate::secret::Secret;

/// Turns a classified line into an observation row.
pub fn observation(
    id: CheckId,
    url: &str,
    cls: Classified,
    wrap: impl Fn(&str) -> String,
    line: &Line,
) -> Check {
    let mut note = cls.note;
    if let Some(crash) = &line.crashed {
        note = format!(
            "{note} (the pod's wget crashed with {crash} on its -T option; dexcheck probed again without it, under its own timeout)"
        );
    }
    let outcome = match cls.class {
        None => Outcome::pass(note),
        // A client that cannot verify TLS: the answer came, but nothing was verified.
        Some(Class::TlsUnverified) => Outcome {
            status: crate::plan::predict::Status::Warn,
            class: Some(Class::TlsUnverified),
            go_error: None,
            note,
        },
        Some(class) => Outcome::fail(class, wrap(&cls.go_error), note),
    };
    let mut o = Check::observed(id, url, outcome);
    o.duration_ms = Some(line.secs.map(|s| (s * 1000.0) as u64).unwrap_or(0));
    o.address = Some(line.addr.clone()).filter(|a| !a.is_empty());
    o
}

/// The pod's resolver and proxy settings, for the report (proxy credentials removed).
fn environment(r: &Report) -> String {
    let mut parts = Vec::new();
    if !r.nameserver.is_empty() {
        parts.push(format!("nameserver {}", r.nameserver));
    }
    if !r.search.is_empty() {
        parts.push(format!("search {}", r.search));
    }
    for (k, v) in [
        ("HTTP_PROXY", &r.proxy.http_proxy),
        ("HTTPS_PROXY", &r.proxy.https_proxy),
        ("NO_PROXY", &r.proxy.no_proxy),
    ] {
        if let Some(v) = v {
            parts.push(format!("{k}={v}"));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join(", "))
    }
}

/// Runs `probes` in `pod` with one exec (or two, when an ephemeral container has to be added).
pub(super) async fn run_in(
    client: &kube::Client,
    t: &PodTargets,
    pod: &crate::cluster::PodRef,
    probes: &[Probe],
    stdin: Option<crate::cluster::Stdin>,
    notes: &mut Vec<String>,
) -> Result<Result<Report, String>, crate::cluster::ClusterError> {
    let deadline = t.timeout * 2 + Duration::from_secs(15);
    let argv = argv(t.timeout, probes);
    let out = crate::cluster::exec(
        client,
        &t.namespace,
        pod,
        &pod.container,
        argv.clone(),
        deadline,
        stdin.clone(),
    )
    .await?;
    let report = parse(&out.stdout, probes.len());
    let unusable = out.exit.is_none() || report.no_client || report.tool.is_none();
    if !unusable {
        notes.push(format!(
            "pod {}/{} container {}: probed with {}{}",
            t.namespace,
            pod.name,
            pod.container,
            report.tool.as_deref().unwrap_or("?"),
            environment(&report)
        ));
        return Ok(Ok(report));
    }
    let why = if report.no_client {
        format!(
            "container {} of pod {} has no curl or wget",
            pod.container, pod.name
        )
    } else {
        format!(
            "container {} of pod {} could not run sh ({})",
            pod.container,
            pod.name,
            out.failure
                .clone()
                .unwrap_or_else(|| out.stderr.trim().to_string())
        )
    };
    let Some(image) = &t.ephemeral else {
        return Ok(Err(format!(
            "{why}; rerun with --ephemeral to add a debug container (image: --ephemeral-image, default busybox) that shares its network"
        )));
    };
    let name = crate::cluster::ephemeral(client, &t.namespace, pod, image, Duration::from_secs(60))
        .await?;
    let out = crate::cluster::exec(client, &t.namespace, pod, &name, argv, deadline, stdin).await?;
    let mut report = parse(&out.stdout, probes.len());
    report.ephemeral = true;
    if report.tool.is_none() {
        return Ok(Err(format!(
            "{why}, and the ephemeral container {name} (image {image}) has no curl or wget either"
        )));
    }
    notes.push(format!(
        "pod {}/{}: {why}, so dexcheck added the ephemeral container {name} (image {image}) and probed from it with {}{}",
        t.namespace,
        pod.name,
        report.tool.as_deref().unwrap_or("?"),
        environment(&report)
    ));
    Ok(Ok(report))
}

/// Probes from the app pod (discovery, token, keys, the in-cluster Dex) and from the Dex pod (the
/// upstream IdP): one exec per pod.
/// `idp` delivers the IdP's endpoints once this machine has read its discovery: the Dex pod's
/// token request goes only to the token endpoint named there.
pub async fn run(
    client: &kube::Client,
    t: &PodTargets,
    idp: Option<tokio::sync::oneshot::Receiver<IdpEndpoints>>,
) -> Result<PodRun, crate::cluster::ClusterError> {
    // The app pod and the Dex pod are probed at the same time: the run costs the slower exec.
    // The connectors' hosts and files are a second exec in each Dex pod, at the same time.
    let (app, dex, connectors) = tokio::join!(
        app_pod(client, t),
        async {
            match &t.idp_issuer {
                Some(issuer) => Some(dex_pod(client, t, issuer, idp).await),
                None => None,
            }
        },
        async {
            if t.connectors.is_empty() {
                None
            } else {
                Some(super::connectors::dex_pods(client, t).await)
            }
        }
    );
    let mut run = PodRun::default();
    for part in [Some(app), dex, connectors].into_iter().flatten() {
        let (checks, notes) = part?;
        run.observations.extend(checks);
        run.notes.extend(notes);
    }
    Ok(run)
}

type Probed<T> = Result<(T, Vec<String>), crate::cluster::ClusterError>;

/// One exec per pod with the same probes (a few in flight at once): per pod, its name, what it
/// printed (or why nothing ran) and the notes on what ran where.
pub(super) async fn on_every_pod(
    client: &kube::Client,
    t: &PodTargets,
    pods: &[crate::cluster::PodRef],
    probes: &[Probe],
    stdin: Option<crate::cluster::Stdin>,
) -> Vec<(String, ExecResult, Vec<String>)> {
    let execs: Vec<_> = pods
        .iter()
        .map(|pod| {
            let stdin = stdin.clone();
            async move {
                let mut notes = Vec::new();
                let r = run_in(client, t, pod, probes, stdin, &mut notes).await;
                (pod.name.clone(), r, notes)
            }
        })
        .collect();
    replicas::buffered(execs).await
}

/// What one exec gave: a report, or why the pod could not probe; or a cluster error.
pub(super) type ExecResult = Result<Result<Report, String>, crate::cluster::ClusterError>;

/// The app pod's rows and what ran there.
async fn app_pod(client: &kube::Client, t: &PodTargets) -> Probed<Vec<Check>> {
    let pods =
        crate::cluster::find_pods(client, &t.namespace, t.app.profile().server.selector).await?;
    let urls = AppUrls::new(t);
    let probes = urls.probes(t, pods.len() > 1);
    let runs = on_every_pod(client, t, &pods, &probes, None).await;
    let mut notes = Vec::new();
    let mut rows = Vec::new();
    let mut kids = Vec::new();
    let mut docs = Vec::new();
    for (pod, r, n) in runs {
        notes.extend(n);
        let checks = match r? {
            Err(why) => vec![
                Check::not_run(CheckId::PodDiscovery, why.clone()),
                Check::not_run(CheckId::PodTokenKeys, why),
            ],
            Ok(report) => {
                if let Some(keys) = report.lines.get(2) {
                    kids.push((pod.clone(), keys.kids.clone()));
                }
                if let Some(d) = report.lines.first() {
                    docs.push((pod.clone(), d.doc.clone()));
                }
                let mut checks = app_pod_checks(t, &urls, &probes, &report);
                if let Some(first) = checks.first_mut() {
                    first.clock_ahead_s = clock_ahead(&report);
                }
                checks
            }
        };
        rows.push((pod, checks));
    }
    let mut checks = replicas::fold("app pods", rows);
    replicas::compare_keys(&mut checks, &kids);
    let install = crate::app::Install::new(t.app, Some(&t.namespace));
    let remedy = format!(
        "Make every app replica reach the same Dex (look for a per-pod proxy setting or hosts entry, or a Dex replica on another config or version), then restart the app so all read one document: {}",
        install.restart()
    );
    replicas::compare_discovery(
        &mut checks,
        CheckId::PodDiscovery,
        "app replicas",
        &docs,
        &remedy,
    );
    checks.extend(replicas::config_differs(&pods, &install));
    Ok((checks, notes))
}

/// The Dex pod's rows and what ran there: its fetch of the IdP's discovery and, when the
/// secret may be sent, its token request.
async fn dex_pod(
    client: &kube::Client,
    t: &PodTargets,
    issuer: &str,
    idp: Option<tokio::sync::oneshot::Receiver<IdpEndpoints>>,
) -> Probed<Vec<Check>> {
    let pods = match t.dex_pods.get().await {
        Some(p) => p,
        None => {
            crate::cluster::find_pods(client, &t.namespace, t.app.profile().dex.selector).await?
        }
    };
    // The token request's slot is in the exec from the start; its URL and credentials follow on
    // stdin once this machine has read the IdP's discovery, so the exec does not wait for it.
    // An issuer that is neither https nor loopback names no token endpoint the secret may go to
    // (the token row says why), and the exec does not wait.
    let refused = idp::secret_destination_refused(issuer);
    let slot =
        idp.is_some() && refused.is_none() && t.upstream.as_ref().is_some_and(|u| u.send_secret);
    let (tx, rx) = tokio::sync::watch::channel(None);
    let plan = async {
        let p = match refused {
            Some(why) if idp.is_some() && t.upstream.as_ref().is_some_and(|u| u.send_secret) => {
                TokenProbe::NotRun(format!("the issuer {why}"))
            }
            _ => token_probe(t, idp).await,
        };
        let input = match &p {
            TokenProbe::Run { input, .. } => input.clone(),
            _ => Secret::default(),
        };
        let _ = tx.send(Some(input));
        p
    };
    let several = pods.len() > 1;
    let execs: Vec<_> = pods
        .iter()
        .map(|pod| {
            let rx = slot.then(|| rx.clone());
            async move {
                let mut notes = Vec::new();
                let r = dex_pod_exec(client, t, pod, issuer, rx, several, &mut notes).await;
                (pod.name.clone(), r, notes)
            }
        })
        .collect();
    let (runs, token) = tokio::join!(replicas::buffered(execs), plan);
    let url = idp_discovery_url(issuer);
    let mut notes = Vec::new();
    let mut rows = Vec::new();
    let mut docs = Vec::new();
    for (pod, r, n) in runs {
        notes.extend(n);
        let checks = match r? {
            Err(why) => vec![
                Check::not_run(CheckId::DexpodIdpDiscovery, why.clone()),
                Check::not_run(CheckId::DexpodIdpClientAuth, why),
            ],
            Ok(report) => {
                if let Some(d) = report.lines.first() {
                    docs.push((pod.clone(), d.doc.clone()));
                }
                let mut v = vec![dex_discovery_check(&report, &url, issuer)];
                v.extend(dex_token_check(&report, token.clone()));
                v
            }
        };
        rows.push((pod, checks));
    }
    let mut checks = replicas::fold("Dex pods", rows);
    replicas::compare_discovery(
        &mut checks,
        CheckId::DexpodIdpDiscovery,
        "Dex replicas",
        &docs,
        "The Dex replicas read the IdP's discovery differently: look for a proxy setting, a DNS answer or an egress path that differs by node, so every replica reaches the same IdP endpoint",
    );
    checks.extend(replicas::memory_storage(&pods, t.app, &t.namespace));
    Ok((checks, notes))
}

fn idp_discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// The Dex pod's token request: its URL, what goes on stdin, and the style; or why it is not
/// made (a row that says so).
#[derive(Clone)]
enum TokenProbe {
    Run {
        url: String,
        input: Secret,
        style: idp::AuthStyle,
        upstream: Box<idp::Upstream>,
    },
    NotRun(String),
    Nothing,
}

async fn token_probe(
    t: &PodTargets,
    idp: Option<tokio::sync::oneshot::Receiver<IdpEndpoints>>,
) -> TokenProbe {
    let (Some(u), Some(rx)) = (&t.upstream, idp) else {
        return TokenProbe::Nothing;
    };
    let not_sent = |why: String| TokenProbe::NotRun(why);
    if !u.send_secret {
        return not_sent("--no-secret-probe: no client secret was sent anywhere".into());
    }
    let Ok(Ok(e)) = tokio::time::timeout(t.timeout + Duration::from_secs(1), rx).await else {
        return not_sent("this machine could not read the IdP's discovery, which names the only token endpoint dexcheck sends a secret to".into());
    };
    if let Some(why) = idp::client_auth_skipped(u, &e, &idp::auth_styles(u, &e)) {
        return not_sent(why);
    }
    match idp::pod_token_input(u, &e) {
        Some((input, style)) => TokenProbe::Run {
            url: e.token.clone(),
            input,
            style,
            upstream: Box::new(u.clone()),
        },
        None => TokenProbe::Nothing,
    }
}

/// The URLs the app's server fetches: Devtron its public URL (TLS unverified, as NewClientApp),
/// a rewriting app (Argo CD) its in-cluster Dex service.
struct AppUrls {
    discovery: String,
    token: String,
    keys: String,
}

impl AppUrls {
    fn new(t: &PodTargets) -> AppUrls {
        let e = &t.endpoints;
        let internal_base = e
            .internal_discovery
            .trim_end_matches("/.well-known/openid-configuration");
        match t.app.profile().dex_call {
            DexCall::PublicUrl => AppUrls {
                discovery: e.discovery.clone(),
                token: e.token.clone(),
                keys: e.keys.clone(),
            },
            DexCall::Rewrite => AppUrls {
                discovery: e.internal_discovery.clone(),
                token: format!("{internal_base}/token"),
                keys: format!("{internal_base}/keys"),
            },
        }
    }
    /// Discovery, token, keys, and (where the app proxies Dex) the in-cluster Dex service.
    /// With `replicas`, the discovery and key-set answers carry their identity for comparing.
    fn probes(&self, t: &PodTargets, replicas: bool) -> Vec<Probe> {
        let issuer = Some(t.endpoints.issuer.clone());
        let probe = |url: &str, expect_issuer: Option<String>| Probe {
            url: url.to_string(),
            tls: Tls::Insecure,
            identity: replicas && (url == self.discovery || url == self.keys),
            expect_issuer,
        };
        let mut v = vec![
            probe(&self.discovery, issuer.clone()),
            probe(&self.token, None),
            probe(&self.keys, None),
        ];
        if t.app.profile().proxies_dex {
            v.push(probe(&t.endpoints.internal_discovery, issuer));
        }
        v
    }
}

/// The app pod's rows from one exec's report, in the app's log words.
fn app_pod_checks(t: &PodTargets, urls: &AppUrls, probes: &[Probe], report: &Report) -> Vec<Check> {
    let install = crate::app::Install::new(t.app, Some(&t.namespace));
    let tool = report.tool.clone().unwrap_or_default();
    let cls = |i: usize| {
        let p = &probes[i];
        classify(
            &report.lines[i],
            &p.url,
            &tool,
            report,
            p.expect_issuer.as_deref(),
        )
    };
    let issuer = &t.endpoints.issuer;
    let wrap = |url: String| {
        let install = install.clone();
        move |go: &str| install.query_provider_error(issuer, &url, go)
    };
    let d = cls(0);
    let discovery_ok = d.class.is_none();
    let mut out = vec![observation(
        CheckId::PodDiscovery,
        &urls.discovery,
        d,
        wrap(urls.discovery.clone()),
        &report.lines[0],
    )];
    out.push(if discovery_ok {
        token_keys(urls, report, cls(1), cls(2))
    } else {
        Check::not_run(
            CheckId::PodTokenKeys,
            "depends on discovery from the pod, which fails".into(),
        )
    });
    if t.app.profile().proxies_dex {
        let url = t.endpoints.internal_discovery.clone();
        out.push(observation(
            CheckId::PodInternalDex,
            &url,
            cls(3),
            wrap(url.clone()),
            &report.lines[3],
        ));
    }
    out
}

/// One row for token and keys: the first that fails, else both answers. Any OAuth answer proves
/// the token endpoint reachable (a GET gets an error).
fn token_keys(urls: &AppUrls, report: &Report, token: Classified, keys: Classified) -> Check {
    let token = if matches!(token.class, Some(Class::HttpStatus(400..=405))) {
        Classified {
            class: None,
            go_error: String::new(),
            note: format!(
                "the token endpoint answers ({})",
                status_line(report.lines[1].code)
            ),
        }
    } else {
        token
    };
    let (worst, line, url) = if token.class.is_some() {
        (token, &report.lines[1], urls.token.clone())
    } else if keys.class.is_some() {
        (keys, &report.lines[2], urls.keys.clone())
    } else {
        let note = format!("token: {}; keys: {}", token.note, keys.note);
        let both = Classified {
            class: None,
            go_error: String::new(),
            note,
        };
        (both, &report.lines[1], urls.token.clone())
    };
    let wrapper = move |go: &str| format!("Get {url:?}: {go}");
    let tk_url = format!("{} , {}", urls.token, urls.keys);
    observation(CheckId::PodTokenKeys, &tk_url, worst, wrapper, line)
}

/// One exec in the Dex pod: the IdP's discovery (with its identity when there are `several` Dex
/// pods to compare), and the token request's slot when `stdin` will bring its URL and
/// credentials.
async fn dex_pod_exec(
    client: &kube::Client,
    t: &PodTargets,
    dex_pod: &crate::cluster::PodRef,
    issuer: &str,
    stdin: Option<crate::cluster::Stdin>,
    several: bool,
    notes: &mut Vec<String>,
) -> Result<Result<Report, String>, crate::cluster::ClusterError> {
    let mut probes = vec![Probe {
        url: idp_discovery_url(issuer),
        tls: Tls::Verify,
        expect_issuer: Some(issuer.to_string()),
        identity: several,
    }];
    if stdin.is_some() {
        probes.push(Probe {
            url: "-".into(),
            tls: Tls::Post,
            expect_issuer: None,
            identity: false,
        });
    }
    run_in(client, t, dex_pod, &probes, stdin, notes).await
}

/// The Dex pod's fetch of the IdP's discovery, in Dex's log words.
fn dex_discovery_check(report: &Report, url: &str, issuer: &str) -> Check {
    let tool = report.tool.clone().unwrap_or_default();
    let c = classify(&report.lines[0], url, &tool, report, Some(issuer));
    let u = url.to_string();
    let wrap = move |go: &str| {
        if go.starts_with("oidc:") {
            format!("failed to get provider: {go}")
        } else {
            format!("failed to get provider: Get {u:?}: {go}")
        }
    };
    let mut check = observation(CheckId::DexpodIdpDiscovery, url, c, wrap, &report.lines[0]);
    check.clock_ahead_s = clock_ahead(report);
    check
}

/// The Dex pod's token request: the IdP's answer read as the workstation's is; a transport
/// failure in Dex's words.
fn dex_token_check(report: &Report, token: TokenProbe) -> Option<Check> {
    let (url, style, u) = match token {
        TokenProbe::Nothing => return None,
        TokenProbe::NotRun(why) => {
            return Some(Check::observed(
                CheckId::DexpodIdpClientAuth,
                "",
                Outcome::skip(why),
            ));
        }
        TokenProbe::Run {
            url,
            style,
            upstream,
            ..
        } => (url, style, upstream),
    };
    let line = report.lines.get(1)?;
    let status = if line.code != 0 {
        line.code
    } else {
        status_in(&line.err)
    };
    if line.rc == 254 {
        let why = format!("{} in this pod", line.err);
        return Some(Check::observed(
            CheckId::DexpodIdpClientAuth,
            &url,
            Outcome::skip(why),
        ));
    }
    if !line.body.contains("error") && status == 0 {
        let tool = report.tool.clone().unwrap_or_default();
        let c = classify(line, &url, &tool, report, None);
        let wrap = |go: &str| format!("oidc: failed to get token: Post {url:?}: {go}");
        let o = observation(CheckId::DexpodIdpClientAuth, &url, c, wrap, line);
        return Some(o.remedy(Some(
            "Let the Dex pod reach the IdP's token endpoint (egress, proxy, DNS, CA): the code exchange after every login happens there".into(),
        )));
    }
    // wget sends the form body only (`B`); curl the first style Dex would try.
    let wget = report.tool.as_deref() == Some("wget");
    let style = if wget { idp::AuthStyle::Post } else { style };
    let mut o = idp::token_verdict(status, line.body.as_bytes(), &u, style);
    if o.class == Some(Class::Inconclusive) && wget && line.body.is_empty() {
        o.note = format!(
            "this pod's wget shows no body of an error answer, and {} alone does not say whether the client was accepted (a wrong secret is usually 401)",
            status_line(status)
        );
    }
    o.note = format!(
        "{} (client secret sent from the Dex pod to {url} by {}, on the exec's stdin)",
        o.note,
        style.name()
    );
    let mut c = Check::observed(CheckId::DexpodIdpClientAuth, &url, o);
    c.duration_ms = Some(line.secs.map(|s| (s * 1000.0) as u64).unwrap_or(0));
    if c.class == Some(Class::InvalidClient) {
        c.remedy = Some(idp::secret_remedy(&u));
    }
    Some(c)
}

/// The status in a wget error line (`server returned error: HTTP/1.1 401 Unauthorized`,
/// GNU's `ERROR 401: Unauthorized.`).
fn status_in(err: &str) -> u16 {
    let after = err
        .find("HTTP/1.")
        .map(|i| &err[i + 8..])
        .or_else(|| err.find("ERROR ").map(|i| &err[i + 6..]))
        .unwrap_or("");
    after
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// How far the pod's clock (read by the script as it started) is ahead of this machine's.
fn clock_ahead(r: &Report) -> Option<i64> {
    r.clock.map(|c| c - chrono::Utc::now().timestamp())
}
