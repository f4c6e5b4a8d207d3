//! Running commands and printing what is being done.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::Result;

/// The workspace root (xtask lives in `ROOT/xtask`).
pub fn root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

pub fn step(what: &str) {
    println!("\n==> {what}");
}

/// A directory that goes first on PATH for every command started after `put_first_on_path`.
static FIRST_ON_PATH: OnceLock<PathBuf> = OnceLock::new();

/// Put `dir` first on PATH for every `Cmd` run from now on, and for `have` (the set-up does this
/// with the private Node's bin/, so every npm, npx and node the commands start is that one).
pub fn put_first_on_path(dir: PathBuf) {
    // Set once per run; a second call (same directory) changes nothing.
    let _ = FIRST_ON_PATH.set(dir);
}

/// PATH as the commands started from here see it.
fn path() -> Option<OsString> {
    let inherited = std::env::var_os("PATH");
    let Some(first) = FIRST_ON_PATH.get() else { return inherited };
    let rest = inherited.iter().flat_map(std::env::split_paths);
    std::env::join_paths(std::iter::once(first.clone()).chain(rest)).ok()
}

pub struct Cmd {
    inner: Command,
    shown: String,
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        let shown = program.as_ref().to_string_lossy().into_owned();
        let mut inner = Command::new(program);
        inner.current_dir(root());
        // A PATH set on the Command is also the one `program` is looked up in.
        if FIRST_ON_PATH.get().is_some()
            && let Some(path) = path()
        {
            inner.env("PATH", path);
        }
        Self { inner, shown }
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for a in args {
            self.shown.push(' ');
            self.shown.push_str(&a.as_ref().to_string_lossy());
            self.inner.arg(a);
        }
        self
    }

    pub fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.inner.current_dir(dir);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.inner.env(key, value);
        self
    }

    /// Run with inherited stdio; fail if it fails.
    pub fn run(mut self) -> Result {
        println!("    $ {}", self.shown);
        let status = self.inner.status().map_err(|e| format!("cannot run `{}`: {e}", self.shown))?;
        if status.success() { Ok(()) } else { Err(format!("`{}` failed ({status})", self.shown)) }
    }

    /// Run quietly and return stdout, or `None` if it could not run or failed.
    pub fn output(mut self) -> Option<String> {
        let out = self.inner.stderr(Stdio::null()).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// Whether `program` is on PATH.
pub fn have(program: &str) -> bool {
    path().map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file())).unwrap_or(false)
}
