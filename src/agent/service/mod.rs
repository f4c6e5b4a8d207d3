//! The agent as a function from request to response: identities, policies, lock state.
//!
//! Socket I/O lives in [`super::server`]; this module takes one message (type byte + contents)
//! and a [`Connection`] and returns the reply. On any failure the peer gets the protocol's
//! generic SSH_AGENT_FAILURE; the reason goes to the local log (never a secret).
//!
//! This file holds the state (identities, lock, grants), the public API the desktop uses and the
//! dispatch; `sign` answers REQUEST_IDENTITIES and SIGN (the hot path, and unlocking on demand);
//! `manage` the messages that change the state (add, remove, lock, unlock, extensions).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ssh_agent_lib::proto::extension::{DestinationConstraint, QueryResponse, RestrictDestination};
use ssh_agent_lib::proto::{Extension, KeyConstraint, PrivateCredential, PrivateKeyData, Request, Response};
use ssh_encoding::{Decode, Encode};
use ssh_key::private::{EcdsaKeypair, Ed25519Keypair, KeypairData, RsaKeypair};
use ssh_key::public::KeyData;
use zeroize::Zeroizing;

use super::activity::{ActivityEntry, ActivityLog};
use super::approval::{ApprovalReason, ApprovalRequest, Approver, Decision, PROMPT_TIMEOUT, UnlockRequest, Unlocker};
use super::hosts::{self, KnownHost};
use super::lock::{self, Locked, Sealed};
use super::process::ProcessChain;
use super::session_bind::{self, Bind};
use super::wire::{self, Reader};
use super::{AgentOptions, IdleAction, Observer};
use crate::keys::{self, FingerprintHash, Signer};
use crate::store::{ForwardingPolicy, KeyPolicy, KeyStore};

/// Where an identity came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A key in the Latchkey store, offered without being decrypted and unlocked on demand.
    Store { name: String },
    /// Added by a client (ssh-add): lives in memory only, as with ssh-agent.
    Added,
}

/// One identity the agent offers.
struct Identity {
    /// What clients name it by: the public key blob, or the certificate blob.
    blob: Vec<u8>,
    public: KeyData,
    comment: String,
    fingerprint: String,
    origin: Origin,
    /// The decrypted key, shared with in-flight signatures.
    signer: Option<Arc<Signer>>,
    /// An added key's private half, kept to seal it while the agent is locked.
    private: Option<Zeroizing<Vec<u8>>>,
    sealed: Option<Sealed>,
    /// When the decrypted key is forgotten (`ssh-add -t`, `-t` of the agent, a key's lifetime).
    expires: Option<Instant>,
    /// Ask before each use (ssh-add -c, or the store policy).
    confirm: bool,
    /// ssh-add -h.
    destinations: Vec<DestinationConstraint>,
    policy: KeyPolicy,
}

impl Identity {
    fn name(&self) -> String {
        match &self.origin {
            Origin::Store { name } => name.clone(),
            Origin::Added => {
                if self.comment.is_empty() {
                    self.fingerprint.clone()
                } else {
                    self.comment.clone()
                }
            }
        }
    }

    /// Wipe the decrypted key (store keys unlock again on demand; added keys keep `private`,
    /// and their ssh-add lifetime, which ends them for good).
    fn forget(&mut self) {
        self.signer = None;
        if matches!(self.origin, Origin::Store { .. }) {
            self.expires = None;
        }
    }
}

/// A standing "allow" for one key and one program in one terminal session or app.
struct Grant {
    fingerprint: String,
    origin: super::process::Origin,
    /// None: until the agent locks.
    until: Option<Instant>,
}

enum LockState {
    Unlocked,
    /// Locked with a password (ssh-add -x): only UNLOCK is served.
    Password(Locked),
    /// Locked from the desktop (tray, idle timer): nothing is served until the user unlocks in
    /// the app. Every decrypted key is wiped: store keys unlock again on demand, keys added by
    /// ssh-add are removed (there is no password to seal them with, and unlocking from the app
    /// must not bring a key back without its passphrase).
    App,
}

struct State {
    identities: Vec<Identity>,
    lock: LockState,
    unlock_failures: u32,
    grants: Vec<Grant>,
    store_stamp: Option<crate::store::StoreStamp>,
    store_loaded: bool,
    last_use: Instant,
    idle_lock: Option<Duration>,
}

/// Per-connection facts: who is on the other end and where they are going.
pub struct Connection {
    pub peer_pid: Option<u32>,
    pub binds: Vec<Bind>,
    /// A session-bind was attempted and failed: restricted keys are refused from then on.
    pub bind_failed: bool,
    process: Option<ProcessChain>,
    summary: Option<String>,
    /// The destination named from the last bind, looked up once per bind.
    destination: Option<(usize, Option<KnownHost>)>,
    warned_unbound: bool,
}

impl Connection {
    pub fn new(peer_pid: Option<u32>) -> Self {
        Self {
            peer_pid,
            binds: Vec::new(),
            bind_failed: false,
            process: None,
            summary: None,
            destination: None,
            warned_unbound: false,
        }
    }

    /// The process chain behind the connection, read once.
    fn process(&mut self) -> &ProcessChain {
        let pid = self.peer_pid;
        self.process.get_or_insert_with(|| pid.map(ProcessChain::of).unwrap_or_default())
    }

    /// Its one-line summary for the activity log, formatted once.
    fn process_summary(&mut self) -> &str {
        if self.summary.is_none() {
            self.summary = Some(self.process().summary());
        }
        self.summary.as_deref().unwrap_or_default()
    }

    fn forwarded(&self) -> bool {
        self.binds.iter().any(|b| b.forwarded)
    }
}

/// A public view of an identity, for the desktop and `latchkey agent status`. Holds no secret.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IdentityView {
    pub name: String,
    pub fingerprint: String,
    pub comment: String,
    pub key_type: String,
    /// In the Latchkey store (else added by a client such as ssh-add).
    pub from_store: bool,
    /// Decrypted and ready (store keys unlock on first use).
    pub unlocked: bool,
    pub confirm: bool,
    pub hosts: Vec<String>,
    /// Seconds until the decrypted key is forgotten.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub expires_in_secs: Option<u64>,
}

/// The agent. Cheap to clone; all clones are the same agent.
#[derive(Clone)]
pub struct Agent {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    store: Option<Arc<KeyStore>>,
    /// When keys.toml was last looked at, in milliseconds after `started` (0: never).
    store_looked: AtomicU64,
    started: Instant,
    /// Held for each UNLOCK attempt.
    unlock_attempt: tokio::sync::Mutex<()>,
    approver: Arc<dyn Approver>,
    unlocker: Arc<dyn Unlocker>,
    observer: Arc<dyn Observer>,
    activity: ActivityLog,
    options: AgentOptions,
}

/// How long a signature relies on the last look at keys.toml. Listing identities, the desktop
/// and every message that changes the agent look every time; signatures (a job signing many
/// commits, a benchmark) cost one stat(2) per interval instead of one each, and a sign request
/// for a key the agent does not know looks again before refusing.
const STORE_RECHECK: Duration = Duration::from_millis(250);

/// Whether to look at keys.toml now or only when the last look is older than [`STORE_RECHECK`].
#[derive(Debug, Clone, Copy)]
pub(super) enum StoreLook {
    Now,
    IfStale,
}

fn failure() -> Vec<u8> {
    vec![wire::SSH_AGENT_FAILURE]
}

fn success() -> Vec<u8> {
    vec![wire::SSH_AGENT_SUCCESS]
}

fn log(message: std::fmt::Arguments<'_>) {
    eprintln!("latchkey agent: {message}");
}

impl Agent {
    pub fn new(
        store: Option<Arc<KeyStore>>,
        approver: Arc<dyn Approver>,
        unlocker: Arc<dyn Unlocker>,
        observer: Arc<dyn Observer>,
        options: AgentOptions,
    ) -> Self {
        let activity = ActivityLog::new(options.activity_file.clone());
        let state = State {
            identities: Vec::new(),
            lock: LockState::Unlocked,
            unlock_failures: 0,
            grants: Vec::new(),
            store_stamp: None,
            store_loaded: false,
            last_use: Instant::now(),
            idle_lock: options.idle_lock,
        };
        let agent = Self {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                store,
                store_looked: AtomicU64::new(0),
                started: Instant::now(),
                unlock_attempt: tokio::sync::Mutex::new(()),
                approver,
                unlocker,
                observer,
                activity,
                options,
            }),
        };
        let stamp = agent.look_at_store(StoreLook::Now);
        let _ = agent.refresh_store(&mut agent.state(), stamp);
        agent
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn activity(&self) -> Vec<ActivityEntry> {
        self.shared.activity.recent()
    }

    pub fn is_locked(&self) -> bool {
        !matches!(self.state().lock, LockState::Unlocked)
    }

    /// The identities, as the desktop shows them.
    pub fn identities(&self) -> Vec<IdentityView> {
        let state = self.housekept_state(StoreLook::Now);
        let now = Instant::now();
        state
            .identities
            .iter()
            .map(|id| IdentityView {
                name: id.name(),
                fingerprint: id.fingerprint.clone(),
                comment: id.comment.clone(),
                key_type: keys::display_name(&id.public),
                from_store: matches!(id.origin, Origin::Store { .. }),
                unlocked: id.signer.is_some(),
                confirm: id.confirm,
                hosts: id.policy.hosts.clone(),
                expires_in_secs: id.expires.map(|e| e.saturating_duration_since(now).as_secs()),
            })
            .collect()
    }

    /// Forget every decrypted store key and every standing grant (they unlock again on demand).
    pub fn forget_decrypted(&self) {
        forget_store_keys(&mut self.state());
        self.shared.observer.state_changed();
    }

    /// Lock from the app: serve nothing until [`Agent::unlock_app`]. False if already locked.
    pub fn lock_app(&self) -> bool {
        let mut state = self.state();
        if !matches!(state.lock, LockState::Unlocked) {
            return false;
        }
        lock_app(&mut state);
        drop(state);
        self.shared.observer.state_changed();
        true
    }

    /// Undo [`Agent::lock_app`]. False if the agent is not app-locked (a password lock needs
    /// the password: `ssh-add -X`).
    pub fn unlock_app(&self) -> bool {
        let mut state = self.state();
        if !matches!(state.lock, LockState::App) {
            return false;
        }
        // Nothing decrypted comes back: store keys unlock on their next use.
        state.lock = LockState::Unlocked;
        state.last_use = Instant::now();
        drop(state);
        self.shared.observer.state_changed();
        true
    }

    /// Change the idle timeout of a running agent (None: never).
    pub fn set_idle_lock(&self, idle: Option<Duration>) {
        let mut state = self.state();
        state.idle_lock = idle;
        state.last_use = Instant::now();
    }

    /// Periodic housekeeping (expiry, idle lock) for hosts that want it without requests.
    pub fn tick(&self) {
        drop(self.housekept_state(StoreLook::Now));
    }

    /// Stat keys.toml, outside the state lock; None when there is no store or `look` says the
    /// last look is recent enough.
    fn look_at_store(&self, look: StoreLook) -> Option<Option<crate::store::StoreStamp>> {
        let store = self.shared.store.as_ref()?;
        let now = u64::try_from(self.shared.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1;
        if matches!(look, StoreLook::IfStale) {
            let last = self.shared.store_looked.load(Ordering::Relaxed);
            if last != 0 && now.saturating_sub(last) < STORE_RECHECK.as_millis() as u64 {
                return None;
            }
        }
        self.shared.store_looked.store(now, Ordering::Relaxed);
        Some(store.modified())
    }

    /// Reload store keys when keys.toml changed (`stamp`, from [`Self::look_at_store`]): new
    /// keys appear, removed ones go (wiped), unchanged ones keep their decrypted key.
    /// Returns whether the store changed (so the desktop can redraw).
    fn refresh_store(&self, state: &mut State, stamp: Option<Option<crate::store::StoreStamp>>) -> bool {
        let (Some(store), Some(stamp)) = (&self.shared.store, stamp) else { return false };
        if stamp == state.store_stamp && state.store_loaded {
            return false;
        }
        state.store_loaded = true;
        let records = match store.records() {
            Ok(r) => r,
            Err(e) => {
                log(format_args!("cannot read the key store: {e}"));
                return false;
            }
        };
        state.store_stamp = stamp;
        let mut store_ids: Vec<Identity> = Vec::new();
        for record in records {
            let Ok(public) = ssh_key::PublicKey::from_openssh(&record.public_key) else { continue };
            let data = public.key_data().clone();
            let blob = keys::blob(&data);
            let existing = state
                .identities
                .iter()
                .position(|i| i.blob == blob && matches!(i.origin, Origin::Store { .. }))
                .map(|i| state.identities.remove(i));
            let (signer, expires) = existing.map(|e| (e.signer, e.expires)).unwrap_or((None, None));
            store_ids.push(Identity {
                fingerprint: keys::fingerprint(&data, FingerprintHash::Sha256),
                blob,
                public: data,
                comment: public.comment().to_owned(),
                origin: Origin::Store { name: record.name.to_string() },
                signer,
                private: None,
                sealed: None,
                expires,
                confirm: record.policy.confirm,
                destinations: Vec::new(),
                policy: record.policy,
            });
        }
        // Whatever store identities are left were removed from the store: drop (wipe) them.
        state.identities.retain(|i| !matches!(i.origin, Origin::Store { .. }));
        let added = std::mem::take(&mut state.identities);
        state.identities = store_ids;
        for a in added {
            // An added key that is now also in the store is shown once, as the store key, which
            // takes over its decrypted form.
            match state.identities.iter_mut().find(|s| s.blob == a.blob) {
                Some(store_id) => {
                    if store_id.signer.is_none() {
                        store_id.signer = a.signer;
                        store_id.expires = a.expires;
                    }
                }
                None => state.identities.push(a),
            }
        }
        true
    }

    /// The state, locked, after housekeeping. The observer hears of what housekeeping changed
    /// with the lock released: it may read the agent (the desktop's tray calls `is_locked`), and
    /// the state mutex is not reentrant.
    fn housekept_state(&self, look: StoreLook) -> MutexGuard<'_, State> {
        let stamp = self.look_at_store(look);
        let mut state = self.state();
        if self.housekeeping(&mut state, stamp) {
            drop(state);
            self.shared.observer.state_changed();
            state = self.state();
        }
        state
    }

    /// Expire lifetimes and grants; idle lock. Returns whether anything changed, for the caller
    /// to tell the observer once the lock is released.
    #[must_use]
    fn housekeeping(&self, state: &mut State, stamp: Option<Option<crate::store::StoreStamp>>) -> bool {
        let mut changed = self.refresh_store(state, stamp);
        let now = Instant::now();
        if let Some(idle) = state.idle_lock {
            let unlocked_any =
                state.identities.iter().any(|i| i.signer.is_some() && matches!(i.origin, Origin::Store { .. }));
            if now.duration_since(state.last_use) >= idle {
                match self.shared.options.idle_action {
                    IdleAction::ForgetKeys if unlocked_any => {
                        forget_store_keys(state);
                        changed = true;
                        log(format_args!("idle: forgot the decrypted store keys"));
                    }
                    IdleAction::Lock if matches!(state.lock, LockState::Unlocked) => {
                        lock_app(state);
                        changed = true;
                        log(format_args!("idle: locked"));
                    }
                    _ => {}
                }
            }
        }
        state.identities.retain_mut(|id| {
            if id.expires.is_some_and(|t| t <= now) {
                changed = true;
                match id.origin {
                    // An expired ssh-add key is removed, as with ssh-agent.
                    Origin::Added => return false,
                    Origin::Store { .. } => id.forget(),
                }
            }
            true
        });
        state.grants.retain(|g| g.until.is_none_or(|t| t > now));
        changed
    }

    /// Handle one message (type byte + contents); returns the reply (type byte + contents).
    pub async fn handle(&self, conn: &mut Connection, message: &[u8]) -> Vec<u8> {
        let Some((&kind, contents)) = message.split_first() else { return failure() };
        match kind {
            wire::SSH2_AGENTC_REQUEST_IDENTITIES if contents.is_empty() => self.identities_answer(conn),
            wire::SSH2_AGENTC_SIGN_REQUEST => self.sign(conn, contents).await,
            wire::SSH2_AGENTC_ADD_IDENTITY | wire::SSH2_AGENTC_ADD_ID_CONSTRAINED => self.add(message),
            wire::SSH2_AGENTC_REMOVE_IDENTITY => self.remove(contents),
            wire::SSH2_AGENTC_REMOVE_ALL_IDENTITIES if contents.is_empty() => self.remove_all(),
            wire::SSH_AGENTC_LOCK => self.lock(contents),
            wire::SSH_AGENTC_UNLOCK => self.unlock(contents).await,
            wire::SSH_AGENTC_EXTENSION => self.extension(conn, contents),
            // SSH-1 messages, smartcard keys and anything unknown.
            other => {
                log(format_args!("refused message type {other}"));
                failure()
            }
        }
    }

    /// Where the connection goes (the last bind's host key, named from known_hosts); the files
    /// are read once per bind, not per request.
    fn destination(&self, conn: &mut Connection) -> Option<KnownHost> {
        if let Some((binds, known)) = &conn.destination
            && *binds == conn.binds.len()
        {
            return known.clone();
        }
        let known = conn.binds.last().map(|b| hosts::lookup(&self.shared.options.known_hosts, &b.host_key));
        conn.destination = Some((conn.binds.len(), known.clone()));
        known
    }

    /// Whether an identity may be listed or used on this connection (for `user`, when signing).
    fn permitted(&self, id: &Identity, conn: &Connection, destination: Option<&KnownHost>, user: Option<&str>) -> bool {
        if !id.destinations.is_empty() {
            if conn.bind_failed {
                return false;
            }
            if !super::restrict::permitted(&id.destinations, &conn.binds, user) {
                return false;
            }
        }
        if !id.policy.hosts.is_empty() {
            match destination {
                Some(host) => {
                    if !hosts::permitted(&id.policy.hosts, host) {
                        return false;
                    }
                }
                // Without session-bind the destination is unknown: restricted keys are withheld.
                None => return false,
            }
        }
        !(conn.forwarded() && id.policy.forwarding == ForwardingPolicy::Deny)
    }

    fn record(&self, id_name: &str, fingerprint: &str, conn: &mut Connection, host: Option<String>, outcome: &str) {
        let entry = ActivityEntry {
            time: crate::store::now_rfc3339(),
            key: id_name.to_owned(),
            fingerprint: fingerprint.to_owned(),
            process: conn.process_summary().to_owned(),
            host,
            forwarded: conn.forwarded(),
            outcome: outcome.to_owned(),
        };
        self.shared.observer.activity(&entry);
        self.shared.activity.record(entry);
    }
}

fn forget_store_keys(state: &mut State) {
    for id in state.identities.iter_mut().filter(|i| matches!(i.origin, Origin::Store { .. })) {
        id.forget();
    }
    state.grants.clear();
}

fn lock_app(state: &mut State) {
    let before = state.identities.len();
    state.identities.retain(|i| matches!(i.origin, Origin::Store { .. }));
    let removed = before - state.identities.len();
    for id in state.identities.iter_mut() {
        id.forget();
    }
    state.grants.clear();
    state.lock = LockState::App;
    if removed > 0 {
        log(format_args!("locked: removed {removed} key(s) added by clients; store keys unlock again on demand"));
    }
}

mod manage;
mod sign;
#[cfg(test)]
mod tests;
