//! The Agent view's commands: status, identities, lock, policies, prompts, settings.

use tauri::{AppHandle, Runtime, State};
use tauri_plugin_autostart::ManagerExt;

use latchkey::agent::ActivityEntry;
use latchkey::settings::Settings;
use latchkey::store::KeySummary;

use super::blocking;
use super::keys::KeysState;
use crate::agent::{DesktopAgent, Prompt, Serving};
use crate::ipc::*;

pub fn status(agent: &DesktopAgent, root: &std::path::Path) -> AgentStatus {
    let serving = agent.serving.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let (serving, socket, problem) = match serving {
        Serving::Yes { socket } => (true, socket, None),
        Serving::No { socket, problem } => (false, socket, Some(problem)),
    };
    let socket = socket.display().to_string();
    AgentStatus {
        serving,
        export_line: format!("export SSH_AUTH_SOCK={socket}"),
        socket,
        problem,
        locked: agent.agent.is_locked(),
        identities: agent.agent.identities(),
        settings: Settings::load(root),
    }
}

#[tauri::command]
pub fn agent_status(agent: State<'_, DesktopAgent>, keys: State<'_, KeysState>) -> AgentStatus {
    status(&agent, keys.store.root())
}

#[tauri::command]
pub fn agent_activity(agent: State<'_, DesktopAgent>) -> Vec<ActivityEntry> {
    agent.agent.activity()
}

#[tauri::command]
pub fn agent_lock(agent: State<'_, DesktopAgent>, keys: State<'_, KeysState>) -> AgentStatus {
    agent.agent.lock_app();
    status(&agent, keys.store.root())
}

#[tauri::command]
pub fn agent_unlock(agent: State<'_, DesktopAgent>, keys: State<'_, KeysState>) -> IpcResult<AgentStatus> {
    if agent.agent.is_locked() && !agent.agent.unlock_app() {
        return Err(IpcError::new(
            "locked_with_password",
            "the agent was locked with a password (ssh-add -x): unlock it with ssh-add -X",
        ));
    }
    Ok(status(&agent, keys.store.root()))
}

#[tauri::command]
pub async fn set_key_policy(
    keys: State<'_, KeysState>,
    agent: State<'_, DesktopAgent>,
    request: SetPolicyRequest,
) -> IpcResult<KeySummary> {
    let store = keys.store.clone();
    let summary = blocking(move || Ok(store.set_policy(&request.name, request.policy)?)).await?;
    // The agent picks the new policy up now (and tells the window), not at its next tick.
    agent.agent.tick();
    Ok(summary)
}

#[tauri::command]
pub fn pending_prompts(agent: State<'_, DesktopAgent>) -> Vec<Prompt> {
    agent.prompts.list()
}

#[tauri::command]
pub fn answer_approval(agent: State<'_, DesktopAgent>, request: ApprovalAnswer) -> bool {
    agent.prompts.approve(request.id, request.decision)
}

#[tauri::command]
pub fn answer_unlock(agent: State<'_, DesktopAgent>, request: UnlockAnswer) -> bool {
    agent.prompts.unlock(request.id, request.passphrase.and_then(latchkey::keys::Passphrase::non_empty))
}

#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    agent: State<'_, DesktopAgent>,
    keys: State<'_, KeysState>,
    settings: Settings,
) -> IpcResult<Settings> {
    let root = keys.store.root().to_path_buf();
    let saved = settings.clone();
    blocking(move || Ok(saved.save(&root)?)).await?;
    agent.agent.set_idle_lock(settings.idle_lock());
    agent.notify_on_sign.store(settings.notify_on_sign, std::sync::atomic::Ordering::Relaxed);
    let autostart = app.autolaunch();
    let result = if settings.start_at_login { autostart.enable() } else { autostart.disable() };
    if let Err(e) = result {
        return Err(IpcError::new(
            "autostart_failed",
            format!("the setting was saved, but start at login could not be changed: {e}"),
        ));
    }
    Ok(settings)
}

fn integration_paths(keys: &KeysState) -> latchkey::integration::Paths {
    latchkey::integration::Paths::for_user(keys.store.root())
}

fn integration_error(e: latchkey::integration::IntegrationError) -> IpcError {
    IpcError::new(e.code(), e.to_string())
}

#[tauri::command]
pub async fn integration_status(keys: State<'_, KeysState>) -> IpcResult<latchkey::integration::IntegrationStatus> {
    let paths = integration_paths(&keys);
    blocking(move || latchkey::integration::status(&paths).map_err(integration_error)).await
}

/// "Use Latchkey for all apps": on or off.
#[tauri::command]
pub async fn set_integration(
    keys: State<'_, KeysState>,
    agent: State<'_, DesktopAgent>,
    enabled: bool,
) -> IpcResult<latchkey::integration::IntegrationStatus> {
    let paths = integration_paths(&keys);
    let socket = match &*agent.serving.lock().unwrap_or_else(|p| p.into_inner()) {
        Serving::Yes { socket } | Serving::No { socket, .. } => socket.clone(),
    };
    blocking(move || {
        if enabled {
            latchkey::integration::enable(&paths, &socket).map_err(integration_error)
        } else {
            latchkey::integration::disable(&paths).map_err(integration_error)
        }
    })
    .await
}
