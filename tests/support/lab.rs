//! The seed's topology with real sockets: a workstation namespace `ws` (where the binary under
//! test runs), an app pod namespace `pod` (the orchestrator on 8080 serving Dex under
//! `/orchestrator/api/dex`, Dex itself on 5556, `devtron-service` on a service address port 80),
//! a veth link between them on 198.18.0.0/24, no default route anywhere, a relay in `ws` on
//! `127.0.0.1:<pf>` → `pod:8080` playing `kubectl port-forward`, and a Kubernetes API test server
//! in `ws` on loopback. Everything is removed on drop, also after a panic; labs left by a killed
//! run are removed when the next lab starts.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine;
use serde_json::json;

use super::kube_api::{self, State};
use super::netns::NsRuntime;
use super::servers;

pub const WS_ADDR: &str = "198.18.0.1";
pub const POD_ADDR: &str = "198.18.0.2";
/// The ClusterIP of `devtron-service` (port 80 → the orchestrator).
pub const SERVICE_ADDR: &str = "198.18.0.10";
/// The ClusterIP of `argocd-dex-server` (port 5556).
pub const DEX_SERVICE_ADDR: &str = "198.18.0.11";
/// The upstream IdP (`idp.lab.test`, :80), reachable from the workstation and the pod.
pub const IDP_ADDR: &str = "198.18.0.12";
pub const IDP_ISSUER: &str = "http://idp.lab.test/realms/main";
/// An LDAP server's address (`ldap.lab.test`), reachable from the workstation and the pod.
pub const LDAP_ADDR: &str = "198.18.0.13";
/// An ingress host both namespaces resolve (to devtron-service's address).
pub const INGRESS_HOST: &str = "devtron.lab.test";
pub const SERVICE_NAME: &str = "devtron-service.devtroncd.svc.cluster.local";
pub const APP_POD: &str = "devtron-7d9f8b6c5-lab01";
pub const DEX_POD: &str = "argocd-dex-server-5c6b7d8f9-lab02";
const PREFIX: &str = "dxl";

static SEQ: AtomicUsize = AtomicUsize::new(0);

pub struct Lab {
    pub id: String,
    pub ws: String,
    pub pod: String,
    /// The relay's port on 127.0.0.1 in `ws`.
    pub pf_port: u16,
    pub kubeconfig: PathBuf,
    pub state: Arc<State>,
    /// The issuer the lab's Dex serves (tests may change it).
    pub issuer: Arc<RwLock<String>>,
    pub dir: PathBuf,
    /// The API server's port on 127.0.0.1, in the workstation's namespace and the pods'.
    pub api_port: u16,
    /// The API server's CA (PEM).
    pub ca_pem: String,
    api_tls: Option<Arc<rustls::ServerConfig>>,
    ws_rt: Option<NsRuntime>,
    pod_rt: Option<NsRuntime>,
}

fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Names of lab namespaces present now.
pub fn lab_namespaces() -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(PREFIX))
        .map(str::to_string)
        .collect()
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes labs whose creating process is gone (a killed test run).
pub fn clean_stale() {
    for ns in lab_namespaces() {
        // dxl<pid>x<seq><role>
        let pid = ns
            .trim_start_matches(PREFIX)
            .split('x')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !pid_alive(p)) {
            let _ = ip(&["netns", "del", &ns]);
            let _ = std::fs::remove_dir_all(format!("/etc/netns/{ns}"));
        }
    }
}

impl Lab {
    pub fn start() -> io::Result<Lab> {
        Lab::start_with(true)
    }

    /// A lab whose pod runs no stand-ins on 8080 and 5556: the test runs the real orchestrator
    /// login code and real Dex there (`devtron-service` :80 relays to the pod's 8080).
    pub fn start_bare() -> io::Result<Lab> {
        Lab::start_with(false)
    }

    fn start_with(stand_ins: bool) -> io::Result<Lab> {
        clean_stale();
        let id = format!(
            "{PREFIX}{}x{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let (ws, pod) = (format!("{id}w"), format!("{id}p"));
        let dir = std::env::temp_dir().join(format!("dexcheck-{id}"));
        std::fs::create_dir_all(&dir)?;
        let mut lab = Lab {
            id,
            ws: ws.clone(),
            pod: pod.clone(),
            pf_port: 0,
            kubeconfig: dir.join("kubeconfig"),
            state: Arc::new(State {
                token: random_hex(16)?,
                pods: Mutex::new(Vec::new()),
                objects: Mutex::new(Default::default()),
                execs: Mutex::new(Default::default()),
                exec_argv: Mutex::new(Vec::new()),
                faults: Default::default(),
                pod_netns: pod.clone(),
                image_path: Mutex::new(String::new()),
                debug_image_path: Mutex::new(String::new()),
                logs: Mutex::new(Default::default()),
                hosts_of: Mutex::new(Default::default()),
            }),
            issuer: Arc::new(RwLock::new(String::new())),
            dir,
            api_port: 0,
            ca_pem: String::new(),
            api_tls: None,
            ws_rt: None,
            pod_rt: None,
        };
        lab.build(stand_ins)?;
        Ok(lab)
    }

    fn build(&mut self, stand_ins: bool) -> io::Result<()> {
        let (ws, pod) = (self.ws.clone(), self.pod.clone());
        ip(&["netns", "add", &ws])?;
        ip(&["netns", "add", &pod])?;
        ip(&[
            "link", "add", "v0", "netns", &ws, "type", "veth", "peer", "name", "v1", "netns", &pod,
        ])?;
        ip(&[
            "-n",
            &ws,
            "addr",
            "add",
            &format!("{WS_ADDR}/24"),
            "dev",
            "v0",
        ])?;
        ip(&[
            "-n",
            &pod,
            "addr",
            "add",
            &format!("{POD_ADDR}/24"),
            "dev",
            "v1",
        ])?;
        for a in [SERVICE_ADDR, DEX_SERVICE_ADDR, IDP_ADDR, LDAP_ADDR] {
            ip(&["-n", &pod, "addr", "add", &format!("{a}/32"), "dev", "v1"])?;
        }
        for (ns, dev) in [(&ws, "v0"), (&pod, "v1")] {
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            ip(&["-n", ns, "link", "set", dev, "up"])?;
        }
        write_hosts(&ws, &pod)?;
        self.image(true)?;
        // The ephemeral debug container's image: like busybox, it has wget but no curl.
        let debug = self.make_image("image-debug", |t| t != "curl")?;
        if let Ok(mut p) = self.state.debug_image_path.lock() {
            *p = debug;
        }

        // The pod: orchestrator :8080 (all addresses), devtron-service :80, argocd-dex-server :5556.
        let pod_rt = NsRuntime::start(&pod)?;
        self.pod_servers(&pod_rt, stand_ins)?;
        // The upstream IdP's discovery on idp.lab.test:80.
        let idp: SocketAddr = format!("{IDP_ADDR}:80").parse().map_err(io::Error::other)?;
        let listener = pod_rt.run(async move { tokio::net::TcpListener::bind(idp).await })?;
        pod_rt.spawn(servers::serve_idp(listener, IDP_ISSUER.to_string()));
        // The workstation: the port-forward relay and the Kubernetes API server on loopback.
        let ws_rt = NsRuntime::start(&ws)?;
        let relay = ws_rt.run(async { tokio::net::TcpListener::bind("127.0.0.1:0").await })?;
        self.pf_port = relay.local_addr()?.port();
        let target: SocketAddr = format!("{POD_ADDR}:8080")
            .parse()
            .map_err(io::Error::other)?;
        ws_rt.spawn(servers::relay(relay, target));
        if let Ok(mut i) = self.issuer.write() {
            *i = format!("{}/api/dex", self.pf_url());
        }

        let tls = kube_api::make_tls();
        let token = &self.state.token;
        let api = ws_rt.run(async { tokio::net::TcpListener::bind("127.0.0.1:0").await })?;
        let api_port = api.local_addr()?.port();
        ws_rt.spawn(kube_api::serve(api, tls.config.clone(), self.state.clone()));
        // The same API server on the pods' loopback, for dexcheck run as a pod would
        // (`KUBERNETES_SERVICE_HOST`/`PORT` and a service-account token).
        let in_pod = pod_rt
            .run(async move { tokio::net::TcpListener::bind(("127.0.0.1", api_port)).await })?;
        pod_rt.spawn(kube_api::serve(
            in_pod,
            tls.config.clone(),
            self.state.clone(),
        ));
        self.api_port = api_port;
        self.ca_pem = tls.ca_pem.clone();
        self.api_tls = Some(tls.config.clone());
        let ca = base64::engine::general_purpose::STANDARD.encode(tls.ca_pem.as_bytes());
        std::fs::write(
            &self.kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster:\n    server: https://127.0.0.1:{api_port}\n    certificate-authority-data: {ca}\nusers:\n- name: lab\n  user:\n    token: {token}\ncontexts:\n- name: lab\n  context:\n    cluster: lab\n    user: lab\n    namespace: devtroncd\ncurrent-context: lab\n"
            ),
        )?;
        self.seed_objects();
        self.ws_rt = Some(ws_rt);
        self.pod_rt = Some(pod_rt);
        Ok(())
    }

    /// The pod's servers: the stand-ins (orchestrator :8080, devtron-service :80, Dex :5556), or,
    /// in a bare lab, only devtron-service relaying to whatever the test runs on :8080.
    fn pod_servers(&self, pod_rt: &NsRuntime, stand_ins: bool) -> io::Result<()> {
        let stand_in_addrs = [
            "0.0.0.0:8080".to_string(),
            format!("{SERVICE_ADDR}:80"),
            format!("{DEX_SERVICE_ADDR}:5556"),
        ];
        for addr in stand_in_addrs.iter().filter(|_| stand_ins) {
            let addr: SocketAddr = addr.parse().map_err(io::Error::other)?;
            let issuer = self.issuer.clone();
            let listener = pod_rt.run(async move { tokio::net::TcpListener::bind(addr).await })?;
            pod_rt.spawn(servers::serve_dex(listener, issuer));
        }
        if !stand_ins {
            let svc: SocketAddr = format!("{SERVICE_ADDR}:80")
                .parse()
                .map_err(io::Error::other)?;
            let listener = pod_rt.run(async move { tokio::net::TcpListener::bind(svc).await })?;
            let to: SocketAddr = "127.0.0.1:8080".parse().map_err(io::Error::other)?;
            pod_rt.spawn(servers::relay(listener, to));
        }
        Ok(())
    }

    /// The app pod's "image": a PATH of links to the tools it ships; `curl` can be left out.
    pub fn image(&self, with_curl: bool) -> io::Result<()> {
        let path = self.make_image(
            if with_curl {
                "image-curl"
            } else {
                "image-wget"
            },
            |t| with_curl || t != "curl",
        )?;
        if let Ok(mut p) = self.state.image_path.lock() {
            *p = path;
        }
        Ok(())
    }

    /// A minimal image of real busybox applets (Debian's `busybox`): `sh`, `wget`, `sed`, `tr`,
    /// `cat`, `rm`, nothing else, with busybox's own bugs (its wget dies of SIGSEGV on `-T`).
    #[allow(dead_code)]
    pub fn busybox_image(&self) -> io::Result<()> {
        let busybox = ["/usr/bin/busybox", "/bin/busybox"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .ok_or_else(|| io::Error::other("no busybox (apt-get install busybox)"))?;
        let bin = self.dir.join("image-busybox");
        std::fs::create_dir_all(&bin)?;
        for t in ["sh", "wget", "sed", "tr", "cat", "rm"] {
            let _ = std::os::unix::fs::symlink(busybox, bin.join(t));
        }
        if let Ok(mut p) = self.state.image_path.lock() {
            *p = bin.display().to_string();
        }
        Ok(())
    }

    /// An app image with a shell but neither curl nor wget.
    pub fn image_without_clients(&self) -> io::Result<()> {
        let path = self.make_image("image-bare", |t| t != "curl" && t != "wget")?;
        if let Ok(mut p) = self.state.image_path.lock() {
            *p = path;
        }
        Ok(())
    }

    /// A directory of links to the tools an image ships; returns it as a PATH.
    fn make_image(&self, name: &str, keep: impl Fn(&str) -> bool) -> io::Result<String> {
        let bin = self.dir.join(name);
        std::fs::create_dir_all(&bin)?;
        let tools = [
            "sh", "cat", "echo", "printf", "env", "sleep", "true", "false", "test", "touch", "ls",
            "getent", "head", "tr", "sed", "grep", "date", "rm", "wget", "curl",
        ];
        for t in tools.into_iter().filter(|t| keep(t)) {
            let found = ["/usr/bin", "/bin", "/usr/local/bin"]
                .iter()
                .map(|d| Path::new(d).join(t))
                .find(|p| p.exists());
            if let Some(src) = found {
                let _ = std::os::unix::fs::symlink(src, bin.join(t));
            }
        }
        Ok(bin.display().to_string())
    }

    /// Adds a running pod (its commands run in the pod namespace like every other pod's).
    pub fn add_pod(&self, ns: &str, name: &str, labels: serde_json::Value, container: &str) {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels, "uid": format!("uid-{name}"), "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": container, "image": "lab"}]},
            "status": {"phase": "Running", "podIP": POD_ADDR, "containerStatuses": [{"name": container, "ready": true, "restartCount": 0, "image": "lab", "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}
        });
        if let Ok(mut p) = self.state.pods.lock() {
            p.push(pod);
        }
    }

    /// An Argo CD install in namespace `argocd` whose `url` is `url` (Dex serves `url/api/dex`).
    pub fn argocd(&self, url: &str) {
        self.add_pod(
            "argocd",
            "argocd-server-6b7c8d9f-lab03",
            json!({"app.kubernetes.io/name": "argocd-server"}),
            "argocd-server",
        );
        self.add_pod(
            "argocd",
            "argocd-dex-server-7c8d9e0f-lab04",
            json!({"app.kubernetes.io/name": "argocd-dex-server"}),
            "dex",
        );
        let dex = format!(
            "connectors:\n- type: oidc\n  id: lab-idp\n  name: Lab IdP\n  config:\n    clientID: lab-client\n    clientSecret: $oidc.lab.secret\n    issuer: {IDP_ISSUER}\n"
        );
        self.state.put(
            "configmaps",
            "argocd",
            "argocd-cm",
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "argocd-cm", "namespace": "argocd"},
                "data": {"url": url, "dex.config": dex}
            }),
        );
        if let Ok(mut i) = self.issuer.write() {
            *i = format!("{url}/api/dex");
        }
    }

    fn seed_objects(&self) {
        let pod = |name: &str,
                   labels: serde_json::Value,
                   container: &str,
                   image: &str,
                   ip: &str| {
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "devtroncd", "labels": labels, "uid": format!("uid-{name}"), "creationTimestamp": "2026-01-01T00:00:00Z"},
                "spec": {"containers": [{"name": container, "image": image}]},
                "status": {"phase": "Running", "podIP": ip, "containerStatuses": [{"name": container, "ready": true, "restartCount": 0, "image": image, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}
            })
        };
        if let Ok(mut p) = self.state.pods.lock() {
            p.push(pod(
                APP_POD,
                json!({"app": "devtron", "release": "devtron"}),
                "devtron",
                "quay.io/devtron/hyperion:lab",
                POD_ADDR,
            ));
            p.push(pod(
                DEX_POD,
                json!({"app.kubernetes.io/name": "argocd-dex-server"}),
                "dex",
                "quay.io/devtron/dex:v2.30.2",
                POD_ADDR,
            ));
        }
        self.put_devtron_secret(&self.pf_url());
        self.state.put(
            "configmaps",
            "devtroncd",
            "devtron-cm",
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "devtron-cm", "namespace": "devtroncd"},
                "data": {"DEX_HOST": "http://argocd-dex-server.devtroncd", "DEX_PORT": "5556"}
            }),
        );
    }

    /// A command run inside the workstation namespace (`ip netns exec`, so its hosts apply).
    pub fn in_ws(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ws]).arg(program);
        c
    }

    /// `program` run as a pod of the lab cluster would be: in the pods' namespace, with
    /// `KUBERNETES_SERVICE_HOST`/`PORT` and the service-account files (token, ca.crt, namespace)
    /// at `/var/run/secrets/kubernetes.io/serviceaccount` (a tmpfs over `/run` in the command's
    /// own mount namespace), and no kubeconfig anywhere.
    pub fn as_pod(&self, program: &std::path::Path) -> io::Result<Command> {
        let sa = self.dir.join("serviceaccount");
        std::fs::create_dir_all(&sa)?;
        std::fs::write(sa.join("token"), &self.state.token)?;
        std::fs::write(sa.join("ca.crt"), &self.ca_pem)?;
        std::fs::write(sa.join("namespace"), "devtroncd")?;
        let home = self.dir.join("pod-home");
        std::fs::create_dir_all(&home)?;
        let mut c = self.in_pod("unshare");
        c.args(["-m", "sh", "-c"])
            .arg("mount --make-rprivate / && mount -t tmpfs tmpfs /run && d=/run/secrets/kubernetes.io/serviceaccount && mkdir -p \"$d\" && cp \"$1\"/token \"$1\"/ca.crt \"$1\"/namespace \"$d\"/ && shift && exec \"$@\"")
            .arg("as-pod")
            .arg(&sa)
            .arg(program)
            .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
            .env("KUBERNETES_SERVICE_PORT", self.api_port.to_string())
            .env("HOME", &home)
            .env_remove("KUBECONFIG");
        Ok(c)
    }

    /// This lab's API server also on `other`'s workstation loopback (a second cluster seen from
    /// one workstation); returns its port there.
    pub fn serve_api_in(&self, other: &Lab) -> io::Result<u16> {
        let rt = other
            .ws_rt
            .as_ref()
            .ok_or_else(|| io::Error::other("lab not started"))?;
        let tls = self
            .api_tls
            .clone()
            .ok_or_else(|| io::Error::other("lab not started"))?;
        let l = rt.run(async { tokio::net::TcpListener::bind("127.0.0.1:0").await })?;
        let port = l.local_addr()?.port();
        rt.spawn(kube_api::serve(l, tls, self.state.clone()));
        Ok(port)
    }

    /// A kubeconfig context entry for this lab's API server at `port` on 127.0.0.1.
    pub fn kubeconfig_entries(&self, name: &str, port: u16) -> (String, String, String) {
        let ca = base64::engine::general_purpose::STANDARD.encode(self.ca_pem.as_bytes());
        (
            format!(
                "- name: {name}\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority-data: {ca}\n"
            ),
            format!("- name: {name}\n  user:\n    token: {}\n", self.state.token),
            format!(
                "- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n    namespace: devtroncd\n"
            ),
        )
    }

    /// Another replica of the app (`devtron`) or of Dex (`dex`), running, in the pods' namespace.
    pub fn add_replica(&self, name: &str, dex: bool) {
        let (labels, container) = if dex {
            (
                json!({"app.kubernetes.io/name": "argocd-dex-server"}),
                "dex",
            )
        } else {
            (json!({"app": "devtron", "release": "devtron"}), "devtron")
        };
        self.add_pod("devtroncd", name, labels, container);
    }

    /// Gives pod `name` the Helm-style `checksum/config` annotation `sum`.
    pub fn annotate_checksum(&self, name: &str, sum: &str) {
        if let Ok(mut pods) = self.state.pods.lock() {
            for p in pods.iter_mut().filter(|p| p["metadata"]["name"] == name) {
                p["metadata"]["annotations"] = json!({"checksum/config": sum});
            }
        }
    }

    /// Makes the app replica `pod` see the in-cluster service name at another address, where a
    /// Dex serves `issuer` with the key id `kid`: a replica whose discovery names another issuer,
    /// or that reaches a Dex replica with other keys.
    pub fn replica_sees_dex(&self, pod: &str, issuer: &str, kid: &str) -> io::Result<()> {
        self.replica_sees(pod, issuer, kid, servers::dex_discovery)
    }

    /// As [`Lab::replica_sees_dex`], where that Dex (with the lab's keys) serves the discovery
    /// document `discovery` makes of the issuer: a replica behind a proxy that rewrites it.
    pub fn replica_sees_discovery(
        &self,
        pod: &str,
        issuer: &str,
        discovery: fn(&str) -> String,
    ) -> io::Result<()> {
        self.replica_sees(pod, issuer, servers::DEX_KID, discovery)
    }

    fn replica_sees(
        &self,
        pod: &str,
        issuer: &str,
        kid: &str,
        discovery: fn(&str) -> String,
    ) -> io::Result<()> {
        let addr: SocketAddr = "127.0.0.2:80".parse().map_err(io::Error::other)?;
        let rt = self
            .pod_rt
            .as_ref()
            .ok_or_else(|| io::Error::other("lab not started"))?;
        let l = rt.run(async move { tokio::net::TcpListener::bind(addr).await })?;
        let issuer = Arc::new(RwLock::new(issuer.to_string()));
        rt.spawn(servers::serve_dex_keyed(
            l,
            issuer,
            kid.to_string(),
            discovery,
        ));
        let hosts = std::fs::read_to_string(format!("/etc/netns/{}/hosts", self.pod))?;
        let moved: String = hosts
            .lines()
            .map(|l| {
                if l.contains(SERVICE_NAME) {
                    l.replacen(SERVICE_ADDR, "127.0.0.2", 1)
                } else {
                    l.to_string()
                }
            })
            .map(|l| l + "\n")
            .collect();
        let path = self.dir.join(format!("hosts-{pod}"));
        std::fs::write(&path, moved)?;
        if let Ok(mut m) = self.state.hosts_of.lock() {
            m.insert(pod.to_string(), path);
        }
        Ok(())
    }

    /// A command run inside the pods' namespace (where exec'd commands run).
    pub fn in_pod(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.pod]).arg(program);
        c
    }

    /// The real `kubectl` in the workstation namespace, pointed at the lab.
    pub fn kubectl(&self, args: &[&str]) -> Command {
        let mut c = self.in_ws("kubectl");
        c.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.join("kube-cache"))
            .args(args);
        c
    }

    /// `kubectl exec <app pod> -n devtroncd -- ARGV…`, each argument passed on as given.
    pub fn exec_app_pod(&self, argv: &[&str]) -> Command {
        let mut c = self.kubectl(&["exec", APP_POD, "-n", "devtroncd", "--"]);
        c.args(argv);
        c
    }

    /// Writes `devtron-secret` for `url`: the `url` key and a `dex.config` whose connector's
    /// redirectURI is `url/api/dex/callback`.
    pub fn put_devtron_secret(&self, url: &str) {
        self.put_devtron_secret_for(url, IDP_ISSUER, "LAB-SECRET-do-not-print");
    }

    /// `devtron-secret` for `url` with a connector to `issuer` and its client secret.
    pub fn put_devtron_secret_for(&self, url: &str, issuer: &str, secret: &str) {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let dex = format!(
            "connectors:\n- type: oidc\n  id: lab-idp\n  name: Lab IdP\n  config:\n    clientID: lab-client\n    clientSecret: {secret}\n    issuer: {issuer}\n    redirectURI: {url}/api/dex/callback\n"
        );
        self.state.put("secrets", "devtroncd", "devtron-secret", json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "devtron-secret", "namespace": "devtroncd"},
            "data": {"url": b64(url), "dex.config": b64(&dex), "ADMIN_PASSWORD": b64("LAB-SECRET-admin")}
        }));
    }

    /// `devtron-secret` for `url` with this `dex.config`.
    pub fn put_dex_config(&self, url: &str, dex: &str) {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        self.state.put("secrets", "devtroncd", "devtron-secret", json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "devtron-secret", "namespace": "devtroncd"},
            "data": {"url": b64(url), "dex.config": b64(dex), "ADMIN_PASSWORD": b64("LAB-SECRET-admin")}
        }));
    }

    /// Points the install at `url`: the Secret and the issuer Dex serves (as after a restart).
    pub fn set_url(&self, url: &str) {
        self.put_devtron_secret(url);
        if let Ok(mut i) = self.issuer.write() {
            *i = format!("{url}/api/dex");
        }
    }

    /// Makes `addr` a black hole seen from the workstation: a permanent neighbour entry to a MAC
    /// nobody owns, so connections to it get no answer at all (STACK.md).
    pub fn black_hole(&self, addr: &str) -> io::Result<()> {
        ip(&[
            "-n",
            &self.ws,
            "neigh",
            "add",
            addr,
            "lladdr",
            "02:00:00:00:00:99",
            "dev",
            "v0",
            "nud",
            "permanent",
        ])
    }

    /// Another port-forward: local `port` in the workstation to the orchestrator's :8080.
    pub fn forward(&mut self, port: u16) -> io::Result<()> {
        self.forward_to(port, &format!("{POD_ADDR}:8080"))
    }

    /// A port-forward to any lab address: local `port` in the workstation to `target`.
    pub fn forward_to(&self, port: u16, target: &str) -> io::Result<()> {
        let target: SocketAddr = target.parse().map_err(io::Error::other)?;
        let rt = self
            .ws_rt
            .as_ref()
            .ok_or_else(|| io::Error::other("lab not running"))?;
        let l = rt.run(async move { tokio::net::TcpListener::bind(("127.0.0.1", port)).await })?;
        rt.spawn(servers::relay(l, target));
        Ok(())
    }

    /// Another address in the pods' namespace (a Service of another namespace), named `in_pods`
    /// there and `in_ws` in the workstation (either may be empty).
    pub fn add_service(&self, addr: &str, in_pods: &[&str], in_ws: &[&str]) -> io::Result<()> {
        ip(&[
            "-n",
            &self.pod,
            "addr",
            "add",
            &format!("{addr}/32"),
            "dev",
            "v1",
        ])?;
        for (ns, names) in [(&self.pod, in_pods), (&self.ws, in_ws)] {
            if names.is_empty() {
                continue;
            }
            let hosts = PathBuf::from(format!("/etc/netns/{ns}/hosts"));
            let mut text = std::fs::read_to_string(&hosts)?;
            text.push_str(&format!("{addr} {}\n", names.join(" ")));
            std::fs::write(&hosts, text)?;
        }
        Ok(())
    }

    /// `name` resolves to `addr` in both namespaces (an ingress host both sides resolve).
    pub fn name_in_both(&self, addr: &str, name: &str) -> io::Result<()> {
        self.name_in_pod(addr, name)?;
        self.name_in_ws(addr, name)
    }

    /// `name` resolves to `addr` inside the pods only.
    pub fn name_in_pod(&self, addr: &str, name: &str) -> io::Result<()> {
        add_host(&self.pod, addr, name)
    }

    /// `name` resolves to `addr` on the workstation only.
    pub fn name_in_ws(&self, addr: &str, name: &str) -> io::Result<()> {
        add_host(&self.ws, addr, name)
    }

    /// The URL the relay gives the workstation for the orchestrator.
    pub fn pf_url(&self) -> String {
        format!("http://localhost:{}/orchestrator", self.pf_port)
    }
}

/// Adds `addr name` to the hosts file of namespace `ns`.
fn add_host(ns: &str, addr: &str, name: &str) -> io::Result<()> {
    let hosts = PathBuf::from(format!("/etc/netns/{ns}/hosts"));
    let mut text = std::fs::read_to_string(&hosts)?;
    text.push_str(&format!("{addr} {name}\n"));
    std::fs::write(&hosts, text)
}

/// Per-namespace name resolution: cluster names only inside the pod; no DNS server anywhere.
fn write_hosts(ws: &str, pod: &str) -> io::Result<()> {
    let etc = |ns: &str, hosts: &str| -> io::Result<()> {
        let d = PathBuf::from(format!("/etc/netns/{ns}"));
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join("hosts"), hosts)?;
        std::fs::write(
            d.join("resolv.conf"),
            "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
        )
    };
    etc(
        ws,
        &format!(
            "127.0.0.1 localhost\n::1 localhost\n{SERVICE_ADDR} {INGRESS_HOST}\n{IDP_ADDR} idp.lab.test\n{LDAP_ADDR} ldap.lab.test\n"
        ),
    )?;
    etc(
        pod,
        &format!(
            "127.0.0.1 localhost\n::1 localhost\n{POD_ADDR} {APP_POD}\n{SERVICE_ADDR} {SERVICE_NAME} devtron-service.devtroncd.svc devtron-service.devtroncd\n{DEX_SERVICE_ADDR} argocd-dex-server.devtroncd.svc.cluster.local argocd-dex-server.devtroncd.svc argocd-dex-server.devtroncd\n{SERVICE_ADDR} {INGRESS_HOST}\n{IDP_ADDR} idp.lab.test\n{DEX_SERVICE_ADDR} argocd-dex-server\n{LDAP_ADDR} ldap.lab.test\n"
        ),
    )?;
    Ok(())
}

fn random_hex(bytes: usize) -> io::Result<String> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.ws_rt.take();
        self.pod_rt.take();
        for ns in [&self.ws, &self.pod] {
            let _ = ip(&["netns", "del", ns]);
            let _ = std::fs::remove_dir_all(format!("/etc/netns/{ns}"));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
