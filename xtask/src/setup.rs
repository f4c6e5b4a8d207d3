//! Installing what is missing: Debian/Ubuntu packages, the UI's npm packages, tauri-driver.

use std::path::Path;

use crate::Result;
use crate::util::{Cmd, have, root, step};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Run,
    Test,
}

/// Build the desktop app (Tauri 2 on WebKitGTK) and the crypto crates.
const BUILD_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "libwebkit2gtk-4.1-dev",
    "libgtk-3-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libsoup-3.0-dev",
    "libxdo-dev",
];

/// The real peers the tests run against.
const TEST_PACKAGES: &[&str] = &[
    "openssh-client",
    "openssh-server",
    "putty-tools",
    "openssl",
    // `script`, for the tests that need a pseudo-terminal.
    "bsdutils",
    "git",
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "gnome-keyring",
    "dbus-x11",
    "libsecret-tools",
];

/// The tauri-driver release the end-to-end tests are written against.
const TAURI_DRIVER_VERSION: &str = "2.1.0";
/// What Vite 7 needs.
const MIN_NODE: (u32, u32) = (20, 19);

pub fn all(purpose: Purpose) -> Result {
    let mut packages: Vec<&str> = BUILD_PACKAGES.to_vec();
    if purpose == Purpose::Test {
        packages.extend_from_slice(TEST_PACKAGES);
    }
    if !have("npm") || !have("node") {
        packages.extend_from_slice(&["nodejs", "npm"]);
    }
    apt(&packages)?;
    node_version()?;
    ui_packages()
}

fn installed(package: &str) -> bool {
    Cmd::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_some_and(|s| s.contains("install ok installed"))
}

fn apt(packages: &[&str]) -> Result {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        step("System packages: all present");
        return Ok(());
    }
    if !have("apt-get") {
        return Err(format!(
            "these packages are missing and there is no apt-get to install them: {}. Install them with your package manager",
            missing.join(" ")
        ));
    }
    step(&format!("Installing missing system packages with apt-get: {}", missing.join(" ")));
    let root_user = Cmd::new("id").args(["-u"]).output().is_some_and(|u| u.trim() == "0");
    let (program, base): (&str, &[&str]) = if root_user { ("apt-get", &[]) } else { ("sudo", &["apt-get"]) };
    Cmd::new(program).args(base.iter().chain(&["update", "-q"])).env("DEBIAN_FRONTEND", "noninteractive").run()?;
    Cmd::new(program)
        .args(base.iter().chain(&["install", "-y", "-q", "--no-install-recommends"]).chain(missing.iter()))
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()
}

fn node_version() -> Result {
    let version = Cmd::new("node").args(["--version"]).output().unwrap_or_default();
    let mut parts = version.trim().trim_start_matches('v').split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if found < MIN_NODE {
        return Err(format!(
            "the UI build needs Node.js {}.{} or newer, found {:?}: install a newer nodejs (e.g. from NodeSource or your distribution's backports)",
            MIN_NODE.0,
            MIN_NODE.1,
            version.trim()
        ));
    }
    Ok(())
}

/// `npm ci` when node_modules is missing or older than the lockfile.
fn ui_packages() -> Result {
    let ui = root().join("ui");
    let lock = ui.join("package-lock.json");
    let stamp = ui.join("node_modules/.package-lock.json");
    if newer_or_equal(&stamp, &lock) {
        step("UI packages: up to date");
        return Ok(());
    }
    step("Installing the UI's npm packages (npm ci in ui/)");
    Cmd::new("npm").args(["ci", "--no-audit", "--no-fund"]).dir(&ui).run()
}

fn newer_or_equal(a: &Path, b: &Path) -> bool {
    let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    matches!((modified(a), modified(b)), (Some(a), Some(b)) if a >= b)
}

/// tauri-driver, which the end-to-end tests drive the app through.
pub fn tauri_driver() -> Result {
    // tauri-driver has no --version; cargo knows what it installed.
    let installed = Cmd::new("cargo").args(["install", "--list"]).output().unwrap_or_default();
    if installed.contains(&format!("tauri-driver v{TAURI_DRIVER_VERSION}:")) && have("tauri-driver") {
        step(&format!("tauri-driver {TAURI_DRIVER_VERSION}: present"));
        return Ok(());
    }
    step(&format!("Installing tauri-driver {TAURI_DRIVER_VERSION} (cargo install --locked)"));
    Cmd::new("cargo").args(["install", "tauri-driver", "--locked", "--version", TAURI_DRIVER_VERSION]).run()
}
