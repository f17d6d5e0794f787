//! A Kubernetes API test server: what `kubectl` and `dexcheck` need, over TLS with a generated CA
//! and a bearer token. `exec` speaks the WebSocket protocols `v5.channel.k8s.io` and
//! `v4.channel.k8s.io` and runs its argv (never a shell string) inside the lab's pod namespace.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

/// Switches a test can flip while the server runs.
#[derive(Default)]
pub struct Faults {
    pub exec_forbidden: AtomicBool,
    pub pods_missing: AtomicBool,
    /// Listing nodes is forbidden (a namespaced service account).
    pub nodes_forbidden: AtomicBool,
    /// Milliseconds every answer waits: a cluster far away.
    pub latency_ms: std::sync::atomic::AtomicU64,
}

/// What the server holds and counts.
pub struct State {
    pub token: String,
    pub pods: Mutex<Vec<Value>>,
    pub objects: Mutex<HashMap<(String, String, String), Value>>,
    /// Exec calls per `namespace/pod`.
    pub execs: Mutex<HashMap<String, usize>>,
    /// Every exec's argv, as the API server received it.
    pub exec_argv: Mutex<Vec<Vec<String>>>,
    pub faults: Faults,
    /// The namespace where exec'd commands run.
    pub pod_netns: String,
    /// `PATH` for exec'd commands: the "image" (a directory of links to the tools it ships).
    pub image_path: Mutex<String>,
    /// `PATH` for commands exec'd in an ephemeral container (a busybox-like debug image).
    pub debug_image_path: Mutex<String>,
    /// Container logs per `namespace/pod`.
    pub logs: Mutex<HashMap<String, String>>,
    /// A pod whose commands see another `/etc/hosts` (a replica that resolves names elsewhere).
    pub hosts_of: Mutex<HashMap<String, std::path::PathBuf>>,
}

impl State {
    pub fn exec_count(&self, ns: &str, pod: &str) -> usize {
        self.execs
            .lock()
            .map(|m| m.get(&format!("{ns}/{pod}")).copied().unwrap_or(0))
            .unwrap_or(0)
    }
    pub fn put(&self, kind: &str, ns: &str, name: &str, obj: Value) {
        if let Ok(mut m) = self.objects.lock() {
            m.insert((kind.into(), ns.into(), name.into()), obj);
        }
    }
}

/// TLS material for the server and the kubeconfig.
pub struct Tls {
    pub ca_pem: String,
    pub config: Arc<rustls::ServerConfig>,
}

pub fn make_tls() -> Tls {
    let pki = super::web::Pki::new();
    Tls {
        config: pki.server(&["localhost", "127.0.0.1"], false),
        ca_pem: pki.ca_pem,
    }
}

/// Accepts TLS connections until the runtime stops.
pub async fn serve(listener: TcpListener, tls: Arc<rustls::ServerConfig>, state: Arc<State>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let state = state.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else {
                return;
            };
            let svc = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(route(req, state).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
                .await;
        });
    }
}

type Resp = Response<Full<Bytes>>;

fn json_resp(status: StatusCode, v: &Value) -> Resp {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(v.to_string())))
        .unwrap_or_default()
}

fn status(code: StatusCode, reason: &str, message: String) -> Resp {
    json_resp(
        code,
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code.as_u16()
        }),
    )
}

fn resources() -> Value {
    let r = |name: &str, kind: &str, verbs: &[&str], namespaced: bool| {
        json!({
            "name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": verbs
        })
    };
    json!({
        "kind": "APIResourceList", "groupVersion": "v1",
        "resources": [
            r("pods", "Pod", &["get", "list"], true),
            r("pods/exec", "PodExecOptions", &["create", "get"], true),
            r("pods/ephemeralcontainers", "Pod", &["get", "patch", "update"], true),
            r("secrets", "Secret", &["get", "list"], true),
            r("configmaps", "ConfigMap", &["get", "list"], true),
            r("namespaces", "Namespace", &["get", "list"], false),
        ]
    })
}

fn query(req: &Request<Incoming>) -> Vec<(String, String)> {
    req.uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

fn matches_selector(pod: &Value, selector: &str) -> bool {
    selector
        .split(',')
        .filter(|s| !s.is_empty())
        .all(|term| match term.split_once('=') {
            Some((k, v)) => pod["metadata"]["labels"][k.trim_end_matches('=')].as_str() == Some(v),
            None => !pod["metadata"]["labels"][term].is_null(),
        })
}

async fn route(mut req: Request<Incoming>, state: Arc<State>) -> Resp {
    let latency = state.faults.latency_ms.load(Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let authorised = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", state.token));
    if !authorised {
        return status(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Unauthorized".into(),
        );
    }
    let path = req.uri().path().to_string();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method().clone();
    let not_found = || {
        status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("the server could not find the requested resource ({method} {path})"),
        )
    };
    let ns_route = match segs.as_slice() {
        ["api", "v1", "namespaces", ns, rest @ ..] => Some((ns.to_string(), rest.to_vec())),
        _ => None,
    };
    let Some((ns, rest)) = ns_route else {
        return match (&method, segs.as_slice()) {
            (&Method::GET, ["version"]) => json_resp(
                StatusCode::OK,
                &json!({
                    "major": "1", "minor": "32", "gitVersion": "v1.32.0-dexcheck-lab", "platform": "linux/amd64"
                }),
            ),
            (&Method::GET, ["api"]) => json_resp(
                StatusCode::OK,
                &json!({
                    "kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]
                }),
            ),
            (&Method::GET, ["apis"]) => json_resp(
                StatusCode::OK,
                &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
            ),
            (&Method::GET, ["api", "v1"]) => json_resp(StatusCode::OK, &resources()),
            (&Method::GET, ["api", "v1", "nodes"]) => {
                if state.faults.nodes_forbidden.load(Ordering::SeqCst) {
                    return status(
                        StatusCode::FORBIDDEN,
                        "Forbidden",
                        "nodes is forbidden: User \"system:serviceaccount:devtroncd:dexcheck\" cannot list resource \"nodes\" in API group \"\" at the cluster scope".into(),
                    );
                }
                object_list(&state, "nodes", None, "")
            }
            (&Method::GET, ["api", "v1", "services"]) => object_list(&state, "services", None, ""),
            (&Method::GET, ["apis", "networking.k8s.io", "v1", "ingresses"]) => {
                object_list(&state, "ingresses", None, "")
            }
            (&Method::GET, ["apis", "apps", "v1", "namespaces", ns, "deployments", name]) => {
                stored(&state, "deployments", ns, name, "deployments.apps")
            }
            (
                &Method::GET,
                [
                    "apis",
                    "discovery.k8s.io",
                    "v1",
                    "namespaces",
                    ns,
                    "endpointslices",
                ],
            ) => {
                let sel = query(&req)
                    .into_iter()
                    .find(|(k, _)| k == "labelSelector")
                    .map(|(_, v)| v)
                    .unwrap_or_default();
                object_list(&state, "endpointslices", Some(ns), &sel)
            }
            _ => not_found(),
        };
    };
    match (&method, rest.as_slice()) {
        (&Method::GET, []) => json_resp(
            StatusCode::OK,
            &json!({
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}, "status": {"phase": "Active"}
            }),
        ),
        (&Method::GET, ["pods"]) => {
            let selector = query(&req)
                .into_iter()
                .find(|(k, _)| k == "labelSelector")
                .map(|(_, v)| v)
                .unwrap_or_default();
            let items: Vec<Value> = visible_pods(&state, &ns)
                .into_iter()
                .filter(|p| matches_selector(p, &selector))
                .collect();
            json_resp(
                StatusCode::OK,
                &json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}),
            )
        }
        (&Method::GET, ["pods", name] | ["pods", name, "ephemeralcontainers"]) => {
            match find_pod(&state, &ns, name) {
                Some(p) => json_resp(StatusCode::OK, &p),
                None => pod_not_found(name),
            }
        }
        (&Method::PATCH, ["pods", name, "ephemeralcontainers"]) => {
            let body = req
                .body_mut()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let patch: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            patch_ephemeral(&state, &ns, name, &patch)
        }
        (&Method::GET, ["pods", name, "log"]) => {
            if find_pod(&state, &ns, name).is_none() {
                return pod_not_found(name);
            }
            let tail: Option<usize> = query(&req)
                .iter()
                .find(|(k, _)| k == "tailLines")
                .and_then(|(_, v)| v.parse().ok());
            let text = state
                .logs
                .lock()
                .ok()
                .and_then(|m| m.get(&format!("{ns}/{name}")).cloned())
                .unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let from = tail.map(|t| lines.len().saturating_sub(t)).unwrap_or(0);
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "text/plain")
                .body(Full::new(Bytes::from(lines[from..].join("\n"))))
                .unwrap_or_default()
        }
        (&Method::GET | &Method::POST, ["pods", name, "exec"]) => {
            let name = name.to_string();
            exec(req, state, ns, name).await
        }
        (&Method::GET, [kind @ ("secrets" | "configmaps"), name]) => {
            stored(&state, kind, &ns, name, kind.trim_end_matches('s'))
        }
        _ => not_found(),
    }
}

/// One stored object, or the API server's NotFound naming it as `what` (`secret`,
/// `deployments.apps`).
fn stored(state: &State, kind: &str, ns: &str, name: &str, what: &str) -> Resp {
    let key = (kind.to_string(), ns.to_string(), name.to_string());
    match state.objects.lock().ok().and_then(|m| m.get(&key).cloned()) {
        Some(o) => json_resp(StatusCode::OK, &o),
        None => status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{what} \"{name}\" not found"),
        ),
    }
}

/// A list of the stored objects of `kind` (in `ns`, when given) whose labels `selector` picks.
fn object_list(state: &State, kind: &str, ns: Option<&str>, selector: &str) -> Resp {
    let items: Vec<Value> = state
        .objects
        .lock()
        .map(|m| {
            m.iter()
                .filter(|((k, n, _), _)| k == kind && ns.is_none_or(|ns| n == ns))
                .map(|(_, v)| v.clone())
                .filter(|v| matches_selector(v, selector))
                .collect()
        })
        .unwrap_or_default();
    json_resp(
        StatusCode::OK,
        &json!({"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}),
    )
}

fn pod_not_found(name: &str) -> Resp {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("pods \"{name}\" not found"),
    )
}

fn is_pod(p: &Value, ns: &str, name: &str) -> bool {
    p["metadata"]["namespace"] == ns && p["metadata"]["name"] == name
}

/// The pods of a namespace as the API shows them: none while the `pods_missing` fault is on.
fn visible_pods(state: &State, ns: &str) -> Vec<Value> {
    if state.faults.pods_missing.load(Ordering::SeqCst) {
        return Vec::new();
    }
    let pods = state.pods.lock().map(|p| p.clone()).unwrap_or_default();
    pods.into_iter()
        .filter(|p| p["metadata"]["namespace"] == ns)
        .collect()
}

fn find_pod(state: &State, ns: &str, name: &str) -> Option<Value> {
    visible_pods(state, ns)
        .into_iter()
        .find(|p| is_pod(p, ns, name))
}

fn patch_ephemeral(state: &State, ns: &str, name: &str, patch: &Value) -> Resp {
    if find_pod(state, ns, name).is_none() {
        return pod_not_found(name);
    }
    let Ok(mut pods) = state.pods.lock() else {
        return status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "lock".into(),
        );
    };
    let Some(pod) = pods.iter_mut().find(|p| is_pod(p, ns, name)) else {
        return pod_not_found(name);
    };
    let added = patch["spec"]["ephemeralContainers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let statuses: Vec<Value> = added
        .iter()
        .map(|c| json!({"name": c["name"], "image": c["image"], "ready": false, "restartCount": 0, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}))
        .collect();
    pod["spec"]["ephemeralContainers"] = Value::Array(added);
    pod["status"]["ephemeralContainerStatuses"] = Value::Array(statuses);
    json_resp(StatusCode::OK, pod)
}

async fn exec(req: Request<Incoming>, state: Arc<State>, ns: String, name: String) -> Resp {
    if find_pod(&state, &ns, &name).is_none() {
        return pod_not_found(&name);
    }
    if state.faults.exec_forbidden.load(Ordering::SeqCst) {
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "pods \"{name}\" is forbidden: User \"system:serviceaccount:lab:viewer\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"{ns}\""
            ),
        );
    }
    let q = query(&req);
    let argv: Vec<String> = q
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    let want_stdin = q.iter().any(|(k, v)| k == "stdin" && v == "true");
    // A container added as an ephemeral container runs the debug image.
    let container = q
        .iter()
        .find(|(k, _)| k == "container")
        .map(|(_, v)| v.clone());
    let ephemeral = find_pod(&state, &ns, &name).is_some_and(|p| {
        p["spec"]["ephemeralContainers"]
            .as_array()
            .is_some_and(|a| {
                a.iter()
                    .any(|c| Some(c["name"].as_str().unwrap_or("")) == container.as_deref())
            })
    });
    let image = if ephemeral {
        &state.debug_image_path
    } else {
        &state.image_path
    };
    let path = image.lock().map(|p| p.clone()).unwrap_or_default();
    let hosts = state
        .hosts_of
        .lock()
        .ok()
        .and_then(|m| m.get(&name).cloned());
    let offered = req
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let protocol = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
        .into_iter()
        .find(|p| offered.split(',').any(|o| o.trim() == *p));
    let key = req
        .headers()
        .get("sec-websocket-key")
        .map(|k| k.as_bytes().to_vec());
    let (Some(protocol), Some(key)) = (protocol, key) else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!(
                "exec needs a WebSocket upgrade with v5.channel.k8s.io or v4.channel.k8s.io (offered {offered:?})"
            ),
        );
    };
    if let Ok(mut all) = state.exec_argv.lock() {
        all.push(argv.clone());
    }
    if let Ok(mut m) = state.execs.lock() {
        *m.entry(format!("{ns}/{name}")).or_default() += 1;
    }
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key);
    let upgrade = hyper::upgrade::on(req);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        run_exec(
            ws,
            state,
            Exec { path, argv, hosts },
            want_stdin,
            protocol == "v5.channel.k8s.io",
        )
        .await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", accept)
        .header("sec-websocket-protocol", protocol)
        .body(Full::new(Bytes::new()))
        .unwrap_or_default()
}

/// What one exec runs: the image's PATH, the argv, and the pod's own hosts file if it has one.
struct Exec {
    path: String,
    argv: Vec<String>,
    hosts: Option<std::path::PathBuf>,
}

async fn run_exec<S>(ws: WebSocketStream<S>, state: Arc<State>, e: Exec, want_stdin: bool, v5: bool)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut tx, mut rx) = ws.split();
    let mut cmd = tokio::process::Command::new("ip");
    cmd.args(["netns", "exec", &state.pod_netns]);
    if let Some(h) = &e.hosts {
        cmd.args([
            "unshare",
            "-m",
            "sh",
            "-c",
            "mount --make-rprivate / && mount --bind \"$0\" /etc/hosts && exec \"$@\"",
        ])
        .arg(h);
    }
    cmd.args(["env", "-i", &format!("PATH={}", e.path), "HOME=/"])
        .args(&e.argv)
        .stdin(if want_stdin {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let _ = tx.send(Message::Binary(channel(3, json!({"metadata": {}, "status": "Failure", "message": e.to_string(), "reason": "InternalError"}).to_string().as_bytes()))).await;
            return;
        }
    };
    let mut stdin = child.stdin.take();
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<(u8, Vec<u8>)>(16);
    for (ch, pipe) in [
        (
            1u8,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ),
        (
            2u8,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ),
    ] {
        let Some(mut pipe) = pipe else { continue };
        let out_tx = out_tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 || out_tx.send((ch, buf[..n].to_vec())).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(out_tx);
    // Client → stdin (channel 0); v5 close signal (255, 0) closes stdin.
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = rx.next().await {
            let Message::Binary(data) = msg else { continue };
            match data.first() {
                Some(0) => {
                    if let Some(s) = stdin.as_mut() {
                        let _ = s.write_all(&data[1..]).await;
                    }
                }
                Some(255) if v5 && data.get(1) == Some(&0) => stdin = None,
                _ => {}
            }
        }
    });
    while let Some((ch, data)) = out_rx.recv().await {
        if tx.send(Message::Binary(channel(ch, &data))).await.is_err() {
            break;
        }
    }
    let code = child.wait().await.ok().and_then(|s| s.code()).unwrap_or(1);
    let st = if code == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({
            "metadata": {}, "status": "Failure",
            "message": format!("command terminated with non-zero exit code: error executing command [{}], exit code {code}", e.argv.join(" ")),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}
        })
    };
    let _ = tx
        .send(Message::Binary(channel(3, st.to_string().as_bytes())))
        .await;
    // A close frame with a status: the Go client treats a bare close (1005) as a read error.
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    let _ = tx.send(Message::Close(Some(frame))).await;
    reader.abort();
}

fn channel(ch: u8, data: &[u8]) -> Bytes {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(ch);
    v.extend_from_slice(data);
    Bytes::from(v)
}
