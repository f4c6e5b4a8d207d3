//! Naming the destination of a session-bind from its host key, and matching "only for these
//! hosts" patterns against it.
//!
//! The host key a client binds to (session-bind@openssh.com) is looked up in known_hosts files
//! (`~/.ssh/known_hosts`, `/etc/ssh/ssh_known_hosts`, OpenSSH's sshd(8) "SSH_KNOWN_HOSTS FILE
//! FORMAT"). Plain entries give names such as `github.com` or `[127.0.0.1]:2222`; hashed entries
//! (`|1|salt|hash`, HashKnownHosts) can only be tested against literal patterns.

use std::path::PathBuf;

use hmac::{Hmac, Mac};
use sha1::Sha1;
use ssh_key::known_hosts::{HostPatterns, KnownHosts, Marker};
use ssh_key::public::KeyData;

use crate::keys::{self, FingerprintHash};

/// What known_hosts says about one host key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownHost {
    /// Plain names the key is recorded under (`host`, `[host]:port`).
    pub names: Vec<String>,
    /// Hashed names: (salt, HMAC-SHA1(salt, name)).
    pub hashed: Vec<(Vec<u8>, Vec<u8>)>,
    /// `SHA256:...` of the host key.
    pub fingerprint: String,
}

impl KnownHost {
    /// A label for prompts and logs: the first plain name, else the fingerprint.
    pub fn label(&self) -> String {
        match (self.names.first(), self.hashed.is_empty()) {
            (Some(name), _) => name.clone(),
            (None, false) => format!("a hashed known_hosts entry ({})", self.fingerprint),
            (None, true) => format!("an unknown host ({})", self.fingerprint),
        }
    }
}

/// The known_hosts files to consult: the user's and the system's.
pub fn default_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        files.push(PathBuf::from(home).join(".ssh/known_hosts"));
    }
    files.push(PathBuf::from("/etc/ssh/ssh_known_hosts"));
    files
}

/// Everything `files` say about `host_key` (revoked and CA lines are not names).
pub fn lookup(files: &[PathBuf], host_key: &KeyData) -> KnownHost {
    let mut found =
        KnownHost { fingerprint: keys::fingerprint(host_key, FingerprintHash::Sha256), ..KnownHost::default() };
    for file in files {
        let Ok(bytes) = crate::fsutil::read_limited(file, 64 << 20) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        for entry in KnownHosts::new(&text).flatten() {
            if entry.marker().is_some_and(|m| matches!(m, Marker::Revoked | Marker::CertAuthority)) {
                continue;
            }
            if entry.public_key().key_data() != host_key {
                continue;
            }
            match entry.host_patterns() {
                HostPatterns::Patterns(names) => {
                    found.names.extend(names.iter().filter(|n| !n.starts_with('!')).cloned());
                }
                HostPatterns::HashedName { salt, hash } => found.hashed.push((salt.clone(), hash.to_vec())),
            }
        }
    }
    found.names.dedup();
    found
}

/// Whether a key restricted to `patterns` may be used for `host`: a matching `!pattern` refuses,
/// otherwise any matching pattern allows. An empty list means "no restriction".
pub fn permitted(patterns: &[String], host: &KnownHost) -> bool {
    if patterns.is_empty() {
        return true;
    }
    let mut allowed = false;
    for pattern in patterns {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pattern.as_str()),
        };
        if matches(pattern, host) {
            if negated {
                return false;
            }
            allowed = true;
        }
    }
    allowed
}

/// One pattern against one host: a fingerprint (`SHA256:...`), a `[host]:port`, or a host glob
/// (`*.example.com`) that matches that host on any port.
fn matches(pattern: &str, host: &KnownHost) -> bool {
    if pattern.starts_with("SHA256:") {
        return pattern == host.fingerprint;
    }
    let pattern = pattern.to_ascii_lowercase();
    let plain = host.names.iter().any(|name| {
        let name = name.to_ascii_lowercase();
        if pattern.starts_with('[') {
            return glob(&pattern, &name);
        }
        let bare = match name.strip_prefix('[').and_then(|n| n.split_once("]:")) {
            Some((h, _port)) => h.to_owned(),
            None => name,
        };
        glob(&pattern, &bare)
    });
    plain || (is_literal(&pattern) && host.hashed.iter().any(|(salt, hash)| hashed_name(salt, &pattern) == *hash))
}

fn is_literal(pattern: &str) -> bool {
    !pattern.contains(['*', '?'])
}

fn hashed_name(salt: &[u8], name: &str) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(salt) else { return Vec::new() };
    mac.update(name.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// `*` and `?` globbing (OpenSSH match_pattern), iterative so hostile patterns stay linear-ish.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(names: &[&str]) -> KnownHost {
        KnownHost {
            names: names.iter().map(|s| s.to_string()).collect(),
            hashed: vec![],
            fingerprint: "SHA256:abc".into(),
        }
    }

    #[test]
    fn globs() {
        assert!(glob("*.example.com", "git.example.com"));
        assert!(!glob("*.example.com", "example.com"));
        assert!(glob("h?st", "host"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "acd"));
    }

    #[test]
    fn patterns_match_names_ports_and_fingerprints() {
        let h = host(&["[127.0.0.1]:2222", "build.example.com"]);
        assert!(permitted(&["127.0.0.1".into()], &h), "a bare host matches any port");
        assert!(permitted(&["[127.0.0.1]:2222".into()], &h));
        assert!(!permitted(&["[127.0.0.1]:22".into()], &h));
        assert!(permitted(&["*.example.com".into()], &h));
        assert!(permitted(&["SHA256:abc".into()], &h));
        assert!(!permitted(&["github.com".into()], &h));
        assert!(!permitted(&["*.example.com".into(), "!build.example.com".into()], &h));
        assert!(permitted(&[], &h));
    }

    #[test]
    fn hashed_entries_match_literal_patterns() {
        let salt = b"0123456789abcdefghij".to_vec();
        let h = KnownHost {
            names: vec![],
            hashed: vec![(salt.clone(), hashed_name(&salt, "github.com"))],
            fingerprint: "x".into(),
        };
        assert!(permitted(&["github.com".into()], &h));
        assert!(!permitted(&["gitlab.com".into()], &h));
        assert!(!permitted(&["git*.com".into()], &h), "globs cannot match hashed names");
    }
}
