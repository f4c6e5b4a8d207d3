//! Asking the user: before a key is used ("ask before each use", forwarded requests) and for a
//! passphrase when an encrypted key is first needed.
//!
//! The agent depends on the [`Approver`] and [`Unlocker`] traits only. The desktop shell
//! implements them with a prompt window; the headless agent with `$SSH_ASKPASS` (as ssh-agent
//! does, `SSH_ASKPASS_PROMPT=confirm` for yes/no) or, without one, by refusing.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::process::ProcessChain;
use crate::keys::Passphrase;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// No answer within this time means "deny" (or "no passphrase").
pub const PROMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the user is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ApprovalReason {
    /// The key asks before each use.
    Confirm,
    /// The request comes through a forwarded agent connection (ssh -A).
    Forwarded,
}

/// Everything a prompt shows. Holds no secret.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApprovalRequest {
    pub key_name: String,
    pub fingerprint: String,
    pub process: ProcessChain,
    /// Where the key would be used, from session-bind and known_hosts (None: not bound).
    pub destination: Option<String>,
    pub forwarded: bool,
    pub reason: ApprovalReason,
}

/// The user's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Decision {
    AllowOnce,
    /// Allow this key for this application (executable) for some minutes.
    AllowApplication {
        minutes: u32,
    },
    /// Allow this key for this application until the agent locks.
    AllowUntilLock,
    Deny,
}

/// A request for the passphrase of an encrypted store key.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnlockRequest {
    pub key_name: String,
    pub fingerprint: String,
    pub process: ProcessChain,
    pub destination: Option<String>,
    /// The previous attempt had the wrong passphrase.
    pub retry: bool,
}

pub trait Approver: Send + Sync {
    fn approve(&self, request: ApprovalRequest) -> BoxFuture<Decision>;
}

pub trait Unlocker: Send + Sync {
    /// The passphrase, or `None` if the user declined or nobody can be asked.
    fn passphrase(&self, request: UnlockRequest) -> BoxFuture<Option<Passphrase>>;
}

/// The headless agent's prompts: `$SSH_ASKPASS`, captured when the agent starts.
#[derive(Debug, Clone, Default)]
pub struct Askpass {
    program: Option<PathBuf>,
}

impl Askpass {
    pub fn from_env() -> Self {
        Self { program: std::env::var_os("SSH_ASKPASS").filter(|p| !p.is_empty()).map(PathBuf::from) }
    }

    pub fn program(&self) -> Option<&PathBuf> {
        self.program.as_ref()
    }
}

/// Run the askpass program with `prompt`; its exit status and first line of output, or `None` on
/// timeout or failure to start. The child is killed if it outlives the timeout.
async fn run_askpass(program: PathBuf, prompt: String, confirm: bool) -> Option<(bool, zeroize::Zeroizing<String>)> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.arg(prompt).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true);
    if confirm {
        cmd.env("SSH_ASKPASS_PROMPT", "confirm");
    }
    let mut child = cmd.spawn().ok()?;
    let mut stdout = child.stdout.take()?;
    let work = async move {
        let mut out = zeroize::Zeroizing::new(Vec::new());
        let _ = (&mut stdout).take(4096).read_to_end(&mut out).await;
        let status = child.wait().await.ok()?;
        let text = String::from_utf8_lossy(&out);
        let line = zeroize::Zeroizing::new(text.lines().next().unwrap_or("").to_owned());
        Some((status.success(), line))
    };
    tokio::time::timeout(PROMPT_TIMEOUT, work).await.ok().flatten()
}

impl Approver for Askpass {
    fn approve(&self, request: ApprovalRequest) -> BoxFuture<Decision> {
        let Some(program) = self.program.clone() else {
            return Box::pin(async { Decision::Deny });
        };
        let mut prompt = format!(
            "Allow use of key {}?\nKey fingerprint {}.\nRequested by {}.",
            request.key_name,
            request.fingerprint,
            request.process.summary()
        );
        if let Some(d) = &request.destination {
            prompt.push_str(&format!("\nFor {d}."));
        }
        if request.forwarded {
            prompt.push_str("\nThis request comes through a forwarded agent connection.");
        }
        Box::pin(async move {
            match run_askpass(program, prompt, true).await {
                Some((true, _)) => Decision::AllowOnce,
                _ => Decision::Deny,
            }
        })
    }
}

impl Unlocker for Askpass {
    fn passphrase(&self, request: UnlockRequest) -> BoxFuture<Option<Passphrase>> {
        let Some(program) = self.program.clone() else {
            return Box::pin(async { None });
        };
        let prompt = format!(
            "{}Enter the passphrase of Latchkey key {} ({}):",
            if request.retry { "Wrong passphrase. " } else { "" },
            request.key_name,
            request.fingerprint
        );
        Box::pin(async move {
            match run_askpass(program, prompt, false).await {
                Some((true, line)) if !line.is_empty() => Some(Passphrase::new(line.as_str())),
                _ => None,
            }
        })
    }
}

/// Refuses everything: for tests, and agents that must never prompt.
#[derive(Debug, Default, Clone, Copy)]
pub struct Refuse;

impl Approver for Refuse {
    fn approve(&self, _: ApprovalRequest) -> BoxFuture<Decision> {
        Box::pin(async { Decision::Deny })
    }
}

impl Unlocker for Refuse {
    fn passphrase(&self, _: UnlockRequest) -> BoxFuture<Option<Passphrase>> {
        Box::pin(async { None })
    }
}
