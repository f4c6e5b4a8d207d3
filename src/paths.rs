//! Where Latchkey keeps its state: `LATCHKEY_HOME` if set, else the platform directories.

use std::path::PathBuf;

/// The environment variable that relocates everything (tests, portable use).
pub const HOME_ENV: &str = "LATCHKEY_HOME";

/// The directory holding the key store and settings.
pub fn data_dir() -> PathBuf {
    if let Some(home) = std::env::var_os(HOME_ENV).filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    directories::ProjectDirs::from("dev", "Latchkey", "latchkey")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".latchkey"))
}

/// `user@hostname`, ssh-keygen's default key comment.
pub fn user_at_host() -> String {
    format!("{}@{}", user_name(), host_name())
}

pub fn host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// The login name of the current user (from the password database, like ssh-keygen's `pw_name`).
pub fn user_name() -> String {
    passwd_name().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "user".into())
}

#[allow(unsafe_code)]
fn passwd_name() -> Option<String> {
    // SAFETY: getpwuid_r writes into buffers we own and sized; the result pointer is checked.
    unsafe {
        let uid = libc::getuid();
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        Some(std::ffi::CStr::from_ptr(pwd.pw_name).to_string_lossy().into_owned())
    }
}
