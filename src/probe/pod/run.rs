//! The pod probes: one exec per pod (or two, with an ephemeral container), classified.

use std::time::Duration;

use super::{Classified, Line, PodRun, PodTargets, Probe, Report, Tls, argv, classify, parse};
use crate::diagnosis::{Check, CheckId};
use crate::plan::predict::Outcome;
use crate::probe::http::status_line;
use crate::probe::outcome::Class;

/// Turns a classified line into an observation row.
pub fn observation(
    id: CheckId,
    url: &str,
    cls: Classified,
    wrap: impl Fn(&str) -> String,
    line: &Line,
) -> Check {
    let outcome = match &cls.class {
        None => Outcome::pass(cls.note),
        Some(class) => Outcome::fail(*class, wrap(&cls.go_error), cls.note),
    };
    let mut o = Check::observed(id, url, outcome);
    o.duration_ms = Some(line.secs.map(|s| (s * 1000.0) as u64).unwrap_or(0));
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
async fn run_in(
    client: &kube::Client,
    t: &PodTargets,
    pod: &crate::cluster::PodRef,
    probes: &[Probe],
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
    let out = crate::cluster::exec(client, &t.namespace, pod, &name, argv, deadline).await?;
    let report = parse(&out.stdout, probes.len());
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
pub async fn run(
    client: &kube::Client,
    t: &PodTargets,
) -> Result<PodRun, crate::cluster::ClusterError> {
    use crate::app::DexCall;
    let e = &t.endpoints;
    let install = crate::app::Install::new(t.app, Some(&t.namespace));
    let profile = t.app.profile();
    let mut run = PodRun::default();
    let app_pod = crate::cluster::find_pod(client, &t.namespace, profile.server.selector).await?;
    // Devtron fetches the public URL itself, TLS unverified (NewClientApp); Argo CD rewrites every
    // server→Dex call to the in-cluster Dex service.
    let internal_base = e
        .internal_discovery
        .trim_end_matches("/.well-known/openid-configuration")
        .to_string();
    let (discovery, token, keys) = match profile.dex_call {
        DexCall::PublicUrl => (e.discovery.clone(), e.token.clone(), e.keys.clone()),
        DexCall::Rewrite => (
            e.internal_discovery.clone(),
            format!("{internal_base}/token"),
            format!("{internal_base}/keys"),
        ),
    };
    let mut probes = vec![
        Probe {
            url: discovery.clone(),
            tls: Tls::Insecure,
            expect_issuer: Some(e.issuer.clone()),
        },
        Probe {
            url: token.clone(),
            tls: Tls::Insecure,
            expect_issuer: None,
        },
        Probe {
            url: keys.clone(),
            tls: Tls::Insecure,
            expect_issuer: None,
        },
    ];
    if profile.proxies_dex {
        probes.push(Probe {
            url: e.internal_discovery.clone(),
            tls: Tls::Insecure,
            expect_issuer: Some(e.issuer.clone()),
        });
    }
    match run_in(client, t, &app_pod, &probes, &mut run.notes).await? {
        Err(why) => {
            run.observations
                .push(Check::not_run(CheckId::PodDiscovery, why.clone()));
            run.observations
                .push(Check::not_run(CheckId::PodTokenKeys, why));
        }
        Ok(report) => {
            let tool = report.tool.clone().unwrap_or_default();
            let cls = |i: usize| {
                classify(
                    &report.lines[i],
                    &probes[i].url,
                    &tool,
                    &report,
                    probes[i].expect_issuer.as_deref(),
                )
            };
            let d = cls(0);
            let disc_ok = d.class.is_none();
            let wrap = |url: String| {
                let install = install.clone();
                move |go: &str| install.query_provider_error(&e.issuer, &url, go)
            };
            run.observations.push(observation(
                CheckId::PodDiscovery,
                &discovery,
                d,
                wrap(discovery.clone()),
                &report.lines[0],
            ));
            let tk_url = format!("{token} , {keys}");
            if !disc_ok {
                run.observations.push(Check::not_run(
                    CheckId::PodTokenKeys,
                    "depends on discovery from the pod, which fails".into(),
                ));
            } else {
                let reach = |i: usize| {
                    let mut c = cls(i);
                    // Any OAuth answer proves the token endpoint is reachable (GET gets an error).
                    if matches!(c.class, Some(Class::HttpStatus(400..=405))) && i == 1 {
                        c = Classified {
                            class: None,
                            go_error: String::new(),
                            note: format!(
                                "the token endpoint answers ({})",
                                status_line(report.lines[i].code)
                            ),
                        };
                    }
                    c
                };
                let (tc, kc) = (reach(1), reach(2));
                let (worst, line, url) = if tc.class.is_some() {
                    (tc, &report.lines[1], token.clone())
                } else if kc.class.is_some() {
                    (kc, &report.lines[2], keys.clone())
                } else {
                    (
                        Classified {
                            class: None,
                            go_error: String::new(),
                            note: format!("token: {}; keys: {}", tc.note, kc.note),
                        },
                        &report.lines[1],
                        token.clone(),
                    )
                };
                let wrapper = move |go: &str| format!("Get {url:?}: {go}");
                run.observations.push(observation(
                    CheckId::PodTokenKeys,
                    &tk_url,
                    worst,
                    wrapper,
                    line,
                ));
            }
            if profile.proxies_dex {
                let c = cls(3);
                let url = e.internal_discovery.clone();
                run.observations.push(observation(
                    CheckId::PodInternalDex,
                    &url,
                    c,
                    wrap(url.clone()),
                    &report.lines[3],
                ));
            }
        }
    }

    if let Some(issuer) = &t.idp_issuer {
        let dex_pod = crate::cluster::find_pod(client, &t.namespace, profile.dex.selector).await?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let probes = [Probe {
            url: url.clone(),
            tls: Tls::Verify,
            expect_issuer: Some(issuer.clone()),
        }];
        match run_in(client, t, &dex_pod, &probes, &mut run.notes).await? {
            Err(why) => run
                .observations
                .push(Check::not_run(CheckId::DexpodIdpDiscovery, why)),
            Ok(report) => {
                let tool = report.tool.clone().unwrap_or_default();
                let c = classify(&report.lines[0], &url, &tool, &report, Some(issuer));
                let u = url.clone();
                let wrap = move |go: &str| {
                    if go.starts_with("oidc:") {
                        format!("failed to get provider: {go}")
                    } else {
                        format!("failed to get provider: Get {u:?}: {go}")
                    }
                };
                run.observations.push(observation(
                    CheckId::DexpodIdpDiscovery,
                    &url,
                    c,
                    wrap,
                    &report.lines[0],
                ));
            }
        }
    }
    Ok(run)
}
