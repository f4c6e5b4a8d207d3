//! Shared helpers for the integration tests: running the real `latchkey` binary and the real
//! OpenSSH/PuTTY tools, a private Secret Service, and snapshots of directories.
#![allow(dead_code)]

pub mod clients;
pub mod sshd;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const LATCHKEY: &str = env!("CARGO_BIN_EXE_latchkey");

/// A finished command: status, stdout and stderr as text.
#[derive(Debug)]
pub struct Run {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.status == Some(0)
    }

    #[track_caller]
    pub fn success(self) -> Self {
        assert!(self.ok(), "command failed ({:?}):\nstdout: {}\nstderr: {}", self.status, self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn failure(self) -> Self {
        assert!(!self.ok(), "command unexpectedly succeeded:\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            status: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// No tool a test runs may take longer than this (a hung one fails the test instead of CI).
pub const TOOL_LIMIT: Duration = Duration::from_secs(300);

/// Run `cmd` with `stdin` fed in (and closed), never on a terminal, for at most [`TOOL_LIMIT`].
#[track_caller]
pub fn run(cmd: &mut Command, stdin: &str) -> Run {
    run_for(cmd, stdin, TOOL_LIMIT)
}

/// Run `cmd` with `stdin`, killing it (by its PID) if it has not finished within `limit`.
#[track_caller]
pub fn run_for(cmd: &mut Command, stdin: &str, limit: Duration) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + limit;
    let (status, timed_out) = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break (status.code(), false);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break (child.wait().ok().and_then(|s| s.code()), true);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let run = Run { status, stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() };
    assert!(!timed_out, "{cmd:?} did not finish within {limit:?}:\nstdout: {}\nstderr: {}", run.stdout, run.stderr);
    run
}

/// A scratch area with its own LATCHKEY_HOME and HOME, so nothing touches the real user's files.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    /// Environment for every command run in this sandbox (e.g. a private D-Bus session).
    pub env: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        // Keyring calls in tests that did not ask for one must see no Secret Service at all.
        let env = vec![("DBUS_SESSION_BUS_ADDRESS".to_owned(), "unix:path=/nonexistent/latchkey-test-bus".to_owned())];
        Self { dir, env }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn latchkey_home(&self) -> PathBuf {
        self.path("latchkey-home")
    }

    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.dir.path())
            .env("LATCHKEY_HOME", self.latchkey_home())
            .env("HOME", self.path("home"))
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("DISPLAY")
            .env_remove("SSH_ASKPASS");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// `latchkey ARGS` with `stdin`.
    pub fn latchkey(&self, args: &[&str], stdin: &str) -> Run {
        run(self.command(LATCHKEY).args(args), stdin)
    }

    /// Any other program (ssh-keygen, puttygen, secret-tool ...).
    pub fn tool(&self, program: &str, args: &[&str]) -> Run {
        run(self.command(program).args(args), "")
    }

    pub fn tool_stdin(&self, program: &str, args: &[&str], stdin: &str) -> Run {
        run(self.command(program).args(args), stdin)
    }
}

/// Every file below `dir` with its bytes and mode: compare before/after to prove nothing changed.
/// The store's advisory lock file (`.lock`, empty) is left out: taking the lock is not a change.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".lock") {
                continue;
            }
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p.clone());
                out.insert(p, (Vec::new(), meta.permissions().mode()));
            } else {
                out.insert(p.clone(), (std::fs::read(&p).unwrap_or_default(), meta.permissions().mode()));
            }
        }
    }
    out
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A private D-Bus session with an unlocked gnome-keyring Secret Service, torn down on drop.
pub struct SecretService {
    session: Child,
    /// The shell inside the session (it execs `sleep`): killing it ends the session.
    holder_pid: i32,
    pub address: String,
}

impl SecretService {
    pub fn start(sandbox: &Sandbox) -> Self {
        let runtime = sandbox.path("runtime");
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::create_dir_all(sandbox.path("data")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        // As the recipe in DESIGN.md: gnome-keyring unlocked with a throwaway password, inside
        // dbus-run-session; the session lives as long as the shell (then `sleep`) inside it.
        let script = "echo -n test-keyring-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null \
                      && echo \"$$ $DBUS_SESSION_BUS_ADDRESS\" && exec sleep 900";
        let mut session = Command::new("dbus-run-session")
            .args(["--", "sh", "-c", script])
            .env("HOME", sandbox.path("home"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_DATA_HOME", sandbox.path("data"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("dbus-run-session (install dbus and gnome-keyring: cargo xtask setup)");
        let mut line = String::new();
        BufReader::new(session.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let (pid, address) = line.trim().split_once(' ').unwrap_or_else(|| panic!("no session address: {line:?}"));
        let service = SecretService { session, holder_pid: pid.parse().unwrap(), address: address.to_owned() };
        service.wait_for_secrets(sandbox);
        service
    }

    /// Wait (bounded) until org.freedesktop.secrets is on the bus.
    fn wait_for_secrets(&self, sandbox: &Sandbox) {
        for _ in 0..100 {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .env("HOME", sandbox.path("home"))
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the Secret Service did not appear on the private bus within 10 s");
    }

    /// The environment that points a process at this Secret Service.
    pub fn env(&self, sandbox: &Sandbox) -> Vec<(String, String)> {
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone()),
            ("XDG_RUNTIME_DIR".into(), sandbox.path("runtime").display().to_string()),
            ("XDG_DATA_HOME".into(), sandbox.path("data").display().to_string()),
        ]
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.holder_pid.to_string()).status();
        let _ = self.session.wait();
    }
}

/// A `latchkey agent -D` started for a test, stopped with SIGTERM on drop.
pub struct AgentProcess {
    child: Child,
    pub socket: PathBuf,
    pub stderr_path: PathBuf,
}

impl AgentProcess {
    /// Start the agent in `sb` (its LATCHKEY_HOME and HOME) on `sb/agent.sock` with extra args.
    pub fn start(sb: &Sandbox, args: &[&str]) -> Self {
        Self::start_with_env(sb, args, &[])
    }

    pub fn start_with_env(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Self {
        let socket = sb.path("agent.sock");
        let mut cmd = sb.command(LATCHKEY);
        cmd.args(["agent", "-D", "-a"]).arg(&socket).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Self::spawn(cmd, socket, sb)
    }

    /// Start the agent without `-a`, with `XDG_RUNTIME_DIR` set to `runtime_dir`: it serves its
    /// default socket, `runtime_dir/latchkey/agent.sock`.
    pub fn start_default(sb: &Sandbox, runtime_dir: &Path, args: &[&str]) -> Self {
        let mut cmd = sb.command(LATCHKEY);
        cmd.args(["agent", "-D"]).args(args).env("XDG_RUNTIME_DIR", runtime_dir);
        Self::spawn(cmd, runtime_dir.join("latchkey").join("agent.sock"), sb)
    }

    /// Run `cmd` (a `latchkey agent -D`) and wait, bounded, until it listens on `socket`.
    fn spawn(mut cmd: Command, socket: PathBuf, sb: &Sandbox) -> Self {
        let stderr_path = sb.path(&format!(
            "agent-{}.log",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        ));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .expect("latchkey agent");
        let mut agent = AgentProcess { child, socket, stderr_path };
        for _ in 0..200 {
            if std::os::unix::net::UnixStream::connect(&agent.socket).is_ok() {
                return agent;
            }
            if let Ok(Some(status)) = agent.child.try_wait() {
                // Reaped: its pid may be reused, so Drop must not signal it.
                let log = agent.log();
                std::mem::forget(agent);
                panic!("the agent exited ({status}) before listening: {log}");
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("the agent did not listen within 5 s: {}", agent.log());
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the agent logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// SIGTERM and wait; returns the exit status code.
    pub fn stop(self) -> Option<i32> {
        self.stop_with("TERM")
    }

    /// Send `signal` (a name for kill(1): "TERM", "INT") and wait, for at most [`TOOL_LIMIT`];
    /// returns the exit status code (None: killed by a signal, or still running and killed then).
    pub fn stop_with(mut self, signal: &str) -> Option<i32> {
        let _ = Command::new("kill").args([&format!("-{signal}"), &self.child.id().to_string()]).status();
        let deadline = Instant::now() + TOOL_LIMIT;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                // Ignored the signal: kill it (Drop must not wait on it forever either).
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        std::mem::forget(self);
        status
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

impl Sandbox {
    /// Environment pointing clients (ssh-add, ssh, git) at `agent`.
    pub fn with_agent(&self, agent: &AgentProcess, cmd: &mut Command) {
        cmd.env("SSH_AUTH_SOCK", &agent.socket);
    }

    /// Run a tool with SSH_AUTH_SOCK set to `agent`.
    pub fn tool_agent(&self, agent: &AgentProcess, program: &str, args: &[&str], stdin: &str) -> Run {
        let mut cmd = self.command(program);
        cmd.args(args).env("SSH_AUTH_SOCK", &agent.socket);
        run(&mut cmd, stdin)
    }

    /// `latchkey ARGS` with SSH_AUTH_SOCK set to `agent`.
    pub fn latchkey_agent(&self, agent: &AgentProcess, args: &[&str], stdin: &str) -> Run {
        self.tool_agent(agent, LATCHKEY, args, stdin)
    }
}
