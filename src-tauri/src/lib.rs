//! Latchkey's desktop shell: the Tauri app around the `latchkey` core.
//!
//! - [`ipc`]: the typed contract with the UI (TypeScript generated from it).
//! - [`commands`]: thin command adapters over the core.
//! - [`tray`]: the tray icon and its menu.
//!
//! The app is built generically over the Tauri [`Runtime`] so it can run under Tauri's mock
//! runtime in tests.

pub mod commands;
pub mod ipc;
mod tray;

use std::sync::Arc;

use tauri::{Builder, Manager, Runtime};

use latchkey::store::KeyStore;

/// Build the app on `builder` (the real or the mock runtime).
pub fn app<R: Runtime>(builder: Builder<R>, store: KeyStore) -> Builder<R> {
    builder
        // First, so a second launch only focuses the running instance.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| show_main_window(app)))
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .manage(commands::keys::KeysState { store: Arc::new(store) })
        .setup(|app| {
            // A missing tray host (no StatusNotifier on this desktop) must not stop the app.
            if let Err(e) = tray::create(app.handle()) {
                eprintln!("latchkey: no tray icon: {e}");
            }
            Ok(())
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
        ])
}

pub fn run() {
    let result = app(tauri::Builder::default(), KeyStore::open_default()).run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("latchkey: the desktop app failed to start: {e}");
        std::process::exit(1);
    }
}

pub(crate) fn show_main_window<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
