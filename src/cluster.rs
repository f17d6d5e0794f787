//! Kubernetes access (kube-rs): the client as kubectl would build it, the live SSO config, pod
//! lookup, one exec per pod, and an ephemeral debug container when the app's image has no
//! client. Every failure becomes a [`ClusterError`] that names what is missing.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use kube::api::{Api, AttachParams, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use thiserror::Error;
use tokio::io::AsyncReadExt;

use crate::setup::App;

/// How to reach the cluster (kubectl's own flags, parsed by dexcheck).
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Error)]
pub enum ClusterError {
    /// No kubeconfig and not inside a cluster.
    #[error("no cluster access: {0}")]
    NoConfig(String),
    #[error("RBAC: {message} (dexcheck needs `{verb}` on `{resource}` in namespace {namespace})")]
    Forbidden {
        verb: &'static str,
        resource: &'static str,
        namespace: String,
        message: String,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("Kubernetes API: {0}")]
    Api(String),
}

impl ClusterError {
    fn from_kube(e: kube::Error, verb: &'static str, resource: &'static str, ns: &str) -> Self {
        match e {
            kube::Error::Api(s) if s.code == 403 => ClusterError::Forbidden {
                verb,
                resource,
                namespace: ns.to_string(),
                message: s.message,
            },
            kube::Error::Api(s) if s.code == 404 => ClusterError::NotFound(format!(
                "{resource} not found in namespace {ns}: {}",
                s.message
            )),
            kube::Error::Api(s) => ClusterError::Api(format!("{} ({})", s.message, s.code)),
            other => ClusterError::Api(with_causes(&other)),
        }
    }
}

/// An error's text followed by each of its causes' that it does not already say
/// (`client error (Connect): tcp connect error: Connection refused (os error 111)`).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        cause = c.source();
    }
    text
}

/// Builds the client: `--kubeconfig` or `KUBECONFIG`/`~/.kube/config` (exec plugins, client
/// certificates and tokens as kubectl), `--context`, else the in-cluster service account.
/// Every context of the kubeconfig (`--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`).
pub fn contexts(kubeconfig: Option<&std::path::Path>) -> Result<Vec<String>, ClusterError> {
    let kc = match kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .map_err(|e| ClusterError::NoConfig(format!("--all-contexts: {e}")))?;
    Ok(kc.contexts.into_iter().map(|c| c.name).collect())
}

/// The context `client` uses: `--context`, else the kubeconfig's current one, else `in-cluster`.
pub fn context_name(t: &Target) -> Option<String> {
    if let Some(c) = &t.context {
        return Some(c.clone());
    }
    let kc = match &t.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok(),
        None => Kubeconfig::read().ok(),
    };
    match kc {
        Some(kc) => kc.current_context,
        None => Some("in-cluster".into()),
    }
}

pub async fn client(t: &Target) -> Result<kube::Client, ClusterError> {
    let options = KubeConfigOptions {
        context: t.context.clone(),
        ..Default::default()
    };
    let config = match &t.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| {
                ClusterError::NoConfig(format!("--kubeconfig {}: {e}", path.display()))
            })?;
            kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| {
                    ClusterError::NoConfig(format!("--kubeconfig {}: {e}", path.display()))
                })?
        }
        None if t.context.is_some() => kube::Config::from_kubeconfig(&options)
            .await
            .map_err(|e| ClusterError::NoConfig(e.to_string()))?,
        None => kube::Config::infer().await.map_err(|e| {
            ClusterError::NoConfig(format!(
                "no kubeconfig (KUBECONFIG, ~/.kube/config) and not inside a pod: {e}"
            ))
        })?,
    };
    let mut config = config;
    config.read_timeout = Some(Duration::from_secs(20));
    config.connect_timeout = Some(Duration::from_secs(10));
    kube::Client::try_from(config).map_err(|e| ClusterError::NoConfig(e.to_string()))
}

/// The live SSO config as YAML text the file loader understands, plus where it came from and the
/// in-cluster Dex address (Devtron's `devtron-cm` `DEX_HOST:DEX_PORT`).
pub struct LiveConfig {
    pub app: App,
    pub namespace: String,
    pub source: String,
    pub text: String,
    pub internal_dex: Option<String>,
}

async fn get_opt<K>(
    api: &Api<K>,
    name: &str,
    resource: &'static str,
    ns: &str,
) -> Result<Option<K>, ClusterError>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name)
        .await
        .map_err(|e| ClusterError::from_kube(e, "get", resource, ns))
}

/// Reads the app's config store (`devtron-secret` + `devtron-cm`, or `argocd-cm`). With `app`
/// `None`, every registered app in order (Devtron first).
pub async fn live_config(
    client: &kube::Client,
    app: Option<App>,
    ns: Option<&str>,
) -> Result<LiveConfig, ClusterError> {
    let apps: Vec<App> = match app {
        Some(a) => vec![a],
        None => App::ALL.to_vec(),
    };
    let mut looked = Vec::new();
    for app in apps {
        let install = crate::app::Install::new(app, ns);
        if let Some(live) = read_store(client, &install).await? {
            return Ok(live);
        }
        let store = app.profile().config;
        looked.push(format!(
            "{} {} in namespace {}",
            store.kind(),
            store.name(),
            install.namespace
        ));
    }
    let hint = match app {
        Some(a) => format!("is {} installed there? (-n NAMESPACE)", a.name()),
        None => "give -n NAMESPACE or a config file".to_string(),
    };
    Err(ClusterError::NotFound(format!(
        "not found: {}; {hint}",
        looked.join(", nor ")
    )))
}

/// One app's config store, and its in-cluster Dex address where the app keeps one.
async fn read_store(
    client: &kube::Client,
    install: &crate::app::Install,
) -> Result<Option<LiveConfig>, ClusterError> {
    let p = install.profile();
    let ns = install.namespace.clone();
    let store = p.config;
    let text = store_json(client, store, &ns).await?;
    let Some(mut text) = text else {
        return Ok(None);
    };
    let mut source = format!("{} {ns}/{} (live)", store.kind(), store.name());
    // The provider's config beside it, best effort: without it those checks stay unknown.
    if let Some(prov) = p.provider
        && let Ok(Some(other)) = store_json(client, prov.config, prov.namespace).await
    {
        text.push_str("\n---\n");
        text.push_str(&other);
        source.push_str(&format!(
            ", with {} {}/{}",
            prov.config.kind(),
            prov.namespace,
            prov.config.name()
        ));
    }
    let internal_dex = match p.dex_address {
        Some(a) => dex_address(client, &ns, a).await,
        None => None,
    };
    Ok(Some(LiveConfig {
        app: install.app,
        source,
        namespace: ns,
        text,
        internal_dex,
    }))
}

/// One config store as JSON text (`None` when it does not exist), read by name.
async fn store_json(
    client: &kube::Client,
    store: crate::app::ConfigStore,
    ns: &str,
) -> Result<Option<String>, ClusterError> {
    let text = match store {
        crate::app::ConfigStore::Secret(name) => {
            let api: Api<Secret> = Api::namespaced(client.clone(), ns);
            get_opt(&api, name, "secrets", ns)
                .await?
                .map(|s| serde_json::to_string(&s))
        }
        crate::app::ConfigStore::ConfigMap(name) => {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
            get_opt(&api, name, "configmaps", ns)
                .await?
                .map(|c| serde_json::to_string(&c))
        }
        crate::app::ConfigStore::Deployment(name) => {
            let api: Api<k8s_openapi::api::apps::v1::Deployment> =
                Api::namespaced(client.clone(), ns);
            get_opt(&api, name, "deployments", ns)
                .await?
                .map(|d| serde_json::to_string(&d))
        }
    };
    text.transpose()
        .map_err(|e| ClusterError::Api(e.to_string()))
}

/// `HOST:PORT` from the ConfigMap keys that name Dex's in-cluster address (Devtron's
/// `devtron-cm` `DEX_HOST`/`DEX_PORT`); `None` when unreadable.
async fn dex_address(client: &kube::Client, ns: &str, a: crate::app::DexAddress) -> Option<String> {
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let data = get_opt(&cms, a.configmap, "configmaps", ns)
        .await
        .ok()
        .flatten()?
        .data?;
    let host = data.get(a.host_key)?.trim_end_matches('/').to_string();
    let port = data
        .get(a.port_key)
        .cloned()
        .unwrap_or_else(|| "5556".into());
    Some(format!("{host}:{port}"))
}

/// The Secrets Argo CD's `$` references name, each read by name (`get`, never `list`): its
/// label, and its data as [`crate::secret::Secret`] values. A Secret dexcheck may not read is
/// reported as such, not as missing.
pub async fn secret_values(
    client: &kube::Client,
    ns: &str,
    names: &std::collections::BTreeSet<String>,
) -> crate::setup::SecretValues {
    use crate::setup::references::{PART_OF, SeenSecret};
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    let reads = names.iter().map(|name| {
        let api = api.clone();
        async move {
            let seen = match get_opt(&api, name, "secrets", ns).await {
                Ok(None) => SeenSecret::NotFound,
                Err(e) => SeenSecret::Unreadable(e.to_string()),
                Ok(Some(s)) => SeenSecret::Read {
                    part_of_argocd: s
                        .metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(PART_OF.0))
                        .is_some_and(|v| v == PART_OF.1),
                    data: secret_data(s),
                },
            };
            (name.clone(), seen)
        }
    });
    crate::setup::SecretValues {
        namespace: ns.to_string(),
        secrets: futures_util::future::join_all(reads)
            .await
            .into_iter()
            .collect(),
    }
}

/// A Secret's `data` (and `stringData`, as the API server would merge it), as secrets.
fn secret_data(s: Secret) -> std::collections::BTreeMap<String, crate::secret::Secret> {
    let mut out = std::collections::BTreeMap::new();
    for (k, v) in s.data.unwrap_or_default() {
        out.insert(
            k,
            crate::secret::Secret::new(String::from_utf8_lossy(&v.0).into_owned()),
        );
    }
    for (k, v) in s.string_data.unwrap_or_default() {
        out.insert(k, crate::secret::Secret::new(v));
    }
    out
}

/// A running pod and the container to exec in.
#[derive(Debug, Clone)]
pub struct PodRef {
    pub name: String,
    pub container: String,
    /// The container's image (`quay.io/devtron/dex:v2.30.2`).
    pub image: Option<String>,
    pub selector: String,
    /// A config checksum annotation (Helm's `checksum/config` convention): what the pod runs with.
    pub config_checksum: Option<String>,
}

/// The Dex pods, listed once for a run and awaited only where they are needed (the Dex probe,
/// the workstation's comparison with the Dex image), so that no probe waits for the list up
/// front. `None` inside: the list failed or was not made (the Dex probe lists again, and says why).
#[derive(Clone)]
pub struct DexList(
    futures_util::future::Shared<futures_util::future::BoxFuture<'static, Option<Vec<PodRef>>>>,
);

impl DexList {
    pub fn new(
        list: impl std::future::Future<Output = Option<Vec<PodRef>>> + Send + 'static,
    ) -> DexList {
        use futures_util::FutureExt;
        DexList(list.boxed().shared())
    }
    /// The pods as listed (once, however often this is awaited).
    pub async fn get(&self) -> Option<Vec<PodRef>> {
        self.0.clone().await
    }
    /// The first pod's image.
    pub async fn image(&self) -> Option<String> {
        self.get().await?.into_iter().find_map(|p| p.image)
    }
}

impl Default for DexList {
    fn default() -> Self {
        DexList::new(async { None })
    }
}

impl std::fmt::Debug for DexList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DexList")
    }
}

/// The first running pod matching `selector`.
pub async fn find_pod(
    client: &kube::Client,
    ns: &str,
    selector: &str,
) -> Result<PodRef, ClusterError> {
    let mut pods = find_pods(client, ns, selector).await?;
    Ok(pods.remove(0))
}

/// Every running pod matching `selector`, by name (at least one, else why not).
pub async fn find_pods(
    client: &kube::Client,
    ns: &str,
    selector: &str,
) -> Result<Vec<PodRef>, ClusterError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let list = pods
        .list(&ListParams::default().labels(selector))
        .await
        .map_err(|e| ClusterError::from_kube(e, "list", "pods", ns))?;
    if list.items.is_empty() {
        return Err(ClusterError::NotFound(format!(
            "no pod matches -l {selector} in namespace {ns}"
        )));
    }
    let phase = |p: &Pod| {
        p.status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "unknown".into())
    };
    let mut running: Vec<PodRef> = list
        .items
        .iter()
        .filter(|p| phase(p) == "Running")
        .map(|p| PodRef {
            name: p.metadata.name.clone().unwrap_or_default(),
            container: p
                .spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            image: p
                .spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.clone()),
            selector: selector.to_string(),
            config_checksum: p.metadata.annotations.as_ref().and_then(|a| {
                a.iter()
                    .find(|(k, _)| k.ends_with("checksum/config") || k.ends_with("checksum/secret"))
                    .map(|(_, v)| v.clone())
            }),
        })
        .collect();
    if running.is_empty() {
        let phases: Vec<String> = list
            .items
            .iter()
            .map(|p| {
                format!(
                    "{} is {}",
                    p.metadata.name.as_deref().unwrap_or("?"),
                    phase(p)
                )
            })
            .collect();
        return Err(ClusterError::NotFound(format!(
            "no running pod matches -l {selector} in namespace {ns} ({})",
            phases.join(", ")
        )));
    }
    running.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(running)
}

/// What one exec printed, and how it ended.
#[derive(Debug, Clone, Default)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    /// The exit code when the API reported one (`None`: the command could not start).
    pub exit: Option<i32>,
    /// The API's failure message, e.g. `executable file not found`.
    pub failure: Option<String>,
}

const MAX_OUTPUT: u64 = 256 * 1024;

/// What a command gets on stdin once it is known (secrets go this way, never in argv).
pub type Stdin = tokio::sync::watch::Receiver<Option<crate::secret::Secret>>;

/// Runs `argv` (each element a separate argument, no shell line built) in `pod`; `stdin`, when
/// given, is written to the command's standard input as soon as it holds a value, and closed.
pub async fn exec(
    client: &kube::Client,
    ns: &str,
    pod: &PodRef,
    container: &str,
    argv: Vec<String>,
    deadline: Duration,
    stdin: Option<Stdin>,
) -> Result<ExecOutput, ClusterError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let ap = AttachParams::default()
        .container(container)
        .stdin(stdin.is_some())
        .stdout(true)
        .stderr(true);
    let run = async {
        let mut proc = pods
            .exec(&pod.name, argv, &ap)
            .await
            .map_err(|e| ClusterError::from_kube(e, "create", "pods/exec", ns))?;
        let writer = proc.stdin();
        let status = proc.take_status();
        let mut out = String::new();
        let mut err = String::new();
        let so = proc.stdout();
        let se = proc.stderr();
        let read_out = async {
            if let Some(s) = so {
                let _ = s.take(MAX_OUTPUT).read_to_string(&mut out).await;
            }
        };
        let read_err = async {
            if let Some(s) = se {
                let _ = s.take(MAX_OUTPUT).read_to_string(&mut err).await;
            }
        };
        let feed = async {
            use tokio::io::AsyncWriteExt;
            if let (Some(mut rx), Some(mut w)) = (stdin, writer) {
                let input = rx
                    .wait_for(Option::is_some)
                    .await
                    .ok()
                    .and_then(|v| v.clone());
                if let Some(input) = input {
                    let _ = w.write_all(input.expose().as_bytes()).await;
                }
                // Shutting down and dropping the writer closes the command's stdin.
                let _ = w.shutdown().await;
            }
        };
        tokio::join!(read_out, read_err, feed);
        let status = match status {
            Some(s) => s.await,
            None => None,
        };
        let _ = proc.join().await;
        let (exit, failure) = exit_of(status);
        Ok(ExecOutput {
            stdout: out,
            stderr: err,
            exit,
            failure,
        })
    };
    tokio::time::timeout(deadline, run).await.map_err(|_| {
        ClusterError::Api(format!(
            "exec in pod {} did not finish within {} s",
            pod.name,
            deadline.as_secs()
        ))
    })?
}

/// The exit code an exec's status reports, or why there is none.
fn exit_of(
    status: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>,
) -> (Option<i32>, Option<String>) {
    match status {
        Some(s) if s.status.as_deref() == Some("Success") => (Some(0), None),
        Some(s) => {
            let code = s
                .details
                .as_ref()
                .and_then(|d| d.causes.as_ref())
                .and_then(|c| c.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
                .and_then(|c| c.message.as_deref())
                .and_then(|m| m.parse().ok());
            (code, if code.is_none() { s.message } else { None })
        }
        None => (None, Some("the exec ended without a status".into())),
    }
}

/// Adds an ephemeral debug container to `pod`, targeting its first container (same network and
/// process namespace, so `localhost` means the same), and waits until it runs. Returns its name.
pub async fn ephemeral(
    client: &kube::Client,
    ns: &str,
    pod: &PodRef,
    image: &str,
    wait: Duration,
) -> Result<String, ClusterError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let name = format!("dexcheck-{}", std::process::id());
    let patch = serde_json::json!({
        "spec": {"ephemeralContainers": [{
            "name": name,
            "image": image,
            "targetContainerName": pod.container,
            "command": ["sleep", "300"],
            "stdin": false,
            "tty": false
        }]}
    });
    pods.patch_ephemeral_containers(
        &pod.name,
        &PatchParams::default(),
        &Patch::Strategic(&patch),
    )
    .await
    .map_err(|e| ClusterError::from_kube(e, "patch", "pods/ephemeralcontainers", ns))?;
    let start = std::time::Instant::now();
    loop {
        let p = pods
            .get(&pod.name)
            .await
            .map_err(|e| ClusterError::from_kube(e, "get", "pods", ns))?;
        let running = p
            .status
            .and_then(|s| s.ephemeral_container_statuses)
            .unwrap_or_default()
            .iter()
            .any(|c| c.name == name && c.state.as_ref().and_then(|s| s.running.as_ref()).is_some());
        if running {
            return Ok(name);
        }
        if start.elapsed() > wait {
            return Err(ClusterError::Api(format!(
                "the ephemeral container {name} (image {image}) in pod {} did not start within {} s",
                pod.name,
                wait.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The last `tail` lines of the app pod's and the Dex pod's logs, one after the other.
/// The last lines of the app's and Dex's logs, and the images that printed them (their tags
/// decide the rules that changed between releases).
#[derive(Debug, Clone, Default)]
pub struct RecentLogs {
    pub text: String,
    pub app_image: Option<String>,
    pub dex_image: Option<String>,
}

pub async fn recent_logs(
    client: &kube::Client,
    ns: &str,
    app: App,
    tail: i64,
) -> Result<RecentLogs, ClusterError> {
    use kube::api::LogParams;
    let p = app.profile();
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut out = RecentLogs::default();
    for (i, sel) in [p.server.selector, p.dex.selector].into_iter().enumerate() {
        let pod = find_pod(client, ns, sel).await?;
        let text = pods
            .logs(
                &pod.name,
                &LogParams {
                    container: Some(pod.container.clone()),
                    tail_lines: Some(tail),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| ClusterError::from_kube(e, "get", "pods/log", ns))?;
        out.text.push_str(&text);
        out.text.push('\n');
        if i == 0 {
            out.app_image = pod.image;
        } else {
            out.dex_image = pod.image;
        }
    }
    Ok(out)
}
