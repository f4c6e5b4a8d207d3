//! `latchkey agent` against the real OpenSSH clients: ssh-add (add, list, remove, lifetimes,
//! confirm, lock), ssh logins to a real sshd on 127.0.0.1 with every key type, ssh-keygen -Y,
//! git commit signing and scp. Keys reach the clients through the agent only: private key files
//! are deleted after ssh-add, or live in the Latchkey store where no client is told to look.
//! Host policies, unlock-on-demand, confirm and idle lock of store keys are in agent_policy.rs.

// Test code: a panic is how a failure is reported (clippy.toml only exempts #[test] bodies).
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::clients::{TestAskpass, activity, count, fingerprint, public_line, ssh_keygen_key, store_key};
use support::sshd::Sshd;
use support::{AgentProcess, Run, Sandbox, SecretService};

/// The key types the agent must sign with: (name, ssh-keygen/latchkey -t, bits).
const KEY_TYPES: &[(&str, &str, Option<u32>)] = &[
    ("ed25519", "ed25519", None),
    ("ecdsa-256", "ecdsa", Some(256)),
    ("ecdsa-384", "ecdsa", Some(384)),
    ("ecdsa-521", "ecdsa", Some(521)),
    ("rsa-2048", "rsa", Some(2048)),
    ("rsa-3072", "rsa", Some(3072)),
];

/// Poll `condition` every 100 ms for at most `limit`.
fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ssh_add(sb: &Sandbox, agent: &AgentProcess, args: &[&str]) -> Run {
    sb.tool_agent(agent, "ssh-add", args, "")
}

/// The fingerprints `ssh-add -l` lists (none: "The agent has no identities.", status 1).
fn listed(sb: &Sandbox, agent: &AgentProcess) -> Vec<String> {
    let out = ssh_add(sb, agent, &["-l", "-E", "sha256"]);
    if out.status == Some(1) && out.stdout.contains("The agent has no identities.") {
        return Vec::new();
    }
    let out = out.success();
    out.stdout.lines().map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_owned()).collect()
}

/// Where `ssh-keygen -Y sign` puts the signature of `file`: FILE.sig.
fn sig_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// `ssh-keygen -Y sign -n NAMESPACE -f PUBLIC FILE` (the key only in the agent): FILE.sig.
fn sshsig(sb: &Sandbox, agent: &AgentProcess, public: &Path, file: &Path, namespace: &str) -> Run {
    let _ = std::fs::remove_file(sig_path(file));
    sb.tool_agent(
        agent,
        "ssh-keygen",
        &["-Y", "sign", "-n", namespace, "-f", public.to_str().unwrap(), file.to_str().unwrap()],
        "",
    )
}

/// `ssh-keygen -Y verify` of FILE.sig against an allowed-signers file naming `public` as `who`.
fn sshsig_verify(sb: &Sandbox, public: &Path, who: &str, file: &Path, namespace: &str) -> Run {
    let allowed = sb.path("allowed_signers");
    std::fs::write(&allowed, format!("{who} {}\n", public_line(public))).unwrap();
    let data = std::fs::read_to_string(file).unwrap();
    let sig = sig_path(file);
    sb.tool_stdin(
        "ssh-keygen",
        &["-Y", "verify", "-f", allowed.to_str().unwrap(), "-I", who, "-n", namespace, "-s", sig.to_str().unwrap()],
        &data,
    )
}

#[test]
fn ssh_add_adds_lists_removes_and_expires_keys() {
    let sb = Sandbox::new();
    let agent = AgentProcess::start(&sb, &[]);
    let (one, one_pub) = ssh_keygen_key(&sb, "one", "ed25519", None);
    let (two, two_pub) = ssh_keygen_key(&sb, "two", "ecdsa", Some(384));
    let (fp1, fp2) = (fingerprint(&sb, &one_pub), fingerprint(&sb, &two_pub));

    let added = ssh_add(&sb, &agent, &[one.to_str().unwrap(), two.to_str().unwrap()]).success();
    assert_eq!(count(&added.stderr, "Identity added"), 2, "{}", added.stderr);
    let l = ssh_add(&sb, &agent, &["-l"]).success();
    let lines: Vec<&str> = l.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", l.stdout);
    assert!(lines[0].starts_with(&format!("256 {fp1} one")) && lines[0].ends_with("(ED25519)"), "{}", l.stdout);
    assert!(lines[1].starts_with(&format!("384 {fp2} two")) && lines[1].ends_with("(ECDSA)"), "{}", l.stdout);
    let big_l = ssh_add(&sb, &agent, &["-L"]).success();
    assert_eq!(big_l.stdout, format!("{}\n{}\n", public_line(&one_pub), public_line(&two_pub)));

    // -d by the public key; removing it twice fails.
    let d = ssh_add(&sb, &agent, &["-d", one_pub.to_str().unwrap()]).success();
    assert!(d.stderr.contains("Identity removed"), "{}", d.stderr);
    assert_eq!(listed(&sb, &agent), vec![fp2.clone()]);
    ssh_add(&sb, &agent, &["-d", one_pub.to_str().unwrap()]).failure();

    // -D removes everything.
    ssh_add(&sb, &agent, &["-D"]).success();
    assert_eq!(listed(&sb, &agent), Vec::<String>::new());

    // ssh-add -t: gone after its lifetime (bounded poll), while a key without one stays.
    ssh_add(&sb, &agent, &[two.to_str().unwrap()]).success();
    let t = ssh_add(&sb, &agent, &["-t", "3", one.to_str().unwrap()]).success();
    assert!(t.stderr.contains("Lifetime set to 3 seconds"), "{}", t.stderr);
    assert!(listed(&sb, &agent).contains(&fp1));
    assert!(
        wait_until(Duration::from_secs(15), || !listed(&sb, &agent).contains(&fp1)),
        "a key added with -t 3 was still listed after 15 s"
    );
    assert_eq!(listed(&sb, &agent), vec![fp2.clone()], "the key without a lifetime stays");
    drop(agent);

    // The agent's -t is the default lifetime; ssh-add -t still wins for its key.
    let agent = AgentProcess::start(&sb, &["-t", "3"]);
    ssh_add(&sb, &agent, &["-t", "3600", one.to_str().unwrap()]).success();
    ssh_add(&sb, &agent, &[two.to_str().unwrap()]).success();
    assert_eq!(listed(&sb, &agent).len(), 2);
    assert!(
        wait_until(Duration::from_secs(15), || !listed(&sb, &agent).contains(&fp2)),
        "a key added to an agent started with -t 3 was still listed after 15 s"
    );
    assert_eq!(listed(&sb, &agent), vec![fp1], "ssh-add -t 3600 overrides the agent's -t");
}

#[test]
fn ssh_add_c_asks_the_askpass_program_before_each_signature() {
    let sb = Sandbox::new();
    let askpass = TestAskpass::new(&sb, "askpass");
    askpass.answer(false);
    let agent = AgentProcess::start_with_env(&sb, &[], &[askpass.env()]);
    let (key, public) = ssh_keygen_key(&sb, "confirmed", "ed25519", None);
    let (plain, plain_pub) = ssh_keygen_key(&sb, "plain", "ed25519", None);
    let c = ssh_add(&sb, &agent, &["-c", key.to_str().unwrap()]).success();
    assert!(c.stderr.contains("The user must confirm each use of the key"), "{}", c.stderr);
    ssh_add(&sb, &agent, &[plain.to_str().unwrap()]).success();
    std::fs::remove_file(&key).unwrap();
    std::fs::remove_file(&plain).unwrap();
    let data = sb.path("data.txt");
    std::fs::write(&data, "signed through the agent\n").unwrap();

    // The askpass says no: no signature, and it was asked (with SSH_ASKPASS_PROMPT=confirm).
    let denied = sshsig(&sb, &agent, &public, &data, "file");
    assert!(!denied.ok(), "signed although the askpass denied: {denied:?}");
    assert!(!sig_path(&data).exists());
    let calls = askpass.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].0, "confirm");
    assert!(calls[0].1.contains("Allow use of key confirmed?"), "{calls:?}");
    assert!(calls[0].1.contains(&fingerprint(&sb, &public)), "{calls:?}");
    assert!(agent.log().contains("the user denied a signature with confirmed"), "{}", agent.log());

    // The askpass says yes: a signature that verifies, and a second call.
    askpass.answer(true);
    sshsig(&sb, &agent, &public, &data, "file").success();
    sshsig_verify(&sb, &public, "someone", &data, "file").success();
    assert_eq!(askpass.calls().len(), 2);

    // A key added without -c never asks.
    sshsig(&sb, &agent, &plain_pub, &data, "file").success();
    sshsig_verify(&sb, &plain_pub, "someone", &data, "file").success();
    assert_eq!(askpass.calls().len(), 2, "a key without -c asked: {:?}", askpass.calls());
}

#[test]
fn ssh_add_x_locks_and_only_the_right_password_unlocks() {
    let sb = Sandbox::new();
    let agent = AgentProcess::start(&sb, &[]);
    let (key, public) = ssh_keygen_key(&sb, "k", "ecdsa", Some(256));
    let (other, _) = ssh_keygen_key(&sb, "other", "ed25519", None);
    ssh_add(&sb, &agent, &[key.to_str().unwrap()]).success();
    std::fs::remove_file(&key).unwrap();
    let fp = fingerprint(&sb, &public);
    let data = sb.path("data.txt");
    std::fs::write(&data, "lock test\n").unwrap();
    sshsig(&sb, &agent, &public, &data, "file").success();

    // ssh-add reads the lock password (twice) from stdin when there is no terminal.
    let x = sb.tool_agent(&agent, "ssh-add", &["-x"], "Zebra-lock-7\nZebra-lock-7\n").success();
    assert!(x.stderr.contains("Agent locked."), "{}", x.stderr);
    assert_eq!(listed(&sb, &agent), Vec::<String>::new(), "a locked agent lists nothing");
    assert!(!sshsig(&sb, &agent, &public, &data, "file").ok(), "a locked agent signed");
    ssh_add(&sb, &agent, &[other.to_str().unwrap()]).failure();
    sb.tool_agent(&agent, "ssh-add", &["-x"], "again\nagain\n").failure();

    let wrong = sb.tool_agent(&agent, "ssh-add", &["-X"], "not the password\n");
    assert!(!wrong.ok() && wrong.stderr.contains("Failed to unlock agent"), "{wrong:?}");
    assert_eq!(listed(&sb, &agent), Vec::<String>::new(), "still locked after a wrong password");

    let right = sb.tool_agent(&agent, "ssh-add", &["-X"], "Zebra-lock-7\n").success();
    assert!(right.stderr.contains("Agent unlocked."), "{}", right.stderr);
    assert_eq!(listed(&sb, &agent), vec![fp], "the ssh-add key is back after unlocking");
    sshsig(&sb, &agent, &public, &data, "file").success();
    sshsig_verify(&sb, &public, "someone", &data, "file").success();
    assert!(!agent.log().contains("Zebra-lock-7"), "the agent logged the lock password");
}

/// Log in once with each key (a .pub selecting one agent identity) and check sshd accepted that
/// very key; RSA keys also with each SHA-2 signature algorithm.
fn log_in_with_each(sb: &Sandbox, agent: &AgentProcess, sshd: &Sshd, keys: &[(String, PathBuf)]) {
    let lines: Vec<String> = keys.iter().map(|(_, p)| public_line(p)).collect();
    sshd.authorize(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    for (name, public) in keys {
        let fp = fingerprint(sb, public);
        let mut variants: Vec<Vec<&str>> = vec![vec![]];
        if name.starts_with("rsa") {
            variants.push(vec!["-o", "PubkeyAcceptedAlgorithms=rsa-sha2-256"]);
            variants.push(vec!["-o", "PubkeyAcceptedAlgorithms=rsa-sha2-512"]);
        }
        for opts in variants {
            let before = sshd.accepted().len();
            let out = sshd.ssh_as(sb, &agent.socket, public, &opts, "echo logged-in");
            assert!(
                out.ok() && out.stdout == "logged-in\n",
                "{name} {opts:?}: login failed:\n{}\nsshd:\n{}",
                out.stderr,
                sshd.log()
            );
            let offered: Vec<&str> = out.stderr.lines().filter(|l| l.contains("Offering public key")).collect();
            assert!(
                offered.len() == 1 && offered[0].contains(&fp) && offered[0].ends_with("agent"),
                "{name}: not offered through the agent: {offered:?}"
            );
            let accepted = sshd.accepted();
            assert_eq!(accepted.len(), before + 1, "{name}: sshd log:\n{}", sshd.log());
            assert!(accepted[before].ends_with(&fp), "{name}: sshd accepted another key: {}", accepted[before]);
        }
    }
}

#[test]
fn ssh_logs_in_with_every_key_type_added_by_ssh_add() {
    let sb = Sandbox::new();
    let agent = AgentProcess::start(&sb, &[]);
    let sshd = Sshd::start(&sb, "sshd", &[]);
    let mut keys = Vec::new();
    for (name, kind, bits) in KEY_TYPES {
        let (private, public) = ssh_keygen_key(&sb, name, kind, *bits);
        ssh_add(&sb, &agent, &[private.to_str().unwrap()]).success();
        std::fs::remove_file(&private).unwrap();
        keys.push((name.to_string(), public));
    }
    log_in_with_each(&sb, &agent, &sshd, &keys);
}

fn latchkey_type_args<'a>(kind: &'a str, bits: &'a Option<String>) -> Vec<&'a str> {
    let mut args = vec!["-t", kind];
    if let Some(b) = bits {
        args.extend_from_slice(&["-b", b]);
    }
    args
}

#[test]
fn ssh_logs_in_with_every_key_type_from_the_store_unencrypted() {
    let sb = Sandbox::new();
    let sshd = Sshd::start(&sb, "sshd", &[]);
    let mut keys = Vec::new();
    for (name, kind, bits) in KEY_TYPES {
        let bits = bits.map(|b| b.to_string());
        let mut args = latchkey_type_args(kind, &bits);
        args.push("--no-passphrase");
        keys.push((name.to_string(), store_key(&sb, name, &args, "")));
    }
    let agent = AgentProcess::start(&sb, &[]);
    assert_eq!(listed(&sb, &agent).len(), KEY_TYPES.len(), "the agent offers every store key");
    log_in_with_each(&sb, &agent, &sshd, &keys);
    let signed: Vec<String> = activity(&sb, 10)
        .iter()
        .filter(|e| e["outcome"] == "signed")
        .map(|e| e["key"].as_str().unwrap_or_default().to_owned())
        .collect();
    for (name, _, _) in KEY_TYPES {
        assert!(signed.iter().any(|k| k == name), "no signature by store key {name} in the activity log: {signed:?}");
    }
}

#[test]
fn ssh_logs_in_with_every_key_type_from_the_store_unlocked_from_the_keyring() {
    let mut sb = Sandbox::new();
    let service = SecretService::start(&sb);
    sb.env = service.env(&sb);
    let sshd = Sshd::start(&sb, "sshd", &[]);
    let mut keys = Vec::new();
    for (name, kind, bits) in KEY_TYPES {
        let bits = bits.map(|b| b.to_string());
        let mut args = latchkey_type_args(kind, &bits);
        args.extend_from_slice(&["--passphrase-stdin", "--remember"]);
        keys.push((name.to_string(), store_key(&sb, name, &args, &format!("pass of {name}\n"))));
    }
    let listing = sb.latchkey(&["key", "list", "--json"], "").success().stdout;
    let listing: Vec<serde_json::Value> = serde_json::from_str(&listing).unwrap();
    assert!(listing.iter().all(|k| k["encrypted"] == true && k["remembered"] == true), "{listing:?}");
    // An askpass that would refuse: the keyring must be enough, without any prompt.
    let askpass = TestAskpass::new(&sb, "askpass");
    askpass.answer(false);
    let agent = AgentProcess::start_with_env(&sb, &[], &[askpass.env()]);
    log_in_with_each(&sb, &agent, &sshd, &keys);
    assert_eq!(askpass.calls(), Vec::new(), "the agent prompted although the keyring has the passphrases");
}

#[test]
fn legacy_ssh_rsa_sha1_signatures_when_both_sides_allow_them() {
    let sb = Sandbox::new();
    let agent = AgentProcess::start(&sb, &[]);
    let (private, public) = ssh_keygen_key(&sb, "legacy", "rsa", Some(2048));
    ssh_add(&sb, &agent, &[private.to_str().unwrap()]).success();
    std::fs::remove_file(&private).unwrap();
    let only_ssh_rsa = ["-o", "PubkeyAcceptedAlgorithms=ssh-rsa"];

    // OpenSSH 9.2's sshd refuses ssh-rsa by default: the client really asks for ssh-rsa.
    let strict = Sshd::start(&sb, "sshd-strict", &[]);
    strict.authorize(&[&public_line(&public)]);
    let refused = strict.ssh_as(&sb, &agent.socket, &public, &only_ssh_rsa, "true");
    assert!(!refused.ok(), "{refused:?}");
    assert!(strict.log().contains("signature algorithm ssh-rsa not in PubkeyAcceptedAlgorithms"), "{}", strict.log());

    // With +ssh-rsa on the server the agent's SHA-1 signature is accepted (sshd checks that the
    // signature's algorithm is the one the client named).
    let legacy = Sshd::start(&sb, "sshd-legacy", &["PubkeyAcceptedAlgorithms +ssh-rsa"]);
    legacy.authorize(&[&public_line(&public)]);
    let out = legacy.ssh_as(&sb, &agent.socket, &public, &only_ssh_rsa, "true");
    assert!(out.ok(), "ssh-rsa login failed:\n{}\nsshd:\n{}", out.stderr, legacy.log());
    let accepted = legacy.accepted();
    assert_eq!(accepted.len(), 1);
    assert!(accepted[0].ends_with(&fingerprint(&sb, &public)), "{accepted:?}");
}

#[test]
fn ssh_keygen_y_sign_git_commit_signing_and_scp_through_the_agent() {
    let sb = Sandbox::new();
    let agent = AgentProcess::start(&sb, &[]);
    let (private, public) = ssh_keygen_key(&sb, "signer", "ed25519", None);
    ssh_add(&sb, &agent, &[private.to_str().unwrap()]).success();
    std::fs::remove_file(&private).unwrap();
    let fp = fingerprint(&sb, &public);

    // ssh-keygen -Y sign / verify; a changed file does not verify.
    let data = sb.path("message.txt");
    std::fs::write(&data, "a message signed by the agent\n").unwrap();
    sshsig(&sb, &agent, &public, &data, "file").success();
    let good = sshsig_verify(&sb, &public, "signer@example.com", &data, "file").success();
    assert!(good.stdout.contains("Good \"file\" signature for signer@example.com"), "{good:?}");
    let sig = std::fs::read(sig_path(&data)).unwrap();
    std::fs::write(&data, "a message NOT signed by the agent\n").unwrap();
    std::fs::write(sig_path(&data), sig).unwrap();
    sshsig_verify(&sb, &public, "signer@example.com", &data, "file").failure();

    // git commit -S with an SSH signing key that exists only in the agent.
    let repo = sb.path("repo");
    let git = |args: &[&str]| {
        let mut cmd = sb.command("git");
        cmd.current_dir(&repo)
            .env("SSH_AUTH_SOCK", &agent.socket)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(["-c", "user.name=Signer", "-c", "user.email=signer@example.com", "-c", "gpg.format=ssh"])
            .arg("-c")
            .arg(format!("user.signingkey={}", public.display()))
            .arg("-c")
            .arg(format!("gpg.ssh.allowedSignersFile={}", sb.path("git_allowed_signers").display()))
            .args(args);
        support::clients::run_for(&mut cmd, "", Duration::from_secs(60))
    };
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(sb.path("git_allowed_signers"), format!("signer@example.com {}\n", public_line(&public))).unwrap();
    git(&["init", "-q"]).success();
    std::fs::write(repo.join("README"), "signed commit\n").unwrap();
    git(&["add", "README"]).success();
    git(&["commit", "-q", "-S", "-m", "signed by the agent"]).success();
    let verified = git(&["verify-commit", "HEAD"]).success();
    assert!(
        verified.stderr.contains(&format!("Good \"git\" signature for signer@example.com with ED25519 key {fp}")),
        "{verified:?}"
    );
    git(&["commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", "unsigned"]).success();
    git(&["verify-commit", "HEAD"]).failure();

    // scp to the real sshd, authenticated by the agent.
    let sshd = Sshd::start(&sb, "sshd", &[]);
    sshd.authorize(&[&public_line(&public)]);
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let source = sb.path("payload.bin");
    std::fs::write(&source, &payload).unwrap();
    let target = sb.path("received/payload.bin");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let mut scp = sb.command("scp");
    scp.env("SSH_AUTH_SOCK", &agent.socket)
        .args(sshd.client_options(&agent.socket, &sshd.known_hosts))
        .args(["-o", "IdentitiesOnly=yes", "-o"])
        .arg(format!("IdentityFile={}", public.display()))
        .arg("-P")
        .arg(sshd.port.to_string())
        .arg(&source)
        .arg(format!("root@127.0.0.1:{}", target.display()));
    let copied = support::clients::run_for(&mut scp, "", support::sshd::CLIENT_LIMIT);
    assert!(copied.ok(), "scp failed: {copied:?}\nsshd:\n{}", sshd.log());
    assert_eq!(std::fs::read(&target).unwrap(), payload, "scp delivered different bytes");
    assert!(sshd.accepted().iter().any(|l| l.ends_with(&fp)), "{}", sshd.log());
}

fn is_root() -> bool {
    support::run(std::process::Command::new("id").arg("-u"), "").stdout.trim() == "0"
}

#[test]
fn a_client_running_as_another_user_is_refused() {
    if !is_root() {
        eprintln!("SKIPPED a_client_running_as_another_user_is_refused: needs root to run a client as `nobody`");
        return;
    }
    let sb = Sandbox::new();
    let agent = AgentProcess::start(&sb, &[]);
    let (private, _) = ssh_keygen_key(&sb, "mine", "ed25519", None);
    ssh_add(&sb, &agent, &[private.to_str().unwrap()]).success();
    // Open the way to the socket, so that only the agent's own peer check stands in between.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&agent.socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let nobody = support::run(std::process::Command::new("id").args(["-u", "nobody"]), "").success().stdout;
    let nobody = nobody.trim();

    let mut cmd = sb.command("runuser");
    cmd.args(["-u", "nobody", "--", "ssh-add", "-l"]).env("SSH_AUTH_SOCK", &agent.socket);
    let theirs = support::clients::run_for(&mut cmd, "", Duration::from_secs(30));
    assert!(!theirs.ok(), "{theirs:?}");
    assert!(!theirs.stdout.contains("no identities") && !theirs.stdout.contains("SHA256:"), "{theirs:?}");
    // The agent closes the connection unread (as ssh-agent does): ssh-add either reads the
    // end of file or, when its request is still being written, dies of SIGPIPE (runuser says so).
    assert!(
        theirs.stderr.contains("error fetching identities: communication with agent failed")
            || theirs.stderr.contains("Broken pipe"),
        "{theirs:?}"
    );
    assert!(
        agent.log().contains(&format!("refused a connection from uid {nobody}")),
        "the agent did not log the refusal:\n{}",
        agent.log()
    );
    // The same socket still serves its own user.
    assert_eq!(listed(&sb, &agent).len(), 1);
}
