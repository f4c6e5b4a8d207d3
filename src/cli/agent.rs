//! `latchkey agent`: the headless agent, started like ssh-agent.
//!
//! `latchkey agent [-a SOCKET] [-D] [-t LIFE] [-s | -c | --fish]`: without -D it forks into the
//! background and prints the shell lines that point SSH_AUTH_SOCK at it, as ssh-agent does.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::CliError;
use crate::agent::approval::Askpass;
use crate::agent::{self, Agent, AgentOptions, NoObserver, server};
use crate::store::KeyStore;

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Bind the agent to this socket (default: $XDG_RUNTIME_DIR/latchkey/agent.sock).
    #[arg(short = 'a', value_name = "SOCKET")]
    socket: Option<PathBuf>,
    /// Stay in the foreground.
    #[arg(short = 'D')]
    foreground: bool,
    /// Default lifetime of keys (seconds, or 30m, 1h, 1h30m, 2d).
    #[arg(short = 't', value_name = "LIFE", value_parser = parse_lifetime)]
    lifetime: Option<Duration>,
    /// Forget decrypted store keys after this long without use (e.g. 15m).
    #[arg(long, value_name = "IDLE", value_parser = parse_lifetime)]
    idle_lock: Option<Duration>,
    /// Print Bourne shell commands (the default).
    #[arg(short = 's', conflicts_with_all = ["csh", "fish"])]
    sh: bool,
    /// Print C shell commands.
    #[arg(short = 'c', long = "csh", conflicts_with = "fish")]
    csh: bool,
    /// Print fish commands.
    #[arg(long)]
    fish: bool,
    /// Extra known_hosts files that name destinations (besides ~/.ssh/known_hosts).
    #[arg(long = "known-hosts", value_name = "FILE")]
    known_hosts: Vec<PathBuf>,
}

/// ssh-agent's time format: seconds, or numbers with s, m, h, d, w suffixes ("1h30m").
pub fn parse_lifetime(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid lifetime {text:?}: use seconds or a time such as 30m, 1h, 1h30m, 2d");
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = total.checked_add(n.checked_mul(unit).ok_or_else(bad)?).ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() {
        total = total.checked_add(number.parse::<u64>().map_err(|_| bad())?).ok_or_else(bad)?;
    }
    if total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

fn shell_lines(args: &AgentArgs, socket: &std::path::Path, pid: u32) -> String {
    let sock = socket.display();
    if args.csh {
        format!("setenv SSH_AUTH_SOCK {sock};\nsetenv SSH_AGENT_PID {pid};\necho Agent pid {pid};\n")
    } else if args.fish {
        format!("set -x SSH_AUTH_SOCK {sock};\nset -x SSH_AGENT_PID {pid};\necho Agent pid {pid};\n")
    } else {
        format!(
            "SSH_AUTH_SOCK={sock}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID={pid}; export SSH_AGENT_PID;\necho Agent pid {pid};\n"
        )
    }
}

pub fn run(args: AgentArgs) -> Result<(), CliError> {
    let socket = args.socket.clone().unwrap_or_else(server::default_socket);
    let socket = std::path::absolute(&socket).unwrap_or(socket);
    // Bind before forking, so "another agent is running" is reported to the caller.
    let (listener, guard) = server::bind(&socket).map_err(|e| CliError::Other(e.to_string()))?;
    let store = KeyStore::open_default();
    let mut known_hosts = agent::hosts_files();
    known_hosts.extend(args.known_hosts.iter().cloned());
    let options = AgentOptions {
        default_lifetime: args.lifetime,
        idle_lock: args.idle_lock,
        idle_action: agent::IdleAction::ForgetKeys,
        known_hosts,
        activity_file: Some(store.root().join("activity.jsonl")),
    };
    if args.foreground {
        print!("{}", shell_lines(&args, &socket, std::process::id()));
    } else {
        if let Some(child) = daemonize(&store)? {
            print!("{}", shell_lines(&args, &socket, child));
            // The child owns the socket now: do not let our guard remove it.
            std::mem::forget(guard);
            return Ok(());
        }
    }
    let hardening = agent::memory::harden(true);
    if let Some(note) = &hardening.note {
        eprintln!("latchkey agent: {note}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the agent's runtime: {e}")))?;
    let result = runtime.block_on(async move {
        let askpass = Arc::new(Askpass::from_env());
        let agent = Agent::new(Some(Arc::new(store)), askpass.clone(), askpass, Arc::new(NoObserver), options);
        // Lifetimes (-t, ssh-add -t) and the idle lock must wipe decrypted keys on time, not at
        // the next request, which may never come (ssh-agent reaps on a timer too). The desktop
        // shell has its own ticker.
        let ticking = agent.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                ticking.tick();
            }
        });
        eprintln!("latchkey agent: serving {} (pid {})", socket.display(), std::process::id());
        server::serve(listener, agent, shutdown_signal()).await
    });
    drop(guard);
    eprintln!("latchkey agent: stopped");
    result.map_err(|e| CliError::Other(e.to_string()))
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        // Without signal handlers, serve until killed.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// Fork into the background: returns the child's pid in the parent, `None` in the child (which
/// is then a session leader with stdio on /dev/null and stderr appended to agent.log).
#[allow(unsafe_code)]
fn daemonize(store: &KeyStore) -> Result<Option<u32>, CliError> {
    use std::os::fd::AsRawFd;
    let log_path = store.root().join("agent.log");
    let _ = crate::fsutil::create_private_dir(store.root());
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).ok();
    let null = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null").ok();
    // SAFETY: no other threads exist yet (the runtime starts after this), so fork is safe; the
    // child only calls async-signal-safe functions before returning to single-threaded Rust.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(CliError::Other(format!("cannot fork the agent: {}", std::io::Error::last_os_error()))),
        0 => {
            // SAFETY: plain syscalls on descriptors we own.
            unsafe {
                libc::setsid();
                if let Some(null) = &null {
                    libc::dup2(null.as_raw_fd(), 0);
                    libc::dup2(null.as_raw_fd(), 1);
                }
                match &log {
                    Some(log) => libc::dup2(log.as_raw_fd(), 2),
                    None => null.as_ref().map(|n| libc::dup2(n.as_raw_fd(), 2)).unwrap_or(0),
                };
            }
            Ok(None)
        }
        child => Ok(Some(child as u32)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_in_ssh_agent_format() {
        assert_eq!(parse_lifetime("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_lifetime("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_lifetime("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_lifetime("0").is_err());
        assert!(parse_lifetime("5x").is_err());
        assert!(parse_lifetime("").is_err());
    }
}
