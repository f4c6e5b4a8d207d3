//! The agent's Unix socket: bound privately, never clobbering a live agent, one thread per
//! connection up to [`MAX_CONNECTIONS`], peers of other users refused (SO_PEERCRED).

use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::service::{Agent, Connection};
use super::wire::{self, FrameError};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "another agent is already serving {path}{}: stop it first, or choose another socket with -a",
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    AnotherAgent { path: PathBuf, pid: Option<i32> },
    #[error("{path} exists and is not a socket: remove it or choose another socket with -a")]
    NotASocket { path: PathBuf },
    #[error("the directory {dir} is writable by other users; an agent socket must live in a private directory")]
    UnsafeDirectory { dir: PathBuf },
    #[error(
        "the socket directory {dir} belongs to another user (uid {owner}): whoever owns it can replace the agent's \
         socket; remove it, or choose another socket with -a"
    )]
    ForeignDirectory { dir: PathBuf, owner: u32 },
    #[error("cannot {op} {path}: {source}")]
    Io { op: &'static str, path: PathBuf, source: io::Error },
}

impl ServeError {
    pub fn code(&self) -> &'static str {
        match self {
            ServeError::AnotherAgent { .. } => "agent_running",
            ServeError::NotASocket { .. } => "not_a_socket",
            ServeError::UnsafeDirectory { .. } => "unsafe_directory",
            ServeError::ForeignDirectory { .. } => "foreign_directory",
            ServeError::Io { .. } => "io_error",
        }
    }
}

/// The default socket: `$XDG_RUNTIME_DIR/latchkey/agent.sock`, else `/tmp/latchkey-UID/agent.sock`.
pub fn default_socket() -> PathBuf {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map(|d| PathBuf::from(d).join("latchkey"))
        .unwrap_or_else(|| PathBuf::from(format!("/tmp/latchkey-{}", uid())));
    base.join("agent.sock")
}

#[allow(unsafe_code)]
/// Our effective uid, read once (every connection is checked against it).
fn uid() -> u32 {
    static UID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    // SAFETY: geteuid has no preconditions.
    *UID.get_or_init(|| unsafe { libc::geteuid() })
}

/// Removes the socket when the agent stops, if the path still holds our socket.
pub struct SocketGuard {
    path: PathBuf,
    identity: Option<SocketIdentity>,
}

/// What tells our socket file from another agent's bound at the same path since: the inode alone
/// may be reused once ours is unlinked, the change time (set as we bind) hardly ever.
#[derive(Debug, PartialEq, Eq)]
struct SocketIdentity {
    dev: u64,
    ino: u64,
    ctime: (i64, i64),
}

impl SocketIdentity {
    fn of(path: &Path) -> Option<Self> {
        let m = std::fs::symlink_metadata(path).ok()?;
        m.file_type().is_socket().then(|| SocketIdentity {
            dev: m.dev(),
            ino: m.ino(),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}

impl SocketGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        if self.identity.is_some() && SocketIdentity::of(&self.path) == self.identity {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn io_err<'p>(op: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> ServeError + 'p {
    move |source| ServeError::Io { op, path: path.to_path_buf(), source }
}

/// Bind `path` for serving: its directory is created 0700 (or must not be writable by others),
/// a socket a live agent answers on is never touched, a stale one is replaced, and the socket is
/// made 0600. The default directory (see [`default_socket`]) is ours alone: made 0700 if it is
/// not, refused if another user owns it.
pub fn bind(path: &Path) -> Result<(std::os::unix::net::UnixListener, SocketGuard), ServeError> {
    let default = default_socket();
    let default_dir = default.parent().map(|d| std::path::absolute(d).unwrap_or_else(|_| d.to_path_buf()));
    bind_in(path, default_dir.as_deref())
}

/// [`bind`], with the default directory given (so tests need not change the environment).
fn bind_in(
    path: &Path,
    default_dir: Option<&Path>,
) -> Result<(std::os::unix::net::UnixListener, SocketGuard), ServeError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io_err("create", dir))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io_err("set permissions on", dir))?;
    } else if default_dir.is_some_and(|d| d == std::path::absolute(dir).as_deref().unwrap_or(dir)) {
        secure_default_dir(dir)?;
    }
    let meta = std::fs::metadata(dir).map_err(io_err("inspect", dir))?;
    // A directory others can write to lets them swap our socket; /tmp itself (sticky) is the
    // exception ssh-agent also relies on only for its private subdirectory, so refuse it too.
    if meta.mode() & 0o022 != 0 {
        return Err(ServeError::UnsafeDirectory { dir: dir.to_path_buf() });
    }
    if let Ok(existing) = std::fs::symlink_metadata(path) {
        if !existing.file_type().is_socket() {
            return Err(ServeError::NotASocket { path: path.to_path_buf() });
        }
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(stream) => {
                let pid = peer_pid_std(&stream);
                return Err(ServeError::AnotherAgent { path: path.to_path_buf(), pid });
            }
            // Nobody listens: a stale socket from an agent that died.
            Err(_) => std::fs::remove_file(path).map_err(io_err("remove the stale socket", path))?,
        }
    }
    let listener = std::os::unix::net::UnixListener::bind(path).map_err(io_err("bind", path))?;
    listener.set_nonblocking(true).map_err(io_err("configure", path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(io_err("set permissions on", path))?;
    Ok((listener, SocketGuard { path: path.to_path_buf(), identity: SocketIdentity::of(path) }))
}

/// The default directory exists already: made by an earlier run, by another tool with the umask's
/// 0755, or planted by another user (in `/tmp`, where anyone may create `latchkey-UID`). Whoever
/// owns the directory, or the link to it, can swap the socket under every client that trusts the
/// default path, so it must be ours; a mode that lets others look in (and connect before the
/// socket is 0600) is tightened, as it is our directory alone.
fn secure_default_dir(dir: &Path) -> Result<(), ServeError> {
    let link = std::fs::symlink_metadata(dir).map_err(io_err("inspect", dir))?;
    let meta = std::fs::metadata(dir).map_err(io_err("inspect", dir))?;
    if let Some(owner) = [link.uid(), meta.uid()].into_iter().find(|&o| o != uid()) {
        return Err(ServeError::ForeignDirectory { dir: dir.to_path_buf(), owner });
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io_err("set permissions on", dir))?;
        eprintln!(
            "latchkey agent: the socket directory {} was mode {:04o}; made it 0700",
            dir.display(),
            meta.mode() & 0o7777
        );
    }
    Ok(())
}

fn peer_pid_std(stream: &std::os::unix::net::UnixStream) -> Option<i32> {
    peer_cred(stream).map(|c| c.pid).filter(|&p| p > 0)
}

/// SO_PEERCRED: the uid and pid of the process at the other end (Linux unix(7)).
#[allow(unsafe_code)]
fn peer_cred(stream: &std::os::unix::net::UnixStream) -> Option<libc::ucred> {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `cred`, which is that large.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(cred)
}

/// Accept connections until `shutdown` completes. Must run inside a Tokio runtime.
///
/// Each connection is served by a thread with blocking I/O: the agent protocol is strictly
/// request then reply, so a thread asleep in `read` is woken by the kernel as the request arrives
/// and answers without any hop through an event loop (a sign round trip is mostly the signature
/// itself). Connections scale over the cores; the rare request that must wait (a prompt, the
/// unlock back-off) runs on the Tokio runtime from that thread.
///
/// The threads themselves wait in `accept(2)` (the pre-fork server pattern): a new connection
/// wakes exactly one of them, which serves it, after making sure another stays waiting. A few idle
/// threads are kept for the next `ssh`; more than that end. At most [`MAX_CONNECTIONS`] are
/// served at once; beyond that a new connection is closed as soon as it is accepted.
pub async fn serve(
    listener: std::os::unix::net::UnixListener,
    agent: Agent,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServeError> {
    listener.set_nonblocking(false).map_err(|source| ServeError::Io {
        op: "listen on",
        path: PathBuf::from("the agent socket"),
        source,
    })?;
    let pool = Arc::new(Pool {
        listener,
        agent,
        runtime: tokio::runtime::Handle::current(),
        waiting: AtomicUsize::new(0),
        admission: Admission::new(MAX_CONNECTIONS),
    });
    Pool::spawn(&pool).map_err(|source| ServeError::Io {
        op: "serve",
        path: PathBuf::from("the agent socket"),
        source,
    })?;
    // The threads stay blocked in accept(2) when the agent stops: the process is exiting.
    shutdown.await;
    Ok(())
}

/// Connections served at once. Each one holds a thread (a [`CONNECTION_STACK`] reserved, a few
/// pages of it used) and a 16 KiB read buffer, so without a cap a flood of idle connections grows
/// the agent without limit. One user's ssh, git, IDE and ssh-add together stay far below this;
/// past it, a new connection is accepted and closed at once (its client sees end-of-file), the
/// open ones are served on, and new ones are served again as soon as some end.
pub const MAX_CONNECTIONS: usize = 256;

struct Pool {
    listener: std::os::unix::net::UnixListener,
    agent: Agent,
    runtime: tokio::runtime::Handle,
    /// Threads free to accept the next connection (blocked in accept(2), or about to be).
    waiting: AtomicUsize,
    admission: Admission,
}

/// Idle threads kept for the next connections.
const SPARE_THREADS: usize = 4;

impl Pool {
    fn spawn(pool: &Arc<Pool>) -> io::Result<()> {
        let pool = pool.clone();
        pool.waiting.fetch_add(1, Ordering::AcqRel);
        let started = std::thread::Builder::new().name("latchkey-client".into()).stack_size(CONNECTION_STACK).spawn({
            let pool = pool.clone();
            move || pool.run()
        });
        if started.is_err() {
            pool.waiting.fetch_sub(1, Ordering::AcqRel);
        }
        started.map(|_| ())
    }

    /// Counted in `waiting` on entry.
    fn run(self: Arc<Self>) {
        loop {
            let stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // EMFILE and the like: pause instead of spinning; never fatal.
                    eprintln!("latchkey agent: accept failed: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            // Refused before any thread is started for it: this one goes straight back to accept.
            let slot = match self.admission.admit() {
                Ok(slot) => slot,
                Err(Refused { first }) => {
                    if first {
                        eprintln!(
                            "latchkey agent: {} connections are open, the most served at once; closing new ones \
                             until some end",
                            self.admission.limit
                        );
                    }
                    drop(stream);
                    continue;
                }
            };
            if slot.refused_before > 0 {
                eprintln!(
                    "latchkey agent: serving new connections again ({} closed at the limit)",
                    slot.refused_before
                );
            }
            // This thread is busy now: keep one other waiting for the next client.
            if self.waiting.fetch_sub(1, Ordering::AcqRel) == 1
                && let Err(e) = Pool::spawn(&self)
            {
                eprintln!("latchkey agent: cannot start a thread for the next connection: {e}");
            }
            connection(stream, &self.agent, &self.runtime);
            drop(slot);
            if self.waiting.fetch_add(1, Ordering::AcqRel) >= SPARE_THREADS {
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                return;
            }
        }
    }
}

/// Counts the connections being served against a limit, and the refusals of the current burst
/// (so a flood is logged once, not once per connection).
struct Admission {
    limit: usize,
    active: AtomicUsize,
    /// Connections closed at the limit since a connection was last admitted.
    refused: AtomicUsize,
}

/// A connection closed at the limit; `first` of its burst.
#[derive(Debug)]
struct Refused {
    first: bool,
}

/// A connection being served; the count goes down when it is dropped (a panic included).
#[derive(Debug)]
struct Slot<'a> {
    active: &'a AtomicUsize,
    /// Connections refused just before this one: a burst at the limit ended.
    refused_before: usize,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.active.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    fn new(limit: usize) -> Self {
        Admission { limit, active: AtomicUsize::new(0), refused: AtomicUsize::new(0) }
    }

    fn admit(&self) -> Result<Slot<'_>, Refused> {
        let counted =
            self.active.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.limit).then_some(n + 1));
        if counted.is_err() {
            return Err(Refused { first: self.refused.fetch_add(1, Ordering::AcqRel) == 0 });
        }
        Ok(Slot { active: &self.active, refused_before: self.refused.swap(0, Ordering::AcqRel) })
    }
}

/// A connection thread's stack: handling a message needs a few pages (RSA-8192 signing the most).
const CONNECTION_STACK: usize = 512 * 1024;

fn connection(stream: std::os::unix::net::UnixStream, agent: &Agent, runtime: &tokio::runtime::Handle) {
    let Some(cred) = peer_cred(&stream) else {
        eprintln!("latchkey agent: cannot read the peer's credentials, closing");
        return;
    };
    if cred.uid != uid() {
        eprintln!("latchkey agent: refused a connection from uid {} (pid {}): not our user", cred.uid, cred.pid);
        return;
    }
    let mut conn = Connection::new(u32::try_from(cred.pid).ok().filter(|&p| p > 0));
    // Blocking already: accept(2) on the blocking listener (see `serve`) gives a blocking socket.
    // Reads and writes share the one descriptor (`&UnixStream` is Read and Write): no dup(2).
    let mut write = &stream;
    let mut reader = std::io::BufReader::with_capacity(16 * 1024, &stream);
    let mut message = zeroize::Zeroizing::new(Vec::new());
    let mut out = Vec::with_capacity(1024);
    loop {
        match wire::read_frame(&mut reader, &mut message) {
            Ok(()) => {}
            Err(FrameError::Closed) => return,
            Err(FrameError::BadLength(len)) => {
                eprintln!("latchkey agent: closing a connection that sent a {len}-byte message length");
                return;
            }
            Err(FrameError::Io(_)) => return,
        }
        let reply = runtime.block_on(agent.handle(&mut conn, &message));
        out.clear();
        wire::frame(&reply, &mut out);
        if write.write_all(&out).is_err() {
            return;
        }
        // Large buffers (an RSA-8192 add) are not kept per idle connection.
        if message.capacity() > 64 * 1024 {
            *message = Vec::new();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn admission_caps_connections_and_counts_a_burst_once() {
        let admission = Admission::new(2);
        let a = admission.admit().unwrap();
        let b = admission.admit().unwrap();
        assert_eq!((a.refused_before, b.refused_before), (0, 0));
        assert!(admission.admit().unwrap_err().first, "the first refusal of a burst is logged");
        assert!(!admission.admit().unwrap_err().first, "the next ones are not");
        drop(a);
        let c = admission.admit().unwrap();
        assert_eq!(c.refused_before, 2, "the burst ends with the next admitted connection");
        assert!(admission.admit().unwrap_err().first, "a new burst is logged again");
        drop((b, c));
        assert_eq!(admission.active.load(Ordering::Acquire), 0);
    }

    #[test]
    fn the_guard_removes_our_socket_and_never_another_agents() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("agent.sock");
        let (listener, guard) = bind_in(&path, None).unwrap();
        drop((listener, guard));
        assert!(!path.exists(), "our socket is removed");

        let (listener, guard) = bind_in(&path, None).unwrap();
        // Ours was removed and another agent bound the same path (maybe on the same inode).
        drop(listener);
        std::fs::remove_file(&path).unwrap();
        let _theirs = std::os::unix::net::UnixListener::bind(&path).unwrap();
        drop(guard);
        assert!(path.exists(), "another agent's socket is left alone");
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn an_existing_default_directory_is_made_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("latchkey");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (_listener, guard) = bind_in(&dir.join("agent.sock"), Some(&dir)).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(guard.path()), 0o600);
    }

    #[test]
    fn another_directory_keeps_its_mode_if_only_we_can_write_to_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sockets");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let default = tmp.path().join("latchkey");
        let (_listener, _guard) = bind_in(&dir.join("agent.sock"), Some(&default)).unwrap();
        assert_eq!(mode(&dir), 0o755, "only the default directory is ours to change");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o775)).unwrap();
        let err = bind_in(&dir.join("other.sock"), Some(&default)).err().unwrap();
        assert_eq!(err.code(), "unsafe_directory");
    }

    #[test]
    fn a_default_directory_of_another_user_is_refused_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        // As root, a directory handed to `nobody`; otherwise `/`, which root owns (and nothing is
        // written there: the owner is checked first).
        let dir = if uid() == 0 {
            let dir = tmp.path().join("latchkey");
            std::fs::create_dir(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
            dir
        } else {
            PathBuf::from("/")
        };
        let before = mode(&dir);
        let err = bind_in(&dir.join("agent.sock"), Some(&dir)).err().unwrap();
        assert_eq!(err.code(), "foreign_directory");
        let text = err.to_string();
        assert!(text.contains(&dir.display().to_string()) && text.contains("another user"), "{text}");
        assert_eq!(mode(&dir), before);
        assert!(!dir.join("agent.sock").exists());
    }
}
