//! Careful file writes: temp file + fsync + rename, never clobbering unless asked, right modes.
//!
//! A key file is either completely written or not there at all: a crash, a full disk or a
//! read-only directory part-way through leaves the previous state untouched.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// What to do when a target file exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Fail with [`FsError::AlreadyExists`] and change nothing.
    Refuse,
    /// Replace it atomically (the user said so).
    Replace,
}

/// One file of a group written together.
pub struct FileSpec<'a> {
    pub path: &'a Path,
    pub contents: &'a [u8],
    /// Unix permission bits, e.g. 0o600 for a private key.
    pub mode: u32,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FsError {
    #[error("{path} already exists: choose another name, or remove it first")]
    AlreadyExists { path: PathBuf },
    #[error("cannot {op} {path}: permission denied")]
    PermissionDenied { op: &'static str, path: PathBuf },
    #[error("{path} does not exist")]
    NotFound { path: PathBuf },
    #[error("cannot write {path}: the directory {} does not exist", dir.display())]
    NoDirectory { path: PathBuf, dir: PathBuf },
    #[error("cannot {op} {path}: {source}")]
    Io { op: &'static str, path: PathBuf, source: io::Error },
    #[error("{path} is {size} bytes: larger than any file of this kind can be ({limit} bytes at most)")]
    TooLarge { path: PathBuf, size: u64, limit: u64 },
}

impl FsError {
    pub fn code(&self) -> &'static str {
        match self {
            FsError::AlreadyExists { .. } => "file_exists",
            FsError::PermissionDenied { .. } => "permission_denied",
            FsError::NotFound { .. } => "file_not_found",
            FsError::NoDirectory { .. } => "directory_not_found",
            FsError::Io { .. } => "io_error",
            FsError::TooLarge { .. } => "file_too_large",
        }
    }

    fn from_io(op: &'static str, path: &Path, source: io::Error) -> Self {
        let path = path.to_path_buf();
        match source.kind() {
            io::ErrorKind::AlreadyExists => FsError::AlreadyExists { path },
            io::ErrorKind::PermissionDenied => FsError::PermissionDenied { op, path },
            io::ErrorKind::NotFound if op == "write" => {
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                FsError::NoDirectory { path, dir }
            }
            io::ErrorKind::NotFound => FsError::NotFound { path },
            // A read-only file system is the same situation as a read-only directory to the user.
            _ if source.raw_os_error() == Some(libc::EROFS) => FsError::PermissionDenied { op, path },
            _ => FsError::Io { op, path, source },
        }
    }
}

/// Write one file atomically (see [`write_group`]).
pub fn write_file(path: &Path, contents: &[u8], mode: u32, overwrite: Overwrite) -> Result<(), FsError> {
    write_group(&[FileSpec { path, contents, mode }], overwrite)
}

/// Write a group of files (a private key and its `.pub`) so that either all of them end up in
/// place or none of the targets changes.
///
/// Every file is first written in full to a temp file beside its target and fsynced. With
/// [`Overwrite::Refuse`] each temp file is then hard-linked to its name, which fails atomically if
/// the name exists (no check-then-create race); files linked before a failure are removed again.
/// With [`Overwrite::Replace`] temp files are renamed over their targets.
pub fn write_group(files: &[FileSpec<'_>], overwrite: Overwrite) -> Result<(), FsError> {
    if overwrite == Overwrite::Refuse {
        for f in files {
            if f.path.symlink_metadata().is_ok() {
                return Err(FsError::AlreadyExists { path: f.path.to_path_buf() });
            }
        }
    }
    let mut temps: Vec<TempFile> = Vec::with_capacity(files.len());
    for f in files {
        temps.push(TempFile::write(f.path, f.contents, f.mode)?);
    }
    let mut placed: Vec<&Path> = Vec::new();
    for (temp, f) in temps.iter().zip(files) {
        let result = match overwrite {
            Overwrite::Refuse => fs::hard_link(&temp.path, f.path),
            Overwrite::Replace => fs::rename(&temp.path, f.path),
        };
        if let Err(e) = result {
            if overwrite == Overwrite::Refuse {
                for done in &placed {
                    let _ = fs::remove_file(done);
                }
            }
            return Err(FsError::from_io("write", f.path, e));
        }
        placed.push(f.path);
    }
    for f in files {
        sync_parent(f.path);
    }
    Ok(())
}

/// Read a whole file that must not exceed `limit` bytes, into a buffer wiped on drop.
pub fn read_limited(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>, FsError> {
    let file = File::open(path).map_err(|e| FsError::from_io("read", path, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limit {
        return Err(FsError::TooLarge { path: path.to_path_buf(), size, limit });
    }
    let mut buf = Zeroizing::new(Vec::with_capacity(size as usize));
    // `take` guards against files that grow while we read them (or /dev/zero).
    file.take(limit + 1).read_to_end(&mut buf).map_err(|e| FsError::from_io("read", path, e))?;
    if buf.len() as u64 > limit {
        return Err(FsError::TooLarge { path: path.to_path_buf(), size: buf.len() as u64, limit });
    }
    Ok(buf)
}

/// Create a directory (and parents) private to the user: 0700.
pub fn create_private_dir(dir: &Path) -> Result<(), FsError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| FsError::from_io("create directory", dir, e))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| FsError::from_io("set permissions on", dir, e))
}

/// Remove a file; a file that is already gone is not an error.
pub fn remove_file(path: &Path) -> Result<(), FsError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(FsError::from_io("remove", path, e)),
    }
}

/// A temp file next to its target that deletes itself unless it was renamed away.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn write(target: &Path, contents: &[u8], mode: u32) -> Result<Self, FsError> {
        let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut last_err = None;
        // A fresh random suffix per attempt; O_EXCL makes a collision an error, not a clobber.
        for _ in 0..8 {
            let suffix: u64 = rand_suffix();
            let path = dir.join(format!(".{name}.{suffix:016x}.tmp"));
            match OpenOptions::new().write(true).create_new(true).mode(mode).open(&path) {
                Ok(mut file) => {
                    let temp = TempFile { path };
                    // The mode passed to open() is filtered by the umask; set it exactly.
                    file.set_permissions(fs::Permissions::from_mode(mode))
                        .and_then(|()| file.write_all(contents))
                        .and_then(|()| file.sync_all())
                        .map_err(|e| FsError::from_io("write", target, e))?;
                    return Ok(temp);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
                Err(e) => return Err(FsError::from_io("write", target, e)),
            }
        }
        Err(FsError::from_io("write", target, last_err.unwrap_or_else(|| io::Error::other("temp name collisions"))))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // After a hard link or rename this only removes the temp name (or nothing).
        let _ = fs::remove_file(&self.path);
    }
}

fn rand_suffix() -> u64 {
    use ssh_key::rand_core::{OsRng, RngCore};
    OsRng.next_u64()
}

fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Durability of the rename itself; failure here leaves correct (if not yet durable) files.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn group_write_refuses_existing_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("id");
        let b = dir.path().join("id.pub");
        fs::write(&b, "old").unwrap();
        let err = write_group(
            &[
                FileSpec { path: &a, contents: b"new", mode: 0o600 },
                FileSpec { path: &b, contents: b"new", mode: 0o644 },
            ],
            Overwrite::Refuse,
        )
        .unwrap_err();
        assert_eq!(err.code(), "file_exists");
        assert_eq!(names(dir.path()), vec!["id.pub"]);
        assert_eq!(fs::read_to_string(&b).unwrap(), "old");
    }

    #[test]
    fn writes_with_exact_modes_and_replaces_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("id");
        write_file(&a, b"one", 0o600, Overwrite::Refuse).unwrap();
        assert_eq!(fs::metadata(&a).unwrap().permissions().mode() & 0o777, 0o600);
        write_file(&a, b"two", 0o600, Overwrite::Replace).unwrap();
        assert_eq!(fs::read_to_string(&a).unwrap(), "two");
        assert_eq!(names(dir.path()), vec!["id"]);
    }

    #[test]
    fn read_limited_refuses_huge_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("big");
        fs::write(&a, vec![b'x'; 100]).unwrap();
        assert_eq!(read_limited(&a, 99).unwrap_err().code(), "file_too_large");
        assert_eq!(read_limited(&a, 100).unwrap().len(), 100);
    }
}
