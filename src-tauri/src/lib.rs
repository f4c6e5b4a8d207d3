//! Latchkey's desktop shell: the Tauri app around the `latchkey` core. The app is the SSH agent
//! (as 1Password and Secretive are): closing the window keeps it serving from the tray.
//!
//! - [`ipc`]: the typed contract with the UI (TypeScript generated from it).
//! - [`commands`]: thin command adapters over the core.
//! - [`agent`]: serving the core's agent and answering its prompts in the window.
//! - `tray`, `notify`, `activity_feed`: the tray icon, signature notifications, and the activity
//!   events for the window, coalesced so a burst of signatures cannot flood either.
//!
//! The app is built generically over the Tauri [`Runtime`] so it can run under Tauri's mock
//! runtime in tests.

mod activity_feed;
pub mod agent;
pub mod commands;
pub mod ipc;
mod notify;
mod tray;

use std::sync::Arc;
use std::time::Duration;

use tauri::{Builder, Manager, RunEvent, Runtime, WindowEvent};

use latchkey::store::KeyStore;

/// Build the app on `builder` (the real or the mock runtime).
pub fn app<R: Runtime>(builder: Builder<R>, store: KeyStore) -> Builder<R> {
    let store = Arc::new(store);
    builder
        // First, so a second launch only focuses the running instance.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| show_main_window(app)))
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--hidden"]),
        ))
        .manage(commands::keys::KeysState { store: store.clone() })
        .setup(move |app| {
            // No core dumps, no ptrace by the user's other processes: the app holds decrypted keys.
            let _ = latchkey::agent::memory::harden(false);
            let handle = app.handle().clone();
            let desktop_agent = agent::start(&handle, store.clone(), agent::socket_path());
            let ticking = desktop_agent.agent.clone();
            app.manage(desktop_agent);
            // Expiry and the idle lock also happen while no client asks for anything.
            tauri::async_runtime::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(15)).await;
                    ticking.tick();
                }
            });
            // Logging out (SIGTERM) or ^C in a terminal: remove the socket and end at once, as
            // the default action would. Not through `AppHandle::exit`: closing windows then waits
            // on whoever drives them (a WebDriver that sent the signal waits for us in turn).
            let quitting = handle.clone();
            tauri::async_runtime::spawn(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
                else {
                    eprintln!("latchkey: cannot watch for SIGTERM/SIGINT: the socket may outlive the app");
                    return;
                };
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                if let Some(agent) = quitting.try_state::<agent::DesktopAgent>() {
                    agent.socket.release();
                }
                std::process::exit(0);
            });
            // A missing tray host (no StatusNotifier on this desktop) must not stop the app.
            if let Err(e) = tray::create(&handle) {
                eprintln!("latchkey: no tray icon: {e}");
            }
            // Started at login: stay in the tray until the user opens the window.
            if !std::env::args().any(|a| a == "--hidden") {
                show_main_window(&handle);
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps the agent serving; Quit is in the tray.
            if let WindowEvent::CloseRequested { api, .. } = event
                && window.label() == "main"
                && window.app_handle().tray_by_id("latchkey").is_some()
            {
                api.prevent_close();
                let _ = window.hide();
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::keys::app_info,
            commands::keys::keyring_status,
            commands::keys::list_keys,
            commands::keys::key_details,
            commands::keys::generate_key,
            commands::keys::probe_import,
            commands::keys::import_key,
            commands::keys::change_passphrase,
            commands::keys::set_comment,
            commands::keys::remember_passphrase,
            commands::keys::forget_passphrase,
            commands::keys::export_key,
            commands::keys::delete_key,
            commands::agent::agent_status,
            commands::agent::agent_activity,
            commands::agent::agent_lock,
            commands::agent::agent_unlock,
            commands::agent::set_key_policy,
            commands::agent::pending_prompts,
            commands::agent::answer_approval,
            commands::agent::answer_unlock,
            commands::agent::save_settings,
            commands::agent::integration_status,
            commands::agent::set_integration,
        ])
}

pub fn run() {
    let app = match app(tauri::Builder::default(), KeyStore::open_default()).build(tauri::generate_context!()) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("latchkey: the desktop app failed to start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|app, event| match event {
        // With the window hidden the app keeps running as the agent, until Quit (which exits
        // with a code).
        RunEvent::ExitRequested { api, code: None, .. } => api.prevent_exit(),
        // The process ends right after this without dropping managed state: remove our socket
        // here, or it is left behind for clients to find dead.
        RunEvent::Exit => {
            if let Some(agent) = app.try_state::<agent::DesktopAgent>() {
                agent.socket.release();
            }
        }
        _ => {}
    });
}

pub(crate) fn show_main_window<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
