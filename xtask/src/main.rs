//! `cargo xtask ...`: Latchkey's developer entry points.
//!
//! - `cargo xtask run`: install what is missing, build the UI and the desktop app, open it.
//! - `cargo xtask test`: install what is missing, run every test (Rust unit and integration, UI
//!   unit tests and type check, desktop end-to-end under Xvfb).
//! - `cargo xtask bench keygen`: Latchkey against ssh-keygen, results in docs/BENCHMARKS.md.
//! - `cargo xtask bindings`: regenerate ui/src/lib/bindings.ts from the Rust IPC types.
//!
//! Every step says what it does before doing it.

mod bench;
mod bench_agent;
mod setup;
mod util;

use std::process::ExitCode;

use util::{Cmd, root, step};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(),
        Some("test") => test(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("bindings") => bindings(),
        Some("setup") => setup::all(setup::Purpose::Test),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  run        build the UI and the desktop app and open it\n  test       run every test (installs what is missing)\n  bench      keygen | agent: benchmarks against OpenSSH, into docs/BENCHMARKS.md\n  bindings   regenerate ui/src/lib/bindings.ts\n  setup      only install what the tests need"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}

pub type Result<T = ()> = std::result::Result<T, String>;

fn run() -> Result {
    setup::all(setup::Purpose::Run)?;
    build_ui()?;
    step("Building and starting the desktop app (cargo run -p latchkey-desktop)");
    Cmd::new("cargo").args(["run", "-p", "latchkey-desktop"]).run()
}

fn build_ui() -> Result {
    step("Building the UI (npm run build in ui/)");
    Cmd::new("npm").args(["run", "build"]).dir(root().join("ui")).run()
}

fn bindings() -> Result {
    step("Regenerating ui/src/lib/bindings.ts from the Rust IPC types");
    Cmd::new("cargo")
        .args(["test", "-p", "latchkey-desktop", "--lib", "typescript_bindings_are_up_to_date"])
        .env("UPDATE_BINDINGS", "1")
        .run()
}

/// `cargo xtask test [--skip-e2e]`
fn test(args: &[String]) -> Result {
    let skip_e2e = args.iter().any(|a| a == "--skip-e2e");
    setup::all(setup::Purpose::Test)?;
    let ui = root().join("ui");
    step("UI type check (npm run check)");
    Cmd::new("npm").args(["run", "check"]).dir(&ui).run()?;
    step("UI unit tests (vitest)");
    Cmd::new("npm").args(["test"]).dir(&ui).run()?;
    build_ui()?;
    step("Building the workspace and its tests");
    Cmd::new("cargo").args(["build", "--workspace", "--all-targets"]).run()?;
    step("Rust unit and integration tests (against real ssh-keygen, puttygen, gnome-keyring)");
    Cmd::new("cargo").args(["test", "--workspace", "--no-fail-fast"]).run()?;
    if skip_e2e {
        step("Skipping the desktop end-to-end tests (--skip-e2e)");
        return Ok(());
    }
    setup::tauri_driver()?;
    step("Desktop end-to-end tests: the real app under Xvfb through tauri-driver and WebKitWebDriver");
    let app = root().join("target/debug/latchkey-desktop");
    Cmd::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24", "dbus-run-session", "--"])
        .args(["cargo", "test", "-p", "latchkey-desktop", "--test", "e2e", "--", "--ignored", "--test-threads=1"])
        .env("LATCHKEY_E2E_APP", app.display().to_string())
        .env("LATCHKEY_E2E_CLI", root().join("target/debug/latchkey").display().to_string())
        .env("LATCHKEY_SCREENSHOT_DIR", root().join("docs/screenshots").display().to_string())
        .run()
}
