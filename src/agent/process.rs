//! Who is asking: the chain of processes behind a connection, from the peer's pid (SO_PEERCRED)
//! up through its parents to the terminal's shell or the desktop app that started it.

use serde::Serialize;

/// One process in the chain.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProcessInfo {
    pub pid: u32,
    /// The executable's path (`/proc/PID/exe`), or its name if that is unreadable.
    pub exe: String,
    /// The command line, arguments separated by spaces.
    pub command: String,
}

/// The peer first, then its ancestors.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProcessChain {
    pub processes: Vec<ProcessInfo>,
    /// The last process of the chain (the terminal's shell, or the app) as pid and start time,
    /// which together name one process for its whole life: a reused pid has another start time.
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    anchor: Option<(u32, u64)>,
}

/// Where a request comes from, for standing "allow" answers: the same program started from the
/// same terminal session or app. A grant for `ssh` in one terminal tab does not cover `ssh` in
/// another, nor an `ssh` some other app runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    exe: String,
    anchor: (u32, u64),
}

/// How far up to walk: the client, its wrapper (git, scp), the shell, the terminal.
const MAX_DEPTH: usize = 6;
const MAX_COMMAND: usize = 512;

impl ProcessChain {
    /// Read the chain of `pid` from /proc. Processes that vanish part-way end the chain.
    pub fn of(pid: u32) -> Self {
        let mut processes = Vec::new();
        let mut anchor = None;
        let mut next = Some(pid);
        while let Some(pid) = next.filter(|&p| p > 1) {
            let Some((info, parent, session_leader, started)) = read(pid) else { break };
            anchor = Some((pid, started));
            processes.push(info);
            // The session leader is the shell in a terminal (or the login session): stop there.
            if session_leader || processes.len() >= MAX_DEPTH {
                break;
            }
            next = Some(parent);
        }
        Self { processes, anchor }
    }

    /// The program that asked (the peer's executable).
    pub fn client(&self) -> Option<&ProcessInfo> {
        self.processes.first()
    }

    /// The program and the session or app it runs under; None when /proc could not tell.
    pub fn origin(&self) -> Option<Origin> {
        let exe = self.client()?.exe.clone();
        Some(Origin { exe, anchor: self.anchor? })
    }

    /// "ssh (pid 123) ← git (pid 120) ← bash (pid 100)": for prompts and logs.
    pub fn summary(&self) -> String {
        if self.processes.is_empty() {
            return "an unknown process".into();
        }
        self.processes.iter().map(|p| format!("{} (pid {})", short_name(&p.exe), p.pid)).collect::<Vec<_>>().join(" ← ")
    }
}

fn short_name(exe: &str) -> &str {
    exe.rsplit('/').next().unwrap_or(exe)
}

/// One process: its facts, its parent, whether it leads its session, and its start time (in
/// clock ticks after boot, field 22 of /proc/PID/stat).
fn read(pid: u32) -> Option<(ProcessInfo, u32, bool, u64)> {
    let dir = format!("/proc/{pid}");
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    // "pid (comm) state ppid pgrp session ...": comm may contain spaces and parentheses.
    let close = stat.rfind(')')?;
    let comm = stat.get(stat.find('(')? + 1..close)?.to_owned();
    let mut fields = stat.get(close + 2..)?.split_whitespace();
    let _state = fields.next()?;
    let parent: u32 = fields.next()?.parse().ok()?;
    let _pgrp = fields.next()?;
    let session: u32 = fields.next()?.parse().ok()?;
    // Fields 7 to 21 (tty_nr .. itrealvalue), then starttime.
    let started: u64 = fields.nth(15)?.parse().ok()?;
    let exe = std::fs::read_link(format!("{dir}/exe")).map(|p| p.display().to_string()).unwrap_or(comm);
    let command = std::fs::read(format!("{dir}/cmdline"))
        .map(|raw| {
            let mut text: String = raw
                .split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            if text.len() > MAX_COMMAND {
                let mut cut = MAX_COMMAND;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push('…');
            }
            text
        })
        .unwrap_or_default();
    Some((ProcessInfo { pid, exe, command }, parent, session == pid, started))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_chain_starts_with_this_test_binary() {
        let chain = ProcessChain::of(std::process::id());
        let me = chain.client().unwrap();
        assert_eq!(me.pid, std::process::id());
        assert!(me.exe.contains("latchkey"), "{me:?}");
        assert!(chain.summary().contains(&format!("pid {}", std::process::id())));
        assert!(ProcessChain::of(u32::MAX).processes.is_empty());
        assert!(ProcessChain::of(u32::MAX).origin().is_none());
    }

    #[test]
    fn an_origin_is_the_program_and_the_process_it_runs_under() {
        let me = ProcessChain::of(std::process::id());
        let again = ProcessChain::of(std::process::id());
        assert_eq!(me.origin(), again.origin());
        let origin = me.origin().unwrap();
        let last = me.processes.last().unwrap();
        assert_eq!(origin.anchor.0, last.pid);
        // The start time is read (field 22): this process started after boot, a nonzero tick
        // count for everything but the first processes of the machine.
        assert!(me.processes.len() == 1 || origin.anchor.1 > 0, "{origin:?}");

        // A child started from here has another program or another anchor.
        let mut child = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        let theirs = ProcessChain::of(child.id());
        let _ = child.kill();
        let _ = child.wait();
        assert_ne!(theirs.origin(), me.origin());
    }
}
