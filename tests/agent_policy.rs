//! The store keys' policies in `latchkey agent`, seen through real OpenSSH clients and a real
//! sshd on 127.0.0.1: per-host keys (session-bind + known_hosts), unlock on demand (askpass, or
//! `latchkey key unlock` when nobody can be asked), confirm before use, and the idle lock.
//! (Unlocking from the OS keyring without a prompt is in agent_clients.rs, for every key type.)

// Test code: a panic is how a failure is reported (clippy.toml only exempts #[test] bodies).
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::time::Duration;

use support::clients::{TestAskpass, activity, count, fingerprint, public_line, store_key};
use support::sshd::Sshd;
use support::{AgentProcess, Sandbox};

/// Only agent keys: no identity files at all (`IdentityFile=none`), whatever the agent lists.
const AGENT_KEYS_ONLY: &[&str] = &["-o", "IdentitiesOnly=no", "-o", "IdentityFile=none"];

fn offered(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains("Offering public key")).collect()
}

/// The fingerprints `ssh-add -l` lists (an agent session without session-bind).
fn listed(sb: &Sandbox, agent: &AgentProcess) -> Vec<String> {
    let out = sb.tool_agent(agent, "ssh-add", &["-l", "-E", "sha256"], "");
    if out.status == Some(1) && out.stdout.contains("The agent has no identities.") {
        return Vec::new();
    }
    let out = out.success();
    out.stdout.lines().map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_owned()).collect()
}

/// The agent's known_hosts ($HOME/.ssh/known_hosts of the sandbox), naming `sshd`.
fn agent_known_hosts(sb: &Sandbox, sshd: &Sshd) -> std::path::PathBuf {
    let path = sb.path("home/.ssh/known_hosts");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format!("{}\n", sshd.known_hosts_line())).unwrap();
    path
}

fn login(sb: &Sandbox, agent: &AgentProcess, sshd: &Sshd, public: &Path) -> support::Run {
    sshd.ssh_as(sb, &agent.socket, public, &[], "echo logged-in")
}

#[track_caller]
fn assert_logged_in(out: &support::Run, sshd: &Sshd, fp: &str) {
    assert!(out.ok() && out.stdout == "logged-in\n", "login failed:\n{}\nsshd:\n{}", out.stderr, sshd.log());
    assert!(sshd.accepted().last().is_some_and(|l| l.ends_with(fp)), "sshd log:\n{}", sshd.log());
}

#[test]
fn host_restricted_keys_are_offered_only_to_their_host() {
    let sb = Sandbox::new();
    let sshd = Sshd::start(&sb, "sshd", &["MaxAuthTries 3"]);
    let mut pubs = Vec::new();
    for i in 1..=8 {
        pubs.push(store_key(&sb, &format!("k{i}"), &["--no-passphrase"], ""));
    }
    let fps: Vec<String> = pubs.iter().map(|p| fingerprint(&sb, p)).collect();
    // Only the last key (the agent lists store keys in store order) may log in.
    sshd.authorize(&[&public_line(&pubs[7])]);
    let known_hosts = agent_known_hosts(&sb, &sshd);
    let agent = AgentProcess::start(&sb, &[]);

    // Counterfactual: without host policies, three wrong keys exhaust MaxAuthTries.
    let flood = sshd.ssh_with_known_hosts(&sb, &agent.socket, &known_hosts, AGENT_KEYS_ONLY, "true");
    assert!(!flood.ok(), "{flood:?}");
    assert!(flood.stderr.contains("Too many authentication failures"), "{}", flood.stderr);
    assert_eq!(offered(&flood.stderr).len(), 3, "{}", flood.stderr);
    assert!(sshd.accepted().is_empty());

    for i in 1..=7 {
        let hosts = format!("host{i}.example");
        sb.latchkey(&["key", "policy", &format!("k{i}"), "--hosts", &hosts], "").success();
    }
    sb.latchkey(&["key", "policy", "k8", "--hosts", "127.0.0.1"], "").success();

    let failed_before = count(&sshd.log(), "Failed publickey");
    // With them, the agent (bound to the host key, named [127.0.0.1]:PORT by known_hosts) offers
    // exactly the one key for 127.0.0.1.
    let out = sshd.ssh_with_known_hosts(&sb, &agent.socket, &known_hosts, AGENT_KEYS_ONLY, "echo logged-in");
    assert!(out.ok() && out.stdout == "logged-in\n", "login failed:\n{}\nsshd:\n{}", out.stderr, sshd.log());
    assert!(out.stderr.contains("bound agent to hostkey"), "{}", out.stderr);
    assert!(out.stderr.contains("agent returned 1 keys"), "{}", out.stderr);
    let o = offered(&out.stderr);
    assert!(o.len() == 1 && o[0].contains(&fps[7]), "offered: {o:?}");
    assert_eq!(sshd.accepted().len(), 1);
    assert!(sshd.accepted()[0].ends_with(&fps[7]), "{}", sshd.log());
    assert_eq!(count(&sshd.log(), "Failed publickey"), failed_before, "a wrong key was tried:\n{}", sshd.log());

    // The name comes from the agent's known_hosts: when they do not name the host, the
    // restricted key is withheld too (ssh checks the host key with a file of its own).
    std::fs::write(&known_hosts, "").unwrap();
    let unnamed = sshd.ssh(&sb, &agent.socket, AGENT_KEYS_ONLY, "true");
    assert!(!unnamed.ok(), "{unnamed:?}");
    assert!(unnamed.stderr.contains("agent contains no identities"), "{}", unnamed.stderr);
    assert!(offered(&unnamed.stderr).is_empty());
    assert_eq!(sshd.accepted().len(), 1);

    // ssh-add -l binds no session: only unrestricted keys are listed.
    assert_eq!(listed(&sb, &agent), Vec::<String>::new());
    assert!(agent.log().contains("8 host-restricted key(s) withheld"), "{}", agent.log());
    sb.latchkey(&["key", "policy", "k3", "--any-host"], "").success();
    assert_eq!(listed(&sb, &agent), vec![fps[2].clone()]);
}

#[test]
fn an_encrypted_store_key_is_unlocked_through_askpass_once() {
    let sb = Sandbox::new(); // no Secret Service: nothing is remembered
    let sshd = Sshd::start(&sb, "sshd", &[]);
    let public = store_key(&sb, "k", &["--passphrase-stdin"], "the passphrase\n");
    let fp = fingerprint(&sb, &public);
    sshd.authorize(&[&public_line(&public)]);
    let askpass = TestAskpass::new(&sb, "askpass");
    askpass.answer(true).reply("a wrong passphrase");
    let agent = AgentProcess::start_with_env(&sb, &[], &[askpass.env()]);

    // A wrong answer is asked again, three times in all, then refused.
    let out = login(&sb, &agent, &sshd, &public);
    assert!(!out.ok(), "{out:?}");
    let calls = askpass.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls.iter().all(|(kind, _)| kind == "passphrase"), "{calls:?}");
    assert!(calls[0].1.starts_with(&format!("Enter the passphrase of Latchkey key k ({fp})")), "{calls:?}");
    assert!(calls[1].1.starts_with("Wrong passphrase. Enter the passphrase of Latchkey key k"), "{calls:?}");
    assert!(sshd.accepted().is_empty());

    // The right one: logged in, asked once more; later signatures do not ask again.
    askpass.reply("the passphrase");
    assert_logged_in(&login(&sb, &agent, &sshd, &public), &sshd, &fp);
    assert_eq!(askpass.calls().len(), 4);
    assert_logged_in(&login(&sb, &agent, &sshd, &public), &sshd, &fp);
    assert_eq!(askpass.calls().len(), 4, "asked again for an unlocked key: {:?}", askpass.calls());
    assert!(!agent.log().contains("the passphrase"), "the agent logged a passphrase:\n{}", agent.log());
}

#[test]
fn without_keyring_or_askpass_the_key_is_refused_until_latchkey_key_unlock() {
    let sb = Sandbox::new();
    let sshd = Sshd::start(&sb, "sshd", &[]);
    let public = store_key(&sb, "locked-key", &["--passphrase-stdin"], "pw of locked\n");
    let fp = fingerprint(&sb, &public);
    sshd.authorize(&[&public_line(&public)]);
    let agent = AgentProcess::start(&sb, &[]); // no SSH_ASKPASS, no Secret Service

    let out = login(&sb, &agent, &sshd, &public);
    assert!(!out.ok(), "{out:?}");
    assert!(out.stderr.contains("Permission denied (publickey)"), "{}", out.stderr);
    assert!(sshd.accepted().is_empty());
    assert!(agent.log().contains("run `latchkey key unlock locked-key`"), "{}", agent.log());
    let refused = activity(&sb, 1);
    assert!(
        refused
            .iter()
            .any(|e| e["key"] == "locked-key" && e["outcome"] == "refused: the key is encrypted and was not unlocked"),
        "{refused:?}"
    );

    let socket = agent.socket.to_str().unwrap();
    sb.latchkey(&["key", "unlock", "locked-key", "-a", socket, "--passphrase-stdin"], "not it\n").failure();
    assert!(!login(&sb, &agent, &sshd, &public).ok());
    let unlocked = sb.latchkey(&["key", "unlock", "locked-key", "-a", socket, "--passphrase-stdin"], "pw of locked\n");
    assert!(unlocked.success().stdout.contains("Unlocked \"locked-key\""));
    assert_logged_in(&login(&sb, &agent, &sshd, &public), &sshd, &fp);
    // Still one identity: the unlocked store key, not a second copy.
    assert_eq!(listed(&sb, &agent), vec![fp]);
}

#[test]
fn a_store_key_with_the_confirm_policy_asks_each_time() {
    let sb = Sandbox::new();
    let sshd = Sshd::start(&sb, "sshd", &[]);
    let public = store_key(&sb, "ask-me", &["--no-passphrase"], "");
    let fp = fingerprint(&sb, &public);
    sshd.authorize(&[&public_line(&public)]);
    agent_known_hosts(&sb, &sshd);
    let policy = sb.latchkey(&["key", "policy", "ask-me", "--confirm"], "").success();
    assert!(policy.stdout.contains("asks before each use"), "{}", policy.stdout);
    let askpass = TestAskpass::new(&sb, "askpass");
    askpass.answer(false);
    let agent = AgentProcess::start_with_env(&sb, &[], &[askpass.env()]);

    let denied = login(&sb, &agent, &sshd, &public);
    assert!(!denied.ok(), "{denied:?}");
    assert!(sshd.accepted().is_empty(), "{}", sshd.log());
    let calls = askpass.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].0, "confirm");
    assert!(calls[0].1.starts_with("Allow use of key ask-me?"), "{calls:?}");
    assert!(calls[0].1.contains(&format!("For [127.0.0.1]:{}.", sshd.port)), "the prompt names the host: {calls:?}");

    askpass.answer(true);
    assert_logged_in(&login(&sb, &agent, &sshd, &public), &sshd, &fp);
    assert_eq!(askpass.calls().len(), 2);
    assert_logged_in(&login(&sb, &agent, &sshd, &public), &sshd, &fp);
    assert_eq!(askpass.calls().len(), 3, "allow once means once");

    sb.latchkey(&["key", "policy", "ask-me", "--no-confirm"], "").success();
    assert_logged_in(&login(&sb, &agent, &sshd, &public), &sshd, &fp);
    assert_eq!(askpass.calls().len(), 3, "asked although the policy no longer confirms");
}

#[test]
fn the_idle_lock_forgets_decrypted_store_keys() {
    let sb = Sandbox::new();
    let sshd = Sshd::start(&sb, "sshd", &[]);
    let public = store_key(&sb, "idle", &["--passphrase-stdin"], "idle pw\n");
    let fp = fingerprint(&sb, &public);
    sshd.authorize(&[&public_line(&public)]);
    let askpass = TestAskpass::new(&sb, "askpass");
    askpass.answer(true).reply("idle pw");
    let agent = AgentProcess::start_with_env(&sb, &["--idle-lock", "2s"], &[askpass.env()]);

    assert_logged_in(&login(&sb, &agent, &sshd, &public), &sshd, &fp);
    assert_eq!(askpass.calls().len(), 1);
    // Idle: the agent forgets the decrypted key on its own, while no client asks anything
    // (bounded wait), and the next use needs the passphrase again.
    let forgot = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        agent.log().contains("idle: forgot the decrypted store keys")
    });
    assert!(forgot, "not forgotten within 10 s of idling (idle lock 2 s):\n{}", agent.log());
    assert_logged_in(&login(&sb, &agent, &sshd, &public), &sshd, &fp);
    let calls = askpass.calls();
    assert_eq!(calls.len(), 2, "not asked again after the idle lock: {calls:?}");
    assert!(calls[1].1.starts_with("Enter the passphrase of Latchkey key idle"), "{calls:?}");
}
