//! The desktop app is the agent: it serves the core's [`Agent`] on the user's socket and answers
//! its questions (approve a signature, unlock a key) with a focused dialog in the main window.
//!
//! Prompts wait in a queue; the UI is told through the `agent-prompt` event and fetches them with
//! `pending_prompts` (subscribe first, then snapshot, so none is missed). An unanswered prompt
//! times out in the core after 30 s and counts as "deny".

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::sync::oneshot;
use ts_rs::TS;

use latchkey::agent::approval::{ApprovalRequest, Approver, BoxFuture, Decision, UnlockRequest, Unlocker};
use latchkey::agent::{ActivityEntry, Agent, AgentOptions, IdleAction, Observer, server};
use latchkey::keys::Passphrase;
use latchkey::store::KeyStore;

use crate::activity_feed::{self, ActivityFeed};

/// A question waiting for the user.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Prompt {
    Approval {
        #[ts(type = "number")]
        id: u64,
        request: ApprovalRequest,
    },
    Unlock {
        #[ts(type = "number")]
        id: u64,
        request: UnlockRequest,
    },
}

impl Prompt {
    fn id(&self) -> u64 {
        match self {
            Prompt::Approval { id, .. } | Prompt::Unlock { id, .. } => *id,
        }
    }
}

enum Reply {
    Approval(oneshot::Sender<Decision>),
    Unlock(oneshot::Sender<Option<Passphrase>>),
}

/// Pending prompts and where to send their answers.
#[derive(Default)]
pub struct Prompts {
    next: AtomicU64,
    pending: Mutex<BTreeMap<u64, (Prompt, Reply)>>,
}

impl Prompts {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, (Prompt, Reply)>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn list(&self) -> Vec<Prompt> {
        self.lock().values().map(|(p, _)| p.clone()).collect()
    }

    /// Deliver the user's decision on an approval; false if it is no longer pending.
    pub fn approve(&self, id: u64, decision: Decision) -> bool {
        let mut pending = self.lock();
        match pending.remove(&id) {
            Some((_, Reply::Approval(tx))) => tx.send(decision).is_ok(),
            Some((prompt, other)) => {
                // Wrong kind of answer: put it back untouched.
                pending.insert(prompt.id(), (prompt, other));
                false
            }
            None => false,
        }
    }

    /// Deliver a passphrase (None: the user declined); false if it is no longer pending.
    pub fn unlock(&self, id: u64, passphrase: Option<Passphrase>) -> bool {
        let mut pending = self.lock();
        match pending.remove(&id) {
            Some((_, Reply::Unlock(tx))) => tx.send(passphrase).is_ok(),
            Some((prompt, other)) => {
                pending.insert(prompt.id(), (prompt, other));
                false
            }
            None => false,
        }
    }

    fn add(&self, make: impl FnOnce(u64) -> (Prompt, Reply)) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let entry = make(id);
        self.lock().insert(id, entry);
        id
    }

    fn drop_prompt(&self, id: u64) {
        self.lock().remove(&id);
    }
}

/// Tells the window about prompts, state changes and activity.
pub struct DesktopBridge<R: Runtime> {
    app: AppHandle<R>,
    prompts: Arc<Prompts>,
    activity: ActivityFeed<activity_feed::Desktop<R>>,
}

impl<R: Runtime> DesktopBridge<R> {
    /// Bring the window up for a prompt: shown, focused, and kept above other windows while any
    /// prompt waits (the user is in a terminal or an editor when `ssh` asks).
    fn announce(&self) {
        crate::show_main_window(&self.app);
        if let Some(window) = self.app.get_webview_window("main") {
            let _ = window.set_always_on_top(true);
        }
        let _ = self.app.emit("agent-prompt", ());
    }
}

/// Removes a prompt from the queue when its future ends (answered, timed out or cancelled).
struct PendingGuard {
    prompts: Arc<Prompts>,
    id: u64,
    app: Box<dyn Fn() + Send>,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.prompts.drop_prompt(self.id);
        (self.app)();
    }
}

impl<R: Runtime> DesktopBridge<R> {
    /// Queue a prompt, show the window, and return the guard that takes it off the queue (and
    /// tells the window) however the wait ends.
    fn queue(&self, make: impl FnOnce(u64) -> (Prompt, Reply)) -> PendingGuard {
        let id = self.prompts.add(make);
        self.announce();
        let app = self.app.clone();
        let prompts = self.prompts.clone();
        PendingGuard {
            prompts: self.prompts.clone(),
            id,
            app: Box::new(move || {
                // The last prompt is answered: the window is an ordinary one again.
                if prompts.list().is_empty()
                    && let Some(window) = app.get_webview_window("main")
                {
                    let _ = window.set_always_on_top(false);
                }
                let _ = app.emit("agent-prompt", ());
            }),
        }
    }
}

impl<R: Runtime> Approver for DesktopBridge<R> {
    fn approve(&self, request: ApprovalRequest) -> BoxFuture<Decision> {
        let (tx, rx) = oneshot::channel();
        let guard = self.queue(|id| (Prompt::Approval { id, request }, Reply::Approval(tx)));
        Box::pin(async move {
            let _guard = guard;
            rx.await.unwrap_or(Decision::Deny)
        })
    }
}

impl<R: Runtime> Unlocker for DesktopBridge<R> {
    fn passphrase(&self, request: UnlockRequest) -> BoxFuture<Option<Passphrase>> {
        let (tx, rx) = oneshot::channel();
        let guard = self.queue(|id| (Prompt::Unlock { id, request }, Reply::Unlock(tx)));
        Box::pin(async move {
            let _guard = guard;
            rx.await.ok().flatten()
        })
    }
}

impl<R: Runtime> Observer for DesktopBridge<R> {
    fn state_changed(&self) {
        let _ = self.app.emit("agent-state", ());
        crate::tray::refresh(&self.app);
    }

    /// On the agent's hot path: the feed coalesces events and notifications of a burst.
    fn activity(&self, entry: &ActivityEntry) {
        self.activity.push(entry);
    }
}

/// Whether and where the agent serves.
#[derive(Debug, Clone)]
pub enum Serving {
    Yes { socket: PathBuf },
    No { socket: PathBuf, problem: String },
}

/// The socket file the app serves on, removed when the app exits.
///
/// Quit (`AppHandle::exit`) ends the process without dropping managed state or the task that
/// serves, so the guard is kept here and released from `RunEvent::Exit`. It removes the file
/// only if it is still the one we bound: another agent's socket at the same path stays.
#[derive(Default)]
pub struct ServedSocket(Mutex<Option<server::SocketGuard>>);

impl ServedSocket {
    fn new(guard: server::SocketGuard) -> Self {
        ServedSocket(Mutex::new(Some(guard)))
    }

    /// Remove our socket file; later calls do nothing. New clients can no longer connect, those
    /// connected already are served until the process ends.
    pub fn release(&self) {
        drop(self.0.lock().unwrap_or_else(|p| p.into_inner()).take());
    }
}

/// The desktop's agent: shared by the commands, the tray and the prompt bridge.
pub struct DesktopAgent {
    pub agent: Agent,
    pub prompts: Arc<Prompts>,
    pub serving: Mutex<Serving>,
    pub socket: ServedSocket,
    /// The "notify on each signature" setting, kept here (and shared with the activity feed) so a
    /// signature does not read a file.
    pub notify_on_sign: Arc<AtomicBool>,
}

/// Create the agent and start serving on `socket` in the background. Failing to bind (another
/// agent is running) leaves the app usable for keys and says why in the Agent view.
pub fn start<R: Runtime>(app: &AppHandle<R>, store: Arc<KeyStore>, socket: PathBuf) -> DesktopAgent {
    let settings = latchkey::settings::Settings::load(store.root());
    let notify_on_sign = Arc::new(AtomicBool::new(settings.notify_on_sign));
    let prompts = Arc::new(Prompts::default());
    let activity = ActivityFeed::new(activity_feed::Desktop(app.clone()), notify_on_sign.clone());
    let bridge = Arc::new(DesktopBridge { app: app.clone(), prompts: prompts.clone(), activity });
    let mut known_hosts = latchkey::agent::hosts_files();
    known_hosts.dedup();
    let options = AgentOptions {
        default_lifetime: None,
        idle_lock: settings.idle_lock(),
        idle_action: IdleAction::Lock,
        known_hosts,
        activity_file: Some(store.root().join("activity.jsonl")),
    };
    let agent = Agent::new(Some(store), bridge.clone(), bridge.clone(), bridge, options);
    let (serving, served) = match server::bind(&socket) {
        Ok((listener, guard)) => {
            let agent = agent.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(e) = server::serve(listener, agent, std::future::pending::<()>()).await {
                    eprintln!("latchkey: the agent stopped: {e}");
                }
            });
            (Serving::Yes { socket }, ServedSocket::new(guard))
        }
        Err(e) => (Serving::No { socket, problem: e.to_string() }, ServedSocket::default()),
    };
    DesktopAgent { agent, prompts, serving: Mutex::new(serving), socket: served, notify_on_sign }
}

/// The socket the desktop agent binds: `LATCHKEY_AGENT_SOCKET`, else the default.
pub fn socket_path() -> PathBuf {
    std::env::var_os("LATCHKEY_AGENT_SOCKET")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(server::default_socket)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn releasing_the_served_socket_removes_ours() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("agent.sock");
        let (_listener, guard) = server::bind(&path).unwrap();
        let served = ServedSocket::new(guard);
        served.release();
        assert!(!path.exists(), "our socket is removed at exit");
        served.release();
        ServedSocket::default().release();
    }

    #[test]
    fn releasing_leaves_another_agents_socket_at_the_same_path() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("agent.sock");
        let (listener, guard) = server::bind(&path).unwrap();
        let served = ServedSocket::new(guard);
        // Ours went away (removed by hand) and another agent serves the path now.
        drop(listener);
        std::fs::remove_file(&path).unwrap();
        let _theirs = std::os::unix::net::UnixListener::bind(&path).unwrap();
        served.release();
        assert!(path.exists(), "another agent's socket is left alone");
    }
}
