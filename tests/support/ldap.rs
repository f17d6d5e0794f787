//! A real LDAP server for the lab: Debian's `slapd`, serving LDAPS with a certificate from a
//! test CA, inside the lab's pod namespace on `ldap.lab.test:636`. Stopped on drop.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::lab::{LDAP_ADDR, Lab};
use super::web::Pki;

pub const SUFFIX: &str = "dc=lab,dc=test";
pub const BIND_DN: &str = "cn=admin,dc=lab,dc=test";

pub struct Slapd {
    child: Child,
    pub dir: PathBuf,
}

/// Where Debian installs slapd, if it is here.
pub fn binary() -> Option<&'static str> {
    ["/usr/sbin/slapd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

impl Slapd {
    /// Starts slapd in the lab's pod namespace with a certificate for `ldap.lab.test` from `pki`
    /// and `bind_pw` as the admin's password.
    pub fn start(lab: &Lab, pki: &Pki, bind_pw: &str) -> io::Result<Slapd> {
        let slapd = binary().ok_or_else(|| io::Error::other("no slapd (apt-get install slapd)"))?;
        let dir = lab.dir.join("slapd");
        std::fs::create_dir_all(dir.join("db"))?;
        let (cert, key) = pki.server_pem(&["ldap.lab.test"]);
        std::fs::write(dir.join("cert.pem"), cert)?;
        std::fs::write(dir.join("key.pem"), key)?;
        let d = dir.display();
        std::fs::write(
            dir.join("slapd.conf"),
            format!(
                "include /etc/ldap/schema/core.schema\npidfile {d}/slapd.pid\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\nTLSCertificateFile {d}/cert.pem\nTLSCertificateKeyFile {d}/key.pem\ndatabase mdb\nsuffix \"{SUFFIX}\"\nrootdn \"{BIND_DN}\"\nrootpw {bind_pw}\ndirectory {d}/db\n"
            ),
        )?;
        let child = Command::new("ip")
            .args(["netns", "exec", &lab.pod, slapd, "-d", "0", "-h"])
            .arg(format!("ldaps://{LDAP_ADDR}:636/"))
            .arg("-f")
            .arg(dir.join("slapd.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(dir.join("log"))?))
            .spawn()?;
        let s = Slapd { child, dir };
        s.wait_ready(lab)?;
        Ok(s)
    }

    /// Until a TLS client gets through the handshake (curl's "empty reply": slapd closes on an
    /// HTTP request), at most ten seconds.
    fn wait_ready(&self, lab: &Lab) -> io::Result<()> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            let rc = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &lab.pod,
                    "curl",
                    "-sk",
                    "-m",
                    "1",
                    "-o",
                    "/dev/null",
                ])
                .arg(format!("https://{LDAP_ADDR}:636/"))
                .status()?;
            if rc.code() == Some(52) || rc.code() == Some(56) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
        Err(io::Error::other(format!("slapd did not start: {log}")))
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
