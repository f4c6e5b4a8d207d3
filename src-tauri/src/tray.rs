//! The tray icon: the agent's state (running / locked / not running), lock and unlock, show the
//! window, quit. Closing the window leaves the app here, still serving.

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use crate::agent::{DesktopAgent, Serving};

const RUNNING: &[u8] = include_bytes!("../../icons/tray-running.png");
const LOCKED: &[u8] = include_bytes!("../../icons/tray-locked.png");

struct TrayItems<R: Runtime> {
    state: MenuItem<R>,
    toggle: MenuItem<R>,
}

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let state = MenuItem::with_id(app, "state", "Agent starting…", false, None::<&str>)?;
    let toggle = MenuItem::with_id(app, "toggle-lock", "Lock", true, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show Latchkey", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Latchkey", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&state, &toggle, &show, &quit])?;
    TrayIconBuilder::with_id("latchkey")
        .icon(Image::from_bytes(RUNNING)?)
        .tooltip("Latchkey")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "show" => crate::show_main_window(app),
            "toggle-lock" => {
                if let Some(agent) = app.try_state::<DesktopAgent>() {
                    if agent.agent.is_locked() {
                        agent.agent.unlock_app();
                    } else {
                        agent.agent.lock_app();
                    }
                }
            }
            // Exits through RunEvent::Exit, where the agent's socket is removed (lib.rs).
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)?;
    app.manage(TrayItems { state, toggle });
    refresh(app);
    Ok(())
}

/// Show the agent's current state in the tray.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let (Some(items), Some(agent)) = (app.try_state::<TrayItems<R>>(), app.try_state::<DesktopAgent>()) else { return };
    let serving = matches!(*agent.serving.lock().unwrap_or_else(|p| p.into_inner()), Serving::Yes { .. });
    let locked = agent.agent.is_locked();
    let text = match (serving, locked) {
        (false, _) => "Agent not running",
        (true, true) => "Agent locked",
        (true, false) => "Agent running",
    };
    let _ = items.state.set_text(text);
    let _ = items.toggle.set_text(if locked { "Unlock" } else { "Lock" });
    let _ = items.toggle.set_enabled(serving);
    if let Some(tray) = app.tray_by_id("latchkey") {
        if let Ok(icon) = Image::from_bytes(if locked || !serving { LOCKED } else { RUNNING }) {
            let _ = tray.set_icon(Some(icon));
        }
        let _ = tray.set_tooltip(Some(format!("Latchkey: {}", text.to_lowercase())));
    }
}
