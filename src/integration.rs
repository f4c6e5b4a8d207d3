//! "Use Latchkey for all apps": point every SSH client at the Latchkey agent, and undo it.
//!
//! Two places, each changed so it can be restored exactly:
//! - `~/.ssh/config` gets a marked block at the end, `Host *` + `IdentityAgent "SOCKET"`. At the
//!   end, because ssh_config takes the first value it sees: hosts the user pointed at another
//!   agent keep it. Undo removes exactly the marked lines.
//! - The desktop session's environment: `~/.config/environment.d/50-latchkey.conf` (read by the
//!   systemd user manager at login) and, where a user manager runs, `systemctl --user
//!   set-environment SSH_AUTH_SOCK=...` for apps started from now on. Undo deletes the file and
//!   restores the previous value.
//!
//! What was there before is recorded in `integration.toml` in the data dir (no secrets).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::fsutil::{self, FsError, Overwrite};

const BEGIN: &str =
    "# >>> latchkey: use the Latchkey agent (managed by Latchkey; turn off with `latchkey integrate off`) >>>";
const END: &str = "# <<< latchkey <<<";
const STATE_FILE: &str = "integration.toml";
const ENV_FILE: &str = "50-latchkey.conf";

/// Where the integration writes: the user's home and config dir, and the data dir for its state.
#[derive(Debug, Clone)]
pub struct Paths {
    pub ssh_config: PathBuf,
    pub environment_d: PathBuf,
    pub state: PathBuf,
    /// Also change the running systemd user session. Off when LATCHKEY_HOME relocates Latchkey
    /// (tests, portable use), so a test never touches the developer's real desktop session.
    pub session: bool,
}

impl Paths {
    /// The real locations: `$HOME/.ssh/config`, `$XDG_CONFIG_HOME/environment.d`.
    pub fn for_user(data_dir: &Path) -> Self {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|c| !c.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".config"));
        Self {
            ssh_config: home.join(".ssh/config"),
            environment_d: config.join("environment.d"),
            state: data_dir.join(STATE_FILE),
            session: std::env::var_os(crate::paths::HOME_ENV).is_none_or(|h| h.is_empty()),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct Recorded {
    /// We created ~/.ssh/config (it did not exist): undo deletes it if only our block remains.
    created_ssh_config: bool,
    /// SSH_AUTH_SOCK in the systemd user environment before we set it.
    previous_session_socket: Option<String>,
    /// We changed the systemd user environment (a user manager was running).
    set_session_env: bool,
    socket: String,
}

/// Is it on, and what exactly is in place.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IntegrationStatus {
    pub enabled: bool,
    pub ssh_config: String,
    pub ssh_config_block: bool,
    pub environment_file: Option<String>,
    pub session_environment: bool,
    /// What could not be done (no systemd user manager, say): in words.
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    #[error(transparent)]
    File(#[from] FsError),
    #[error("{0} cannot hold a socket path with a double quote or a newline")]
    BadSocket(String),
}

impl IntegrationError {
    pub fn code(&self) -> &'static str {
        match self {
            IntegrationError::File(e) => e.code(),
            IntegrationError::BadSocket(_) => "bad_socket_path",
        }
    }
}

/// `text` with the Latchkey block removed (and the blank line we put before it).
fn without_block(text: &str) -> String {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == BEGIN {
            inside = true;
            // The separator line we added before the block.
            if out.last().is_some_and(|l: &&str| l.trim().is_empty()) {
                out.pop();
            }
            continue;
        }
        if inside {
            if bare == END {
                inside = false;
            }
            continue;
        }
        out.push(line);
    }
    out.concat()
}

fn block(socket: &str) -> String {
    format!("{BEGIN}\nHost *\n    IdentityAgent \"{socket}\"\n{END}\n")
}

/// `text` with exactly one Latchkey block for `socket` at the end.
pub fn with_block(text: &str, socket: &str) -> String {
    let mut out = without_block(text);
    if !out.is_empty() {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&block(socket));
    out
}

fn read_text(path: &Path) -> Result<Option<String>, FsError> {
    match fsutil::read_limited(path, 16 << 20) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(FsError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn mode_of(path: &Path, default: u32) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(default)
}

fn systemctl(args: &[&str]) -> Option<String> {
    let out = Command::new("systemctl").arg("--user").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn session_socket() -> Option<Option<String>> {
    let env = systemctl(&["show-environment"])?;
    Some(env.lines().find_map(|l| l.strip_prefix("SSH_AUTH_SOCK=")).map(str::to_owned))
}

/// Turn it on for `socket` (idempotent: turning it on twice leaves one block).
pub fn enable(paths: &Paths, socket: &Path) -> Result<IntegrationStatus, IntegrationError> {
    let socket = socket.display().to_string();
    if socket.contains(['"', '\n', '\r']) {
        return Err(IntegrationError::BadSocket(socket));
    }
    let previous: Recorded = read_text(&paths.state)?.and_then(|t| toml::from_str(&t).ok()).unwrap_or_default();
    let existing = read_text(&paths.ssh_config)?;
    let created = existing.is_none() || previous.created_ssh_config;
    if let Some(dir) = paths.ssh_config.parent() {
        fsutil::create_private_dir(dir)?;
    }
    let updated = with_block(existing.as_deref().unwrap_or(""), &socket);
    fsutil::write_file(&paths.ssh_config, updated.as_bytes(), mode_of(&paths.ssh_config, 0o600), Overwrite::Replace)?;

    std::fs::create_dir_all(&paths.environment_d).map_err(|e| FsError::Io {
        op: "create",
        path: paths.environment_d.clone(),
        source: e,
    })?;
    let env_file = paths.environment_d.join(ENV_FILE);
    fsutil::write_file(&env_file, format!("SSH_AUTH_SOCK={socket}\n").as_bytes(), 0o644, Overwrite::Replace)?;

    let mut recorded = Recorded {
        created_ssh_config: created,
        previous_session_socket: previous.previous_session_socket.clone(),
        set_session_env: previous.set_session_env,
        socket: socket.clone(),
    };
    if let Some(current) = paths.session.then(session_socket).flatten() {
        if !previous.set_session_env {
            recorded.previous_session_socket = current;
        }
        recorded.set_session_env = systemctl(&["set-environment", &format!("SSH_AUTH_SOCK={socket}")]).is_some();
    }
    let text = toml::to_string(&recorded).unwrap_or_default();
    if let Some(dir) = paths.state.parent() {
        fsutil::create_private_dir(dir)?;
    }
    fsutil::write_file(&paths.state, text.as_bytes(), 0o600, Overwrite::Replace)?;
    status(paths)
}

/// Turn it off: remove the block, the environment file and our session variable.
pub fn disable(paths: &Paths) -> Result<IntegrationStatus, IntegrationError> {
    let recorded: Recorded = read_text(&paths.state)?.and_then(|t| toml::from_str(&t).ok()).unwrap_or_default();
    if let Some(text) = read_text(&paths.ssh_config)? {
        let restored = without_block(&text);
        if restored.trim().is_empty() && recorded.created_ssh_config {
            fsutil::remove_file(&paths.ssh_config)?;
        } else if restored != text {
            fsutil::write_file(
                &paths.ssh_config,
                restored.as_bytes(),
                mode_of(&paths.ssh_config, 0o600),
                Overwrite::Replace,
            )?;
        }
    }
    fsutil::remove_file(&paths.environment_d.join(ENV_FILE))?;
    if recorded.set_session_env && paths.session {
        match &recorded.previous_session_socket {
            Some(previous) => systemctl(&["set-environment", &format!("SSH_AUTH_SOCK={previous}")]),
            None => systemctl(&["unset-environment", "SSH_AUTH_SOCK"]),
        };
    }
    fsutil::remove_file(&paths.state)?;
    status(paths)
}

pub fn status(paths: &Paths) -> Result<IntegrationStatus, IntegrationError> {
    let block = read_text(&paths.ssh_config)?.is_some_and(|t| t.lines().any(|l| l == BEGIN));
    let env_file = paths.environment_d.join(ENV_FILE);
    let recorded: Option<Recorded> = read_text(&paths.state)?.and_then(|t| toml::from_str(&t).ok());
    let mut notes = Vec::new();
    let session = recorded.as_ref().is_some_and(|r| r.set_session_env);
    if recorded.is_some() && !session {
        notes.push(
            "no systemd user manager answered: apps started before the next login may not see SSH_AUTH_SOCK".to_owned(),
        );
    }
    Ok(IntegrationStatus {
        enabled: block,
        ssh_config: paths.ssh_config.display().to_string(),
        ssh_config_block: block,
        environment_file: env_file.exists().then(|| env_file.display().to_string()),
        session_environment: session,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_goes_at_the_end_once_and_comes_out_byte_for_byte() {
        let original = "Host github.com\n    User git\n# a comment\n";
        let on = with_block(original, "/run/user/1000/latchkey/agent.sock");
        assert!(on.starts_with(original));
        assert!(on.contains("IdentityAgent \"/run/user/1000/latchkey/agent.sock\""));
        assert_eq!(with_block(&on, "/run/user/1000/latchkey/agent.sock"), on, "idempotent");
        assert_eq!(without_block(&on), original);
        assert_eq!(without_block(&with_block("", "/s")), "");
        assert_eq!(without_block(&with_block("Host x\n    Port 2\n", "/s")), "Host x\n    Port 2\n");
        let no_newline = "Host x";
        assert_eq!(without_block(&with_block(no_newline, "/s")), "Host x\n");
    }

    #[test]
    fn enable_then_disable_restores_the_previous_state() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            ssh_config: dir.path().join("home/.ssh/config"),
            environment_d: dir.path().join("config/environment.d"),
            state: dir.path().join("data/integration.toml"),
            session: false,
        };
        let status = enable(&paths, Path::new("/tmp/agent.sock")).unwrap();
        assert!(status.enabled && status.environment_file.is_some());
        let text = std::fs::read_to_string(&paths.ssh_config).unwrap();
        assert!(text.contains("IdentityAgent \"/tmp/agent.sock\""));
        let status = disable(&paths).unwrap();
        assert!(!status.enabled);
        assert!(!paths.ssh_config.exists(), "a config we created is removed again");
        assert!(!paths.environment_d.join(ENV_FILE).exists());

        std::fs::write(&paths.ssh_config, "Host a\n").unwrap();
        enable(&paths, Path::new("/tmp/agent.sock")).unwrap();
        disable(&paths).unwrap();
        assert_eq!(std::fs::read_to_string(&paths.ssh_config).unwrap(), "Host a\n");
        assert!(enable(&paths, Path::new("/tmp/a\"b")).is_err());
    }
}
