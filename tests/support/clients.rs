//! Helpers for driving the agent with real clients: bounded runs, a recording askpass program,
//! store keys with their public halves copied out, fingerprints and the activity log.

// Test code: a panic is how a failure is reported (clippy.toml only exempts #[test] bodies).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Sandbox;

pub use super::run_for;

/// An `$SSH_ASKPASS` program for the agent that records every call (one line: the kind, from
/// SSH_ASKPASS_PROMPT, and the prompt with newlines flattened), prints a reply line if one is set
/// and exits with the chosen status (0 = yes).
pub struct TestAskpass {
    pub program: PathBuf,
    calls: PathBuf,
    reply: PathBuf,
    exit: PathBuf,
}

impl TestAskpass {
    pub fn new(sb: &Sandbox, name: &str) -> Self {
        let base = sb.path(name);
        let askpass = TestAskpass {
            program: base.with_extension("sh"),
            calls: base.with_extension("calls"),
            reply: base.with_extension("reply"),
            exit: base.with_extension("exit"),
        };
        let script = format!(
            "#!/bin/sh\n\
             printf '%s\\t%s\\n' \"${{SSH_ASKPASS_PROMPT:-passphrase}}\" \"$(printf '%s' \"$1\" | tr '\\n' ' ')\" >> '{calls}'\n\
             if [ -f '{reply}' ]; then cat '{reply}'; fi\n\
             exit \"$(cat '{exit}' 2>/dev/null || echo 0)\"\n",
            calls = askpass.calls.display(),
            reply = askpass.reply.display(),
            exit = askpass.exit.display(),
        );
        std::fs::write(&askpass.program, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&askpass.program, std::fs::Permissions::from_mode(0o755)).unwrap();
        askpass
    }

    /// Answer "yes" (exit 0) or "no" (exit 1) from now on.
    pub fn answer(&self, yes: bool) -> &Self {
        std::fs::write(&self.exit, if yes { "0" } else { "1" }).unwrap();
        self
    }

    /// Print this line (a passphrase) when called.
    pub fn reply(&self, line: &str) -> &Self {
        std::fs::write(&self.reply, format!("{line}\n")).unwrap();
        self
    }

    /// Every call so far: (kind, prompt). Kind is "confirm" or "passphrase".
    pub fn calls(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(&self.calls)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, p)| (k.to_owned(), p.to_owned()))
            .collect()
    }

    /// The environment entry that hands this program to the agent.
    pub fn env(&self) -> (&'static str, &str) {
        ("SSH_ASKPASS", self.program.to_str().unwrap())
    }
}

/// `SHA256:...` of a public key file, by ssh-keygen.
pub fn fingerprint(sb: &Sandbox, public_key_file: &Path) -> String {
    let out = sb.tool("ssh-keygen", &["-l", "-E", "sha256", "-f", public_key_file.to_str().unwrap()]).success();
    out.stdout.split_whitespace().nth(1).unwrap_or_else(|| panic!("no fingerprint in {:?}", out.stdout)).to_owned()
}

/// The public key line in a .pub file.
pub fn public_line(public_key_file: &Path) -> String {
    std::fs::read_to_string(public_key_file).unwrap().trim().to_owned()
}

/// `latchkey key new NAME ARGS` (stdin feeds --passphrase-stdin), then the public key copied to
/// `sb/pubs/NAME.pub`, away from the private key, for clients that select a key by its public half.
#[track_caller]
pub fn store_key(sb: &Sandbox, name: &str, args: &[&str], stdin: &str) -> PathBuf {
    let mut all = vec!["key", "new", name];
    all.extend_from_slice(args);
    sb.latchkey(&all, stdin).success();
    let public = sb.latchkey(&["key", "export", name], "").success().stdout;
    std::fs::create_dir_all(sb.path("pubs")).unwrap();
    let path = sb.path(&format!("pubs/{name}.pub"));
    std::fs::write(&path, &public).unwrap();
    path
}

/// A key made by ssh-keygen, to be added with ssh-add: returns (private, public) paths, the
/// public one in `sb/pubs` so that no private key sits beside it.
#[track_caller]
pub fn ssh_keygen_key(sb: &Sandbox, name: &str, kind: &str, bits: Option<u32>) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(sb.path("private")).unwrap();
    std::fs::create_dir_all(sb.path("pubs")).unwrap();
    let private = sb.path(&format!("private/{name}"));
    let bits = bits.map(|b| b.to_string());
    let mut args = vec!["-q", "-t", kind, "-N", "", "-C", name, "-f", private.to_str().unwrap()];
    if let Some(b) = &bits {
        args.extend_from_slice(&["-b", b]);
    }
    sb.tool("ssh-keygen", &args).success();
    let public = sb.path(&format!("pubs/{name}.pub"));
    std::fs::rename(private.with_extension("pub"), &public).unwrap();
    (private, public)
}

/// The agent's activity log (LATCHKEY_HOME/activity.jsonl), waiting (bounded) until `want`
/// entries are there: the file is written by a background thread.
pub fn activity(sb: &Sandbox, want: usize) -> Vec<serde_json::Value> {
    let path = sb.latchkey_home().join("activity.jsonl");
    let mut entries = Vec::new();
    for _ in 0..100 {
        entries = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect::<Vec<serde_json::Value>>();
        if entries.len() >= want {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    entries
}

/// Lines of `text` containing `needle`.
pub fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}
