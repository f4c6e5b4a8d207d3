//! Remembered passphrases against a real Secret Service: gnome-keyring in a private D-Bus
//! session, read back with libsecret's `secret-tool`. And without one: nothing is lost.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use support::{Sandbox, SecretService};

fn fingerprint(sb: &Sandbox, name: &str) -> String {
    let out = sb.latchkey(&["key", "list", "--json"], "").success();
    let list: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    list.iter().find(|k| k["name"] == name).unwrap()["fingerprint_sha256"].as_str().unwrap().to_owned()
}

fn remembered(sb: &Sandbox, name: &str) -> bool {
    let out = sb.latchkey(&["key", "list", "--json"], "").success();
    let list: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    list.iter().find(|k| k["name"] == name).unwrap()["remembered"].as_bool().unwrap()
}

/// What the Secret Service holds for the key with this fingerprint (secret-tool, not our code).
fn lookup(sb: &Sandbox, fingerprint: &str) -> Option<String> {
    let account = format!("key-passphrase:{fingerprint}");
    let out = sb.tool("secret-tool", &["lookup", "service", "latchkey", "username", &account]);
    out.ok().then_some(out.stdout)
}

#[test]
fn remembered_passphrases_round_trip_through_gnome_keyring() {
    let mut sb = Sandbox::new();
    let service = SecretService::start(&sb);
    sb.env = service.env(&sb);

    sb.latchkey(&["key", "new", "k", "--remember", "--passphrase-stdin"], "keyring pass\n").success();
    assert!(remembered(&sb, "k"));
    let fp = fingerprint(&sb, "k");
    assert_eq!(lookup(&sb, &fp).as_deref(), Some("keyring pass"));

    // Reading it back: an encrypted key's comment changes without asking for the passphrase.
    sb.latchkey(&["key", "comment", "k", "from the keyring"], "").success();

    sb.latchkey(&["key", "passwd", "k", "--passphrase-stdin"], "keyring pass\nsecond pass\n").success();
    assert_eq!(lookup(&sb, &fp).as_deref(), Some("second pass"), "a changed passphrase is updated in the keyring");

    sb.latchkey(&["key", "forget", "k"], "").success();
    assert_eq!(lookup(&sb, &fp), None);
    assert!(!remembered(&sb, "k"));

    let wrong = sb.latchkey(&["key", "remember", "k", "--passphrase-stdin"], "not the passphrase\n").failure();
    assert!(wrong.stderr.contains("incorrect passphrase"), "{}", wrong.stderr);
    assert_eq!(lookup(&sb, &fp), None, "a wrong passphrase is never stored");

    sb.latchkey(&["key", "remember", "k", "--passphrase-stdin"], "second pass\n").success();
    assert_eq!(lookup(&sb, &fp).as_deref(), Some("second pass"));
    sb.latchkey(&["key", "rm", "k", "--yes"], "").success();
    assert_eq!(lookup(&sb, &fp), None, "removing a key forgets its passphrase");
}

#[test]
fn without_a_secret_service_keys_are_still_saved_and_the_user_is_told() {
    let sb = Sandbox::new(); // points D-Bus at a socket that does not exist
    let out = sb.latchkey(&["key", "new", "k", "--remember", "--passphrase-stdin"], "pw\n").success();
    assert!(out.stderr.contains("keyring is unavailable"), "{}", out.stderr);
    assert!(!remembered(&sb, "k"));
    let out = sb.latchkey(&["key", "list", "--json"], "").success();
    let list: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let path = list[0]["path"].as_str().unwrap();
    sb.tool("ssh-keygen", &["-y", "-P", "pw", "-f", path]).success();
    let forget = sb.latchkey(&["key", "remember", "k", "--passphrase-stdin"], "pw\n").failure();
    assert!(forget.stderr.contains("keyring is unavailable"), "{}", forget.stderr);
}

#[test]
fn a_remembered_key_asks_for_its_passphrase_while_the_keyring_is_gone_and_stays_remembered() {
    let mut sb = Sandbox::new();
    let offline = sb.env.clone(); // D-Bus pointed at a socket that does not exist
    let service = SecretService::start(&sb);
    sb.env = service.env(&sb);
    sb.latchkey(&["key", "new", "k", "--remember", "--passphrase-stdin"], "keyring pass\n").success();
    let fp = fingerprint(&sb, "k");
    let online = std::mem::replace(&mut sb.env, offline);

    // Without the keyring: the passphrase is asked for (here on stdin) and the work gets done.
    let out = sb.latchkey(&["key", "comment", "k", "while offline", "--passphrase-stdin"], "keyring pass\n").success();
    assert!(out.stderr.contains("cannot be reached"), "the user is told why they are asked: {}", out.stderr);
    let wrong = sb.latchkey(&["key", "comment", "k", "nope", "--passphrase-stdin"], "not it\n").failure();
    assert!(wrong.stderr.contains("incorrect passphrase"), "{}", wrong.stderr);
    assert!(remembered(&sb, "k"), "nothing is forgotten because the keyring was away");

    // Back on the keyring: opens without asking, the comment changed offline is there.
    sb.env = online;
    assert_eq!(lookup(&sb, &fp).as_deref(), Some("keyring pass"));
    sb.latchkey(&["key", "comment", "k", "back online"], "").success();
    let out = sb.latchkey(&["key", "list", "--json"], "").success();
    assert!(out.stdout.contains("back online"), "{}", out.stdout);
    drop(service);
}
