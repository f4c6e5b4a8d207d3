//! The agent answers real ssh-add: the smallest end-to-end check (the full client suite is in
//! agent_clients.rs).

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
