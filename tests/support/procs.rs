//! Child processes for the provider tests: `dexcheck serve` and the Node peers, each stopped when
//! its guard drops.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Child(pub std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port free right now.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Starts `program args…` and waits (at most 20 s) for a stdout line containing `ready`.
/// Returns the guard and the lines read so far.
pub fn start(cmd: Command, ready: &str) -> (Child, Vec<String>) {
    match try_start(cmd, ready) {
        Ok(v) => v,
        Err(lines) => panic!("the child never printed {ready:?}; got {lines:?}"),
    }
}

/// As [`start`], but a child that exits first (a port taken meanwhile) is an `Err`.
pub fn try_start(mut cmd: Command, ready: &str) -> Result<(Child, Vec<String>), Vec<String>> {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(Stdio::null());
    let mut child = cmd.spawn().expect("spawn");
    let stdout = child.take_stdout_pipe();
    let guard = Child(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining after the test stopped listening: a closed pipe would kill the child
        // (EPIPE) the next time it logs.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut lines = Vec::new();
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(l) => {
                let done = l.contains(ready);
                lines.push(l);
                if done {
                    return Ok((guard, lines));
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(_) => break,
        }
    }
    Err(lines)
}

trait TakeStdout {
    fn take_stdout_pipe(&mut self) -> std::process::ChildStdout;
}

impl TakeStdout for std::process::Child {
    fn take_stdout_pipe(&mut self) -> std::process::ChildStdout {
        self.stdout.take().expect("stdout piped")
    }
}

/// Whether the Node peers can run: `node` and `tests/js/node_modules` (`.ci/run` installs them
/// with `npm ci`). Otherwise skip, unless DEXCHECK_REQUIRE_LAB=1 demands every test.
pub fn node_or_skip(test: &str) -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let modules = std::path::Path::new("tests/js/node_modules/openid-client").exists()
        && std::path::Path::new("tests/js/node_modules/oidc-provider").exists();
    if node && modules {
        return true;
    }
    let msg = format!("{test}: needs node and `npm ci --prefix tests/js`; skipped");
    if std::env::var("DEXCHECK_REQUIRE_LAB").is_ok_and(|v| v == "1") {
        panic!("{msg} (DEXCHECK_REQUIRE_LAB=1 forbids skipping)");
    }
    eprintln!("{msg}");
    false
}

/// Whether `tool` runs here; without it the test says so and returns early, unless
/// `DEXCHECK_REQUIRE_LAB=1` (CI), where a missing tool fails the test.
#[allow(dead_code)]
pub fn tool_or_skip(tool: &str, test: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", "command -v \"$1\" >/dev/null 2>&1", "sh", tool])
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return true;
    }
    let msg = format!("{test}: needs {tool}; skipped");
    if std::env::var("DEXCHECK_REQUIRE_LAB").is_ok_and(|v| v == "1") {
        panic!("{msg} (DEXCHECK_REQUIRE_LAB=1 forbids skipping)");
    }
    eprintln!("{msg}");
    false
}
