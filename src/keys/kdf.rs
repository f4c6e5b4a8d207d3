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

/// The round count that makes one Latchkey unlock (a 48-byte aes256-ctr key and IV, computed on
/// two threads where there are two cores) take about `target` here, within
/// [`STRONG_MIN_ROUNDS`, `STRONG_MAX_ROUNDS`]. OpenSSH, which computes the two halves one after
/// the other, takes up to twice as long to open such a key.
pub fn calibrate_rounds(target: Duration) -> u32 {
    const PROBE_ROUNDS: u32 = 8;
    let salt = [0x5a_u8; SALT_LEN];
    let mut out = [0u8; 48];
    // The fastest of three probes: the machine is shared, and noise only ever makes a probe slower.
    let per_round = (0..3)
        .map(|_| {
            let start = Instant::now();
            // bcrypt_pbkdf only fails for empty inputs or zero rounds, none of which happens here.
            let _ = super::bcrypt::bcrypt_pbkdf(b"calibration", &salt, PROBE_ROUNDS, &mut out);
            start.elapsed() / PROBE_ROUNDS
        })
        .min()
        .unwrap_or(Duration::from_millis(8));
    let rounds = target.as_secs_f64() / per_round.as_secs_f64().max(1e-6);
    (rounds.round() as u32).clamp(STRONG_MIN_ROUNDS, STRONG_MAX_ROUNDS)
}

/// Encrypt an unencrypted key with `passphrase`, `rounds` bcrypt-pbkdf rounds and a fresh salt,
/// as ssh-keygen does: aes256-ctr, openssh-key-v1 (OpenSSH PROTOCOL.key).
///
/// The file is assembled here rather than by ssh-key so that the key derivation is our parallel
/// [`super::bcrypt`]; ssh-key then parses the result, which checks it.
pub fn encrypt(key: &PrivateKey, passphrase: &Passphrase, rounds: u32) -> Result<PrivateKey, KeyError> {
    use ssh_encoding::Encode;
    if key.is_encrypted() {
        return Err(KeyError::Crypto("the key is encrypted already".into()));
    }
    if rounds == 0 {
        return Err(KeyError::Crypto("bcrypt-pbkdf needs at least one round".into()));
    }
    let fail = |e: ssh_encoding::Error| KeyError::Crypto(format!("encoding the key: {e}"));
    let cipher = Cipher::Aes256Ctr;
    let mut salt = vec![0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    let kdf = Kdf::Bcrypt { salt, rounds };
    let (aes_key, iv) = super::bcrypt::derive_key_and_iv(&kdf, cipher, passphrase.expose().as_bytes())?;

    // private section: checkint checkint keypair comment padding(1, 2, 3, ...)
    let checkint = OsRng.next_u32();
    let mut section = zeroize::Zeroizing::new(Vec::new());
    checkint.encode(&mut *section).map_err(fail)?;
    checkint.encode(&mut *section).map_err(fail)?;
    key.key_data().encode(&mut *section).map_err(|e| KeyError::Crypto(format!("encoding the key: {e}")))?;
    key.comment().encode(&mut *section).map_err(fail)?;
    let mut pad = 1u8;
    while section.len() % cipher.block_size() != 0 {
        section.push(pad);
        pad += 1;
    }
    cipher.encrypt(&aes_key, &iv, &mut section).map_err(|e| KeyError::Crypto(format!("encrypting the key: {e}")))?;

    let mut blob = Vec::new();
    blob.extend_from_slice(b"openssh-key-v1\0");
    cipher.as_str().encode(&mut blob).map_err(fail)?;
    // Writes the KDF name ("bcrypt") and its options (salt, rounds) as one string.
    kdf.encode(&mut blob).map_err(|e| KeyError::Crypto(format!("encoding the KDF: {e}")))?;
    1u32.encode(&mut blob).map_err(fail)?;
    super::blob(key.public_key().key_data()).as_slice().encode(&mut blob).map_err(fail)?;
    section.as_slice().encode(&mut blob).map_err(fail)?;
    PrivateKey::from_bytes(&blob).map_err(|e| KeyError::Crypto(format!("checking the encrypted key: {e}")))
}

/// Protect `key` with `passphrase` (`None`: store it unencrypted, which the caller asked for).
pub fn protect(key: &PrivateKey, passphrase: Option<&Passphrase>, rounds: u32) -> Result<PrivateKey, KeyError> {
    match passphrase {
        Some(p) if !p.is_empty() => encrypt(key, p, rounds),
        _ => Ok(key.clone()),
    }
}

/// Decrypt an encrypted key. An unencrypted key is returned as it is.
///
/// Goes through the importer's openssh-key-v1 parser, which reads every key OpenSSH writes
/// (ssh-key 0.6 rejects short ECDSA scalars) and derives the key with the parallel bcrypt-pbkdf.
pub fn decrypt(key: &PrivateKey, passphrase: &Passphrase) -> Result<PrivateKey, KeyError> {
    if !key.is_encrypted() {
        return Ok(key.clone());
    }
    let text = super::to_openssh(key)?;
    Ok(super::import::import(text.as_bytes(), Some(passphrase))?.key)
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
