//! Bad input gets a clear error that says what was wrong, and the disk is left as it was.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::os::unix::fs::PermissionsExt;

use support::{LATCHKEY, Sandbox, run, snapshot};

/// Run `latchkey ARGS` in `sb`, asserting failure, that stderr mentions each of `words`, and that
/// nothing in the sandbox changed.
#[track_caller]
fn refused(sb: &Sandbox, args: &[&str], stdin: &str, words: &[&str]) -> String {
    let before = snapshot(sb.dir.path());
    let out = sb.latchkey(args, stdin).failure();
    for w in words {
        assert!(out.stderr.contains(w), "`latchkey {}`: expected {w:?} in:\n{}", args.join(" "), out.stderr);
    }
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(snapshot(sb.dir.path()), before, "`latchkey {}` changed files", args.join(" "));
    out.stderr
}

fn key_file(sb: &Sandbox, name: &str, passphrase: &str) -> String {
    sb.tool("ssh-keygen", &["-q", "-t", "ed25519", "-N", passphrase, "-f", name]).success();
    std::fs::read_to_string(sb.path(name)).unwrap()
}

#[test]
fn truncated_keys_are_named_as_damaged() {
    let sb = Sandbox::new();
    let text = key_file(&sb, "whole", "pw");
    std::fs::write(sb.path("truncated"), &text[..text.len() / 2]).unwrap();
    refused(&sb, &["keygen", "-y", "-P", "pw", "-f", "truncated"], "", &["truncated"]);
    refused(&sb, &["key", "import", "truncated", "--passphrase-stdin"], "pw\n", &["truncated"]);
    let mut cut = text.clone();
    cut.truncate(text.len() - 40);
    std::fs::write(sb.path("cut-end"), cut).unwrap();
    refused(&sb, &["key", "import", "cut-end", "--passphrase-stdin"], "pw\n", &["truncated"]);
}

#[test]
fn garbage_and_public_keys_are_not_private_keys() {
    let sb = Sandbox::new();
    let junk: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(sb.path("junk"), junk).unwrap();
    refused(&sb, &["key", "import", "junk"], "", &["not a key file"]);
    refused(&sb, &["keygen", "-l", "-f", "junk"], "", &["not a public key file"]);
    std::fs::write(sb.path("empty"), "").unwrap();
    refused(&sb, &["key", "import", "empty"], "", &["not a key file"]);
    key_file(&sb, "pair", "");
    refused(&sb, &["key", "import", "pair.pub"], "", &["public key"]);
}

#[test]
fn wrong_passphrases_are_named_and_nothing_is_imported() {
    let sb = Sandbox::new();
    key_file(&sb, "enc", "right one");
    refused(&sb, &["key", "import", "enc", "--passphrase-stdin"], "wrong one\n", &["incorrect passphrase"]);
    refused(&sb, &["keygen", "-y", "-P", "wrong one", "-f", "enc"], "", &["incorrect passphrase"]);
    refused(&sb, &["keygen", "-p", "-P", "wrong one", "-N", "x", "-f", "enc"], "", &["incorrect passphrase"]);
    sb.tool("ssh-keygen", &["-y", "-P", "right one", "-f", "enc"]).success();
}

#[test]
fn unsupported_key_types_say_what_to_use_instead() {
    let sb = Sandbox::new();
    sb.tool("ssh-keygen", &["-q", "-t", "dsa", "-N", "", "-f", "dsa"]).success();
    refused(&sb, &["key", "import", "dsa", "--no-passphrase"], "", &["DSA"]);
    refused(&sb, &["keygen", "-q", "-t", "ed25519-sk", "-N", "", "-f", "sk"], "", &["security-key"]);
    refused(&sb, &["key", "new", "x", "-t", "rsa", "-b", "1024", "--no-passphrase"], "", &["2048"]);
}

#[test]
fn huge_files_are_refused_before_they_are_read() {
    let sb = Sandbox::new();
    let file = std::fs::File::create(sb.path("huge")).unwrap();
    file.set_len(64 << 20).unwrap();
    refused(&sb, &["key", "import", "huge"], "", &["larger"]);
    refused(&sb, &["keygen", "-y", "-f", "huge"], "", &["larger"]);
}

#[test]
fn a_corrupt_store_is_reported_with_its_line_and_kept() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.latchkey_home()).unwrap();
    std::fs::write(sb.latchkey_home().join("keys.toml"), "schema = 1\n[[key]]\nname = \"x\"\nbroken\n").unwrap();
    refused(&sb, &["key", "new", "k", "--no-passphrase"], "", &["keys.toml", "line 4"]);
    refused(&sb, &["key", "list"], "", &["keys.toml"]);
}

#[test]
fn invalid_names_are_refused() {
    let sb = Sandbox::new();
    refused(&sb, &["key", "new", "../escape", "--no-passphrase"], "", &["not a valid key name"]);
    sb.latchkey(&["key", "new", "taken", "--no-passphrase"], "").success();
    refused(&sb, &["key", "new", "taken", "--no-passphrase"], "", &["exists already"]);
}

/// A directory the user cannot write: as root, run as `nobody` (root ignores permissions).
#[test]
fn read_only_target_directories_fail_cleanly() {
    let sb = Sandbox::new();
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let ro = sb.path("readonly");
    std::fs::create_dir(&ro).unwrap();
    let target = ro.join("id");
    let as_root = run(std::process::Command::new("id").arg("-u"), "").stdout.trim() == "0";
    let before = snapshot(sb.dir.path());
    let out = if as_root {
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
        run(
            std::process::Command::new("runuser")
                .args(["-u", "nobody", "--", LATCHKEY, "keygen", "-q", "-N", "", "-f"])
                .arg(&target)
                .env("HOME", &ro)
                .env("LATCHKEY_HOME", ro.join("home")),
            "",
        )
    } else {
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        sb.latchkey(&["keygen", "-q", "-N", "", "-f", target.to_str().unwrap()], "")
    }
    .failure();
    assert!(out.stderr.contains("permission denied"), "{}", out.stderr);
    assert_eq!(snapshot(sb.dir.path()), before);
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}
