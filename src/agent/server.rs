//! The agent's Unix socket: bound privately, never clobbering a live agent, one thread per
//! connection, peers of other users refused (SO_PEERCRED).

use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
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
    #[error("cannot {op} {path}: {source}")]
    Io { op: &'static str, path: PathBuf, source: io::Error },
}

impl ServeError {
    pub fn code(&self) -> &'static str {
        match self {
            ServeError::AnotherAgent { .. } => "agent_running",
            ServeError::NotASocket { .. } => "not_a_socket",
            ServeError::UnsafeDirectory { .. } => "unsafe_directory",
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
fn uid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

/// Removes the socket when the agent stops, if the path still holds our socket.
pub struct SocketGuard {
    path: PathBuf,
    inode: u64,
}

impl SocketGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.ino() == self.inode) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Bind `path` for serving: its directory is created 0700 (or must not be writable by others),
/// a socket a live agent answers on is never touched, a stale one is replaced, and the socket is
/// made 0600.
pub fn bind(path: &Path) -> Result<(std::os::unix::net::UnixListener, SocketGuard), ServeError> {
    fn io_err<'p>(op: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> ServeError + 'p {
        move |source| ServeError::Io { op, path: path.to_path_buf(), source }
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(io_err("create", dir))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io_err("set permissions on", dir))?;
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
    let inode = std::fs::symlink_metadata(path).map(|m| m.ino()).unwrap_or(0);
    Ok((listener, SocketGuard { path: path.to_path_buf(), inode }))
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
/// threads are kept for the next `ssh`; more than that end.
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
    let pool =
        Arc::new(Pool { listener, agent, runtime: tokio::runtime::Handle::current(), waiting: AtomicUsize::new(0) });
    Pool::spawn(&pool).map_err(|source| ServeError::Io {
        op: "serve",
        path: PathBuf::from("the agent socket"),
        source,
    })?;
    // The threads stay blocked in accept(2) when the agent stops: the process is exiting.
    shutdown.await;
    Ok(())
}

struct Pool {
    listener: std::os::unix::net::UnixListener,
    agent: Agent,
    runtime: tokio::runtime::Handle,
    /// Threads blocked in accept(2) right now.
    waiting: AtomicUsize,
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
            let accepted = self.listener.accept();
            // This thread is busy now: keep one other waiting for the next client.
            if self.waiting.fetch_sub(1, Ordering::AcqRel) == 1
                && let Err(e) = Pool::spawn(&self)
            {
                eprintln!("latchkey agent: cannot start a thread for the next connection: {e}");
            }
            match accepted {
                Ok((stream, _)) => connection(stream, &self.agent, &self.runtime),
                Err(e) => {
                    // EMFILE and the like: pause instead of spinning; never fatal.
                    eprintln!("latchkey agent: accept failed: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            if self.waiting.fetch_add(1, Ordering::AcqRel) >= SPARE_THREADS {
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                return;
            }
        }
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
    let _ = stream.set_nonblocking(false);
    let Ok(mut write) = stream.try_clone() else { return };
    let mut reader = std::io::BufReader::with_capacity(16 * 1024, stream);
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
