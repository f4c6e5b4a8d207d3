//! A real OpenSSH server on 127.0.0.1 for the agent tests, as in DESIGN.md's recipe: its own
//! config, host key, authorized_keys and log file in the sandbox, a free port found by retrying
//! (never "bind :0 and drop", which races), stopped by PID with SIGTERM.

// Test code: a panic is how a failure is reported (clippy.toml only exempts #[test] bodies).
#![allow(clippy::unwrap_used)]

use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::clients::run_for;
use super::{Run, Sandbox};

/// The server binary, started by absolute path (sshd refuses to re-exec itself otherwise).
pub const SSHD: &str = "/usr/sbin/sshd";

/// How long any ssh/scp client run against the server may take before it is killed.
pub const CLIENT_LIMIT: Duration = Duration::from_secs(60);

pub struct Sshd {
    child: Child,
    pub port: u16,
    /// Config, host key, authorized_keys, log: all in here.
    pub dir: PathBuf,
    pub log_path: PathBuf,
    pub authorized_keys: PathBuf,
    /// The host's public key, `ssh-ed25519 AAAA...` (no comment).
    pub host_key: String,
    /// A known_hosts file naming this server as `[127.0.0.1]:PORT`, for clients.
    pub known_hosts: PathBuf,
}

/// A port to try: random per call (RandomState is seeded per process and per call), in a range
/// clear of the usual services and of the kernel's ephemeral range (32768-60999).
fn candidate_port() -> u16 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.write_u32(std::process::id());
    20_000 + (h.finish() % 12_000) as u16
}

impl Sshd {
    /// Start sshd in `sb/NAME` with the recipe's settings plus `extra` config lines. Needs root
    /// (privilege separation); panics with sshd's own words if it cannot start.
    pub fn start(sb: &Sandbox, name: &str, extra: &[&str]) -> Self {
        let dir = sb.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        // sshd's privilege-separation directory (absent on a fresh container).
        let _ = std::fs::create_dir_all("/run/sshd");
        let host_key_path = dir.join("host_ed25519");
        sb.tool("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", host_key_path.to_str().unwrap()])
            .success();
        let host_key = std::fs::read_to_string(dir.join("host_ed25519.pub")).unwrap();
        let host_key = host_key.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        let authorized_keys = dir.join("authorized_keys");
        std::fs::write(&authorized_keys, "").unwrap();
        let log_path = dir.join("sshd.log");
        let mut last_log = String::new();
        for _attempt in 0..30 {
            let port = candidate_port();
            // Skip ports something already listens on; sshd failing to bind (a race with another
            // test) is caught below and retried too.
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
                continue;
            }
            let config = dir.join("sshd_config");
            let d = dir.display();
            let mut text = format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_ed25519\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
                 PermitRootLogin prohibit-password\nAllowTcpForwarding yes\nAllowAgentForwarding yes\n\
                 Subsystem sftp internal-sftp\nLogLevel VERBOSE\n"
            );
            for line in extra {
                text.push_str(line);
                text.push('\n');
            }
            std::fs::write(&config, text).unwrap();
            let mut child = Command::new(SSHD)
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log_path).unwrap())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {SSHD} (install openssh-server): {e}"));
            let listening = format!("Server listening on 127.0.0.1 port {port}");
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
                if last_log.contains(&listening) {
                    let known_hosts = dir.join("known_hosts");
                    let server = Sshd { child, port, dir, log_path, authorized_keys, host_key, known_hosts };
                    std::fs::write(&server.known_hosts, format!("{}\n", server.known_hosts_line())).unwrap();
                    return server;
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("sshd did not listen within 10 s:\n{last_log}");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if !last_log.contains("Address already in use") {
                panic!("sshd exited at start:\n{last_log}");
            }
        }
        panic!("no free port for sshd after 30 tries; last log:\n{last_log}");
    }

    /// The known_hosts line for this server: `[127.0.0.1]:PORT ssh-ed25519 AAAA...`.
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.port, self.host_key)
    }

    /// Replace authorized_keys with these public key lines (sshd reads it on every login).
    pub fn authorize(&self, public_keys: &[&str]) {
        let mut text = String::new();
        for k in public_keys {
            text.push_str(k.trim());
            text.push('\n');
        }
        std::fs::write(&self.authorized_keys, text).unwrap();
    }

    /// What sshd logged so far (-e: everything, including the per-connection children).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The "Accepted publickey" lines so far.
    pub fn accepted(&self) -> Vec<String> {
        self.log().lines().filter(|l| l.contains("Accepted publickey for")).map(str::to_owned).collect()
    }

    /// An `ssh` reaching this server only through the agent at `socket`: no config files, no
    /// default identities, no prompts, host key checked against `known_hosts`.
    pub fn ssh_command(&self, sb: &Sandbox, socket: &Path, known_hosts: &Path) -> Command {
        let mut cmd = sb.command("ssh");
        cmd.env("SSH_AUTH_SOCK", socket)
            .args(self.client_options(socket, known_hosts))
            .arg("-p")
            .arg(self.port.to_string());
        cmd
    }

    /// The options shared by ssh and scp (`-F none` first: it must precede the others).
    pub fn client_options(&self, socket: &Path, known_hosts: &Path) -> Vec<String> {
        [
            "-F".to_owned(),
            "none".to_owned(),
            "-o".to_owned(),
            format!("IdentityAgent={}", socket.display()),
            "-o".to_owned(),
            format!("UserKnownHostsFile={}", known_hosts.display()),
            "-o".to_owned(),
            "GlobalKnownHostsFile=/dev/null".to_owned(),
            "-o".to_owned(),
            "StrictHostKeyChecking=yes".to_owned(),
            "-o".to_owned(),
            "BatchMode=yes".to_owned(),
            "-o".to_owned(),
            "ConnectTimeout=15".to_owned(),
        ]
        .into()
    }

    /// `ssh -v OPTS -p PORT root@127.0.0.1 REMOTE` through the agent, verifying the host key with
    /// this server's own known_hosts file. Bounded by [`CLIENT_LIMIT`].
    pub fn ssh(&self, sb: &Sandbox, socket: &Path, opts: &[&str], remote: &str) -> Run {
        self.ssh_with_known_hosts(sb, socket, &self.known_hosts, opts, remote)
    }

    pub fn ssh_with_known_hosts(
        &self,
        sb: &Sandbox,
        socket: &Path,
        known_hosts: &Path,
        opts: &[&str],
        remote: &str,
    ) -> Run {
        let mut cmd = self.ssh_command(sb, socket, known_hosts);
        cmd.arg("-v").args(opts).arg("root@127.0.0.1").arg(remote);
        run_for(&mut cmd, "", CLIENT_LIMIT)
    }

    /// Log in with exactly the agent key whose public half is `public_key_file` (a .pub with no
    /// private key beside it): IdentitiesOnly picks that one agent identity.
    pub fn ssh_as(&self, sb: &Sandbox, socket: &Path, public_key_file: &Path, opts: &[&str], remote: &str) -> Run {
        let identity = format!("IdentityFile={}", public_key_file.display());
        let mut all = vec!["-o", "IdentitiesOnly=yes", "-o", identity.as_str()];
        all.extend_from_slice(opts);
        self.ssh(sb, socket, &all, remote)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}
