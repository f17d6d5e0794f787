//! The live run: the control, the workstation probes and the pod probes, concurrently under one
//! budget, merged into the diagnosis, and the verdict drawn once at the end.

use std::time::{Duration, Instant};

use super::{http, idp, ldap, pod, proxy, resolve, workstation};
use crate::cli::CheckArgs;
use crate::diagnosis::{self, Check, Diagnosis};
use crate::error::RunError;
use crate::setup::Setup;

/// Where the pod probes run, or why they do not.
pub struct Pods<'a> {
    pub client: Option<&'a kube::Client>,
    pub not_run: Option<String>,
    pub namespace: String,
}

/// What a live run needs from the command line and the config.
pub struct Plan<'a> {
    pub args: &'a CheckArgs,
    pub setup: &'a Setup,
    pub pods: Pods<'a>,
}

impl<'a> Plan<'a> {
    pub fn new(args: &'a CheckArgs, setup: &'a Setup, pods: Pods<'a>) -> Self {
        Plan { args, setup, pods }
    }
}

/// Runs every live probe and merges what they saw into `d`.
pub async fn observe(plan: &Plan<'_>, d: &mut Diagnosis) -> Result<(), RunError> {
    let args = plan.args;
    let start = Instant::now();
    let budget = args.timeout * 3;
    let settings = settings(args, start + budget)?;
    let endpoints = d.endpoints.clone().filter(|e| e.discovery.contains("://"));
    let upstream = endpoints
        .as_ref()
        .filter(|_| !args.no_idp)
        .and_then(|e| idp::Upstream::from_setup(plan.setup, e, !args.no_secret_probe));
    let dex_pods = dex_pods(plan);
    let target = workstation::Target {
        dex_pods: dex_pods.clone(),
        base: plan
            .setup
            .url
            .clone()
            .filter(|u| url::Url::parse(u).is_ok()),
        endpoints: endpoints.clone(),
        idp: upstream.clone(),
    };
    let pod_targets = endpoints
        .as_ref()
        .map(|e| pod_targets(plan, e, upstream.as_ref(), dex_pods));
    let direct = direct_targets(plan, d);
    let issuer = endpoints.map(|e| e.issuer).unwrap_or_default();
    // The IdP's endpoints, once this machine has read its discovery, for the Dex pod's token request.
    let (idp_tx, idp_rx) = tokio::sync::oneshot::channel();
    let spinner = crate::progress::Spinner::start("probing from this machine and the pods");
    let route = route_reads(plan, d);
    let (control, observations, in_pods, connectors, direct, route) = tokio::join!(
        control(&settings, &issuer),
        from_workstation(&settings, &target, budget, idp_tx),
        from_pods(plan.pods.client, pod_targets.as_ref(), idp_rx),
        connectors_here(&settings, plan, d.oidc.is_none()),
        direct_oidc(&settings, plan.pods.client, direct.as_ref()),
        route,
    );
    let (direct_here, direct_pods) = direct;
    spinner.finish();
    let (pod_checks, pod_notes) = pod_outcome(in_pods, &plan.pods)?;
    let live = diagnosis::Live {
        timeout_ms: args.timeout.as_millis() as u64,
        elapsed_ms: start.elapsed().as_millis() as u64,
        proxy_env: settings.proxy.clone(),
        resolve: args.resolve.clone(),
        pods: pod_notes,
    };
    diagnosis::apply_observations(
        d,
        control
            .into_iter()
            .chain(observations)
            .chain(connectors)
            .chain(direct_here)
            .collect(),
        live,
    );
    diagnosis::merge(d, pod_checks);
    merge_direct(d, direct_pods, &plan.pods)?;
    if let Some(objects) = route {
        crate::route::add_to(d, &objects, "the cluster".into());
    }
    if plan.pods.client.is_none()
        && let Some(why) = &plan.pods.not_run
    {
        diagnosis::note_pods_not_run(d, why);
    }
    diagnosis::conclude(d);
    Ok(())
}

/// The route behind URL, read from the cluster beside the probes (not with `--objects`, which
/// gives it from a dump, nor with `--no-route`).
fn route_reads(
    plan: &Plan<'_>,
    d: &Diagnosis,
) -> impl Future<Output = Option<crate::route::Objects>> + use<> {
    let args = plan.args;
    let client = plan
        .pods
        .client
        .filter(|_| args.objects.is_empty() && !args.no_route)
        .cloned();
    let issuer = d.endpoints.as_ref().map(|e| e.issuer.clone());
    let profile = plan.setup.app.profile();
    // URL's host and paths; a port-forward URL has no route, but the Ingress hosts that reach
    // the app are the what-if's candidates.
    let (host, paths) =
        match crate::route::Target::new(d.url.as_deref(), issuer.as_deref(), &d.install) {
            Some(t) => (
                Some(t.host().to_string()),
                t.paths().into_iter().map(|(_, p)| p).collect(),
            ),
            None => (None, vec![profile.path_prefix.unwrap_or("/").to_string()]),
        };
    let ns = plan.pods.namespace.clone();
    let selector = profile.server.selector;
    let timeout = args.timeout;
    async move {
        let client = client?;
        Some(
            crate::route::read::live(&client, &ns, selector, host.as_deref(), &paths, timeout)
                .await,
        )
    }
}

/// The Dex pods, with cluster access (one list call, bounded by `--timeout`), listed while the
/// probes start: their image names the release whose discovery document URL must serve, and the
/// Dex probe runs on them as listed. `None` when the list fails: the Dex probe lists again and
/// reports why.
fn dex_pods(plan: &Plan<'_>) -> crate::cluster::DexList {
    let Some(client) = plan.pods.client.cloned() else {
        return crate::cluster::DexList::default();
    };
    let selector = plan.setup.app.profile().dex.selector;
    let ns = plan.pods.namespace.clone();
    let timeout = plan.args.timeout;
    crate::cluster::DexList::new(async move {
        let pods = crate::cluster::find_pods(&client, &ns, selector);
        tokio::time::timeout(timeout, pods).await.ok()?.ok()
    })
}

/// The run's HTTP settings: every wait bounded by `--timeout`, nothing past `deadline`.
fn settings(args: &CheckArgs, deadline: Instant) -> Result<http::Settings, RunError> {
    http::Settings::new(
        args.timeout,
        deadline,
        resolve::Resolver::new(pins(&args.resolve)?, args.timeout),
        proxy::ProxyEnv::from_env(),
        extra_roots(&args.cacert)?,
    )
    .map_err(RunError::Local)
}

/// From this machine, for the connectors Dex uses: each LDAP bind and each page a connector
/// sends the browser to. With Argo CD's oidc.config in use, dex.config's connectors are not.
async fn connectors_here(
    settings: &http::Settings,
    plan: &Plan<'_>,
    dex_in_use: bool,
) -> Vec<Check> {
    if !dex_in_use {
        return Vec::new();
    }
    let binds = ldap::binds(plan.setup, !plan.args.no_secret_probe);
    let pages = diagnosis::browser_pages(plan.setup);
    let (bound, opened) = tokio::join!(
        futures_binds(settings, &binds),
        connector_pages(settings, &pages)
    );
    bound.into_iter().chain(opened).collect()
}

/// The argocd-server pods' rows of Argo CD's direct OIDC, and what ran where (a note the Dex
/// run already made is not repeated).
fn merge_direct(d: &mut Diagnosis, run: PodResult, pods: &Pods) -> Result<(), RunError> {
    let (checks, notes) = pod_outcome(run, pods)?;
    diagnosis::merge(d, checks);
    if let Some(live) = d.live.as_mut() {
        let new: Vec<String> = notes
            .into_iter()
            .filter(|n| !live.pods.contains(n))
            .collect();
        live.pods.extend(new);
    }
    Ok(())
}

/// What the pods probe: Dex's endpoints from the app pod; the IdP and the connectors' hosts and
/// files from the Dex pod.
fn pod_targets(
    plan: &Plan<'_>,
    e: &crate::plan::endpoints::Endpoints,
    upstream: Option<&idp::Upstream>,
    dex_pods: crate::cluster::DexList,
) -> pod::PodTargets {
    let args = plan.args;
    pod::PodTargets {
        app: plan.setup.app,
        namespace: plan.pods.namespace.clone(),
        endpoints: e.clone(),
        idp_issuer: upstream
            .filter(|u| u.kind == "oidc")
            .and_then(|u| u.issuer.clone()),
        upstream: upstream.cloned(),
        timeout: args.timeout,
        ephemeral: args.ephemeral.then(|| args.ephemeral_image.clone()),
        connectors: diagnosis::pod_probes(plan.setup),
        dex_pods,
    }
}

/// Argo CD's direct OIDC, live: the issuer, whether TLS is verified, and the targets of the
/// argocd-server pods.
struct DirectTargets {
    issuer: String,
    tls: pod::IdpTls,
    pods: pod::PodTargets,
    /// Argo CD's own client, for the IdP's authorization and token endpoints.
    client: Option<idp::Upstream>,
    /// The callbacks of `additionalUrls`, each tried at the authorization endpoint too.
    extra_callbacks: Vec<String>,
    /// The app's page origin and client, where the page runs OIDC itself (CORS).
    page: Option<(String, String)>,
}

fn direct_targets(plan: &Plan<'_>, d: &Diagnosis) -> Option<DirectTargets> {
    let o = d
        .oidc
        .as_ref()
        .filter(|o| url::Url::parse(&o.issuer).is_ok())?;
    let direct = match &plan.setup.direct {
        Some(crate::setup::Direct::Active(x)) => x,
        _ => return None,
    };
    let args = plan.args;
    // Argo CD's oidc.config: URL/auth/callback; another app's: the callback its diagnosis names.
    // A client whose id is in a Secret (argo-server) is not probed at the IdP.
    let argo = plan.setup.input_kind == crate::setup::InputKind::ArgocdCm;
    let callback = match (argo, plan.setup.url.as_deref()) {
        (true, Some(url)) => Some(diagnosis::argo_callback(url)),
        (true, None) => None,
        (false, _) => d.callback.as_ref().map(|c| c.url.clone()),
    };
    let client = callback
        .filter(|_| !args.no_idp && (argo || direct.client_id.is_some()))
        .map(|cb| idp::Upstream::from_direct(direct, cb, !args.no_secret_probe));
    let page = d
        .browser_origin
        .as_ref()
        .filter(|_| plan.setup.app.profile().browser_runs_oidc)
        .map(|o| {
            (
                o.origin.clone(),
                direct.client_id.clone().unwrap_or_default(),
            )
        });
    Some(DirectTargets {
        page,
        client,
        extra_callbacks: plan
            .setup
            .additional_urls
            .iter()
            .map(|u| diagnosis::argo_callback(u))
            .collect(),
        issuer: o.issuer.clone(),
        tls: idp_tls(direct),
        pods: pod::PodTargets {
            app: plan.setup.app,
            namespace: plan.pods.namespace.clone(),
            endpoints: Default::default(),
            idp_issuer: None,
            upstream: None,
            timeout: args.timeout,
            ephemeral: args.ephemeral.then(|| args.ephemeral_image.clone()),
            connectors: Vec::new(),
            dex_pods: crate::cluster::DexList::default(),
        },
    })
}

/// TLS as Argo CD's `OIDCTLSConfig` sets it: `rootCA` alone when it holds a certificate (else a
/// warning and the system roots), and `oidc.tls.insecure.skip.verify` over both.
fn idp_tls(d: &crate::setup::DirectOidc) -> pod::IdpTls {
    match &d.root_ca {
        _ if d.insecure_skip_verify => pod::IdpTls::Insecure,
        Some(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => {
            pod::IdpTls::RootCa(pem.clone())
        }
        _ => pod::IdpTls::Verify,
    }
}

type PodResult = Option<Result<pod::PodRun, crate::cluster::ClusterError>>;

/// The IdP's discovery from this machine and from every argocd-server pod, at once.
async fn direct_oidc(
    settings: &http::Settings,
    client: Option<&kube::Client>,
    t: Option<&DirectTargets>,
) -> (Vec<Check>, PodResult) {
    let Some(t) = t else {
        return (Vec::new(), None);
    };
    let words = crate::app::Install::new(t.pods.app, None);
    // The page's CORS check reads discovery on its own, beside the other probes.
    let here = async {
        let cors = async {
            match &t.page {
                Some((origin, client)) => {
                    Some(super::cors::check(settings, &t.issuer, client, origin).await)
                }
                None => None,
            }
        };
        let (mut out, cors) = tokio::join!(
            workstation::direct_idp(
                settings,
                &t.issuer,
                &words,
                t.client.as_ref(),
                &t.extra_callbacks,
            ),
            cors
        );
        out.extend(cors);
        out
    };
    let pods = async {
        match client {
            Some(c) => Some(pod::direct_idp(c, &t.pods, &t.issuer, &t.tls).await.map(
                |(observations, notes)| pod::PodRun {
                    observations,
                    notes,
                },
            )),
            None => None,
        }
    };
    let (here, pods) = tokio::join!(here, pods);
    (here, pods)
}

/// Every LDAP connector's bind, tried from this machine at once.
async fn futures_binds(settings: &http::Settings, binds: &[ldap::Bind]) -> Vec<Check> {
    let tls = settings.tls_config();
    let runs = binds
        .iter()
        .map(|b| ldap::observe(b, tls.clone(), settings.timeout));
    futures_util::future::join_all(runs).await
}

/// The pages the connectors send the browser to themselves (a SAML IdP's `ssoURL`), opened
/// from this machine: any HTTP answer means the browser gets there (the IdP may refuse a GET
/// without a SAML request).
async fn connector_pages(
    settings: &http::Settings,
    pages: &[diagnosis::BrowserPage],
) -> Vec<Check> {
    let runs = pages.iter().map(|p| async move {
        let f = http::fetch(settings, &http::Request::get(&p.url)).await;
        let outcome = match &f.result {
            Ok(r) => crate::plan::predict::Outcome::pass(format!(
                "{}: the IdP's page answers ({})",
                p.field,
                r.status_line()
            )),
            Err(e) => crate::plan::predict::Outcome::fail(
                e.class,
                format!("Get {:?}: {}", p.url, e.go_error),
                format!("{}: {}", p.field, e.note),
            ),
        };
        let mut c = Check::observed(diagnosis::CheckId::BrowserConnectorHost, &p.url, outcome)
            .for_connector(&p.connector, p.several);
        c.duration_ms = Some(f.elapsed.as_millis() as u64);
        c
    });
    futures_util::future::join_all(runs).await
}

fn pins(resolve: &[String]) -> Result<Vec<resolve::Pin>, RunError> {
    resolve
        .iter()
        .map(|p| resolve::Pin::parse(p).map_err(|e| RunError::Flag(e.to_string())))
        .collect()
}

/// `--cacert` files: every PEM certificate in each, at least one per file.
fn extra_roots(
    paths: &[std::path::PathBuf],
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, RunError> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = Vec::new();
    for path in paths {
        let shown = path.display();
        let pem =
            std::fs::read(path).map_err(|e| RunError::Flag(format!("--cacert {shown}: {e}")))?;
        let certs = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                RunError::Flag(format!(
                    "--cacert {shown}: not a PEM certificate bundle: {e}"
                ))
            })?;
        if certs.is_empty() {
            return Err(RunError::Flag(format!(
                "--cacert {shown}: no certificate in the file"
            )));
        }
        roots.extend(certs);
    }
    Ok(roots)
}

/// The control: the reference provider on loopback under the target's issuer path, started
/// while the other probes run.
async fn control(settings: &http::Settings, target_issuer: &str) -> Option<Check> {
    match crate::provider::start_control(target_issuer).await {
        Ok((issuer, guard)) => {
            let o = workstation::probe_control(settings, &issuer).await;
            drop(guard);
            Some(o)
        }
        Err(e) => {
            eprintln!("dexcheck: the control provider did not start: {e}");
            None
        }
    }
}

/// The workstation's probes; the budget bounds them even if one misbehaves.
async fn from_workstation(
    settings: &http::Settings,
    target: &workstation::Target,
    budget: Duration,
    idp: tokio::sync::oneshot::Sender<idp::IdpEndpoints>,
) -> Vec<Check> {
    tokio::time::timeout(
        budget + Duration::from_millis(500),
        workstation::probe(settings, target, Some(idp)),
    )
    .await
    .unwrap_or_default()
}

async fn from_pods(
    client: Option<&kube::Client>,
    targets: Option<&pod::PodTargets>,
    idp: tokio::sync::oneshot::Receiver<idp::IdpEndpoints>,
) -> Option<Result<pod::PodRun, crate::cluster::ClusterError>> {
    match (client, targets) {
        (Some(client), Some(t)) => Some(pod::run(client, t, Some(idp)).await),
        _ => None,
    }
}

/// The pods' checks and notes, or the cluster error that stops the run.
fn pod_outcome(
    run: Option<Result<pod::PodRun, crate::cluster::ClusterError>>,
    pods: &Pods,
) -> Result<(Vec<Check>, Vec<String>), RunError> {
    match run {
        Some(Ok(run)) => Ok((run.observations, run.notes)),
        Some(Err(e)) => Err(e.into()),
        None => Ok((Vec::new(), pods.not_run.iter().cloned().collect())),
    }
}
