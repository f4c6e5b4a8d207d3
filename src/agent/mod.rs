//! The SSH agent: serves the store's keys and keys added by clients over a Unix socket to every
//! OpenSSH-speaking client (ssh, scp, git, ssh-add, ssh-keygen -Y).
//!
//! | module          | owns                                                                 |
//! |-----------------|----------------------------------------------------------------------|
//! | [`service`]     | the agent as a function from request to response: identities, policy, lock (`sign`: the hot path; `manage`: add, remove, lock, extensions) |
//! | [`server`]      | the socket: binding safely, peer credentials, one task per connection |
//! | `wire`          | framing (256 KiB limit) and the byte-level messages handled directly  |
//! | `session_bind`  | session-bind@openssh.com and userauth parsing                          |
//! | `restrict`      | restrict-destination-v00@openssh.com (ssh-add -h)                       |
//! | `hosts`         | naming a host key from known_hosts; "only for these hosts" patterns     |
//! | `lock`          | LOCK/UNLOCK: Argon2id verifier, sealed ssh-add keys, back-off           |
//! | [`approval`]    | the Approver / Unlocker traits, headless askpass                       |
//! | [`activity`]    | the bounded, persisted activity log                                    |
//! | [`process`]     | the process chain behind a connection                                  |
//! | `memory`        | keeping key memory out of swap and core dumps                         |
//!
//! The agent knows nothing of Tauri: the desktop shell wires in its own [`approval::Approver`],
//! [`approval::Unlocker`] and [`Observer`].

pub mod activity;
pub mod approval;
pub mod client;
mod hosts;
mod lock;
pub mod memory;
pub mod process;
mod restrict;
pub mod server;
pub mod service;
mod session_bind;
mod wire;

use std::path::PathBuf;
use std::time::Duration;

pub use activity::ActivityEntry;
pub use hosts::default_files as hosts_files;
pub use service::{Agent, Connection, IdentityView};
pub use wire::MAX_MESSAGE;

/// Settings of a running agent.
#[derive(Debug, Clone, Default)]
pub struct AgentOptions {
    /// Lifetime of keys added without one, and of store keys once unlocked (`-t`).
    pub default_lifetime: Option<Duration>,
    /// After this long without a signature, do `idle_action`.
    pub idle_lock: Option<Duration>,
    pub idle_action: IdleAction,
    /// known_hosts files that name destinations.
    pub known_hosts: Vec<PathBuf>,
    /// Where the activity log is appended (None: memory only).
    pub activity_file: Option<PathBuf>,
}

/// What an idle agent does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IdleAction {
    /// Forget decrypted store keys: they unlock again on demand (the headless agent).
    #[default]
    ForgetKeys,
    /// Lock: serve nothing until the user unlocks in the app (the desktop).
    Lock,
}

/// Told about changes, for live updates (the desktop emits events from these).
pub trait Observer: Send + Sync {
    fn state_changed(&self) {}
    fn activity(&self, _entry: &ActivityEntry) {}
}

/// An observer that ignores everything (the headless agent).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl Observer for NoObserver {}
