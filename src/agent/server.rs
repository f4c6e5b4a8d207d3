//! The agent's Unix socket: bound privately, never clobbering a live agent, one task per
//! connection, peers of other users refused (SO_PEERCRED).

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

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

#[allow(unsafe_code)]
fn peer_pid_std(stream: &std::os::unix::net::UnixStream) -> Option<i32> {
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
    (rc == 0 && cred.pid > 0).then_some(cred.pid)
}

/// Accept connections until `shutdown` completes. A failed accept (too many open files, say) is
/// logged and retried after a pause, never fatal. Must run inside a Tokio runtime.
pub async fn serve(
    listener: std::os::unix::net::UnixListener,
    agent: Agent,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServeError> {
    let listener = UnixListener::from_std(listener).map_err(|source| ServeError::Io {
        op: "listen on",
        path: PathBuf::from("the agent socket"),
        source,
    })?;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let agent = agent.clone();
                    tokio::spawn(async move { connection(stream, agent).await });
                }
                Err(e) => {
                    eprintln!("latchkey agent: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    Ok(())
}

async fn connection(stream: UnixStream, agent: Agent) {
    let cred = match stream.peer_cred() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("latchkey agent: cannot read the peer's credentials, closing: {e}");
            return;
        }
    };
    if cred.uid() != uid() {
        eprintln!("latchkey agent: refused a connection from uid {} (pid {:?}): not our user", cred.uid(), cred.pid());
        return;
    }
    let mut conn = Connection::new(cred.pid().and_then(|p| u32::try_from(p).ok()));
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::with_capacity(16 * 1024, read);
    let mut message = zeroize::Zeroizing::new(Vec::new());
    let mut out = Vec::with_capacity(1024);
    loop {
        match wire::read_frame(&mut reader, &mut message).await {
            Ok(()) => {}
            Err(FrameError::Closed) => return,
            Err(FrameError::BadLength(len)) => {
                eprintln!("latchkey agent: closing a connection that sent a {len}-byte message length");
                return;
            }
            Err(FrameError::Io(_)) => return,
        }
        let reply = agent.handle(&mut conn, &message).await;
        out.clear();
        wire::frame(&reply, &mut out);
        if write.write_all(&out).await.is_err() {
            return;
        }
        // Large buffers (an RSA-8192 add) are not kept per idle connection.
        if message.capacity() > 64 * 1024 {
            *message = Vec::new();
        }
    }
}
