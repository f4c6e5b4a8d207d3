//! The agent answers real ssh-add: the smallest end-to-end check (the full client suite is in
//! agent_clients.rs).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use support::{AgentProcess, Sandbox, mode};

#[test]
fn ssh_add_lists_adds_and_removes_through_latchkey_agent() {
    let sb = Sandbox::new();
    let agent = AgentProcess::start(&sb, &[]);
    assert_eq!(mode(&agent.socket), 0o600);
    let empty = sb.tool_agent(&agent, "ssh-add", &["-l"], "");
    assert_eq!(empty.status, Some(1), "{empty:?}");
    assert!(empty.stdout.contains("no identities"));
    sb.tool("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-C", "smoke", "-f", "k"]).success();
    sb.tool_agent(&agent, "ssh-add", &["k"], "").success();
    let listed = sb.tool_agent(&agent, "ssh-add", &["-l"], "").success();
    let theirs = sb.tool("ssh-keygen", &["-l", "-f", "k.pub"]).success();
    assert_eq!(listed.stdout, theirs.stdout);
    sb.tool_agent(&agent, "ssh-add", &["-D"], "").success();
    assert_eq!(sb.tool_agent(&agent, "ssh-add", &["-l"], "").status, Some(1));
    let socket = agent.socket.clone();
    assert_eq!(agent.stop(), Some(0));
    assert!(!socket.exists(), "a clean shutdown removes the socket");
}

#[test]
fn a_second_agent_never_takes_over_a_live_socket() {
    let sb = Sandbox::new();
    let first = AgentProcess::start(&sb, &[]);
    let second = sb.latchkey(&["agent", "-D", "-a", first.socket.to_str().unwrap()], "").failure();
    assert!(second.stderr.contains("another agent is already serving"), "{}", second.stderr);
    assert!(second.stderr.contains(first.socket.to_str().unwrap()), "the message names the socket: {}", second.stderr);
    assert!(second.stderr.contains(&format!("pid {}", first.pid())), "and the running agent: {}", second.stderr);
    // The first agent still answers.
    assert_eq!(sb.tool_agent(&first, "ssh-add", &["-l"], "").status, Some(1));
}

/// SIGTERM to a pid we started, when dropped.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").arg(self.0.to_string()).status();
    }
}

#[test]
fn a_stale_socket_is_replaced_and_the_shell_lines_follow_ssh_agent() {
    let sb = Sandbox::new();
    let socket = sb.path("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap()); // leaves a dead socket file
    for (flag, expected) in [
        (
            "-s",
            "SSH_AUTH_SOCK={S}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID={P}; export SSH_AGENT_PID;\necho Agent pid {P};\n",
        ),
        ("-c", "setenv SSH_AUTH_SOCK {S};\nsetenv SSH_AGENT_PID {P};\necho Agent pid {P};\n"),
        ("--fish", "set -x SSH_AUTH_SOCK {S};\nset -x SSH_AGENT_PID {P};\necho Agent pid {P};\n"),
    ] {
        // Without -D the agent forks into the background, like ssh-agent.
        let out = sb.latchkey(&["agent", flag, "-a", socket.to_str().unwrap()], "").success();
        let pid: u32 = out
            .stdout
            .lines()
            .last()
            .and_then(|l| l.strip_prefix("echo Agent pid "))
            .and_then(|l| l.trim_end_matches(';').parse().ok())
            .expect("a pid in the output");
        // Stopped even if an assertion below fails: a test never leaves its agent running.
        let _daemon = KillOnDrop(pid);
        let expected = expected.replace("{S}", socket.to_str().unwrap()).replace("{P}", &pid.to_string());
        assert_eq!(out.stdout, expected);
        let mut cmd = sb.command("ssh-add");
        cmd.arg("-l").env("SSH_AUTH_SOCK", &socket);
        assert_eq!(support::run(&mut cmd, "").status, Some(1), "the background agent answers");
        std::process::Command::new("kill").arg(pid.to_string()).status().unwrap();
        for _ in 0..100 {
            if !socket.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(!socket.exists(), "SIGTERM removes the socket");
    }
}

#[test]
fn the_agent_refuses_a_world_writable_socket_directory() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let dir = sb.path("shared");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = sb.latchkey(&["agent", "-D", "-a", dir.join("agent.sock").to_str().unwrap()], "").failure();
    assert!(out.stderr.contains("writable by other users"), "{}", out.stderr);
}

#[test]
fn sigint_stops_the_agent_and_removes_its_socket() {
    let sb = Sandbox::new();
    let agent = AgentProcess::start(&sb, &[]);
    assert_eq!(sb.tool_agent(&agent, "ssh-add", &["-l"], "").status, Some(1), "the agent answers");
    let socket = agent.socket.clone();
    // Ctrl-C on `latchkey agent -D` in a terminal: a clean stop, as for SIGTERM.
    assert_eq!(agent.stop_with("INT"), Some(0));
    assert!(!socket.exists(), "SIGINT removes the socket");
}

#[test]
fn the_default_socket_directory_is_made_private_if_it_exists_already() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let runtime = sb.path("runtime");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    // As another tool, or an older version, would leave it with a 022 umask.
    let dir = runtime.join("latchkey");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();

    let agent = AgentProcess::start_default(&sb, &runtime, &[]);
    assert_eq!(agent.socket, dir.join("agent.sock"));
    assert!(agent.socket.exists(), "the agent serves its default socket");
    assert_eq!(mode(&dir), 0o700, "the directory is tightened");
    assert_eq!(mode(&agent.socket), 0o600);
    assert!(agent.log().contains(&format!("{} was mode 0755; made it 0700", dir.display())), "{}", agent.log());
    sb.tool("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-C", "default", "-f", "k"]).success();
    sb.tool_agent(&agent, "ssh-add", &["k"], "").success();
    let listed = sb.tool_agent(&agent, "ssh-add", &["-l"], "").success();
    assert_eq!(listed.stdout, sb.tool("ssh-keygen", &["-l", "-f", "k.pub"]).success().stdout);
    let socket = agent.socket.clone();
    assert_eq!(agent.stop(), Some(0));
    assert!(!socket.exists());
}

#[test]
fn use_for_all_apps_writes_a_block_ssh_reads_and_undo_restores_the_file() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path("home/.ssh")).unwrap();
    let config = sb.path("home/.ssh/config");
    let original = "Host example\n    User someone\n";
    std::fs::write(&config, original).unwrap();
    let socket = sb.path("agent.sock");
    sb.latchkey(&["integrate", "on", "-a", socket.to_str().unwrap()], "").success();
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with(original), "{text}");
    // The real ssh reads the block: every host now uses the Latchkey agent.
    let resolved = sb.tool("ssh", &["-G", "-F", config.to_str().unwrap(), "any.example.org"]).success();
    let expected = format!("identityagent {}", socket.display());
    assert!(resolved.stdout.lines().any(|l| l == expected), "{}", resolved.stdout);
    let env_file = sb.path("home/.config/environment.d/50-latchkey.conf");
    assert_eq!(std::fs::read_to_string(&env_file).unwrap(), format!("SSH_AUTH_SOCK={}\n", socket.display()));
    sb.latchkey(&["integrate", "on", "-a", socket.to_str().unwrap()], "").success();
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text, "turning it on twice changes nothing");

    let status = sb.latchkey(&["integrate", "status"], "").success();
    assert!(status.stdout.contains("All apps use the Latchkey agent"), "{}", status.stdout);
    sb.latchkey(&["integrate", "off"], "").success();
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original, "undo restores the file byte for byte");
    assert!(!env_file.exists());
}
