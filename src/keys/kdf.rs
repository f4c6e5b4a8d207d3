//! Passphrase protection of OpenSSH private keys: aes256-ctr with a bcrypt-pbkdf key, the same
//! scheme and parameters ssh-keygen uses, so every key Latchkey writes opens with OpenSSH.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ssh_key::rand_core::{OsRng, RngCore};
use ssh_key::{Cipher, Kdf, PrivateKey};

use super::{KeyError, Passphrase};

/// ssh-keygen's default number of bcrypt-pbkdf rounds (`-a 16`).
pub const STANDARD_ROUNDS: u32 = 16;
/// What "strong" aims for: one unlock costs about this much CPU time on this machine, as
/// password-hashing guidance (OWASP, RFC 9106) suggests for interactive logins.
pub const STRONG_TARGET: Duration = Duration::from_millis(500);
/// Bounds for a calibrated round count: never weaker than standard, never so slow that a slow
/// measurement locks the user out for minutes.
const STRONG_MIN_ROUNDS: u32 = 32;
const STRONG_MAX_ROUNDS: u32 = 2048;
/// The salt length ssh-keygen uses.
const SALT_LEN: usize = 16;

/// How hard a passphrase-protected key is to brute-force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum KdfStrength {
    /// 16 rounds, what ssh-keygen does.
    #[default]
    Standard,
    /// Rounds calibrated on this machine so that one unlock takes about half a second.
    Strong,
}

impl KdfStrength {
    /// The bcrypt-pbkdf round count this strength means on this machine. `Strong` measures the
    /// KDF, so it takes a fraction of a second.
    pub fn rounds(self) -> u32 {
        match self {
            KdfStrength::Standard => STANDARD_ROUNDS,
            KdfStrength::Strong => calibrate_rounds(STRONG_TARGET),
        }
    }
}

/// The round count that makes one unlock (a 48-byte aes256-ctr key and IV) take about `target`
/// of CPU time here, within [`STRONG_MIN_ROUNDS`, `STRONG_MAX_ROUNDS`].
pub fn calibrate_rounds(target: Duration) -> u32 {
    const PROBE_ROUNDS: u32 = 8;
    let salt = [0x5a_u8; SALT_LEN];
    let mut out = [0u8; 48];
    // The fastest of three probes: the machine is shared, and noise only ever makes a probe slower.
    let per_round = (0..3)
        .map(|_| {
            let start = Instant::now();
            // bcrypt_pbkdf only fails for empty output or zero rounds, neither of which happens here.
            let _ = bcrypt_pbkdf::bcrypt_pbkdf("calibration", &salt, PROBE_ROUNDS, &mut out);
            start.elapsed() / PROBE_ROUNDS
        })
        .min()
        .unwrap_or(Duration::from_millis(8));
    let rounds = target.as_secs_f64() / per_round.as_secs_f64().max(1e-6);
    (rounds.round() as u32).clamp(STRONG_MIN_ROUNDS, STRONG_MAX_ROUNDS)
}

/// Encrypt an unencrypted key with `passphrase`, `rounds` bcrypt-pbkdf rounds and a fresh salt.
pub fn encrypt(key: &PrivateKey, passphrase: &Passphrase, rounds: u32) -> Result<PrivateKey, KeyError> {
    if rounds == 0 {
        return Err(KeyError::Crypto("bcrypt-pbkdf needs at least one round".into()));
    }
    let mut salt = vec![0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    let kdf = Kdf::Bcrypt { salt, rounds };
    key.encrypt_with(Cipher::Aes256Ctr, kdf, OsRng.next_u32(), passphrase.expose().as_bytes())
        .map_err(|e| KeyError::Crypto(format!("encrypting the key: {e}")))
}

/// Protect `key` with `passphrase` (`None`: store it unencrypted, which the caller asked for).
pub fn protect(key: &PrivateKey, passphrase: Option<&Passphrase>, rounds: u32) -> Result<PrivateKey, KeyError> {
    match passphrase {
        Some(p) if !p.is_empty() => encrypt(key, p, rounds),
        _ => Ok(key.clone()),
    }
}

/// Decrypt an encrypted key. An unencrypted key is returned as it is.
pub fn decrypt(key: &PrivateKey, passphrase: &Passphrase) -> Result<PrivateKey, KeyError> {
    if !key.is_encrypted() {
        return Ok(key.clone());
    }
    match key.decrypt(passphrase.expose().as_bytes()) {
        Ok(key) => Ok(key),
        // A wrong key makes the two check integers differ: that is how OpenSSH detects it too.
        Err(ssh_key::Error::Crypto) => Err(KeyError::WrongPassphrase),
        // ssh-key 0.6 rejects some keys OpenSSH writes (short ECDSA scalars); the importer's own
        // openssh-key-v1 parser reads them.
        Err(_) => {
            let text = super::to_openssh(key)?;
            Ok(super::import::import(text.as_bytes(), Some(passphrase))?.key)
        }
    }
}

/// The bcrypt-pbkdf rounds an encrypted key was written with (`None` if it is not encrypted).
pub fn rounds_of(key: &PrivateKey) -> Option<u32> {
    match key.kdf() {
        Kdf::Bcrypt { rounds, .. } => Some(*rounds),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeySpec, generate};

    #[test]
    fn encrypt_then_decrypt_round_trips_and_wrong_passphrase_is_named() {
        let key = generate(&KeySpec::default(), "me@host").unwrap();
        let locked = encrypt(&key, &Passphrase::new("right"), 4).unwrap();
        assert!(locked.is_encrypted());
        assert_eq!(rounds_of(&locked), Some(4));
        let opened = decrypt(&locked, &Passphrase::new("right")).unwrap();
        assert_eq!(opened.key_data(), key.key_data());
        assert_eq!(opened.comment(), "me@host");
        let err = decrypt(&locked, &Passphrase::new("wrong")).unwrap_err();
        assert_eq!(err.code(), "wrong_passphrase");
    }

    #[test]
    fn calibration_stays_within_bounds_and_tracks_the_target() {
        let quick = calibrate_rounds(Duration::from_millis(1));
        assert_eq!(quick, STRONG_MIN_ROUNDS);
        let long = calibrate_rounds(Duration::from_secs(3600));
        assert_eq!(long, STRONG_MAX_ROUNDS);
    }
}
