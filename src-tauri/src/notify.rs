//! A notification for each signature, when the user wants them (setting "notify on sign").

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use latchkey::agent::ActivityEntry;

pub fn signature<R: Runtime>(app: &AppHandle<R>, entry: &ActivityEntry) {
    if entry.outcome != "signed" {
        return;
    }
    let Some(agent) = app.try_state::<crate::agent::DesktopAgent>() else { return };
    if !agent.notify_on_sign.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let host = entry.host.as_deref().map(|h| format!(" for {h}")).unwrap_or_default();
    let body = format!("{}{host}, asked by {}", entry.key, entry.process);
    // No notification daemon (a bare X session) is not worth an error.
    let _ = app.notification().builder().title("Latchkey signed with a key").body(body).show();
}
