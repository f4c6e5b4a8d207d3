//! Keeping decrypted keys out of swap and core dumps, where the OS allows it.
//!
//! - `PR_SET_DUMPABLE 0`: no core dumps and no ptrace attach by other processes of the same user.
//! - `mlockall(MCL_CURRENT | MCL_FUTURE)`: no page of the agent is swapped out. Only when the
//!   memlock limit is unlimited (or large enough for the whole agent), because with a small limit
//!   MCL_FUTURE makes later allocations fail. Otherwise the agent says it could not lock memory.
//!
//! Key material itself is zeroized when dropped (aws-lc clears its key objects on free).

/// What could be done, for the log line at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardening {
    pub no_dump: bool,
    pub memory_locked: bool,
    pub note: Option<String>,
}

/// Memory the agent may need locked: thread stacks, buffers and keys (64 MiB is ample).
const NEEDED_MEMLOCK: u64 = 64 << 20;

/// Harden the process; `lock_memory` also tries mlockall (the headless agent: small and all of it
/// worth keeping out of swap; not the desktop app, whose web view would pin hundreds of MiB).
#[allow(unsafe_code)]
pub fn harden(lock_memory: bool) -> Hardening {
    // SAFETY: prctl with PR_SET_DUMPABLE takes plain integers and touches no memory of ours.
    let no_dump = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } == 0;
    if !lock_memory {
        return Hardening { no_dump, memory_locked: false, note: None };
    }
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we pass.
    let have_limit = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) } == 0;
    let enough = have_limit && (limit.rlim_cur == libc::RLIM_INFINITY || limit.rlim_cur >= NEEDED_MEMLOCK);
    if !enough {
        let note = format!(
            "memory not locked (RLIMIT_MEMLOCK is {} KiB; raise it to {} MiB or unlimited to keep keys out of swap)",
            limit.rlim_cur / 1024,
            NEEDED_MEMLOCK >> 20
        );
        return Hardening { no_dump, memory_locked: false, note: Some(note) };
    }
    // SAFETY: mlockall takes flags only.
    let locked = unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) } == 0;
    let note = (!locked).then(|| format!("mlockall failed: {}", std::io::Error::last_os_error()));
    Hardening { no_dump, memory_locked: locked, note }
}
