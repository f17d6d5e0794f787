//! The lab's ingress: Debian's nginx in the workstation namespace, configured from an Ingress
//! object the way ingress-nginx renders it (a `server` per host; a `Prefix` path as `location
//! PATH/` plus `location = PATH`; an `Exact` path as `location = PATH`; the
//! `allowlist-source-range` / `whitelist-source-range` annotation as `allow RANGE; … deny all;`
//! in each location; `proxy_pass` to the backend Service's address). The same object is served
//! by the lab's API server, so dexcheck reads what nginx enforces.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::lab::Lab;

/// The address nginx listens on (the workstation's end of the lab link).
pub const INGRESS_ADDR: &str = super::lab::WS_ADDR;

/// Whether Debian's nginx is installed.
pub fn nginx_path() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn locations(path: &Value, allow: &[String], backend: &str) -> String {
    let p = path["path"].as_str().unwrap_or("/");
    let rules: String = allow
        .iter()
        .map(|r| format!("      allow {r};\n"))
        .chain((!allow.is_empty()).then(|| "      deny all;\n".to_string()))
        .collect();
    let body = format!(
        "{{\n{rules}      proxy_set_header Host $host;\n      proxy_pass http://{backend};\n    }}\n"
    );
    match path["pathType"].as_str() {
        Some("Exact") => format!("    location = {p} {body}"),
        _ if p == "/" => format!("    location / {body}"),
        _ => {
            let p = p.trim_end_matches('/');
            format!("    location = {p} {body}    location {p}/ {body}")
        }
    }
}

/// nginx.conf for `ingress`, each backend Service `name:port` sent to `backend(name, port)`.
pub fn render(ingress: &Value, dir: &Path, backend: impl Fn(&str, u64) -> String) -> String {
    let ann = &ingress["metadata"]["annotations"];
    let allow: Vec<String> = [
        "nginx.ingress.kubernetes.io/allowlist-source-range",
        "nginx.ingress.kubernetes.io/whitelist-source-range",
    ]
    .iter()
    .find_map(|k| ann[*k].as_str())
    .map(|v| {
        v.split(',')
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect()
    })
    .unwrap_or_default();
    let mut servers = String::new();
    for rule in ingress["spec"]["rules"].as_array().into_iter().flatten() {
        let host = rule["host"].as_str().unwrap_or("_");
        let mut locs = String::new();
        for p in rule["http"]["paths"].as_array().into_iter().flatten() {
            let svc = &p["backend"]["service"];
            let to = backend(
                svc["name"].as_str().unwrap_or_default(),
                svc["port"]["number"].as_u64().unwrap_or(80),
            );
            locs.push_str(&locations(p, &allow, &to));
        }
        servers.push_str(&format!(
            "  server {{\n    listen {INGRESS_ADDR}:80;\n    server_name {host};\n{locs}  }}\n"
        ));
    }
    let d = dir.display();
    format!(
        "user root;\nworker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{servers}}}\n"
    )
}

/// nginx running in the lab's workstation namespace; stopped on drop.
pub struct Nginx {
    child: Child,
    pub dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nginx {
    /// The error log so far (`access forbidden by rule` lines, for instance).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

/// Starts nginx for `ingress` in `lab`'s workstation namespace and waits until it listens.
pub fn start(
    lab: &Lab,
    ingress: &Value,
    backend: impl Fn(&str, u64) -> String,
) -> io::Result<Nginx> {
    let nginx = nginx_path().ok_or_else(|| io::Error::other("nginx is not installed"))?;
    let dir = lab.dir.join("nginx");
    std::fs::create_dir_all(&dir)?;
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, render(ingress, &dir, backend))?;
    let child = lab
        .in_ws(&nginx)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let n = Nginx { child, dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let up = Command::new("ip")
            .args(["netns", "exec", &lab.ws, "curl", "-s", "-o", "/dev/null"])
            .arg(format!("http://{INGRESS_ADDR}/"))
            .status()
            .is_ok_and(|s| s.success());
        if up {
            return Ok(n);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(io::Error::other(format!(
        "nginx did not start: {}",
        n.error_log()
    )))
}
