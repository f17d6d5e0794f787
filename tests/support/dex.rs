//! Real Dex, built from the Go module proxy by `scripts/build-go-peers` (into `target/lab-bin/`, or
//! `$DEXCHECK_DEX_BIN_DIR`): v2.30.2 as Devtron ships it and v2.45.1, run on loopback with an
//! in-memory store, `skipApprovalScreen: true` (as Devtron and Argo CD configure it), the app's
//! static client and connectors as the test writes them.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::procs::Child;

/// The releases the lab runs, by the name `scripts/build-go-peers` gives their binaries.
pub const VERSIONS: &[&str] = &["v2.30", "v2.45"];

fn bin_dir() -> PathBuf {
    let dir = std::env::var_os("DEXCHECK_DEX_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/lab-bin"));
    // Absolute, so that a command run in a lab namespace finds it too.
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

/// The binary of `version`, or `None` (the test then skips, unless DEXCHECK_REQUIRE_LAB=1).
pub fn binary_or_skip(test: &str, version: &str) -> Option<PathBuf> {
    peer_or_skip(test, &format!("dex-{version}"))
}

/// A Go peer `scripts/build-go-peers` builds (`dex-v2.30`, `devtron-login`), or `None`.
pub fn peer_or_skip(test: &str, name: &str) -> Option<PathBuf> {
    let bin = bin_dir().join(name);
    if bin.is_file() {
        return Some(bin);
    }
    let msg = format!(
        "{test}: no {} (run scripts/build-go-peers); skipped",
        bin.display()
    );
    if std::env::var("DEXCHECK_REQUIRE_LAB").is_ok_and(|v| v == "1") {
        panic!("{msg} (DEXCHECK_REQUIRE_LAB=1 forbids skipping)");
    }
    eprintln!("{msg}");
    None
}

/// One static client of Dex's config.
pub struct Client<'a> {
    pub id: &'a str,
    pub secret: &'a str,
    pub redirect: &'a str,
}

/// A running Dex: its port and issuer; stopped on drop.
pub struct RealDex {
    pub port: u16,
    pub issuer: String,
    _child: Child,
    _dir: tempfile::TempDir,
}

/// Starts `bin` on 127.0.0.1:`port` (a free one: `procs::free_port`) with `issuer`, the clients, and
/// `connectors` (YAML list items, not indented).
pub fn start_on(
    bin: &std::path::Path,
    port: u16,
    issuer: &str,
    clients: &[Client],
    connectors: &str,
) -> RealDex {
    let issuer = issuer.to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let clients: String = clients
        .iter()
        .map(|c| {
            format!(
                "- id: {}\n  name: {}\n  secret: {}\n  redirectURIs: [\"{}\"]\n",
                c.id, c.id, c.secret, c.redirect
            )
        })
        .collect();
    let cfg = format!(
        "issuer: {issuer}\nstorage:\n  type: memory\nweb:\n  http: 127.0.0.1:{port}\nlogger:\n  level: error\noauth2:\n  skipApprovalScreen: true\nstaticClients:\n{clients}connectors:\n{connectors}"
    );
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, cfg).expect("config");
    let log = std::fs::File::create(dir.path().join("dex.log")).expect("log");
    let child = Command::new(bin)
        .arg("serve")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn dex");
    let guard = Child(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "dex never listened on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    RealDex {
        port,
        issuer,
        _child: guard,
        _dir: dir,
    }
}
