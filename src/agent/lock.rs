//! Locking the agent with a password (SSH_AGENTC_LOCK / UNLOCK, `ssh-add -x` / `-X`).
//!
//! The password is never kept: Argon2id (RFC 9106, OWASP's 19 MiB / 2 passes) turns it and a
//! random salt into 64 bytes. The first 32 are a verifier, compared in constant time on unlock;
//! the other 32 are an AES-256-GCM key that seals the keys added with ssh-add (which exist only in
//! memory) while the agent is locked, and is then wiped. Store keys are simply forgotten: they
//! unlock again on demand. Repeated wrong passwords are slowed down.

use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::{Algorithm, Argon2, Params, Version};
use ssh_key::rand_core::{OsRng, RngCore};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

const SALT_LEN: usize = 16;

/// What is kept while the agent is locked: salt and verifier, never the password or the key.
#[derive(Clone)]
pub struct Locked {
    salt: [u8; SALT_LEN],
    verifier: [u8; 32],
}

/// A sealed secret (an ssh-add key's private half) while locked.
pub struct Sealed {
    nonce: [u8; 12],
    ciphertext: Vec<u8>,
}

fn derive(password: &[u8], salt: &[u8]) -> Option<Zeroizing<[u8; 64]>> {
    let params = Params::new(19 * 1024, 2, 1, Some(64)).ok()?;
    let mut out = Zeroizing::new([0u8; 64]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password_into(password, salt, &mut out[..]).ok()?;
    Some(out)
}

/// The sealing key while a lock or unlock is in progress; wiped on drop.
pub struct SealKey(Zeroizing<[u8; 32]>);

impl Locked {
    /// Lock with `password`: the verifier to keep and the key to seal with (then dropped).
    pub fn new(password: &[u8]) -> Option<(Self, SealKey)> {
        let mut salt = [0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        let okm = derive(password, &salt)?;
        let mut verifier = [0u8; 32];
        verifier.copy_from_slice(&okm[..32]);
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&okm[32..]);
        Some((Self { salt, verifier }, SealKey(key)))
    }

    /// The sealing key if `password` is the lock password (constant-time comparison).
    /// Whether `other` is this same lock (its random salt), not a later one.
    pub fn is(&self, other: &Locked) -> bool {
        self.salt == other.salt
    }

    pub fn open(&self, password: &[u8]) -> Option<SealKey> {
        let okm = derive(password, &self.salt)?;
        if bool::from(okm[..32].ct_eq(&self.verifier)) {
            let mut key = Zeroizing::new([0u8; 32]);
            key.copy_from_slice(&okm[32..]);
            Some(SealKey(key))
        } else {
            None
        }
    }
}

impl SealKey {
    pub fn seal(&self, plaintext: &[u8]) -> Option<Sealed> {
        let cipher = Aes256Gcm::new_from_slice(&self.0[..]).ok()?;
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = cipher.encrypt(Nonce::from_slice(&nonce), plaintext).ok()?;
        Some(Sealed { nonce, ciphertext })
    }

    pub fn open(&self, sealed: &Sealed) -> Option<Zeroizing<Vec<u8>>> {
        let cipher = Aes256Gcm::new_from_slice(&self.0[..]).ok()?;
        cipher.decrypt(Nonce::from_slice(&sealed.nonce), sealed.ciphertext.as_slice()).ok().map(Zeroizing::new)
    }
}

/// How long to wait before answering the `failures`-th wrong unlock in a row: 0.1 s more each
/// time, at most 10 s (as OpenSSH's ssh-agent does).
pub fn unlock_delay(failures: u32) -> Duration {
    Duration::from_millis(100 * u64::from(failures.min(100)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_password_unlocks_and_opens_the_seal() {
        let (locked, key) = Locked::new(b"lock pw").unwrap();
        let sealed = key.seal(b"private key bytes").unwrap();
        assert_ne!(sealed.ciphertext, b"private key bytes");
        drop(key);
        assert!(locked.open(b"wrong").is_none());
        let key = locked.open(b"lock pw").unwrap();
        assert_eq!(&key.open(&sealed).unwrap()[..], b"private key bytes");
    }

    #[test]
    fn delays_grow_and_are_capped() {
        assert_eq!(unlock_delay(1), Duration::from_millis(100));
        assert_eq!(unlock_delay(1000), Duration::from_secs(10));
    }
}
