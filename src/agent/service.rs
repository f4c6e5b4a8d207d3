//! The agent as a function from request to response: identities, policies, lock state.
//!
//! Socket I/O lives in [`super::server`]; this module takes one message (type byte + contents)
//! and a [`Connection`] and returns the reply. On any failure the peer gets the protocol's
//! generic SSH_AGENT_FAILURE; the reason goes to the local log (never a secret).

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

/// A standing "allow" for one key and one application.
struct Grant {
    fingerprint: String,
    exe: String,
    /// None: until the agent locks.
    until: Option<Instant>,
}

enum LockState {
    Unlocked,
    /// Locked with a password (ssh-add -x): only UNLOCK is served.
    Password(Locked),
    /// Locked from the desktop (tray, idle timer): nothing is served until the user unlocks in
    /// the app. Store keys are wiped; ssh-add keys stay in memory unused, as with ssh-agent.
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
    approver: Arc<dyn Approver>,
    unlocker: Arc<dyn Unlocker>,
    observer: Arc<dyn Observer>,
    activity: ActivityLog,
    options: AgentOptions,
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
                approver,
                unlocker,
                observer,
                activity,
                options,
            }),
        };
        let _ = agent.refresh_store(&mut agent.state());
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
        let state = self.housekept_state();
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
        for id in state.identities.iter_mut() {
            if let Some(private) = &id.private
                && let Ok(pair) = KeypairData::decode(&mut &private[..])
            {
                id.signer = Signer::new(&pair).ok().map(Arc::new);
            }
        }
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
        drop(self.housekept_state());
    }

    /// Reload store keys when keys.toml changed: new keys appear, removed ones go (wiped),
    /// unchanged ones keep their decrypted key.
    /// Returns whether the store changed (so the desktop can redraw).
    fn refresh_store(&self, state: &mut State) -> bool {
        let Some(store) = &self.shared.store else { return false };
        let stamp = store.modified();
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
    fn housekept_state(&self) -> MutexGuard<'_, State> {
        let mut state = self.state();
        if self.housekeeping(&mut state) {
            drop(state);
            self.shared.observer.state_changed();
            state = self.state();
        }
        state
    }

    /// Expire lifetimes and grants; idle lock. Returns whether anything changed, for the caller
    /// to tell the observer once the lock is released.
    #[must_use]
    fn housekeeping(&self, state: &mut State) -> bool {
        let mut changed = self.refresh_store(state);
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

    fn identities_answer(&self, conn: &mut Connection) -> Vec<u8> {
        let destination = self.destination(conn);
        let state = self.housekept_state();
        let mut out = vec![wire::SSH2_AGENT_IDENTITIES_ANSWER];
        if !matches!(state.lock, LockState::Unlocked) {
            wire::put_u32(&mut out, 0);
            return out;
        }
        let mut listed = Vec::new();
        let mut withheld = 0;
        for id in &state.identities {
            if self.permitted(id, conn, destination.as_ref(), None) {
                listed.push(id);
            } else {
                withheld += 1;
            }
        }
        wire::put_u32(&mut out, listed.len() as u32);
        for id in listed {
            wire::put_string(&mut out, &id.blob);
            wire::put_string(&mut out, id.comment.as_bytes());
        }
        if withheld > 0 && conn.binds.is_empty() && !conn.warned_unbound {
            conn.warned_unbound = true;
            log(format_args!(
                "a client listed keys without binding its session (old OpenSSH or another client): {withheld} host-restricted key(s) withheld"
            ));
        }
        out
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

    async fn sign(&self, conn: &mut Connection, contents: &[u8]) -> Vec<u8> {
        let Some(request) = wire::parse_sign(contents) else {
            log(format_args!("malformed sign request"));
            return failure();
        };
        let destination = self.destination(conn);
        let host_label = destination.as_ref().map(KnownHost::label);
        let userauth = session_bind::parse_userauth(request.data);

        // Find the identity and decide, under the lock; sign outside it.
        let (signer, name, fingerprint, needs_approval, store_name, lifetime) = {
            let mut state = self.housekept_state();
            if !matches!(state.lock, LockState::Unlocked) {
                drop(state);
                log(format_args!("sign request refused: the agent is locked"));
                return failure();
            }
            state.last_use = Instant::now();
            let Some(id) = state.identities.iter().find(|i| i.blob == request.key_blob) else {
                drop(state);
                log(format_args!("sign request for a key the agent does not hold"));
                return failure();
            };
            let name = id.name();
            let fingerprint = id.fingerprint.clone();
            let user = userauth.as_ref().map(|u| String::from_utf8_lossy(u.user).into_owned());
            let restricted = !id.destinations.is_empty() || !id.policy.hosts.is_empty();
            let mut refusal = None;
            if restricted {
                // A restricted key signs only userauth requests for the session it was bound to.
                match (&userauth, conn.binds.last()) {
                    (Some(ua), Some(last)) if ua.session_id == last.session_id.as_slice() => {
                        if let Some(hk) = ua.host_key
                            && hk != keys::blob(&last.host_key).as_slice()
                        {
                            refusal = Some("the request's host key differs from the bound one");
                        }
                    }
                    (_, None) => refusal = Some("the client did not bind the session to a host"),
                    _ => refusal = Some("not a login to the bound host"),
                }
            }
            if refusal.is_none() && !self.permitted(id, conn, destination.as_ref(), user.as_deref()) {
                refusal = Some("not permitted for this host");
            }
            if let Some(why) = refusal {
                drop(state);
                log(format_args!("refused to sign with {name}: {why}"));
                self.record(&name, &fingerprint, conn, host_label, &format!("refused: {why}"));
                return failure();
            }
            let forwarded = conn.forwarded();
            let reason = if id.confirm {
                Some(ApprovalReason::Confirm)
            } else if forwarded && id.policy.forwarding == ForwardingPolicy::Ask {
                Some(ApprovalReason::Forwarded)
            } else {
                None
            };
            let exe = conn.process().client().map(|p| p.exe.clone()).unwrap_or_default();
            let granted = state.grants.iter().any(|g| g.fingerprint == fingerprint && g.exe == exe && !exe.is_empty());
            // A standing grant covers local requests only: forwarded ones always ask.
            let needs = reason.filter(|_| !granted || forwarded);
            let store_name = match &id.origin {
                Origin::Store { name } => Some(name.clone()),
                Origin::Added => None,
            };
            let lifetime = id.policy.lifetime_minutes.map(|m| Duration::from_secs(u64::from(m) * 60));
            (id.signer.clone(), name, fingerprint, needs, store_name, lifetime)
        };

        if let Some(reason) = needs_approval {
            let process = conn.process().clone();
            let exe = process.client().map(|p| p.exe.clone()).unwrap_or_default();
            let request = ApprovalRequest {
                key_name: name.clone(),
                fingerprint: fingerprint.clone(),
                process,
                destination: host_label.clone(),
                forwarded: conn.forwarded(),
                reason,
            };
            let decision = tokio::time::timeout(PROMPT_TIMEOUT, self.shared.approver.approve(request))
                .await
                .unwrap_or(Decision::Deny);
            let until = match decision {
                Decision::Deny => {
                    log(format_args!("the user denied a signature with {name}"));
                    self.record(&name, &fingerprint, conn, host_label, "denied");
                    return failure();
                }
                Decision::AllowOnce => None,
                Decision::AllowApplication { minutes } => {
                    Some(Some(Instant::now() + Duration::from_secs(u64::from(minutes.clamp(1, 24 * 60)) * 60)))
                }
                Decision::AllowUntilLock => Some(None),
            };
            if let (Some(until), false) = (until, exe.is_empty()) {
                self.state().grants.push(Grant { fingerprint: fingerprint.clone(), exe, until });
            }
        }

        let signer = match signer {
            Some(s) => s,
            None => match store_name {
                Some(store_name) => match self.unlock_store_key(conn, &store_name, &fingerprint, &host_label).await {
                    Some(s) => {
                        let mut state = self.state();
                        if let Some(id) = state.identities.iter_mut().find(|i| i.blob == request.key_blob) {
                            id.signer = Some(s.clone());
                            id.expires = lifetime.or(self.shared.options.default_lifetime).map(|l| Instant::now() + l);
                        }
                        drop(state);
                        self.shared.observer.state_changed();
                        s
                    }
                    None => {
                        self.record(
                            &name,
                            &fingerprint,
                            conn,
                            host_label,
                            "refused: the key is encrypted and was not unlocked",
                        );
                        return failure();
                    }
                },
                None => return failure(),
            },
        };
        match signer.sign(request.data, request.flags) {
            Ok(signature) => {
                self.record(&name, &fingerprint, conn, host_label, "signed");
                let mut out = Vec::with_capacity(signature.len() + 5);
                out.push(wire::SSH2_AGENT_SIGN_RESPONSE);
                wire::put_string(&mut out, &signature);
                out
            }
            Err(e) => {
                log(format_args!("signing with {name} failed: {e}"));
                failure()
            }
        }
    }

    /// Decrypt a store key: the remembered passphrase, else ask (three tries), else refuse.
    async fn unlock_store_key(
        &self,
        conn: &mut Connection,
        name: &str,
        fingerprint: &str,
        destination: &Option<String>,
    ) -> Option<Arc<Signer>> {
        let store = self.shared.store.clone()?;
        let from_keyring = {
            let (store, name) = (store.clone(), name.to_owned());
            tokio::task::spawn_blocking(move || store.unlock(&name, None)).await.ok()?
        };
        let key = match from_keyring {
            Ok(key) => Some(key),
            Err(e) if e.code() == "passphrase_required" || e.code() == "wrong_passphrase" => {
                let mut key = None;
                for attempt in 0..3 {
                    let request = UnlockRequest {
                        key_name: name.to_owned(),
                        fingerprint: fingerprint.to_owned(),
                        process: conn.process().clone(),
                        destination: destination.clone(),
                        retry: attempt > 0,
                    };
                    let Some(passphrase) =
                        tokio::time::timeout(PROMPT_TIMEOUT, self.shared.unlocker.passphrase(request))
                            .await
                            .ok()
                            .flatten()
                    else {
                        log(format_args!(
                            "key {name} is encrypted and nobody could be asked for its passphrase: run `latchkey key unlock {name}`"
                        ));
                        break;
                    };
                    let (store, owned) = (store.clone(), name.to_owned());
                    match tokio::task::spawn_blocking(move || store.unlock(&owned, Some(&passphrase))).await {
                        Ok(Ok(k)) => {
                            key = Some(k);
                            break;
                        }
                        Ok(Err(e)) if e.code() == "wrong_passphrase" => continue,
                        Ok(Err(e)) => {
                            log(format_args!("cannot unlock {name}: {e}"));
                            break;
                        }
                        Err(_) => break,
                    }
                }
                key
            }
            Err(e) => {
                log(format_args!("cannot unlock {name}: {e}"));
                None
            }
        }?;
        match Signer::new(key.key_data()) {
            Ok(s) => Some(Arc::new(s)),
            Err(e) => {
                log(format_args!("cannot load {name} for signing: {e}"));
                None
            }
        }
    }

    fn add(&self, message: &[u8]) -> Vec<u8> {
        // A certificate valid forever, decoded with clamped times: the one to list is as sent.
        let mut sent_certificate = None;
        let request = match Request::decode(&mut &message[..]) {
            Ok(r) => r,
            Err(first) => {
                // ssh-add sends short ECDSA scalars, and OpenSSH certificates "valid forever",
                // both of which ssh-key 0.6 rejects: rewrite and retry.
                let (kind, contents) = (message[0], &message[1..]);
                let retry = |body: &[u8]| {
                    let mut again = Zeroizing::new(vec![kind]);
                    again.extend_from_slice(body);
                    Request::decode(&mut &again[..]).ok()
                };
                let widened = wire::widen_ecdsa_scalar(contents).and_then(|w| retry(&w));
                let clamped = || {
                    let (body, certificate) = wire::clamp_cert_validity(contents)?;
                    let request = retry(&body)?;
                    sent_certificate = Some(certificate.to_vec());
                    Some(request)
                };
                match widened.or_else(clamped) {
                    Some(r) => r,
                    None => {
                        log(format_args!("malformed add-identity request: {first}"));
                        return failure();
                    }
                }
            }
        };
        let (identity, constraints) = match request {
            Request::AddIdentity(add) => (add, Vec::new()),
            Request::AddIdConstrained(add) => (add.identity, add.constraints),
            _ => return failure(),
        };
        let mut confirm = false;
        let mut lifetime = self.shared.options.default_lifetime;
        let mut destinations = Vec::new();
        for c in constraints {
            match c {
                KeyConstraint::Lifetime(secs) => lifetime = Some(Duration::from_secs(u64::from(secs))),
                KeyConstraint::Confirm => confirm = true,
                KeyConstraint::Extension(ext) => match ext.parse_key_constraint::<RestrictDestination>() {
                    Ok(Some(restrict)) => destinations.extend(restrict.constraints),
                    _ => {
                        log(format_args!("refused a key with the unknown constraint {:?}", ext.name));
                        return failure();
                    }
                },
            }
        }
        let (keypair, blob, comment) = match identity.credential {
            PrivateCredential::Key { privkey, comment } => {
                let Ok(public) = KeyData::try_from(&privkey) else { return failure() };
                (privkey, keys::blob(&public), comment)
            }
            PrivateCredential::Cert { certificate, privkey, comment, .. } => {
                let Some(pair) = keypair_from_cert(certificate.public_key(), privkey) else {
                    log(format_args!("refused a certificate whose key does not match its private half"));
                    return failure();
                };
                let blob = match sent_certificate {
                    Some(sent) => sent,
                    None => {
                        let mut blob = Vec::new();
                        if certificate.encode(&mut blob).is_err() {
                            return failure();
                        }
                        blob
                    }
                };
                (pair, blob, comment)
            }
        };
        let signer = match Signer::new(&keypair) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                log(format_args!("refused to add a key: {e}"));
                return failure();
            }
        };
        let Ok(public) = KeyData::try_from(&keypair) else { return failure() };
        let mut private = Zeroizing::new(Vec::new());
        if keypair.encode(&mut *private).is_err() {
            return failure();
        }
        let mut state = self.state();
        if !matches!(state.lock, LockState::Unlocked) {
            return failure();
        }
        let _ = self.refresh_store(&mut state);
        let expires = lifetime.map(|l| Instant::now() + l);
        if let Some(id) =
            state.identities.iter_mut().find(|i| i.blob == blob && matches!(i.origin, Origin::Store { .. }))
        {
            // `latchkey key unlock NAME` (or ssh-add of the same file): the store key is now
            // unlocked, keeping its policy.
            id.signer = Some(signer);
            id.expires = expires.or_else(|| {
                id.policy.lifetime_minutes.map(|m| Instant::now() + Duration::from_secs(u64::from(m) * 60))
            });
            id.confirm |= confirm;
        } else {
            state.identities.retain(|i| i.blob != blob);
            state.identities.push(Identity {
                fingerprint: keys::fingerprint(&public, FingerprintHash::Sha256),
                blob,
                public,
                comment,
                origin: Origin::Added,
                signer: Some(signer),
                private: Some(private),
                sealed: None,
                expires,
                confirm,
                destinations,
                policy: KeyPolicy::default(),
            });
        }
        drop(state);
        self.shared.observer.state_changed();
        success()
    }

    fn remove(&self, contents: &[u8]) -> Vec<u8> {
        let mut r = Reader(contents);
        let Some(blob) = r.string().filter(|_| r.is_empty()) else { return failure() };
        let mut state = self.state();
        if !matches!(state.lock, LockState::Unlocked) {
            return failure();
        }
        let Some(index) = state.identities.iter().position(|i| i.blob == blob) else { return failure() };
        match state.identities[index].origin {
            Origin::Added => {
                state.identities.remove(index);
            }
            // A store key stays in the store; removing it from the agent wipes its decrypted form.
            Origin::Store { .. } => state.identities[index].forget(),
        }
        drop(state);
        self.shared.observer.state_changed();
        success()
    }

    fn remove_all(&self) -> Vec<u8> {
        let mut state = self.state();
        if !matches!(state.lock, LockState::Unlocked) {
            return failure();
        }
        state.identities.retain(|i| matches!(i.origin, Origin::Store { .. }));
        for id in &mut state.identities {
            id.forget();
        }
        drop(state);
        self.shared.observer.state_changed();
        success()
    }

    fn password(contents: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let mut r = Reader(contents);
        let password = r.string()?;
        r.is_empty().then(|| Zeroizing::new(password.to_vec()))
    }

    fn lock(&self, contents: &[u8]) -> Vec<u8> {
        let Some(password) = Self::password(contents) else { return failure() };
        let mut state = self.state();
        if !matches!(state.lock, LockState::Unlocked) {
            return failure();
        }
        let Some((locked, seal)) = Locked::new(&password) else { return failure() };
        for id in &mut state.identities {
            id.forget();
            if let Some(private) = id.private.take() {
                id.sealed = seal.seal(&private);
            }
        }
        state.grants.clear();
        state.lock = LockState::Password(locked);
        drop(state);
        log(format_args!("locked"));
        self.shared.observer.state_changed();
        success()
    }

    async fn unlock(&self, contents: &[u8]) -> Vec<u8> {
        let Some(password) = Self::password(contents) else { return failure() };
        let failures = self.state().unlock_failures;
        if failures > 0 {
            tokio::time::sleep(lock::unlock_delay(failures)).await;
        }
        let mut state = self.state();
        let LockState::Password(locked) = &state.lock else { return failure() };
        let Some(seal) = locked.open(&password) else {
            state.unlock_failures += 1;
            drop(state);
            log(format_args!("wrong unlock password"));
            return failure();
        };
        for id in &mut state.identities {
            let Some(sealed) = id.sealed.take() else { continue };
            let Some(private) = seal.open(&sealed) else { continue };
            if let Ok(pair) = KeypairData::decode(&mut &private[..]) {
                id.signer = Signer::new(&pair).ok().map(Arc::new);
            }
            id.private = Some(private);
        }
        state.lock = LockState::Unlocked;
        state.unlock_failures = 0;
        drop(state);
        log(format_args!("unlocked"));
        self.shared.observer.state_changed();
        success()
    }

    fn extension(&self, conn: &mut Connection, contents: &[u8]) -> Vec<u8> {
        let mut r = Reader(contents);
        let Some(name) = r.string() else { return failure() };
        match name {
            b"query" => {
                let reply = QueryResponse { extensions: vec!["query".into(), "session-bind@openssh.com".into()] };
                let mut out = Vec::new();
                match Extension::new_message(reply).map(Response::ExtensionResponse) {
                    Ok(response) if response.encode(&mut out).is_ok() => out,
                    _ => failure(),
                }
            }
            b"session-bind@openssh.com" => match session_bind::bind(r.0, &mut conn.binds) {
                Ok(()) => success(),
                Err(e) => {
                    conn.bind_failed = true;
                    log(format_args!("session-bind refused: {e}"));
                    failure()
                }
            },
            other => {
                log(format_args!("refused the unknown extension {:?}", String::from_utf8_lossy(other)));
                failure()
            }
        }
    }
}

fn forget_store_keys(state: &mut State) {
    for id in state.identities.iter_mut().filter(|i| matches!(i.origin, Origin::Store { .. })) {
        id.forget();
    }
    state.grants.clear();
}

fn lock_app(state: &mut State) {
    for id in state.identities.iter_mut() {
        id.forget();
    }
    state.grants.clear();
    state.lock = LockState::App;
}

/// The keypair of a certificate identity from the certificate's public key and the private half.
fn keypair_from_cert(public: &KeyData, private: PrivateKeyData) -> Option<KeypairData> {
    match (public, private) {
        (KeyData::Ed25519(_), PrivateKeyData::Ed25519(pair)) => {
            Some(KeypairData::Ed25519(Ed25519Keypair { public: pair.public, private: pair.private }))
        }
        (KeyData::Ecdsa(public), PrivateKeyData::Ecdsa(private)) => {
            use ssh_agent_lib::proto::EcdsaPrivateKey as Private;
            use ssh_key::public::EcdsaPublicKey as Public;
            let pair = match (public, private) {
                (Public::NistP256(p), Private::NistP256(k)) => EcdsaKeypair::NistP256 { public: *p, private: k },
                (Public::NistP384(p), Private::NistP384(k)) => EcdsaKeypair::NistP384 { public: *p, private: k },
                (Public::NistP521(p), Private::NistP521(k)) => EcdsaKeypair::NistP521 { public: *p, private: k },
                _ => return None,
            };
            Some(KeypairData::Ecdsa(pair))
        }
        (KeyData::Rsa(public), PrivateKeyData::Rsa(private)) => {
            Some(KeypairData::Rsa(RsaKeypair { public: public.clone(), private }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::approval::Refuse;

    /// Reads the agent back when told of a change, as the desktop's tray does.
    struct ReadsBack(std::sync::OnceLock<Agent>, std::sync::mpsc::SyncSender<bool>);

    impl Observer for ReadsBack {
        fn state_changed(&self) {
            if let Some(agent) = self.0.get() {
                let _ = self.1.try_send(agent.is_locked());
            }
        }
    }

    #[test]
    fn the_observer_may_read_the_agent_when_housekeeping_changes_it() {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        let observer = Arc::new(ReadsBack(std::sync::OnceLock::new(), tx));
        let options = AgentOptions {
            idle_lock: Some(Duration::from_millis(1)),
            idle_action: IdleAction::Lock,
            ..AgentOptions::default()
        };
        let agent = Agent::new(None, Arc::new(Refuse), Arc::new(Refuse), observer.clone(), options);
        assert!(observer.0.set(agent.clone()).is_ok());
        std::thread::sleep(Duration::from_millis(5));
        // On a thread of its own: a deadlock fails the test instead of hanging it.
        std::thread::spawn(move || agent.tick());
        let locked = rx.recv_timeout(Duration::from_secs(10));
        assert_eq!(locked, Ok(true), "the idle lock did not notify, or deadlocked notifying");
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use crate::agent::NoObserver;
    use crate::agent::approval::Refuse;
    use crate::keys::{KeyKind, KeySpec, generate};

    /// Prints what one SIGN costs inside the agent beyond the signature, for profiling (no timing
    /// assertions). `cargo test --release --lib handle_cost -- --ignored --nocapture`
    #[test]
    #[ignore = "prints timings; run by hand"]
    fn handle_cost() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        for spec in [KeySpec::default(), KeySpec::new(KeyKind::Ecdsa, Some(256)).unwrap()] {
            let agent =
                Agent::new(None, Arc::new(Refuse), Arc::new(Refuse), Arc::new(NoObserver), AgentOptions::default());
            let key = generate(&spec, "t").unwrap();
            let mut add = vec![wire::SSH2_AGENTC_ADD_IDENTITY];
            let request = Request::AddIdentity(ssh_agent_lib::proto::AddIdentity {
                credential: PrivateCredential::Key { privkey: key.key_data().clone(), comment: "t".into() },
            });
            add.clear();
            request.encode(&mut add).unwrap();
            let mut conn = Connection::new(Some(std::process::id()));
            assert_eq!(rt.block_on(agent.handle(&mut conn, &add)), [wire::SSH_AGENT_SUCCESS]);
            let mut sign = vec![wire::SSH2_AGENTC_SIGN_REQUEST];
            wire::put_string(&mut sign, &keys::blob(key.public_key().key_data()));
            wire::put_string(&mut sign, &[0x5a; 160]);
            wire::put_u32(&mut sign, 0);
            let n = 5000;
            let start = Instant::now();
            for _ in 0..n {
                let reply = rt.block_on(agent.handle(&mut conn, &sign));
                assert_eq!(reply[0], wire::SSH2_AGENT_SIGN_RESPONSE);
            }
            let handled = start.elapsed() / n;
            let signer = Signer::new(key.key_data()).unwrap();
            let start = Instant::now();
            for _ in 0..n {
                signer.sign(&[0x5a; 160], 0).unwrap();
            }
            let bare = start.elapsed() / n;
            println!(
                "{spec}: handle {handled:?}, bare signature {bare:?}, agent overhead {:?}",
                handled.saturating_sub(bare)
            );
        }
    }
}
