//! bcrypt-pbkdf (OpenBSD's, as OpenSSH uses it for private keys), computed in parallel.
//!
//! The KDF produces its output in 32-byte blocks that are interleaved into the key ("stride"),
//! and every block is an independent chain of `rounds` bcrypt hashes. An aes256-ctr key and IV
//! (48 bytes) are two blocks, so on a machine with two or more cores the two chains run on two
//! threads and an unlock takes half the wall time of OpenSSH's sequential loop, with exactly the
//! same output and the same total work (an attacker's cost is unchanged).
//!
//! Reference: OpenSSH openbsd-compat/bcrypt_pbkdf.c; the `bcrypt-pbkdf` crate is the test oracle.

use blowfish::Blowfish;
use sha2::{Digest, Sha512};
use ssh_key::{Cipher, Kdf};
use zeroize::{Zeroize, Zeroizing};

use super::KeyError;

const BHASH_WORDS: usize = 8;
const BHASH_OUTPUT: usize = BHASH_WORDS * 4;
const BHASH_SEED: &[u8; BHASH_OUTPUT] = b"OxychromaticBlowfishSwatDynamite";
/// OpenSSH's limits: keylen <= sizeof(out) * sizeof(out) and saltlen <= 1 << 20.
const MAX_OUTPUT: usize = BHASH_OUTPUT * BHASH_OUTPUT;
const MAX_SALT: usize = 1 << 20;

/// OpenBSD's bcrypt_hash: Blowfish keyed by the salted, expensive key schedule, encrypting the
/// magic seed 64 times.
fn bhash(sha2_pass: &[u8], sha2_salt: &[u8]) -> [u8; BHASH_OUTPUT] {
    let mut blowfish = Blowfish::bc_init_state();
    blowfish.salted_expand_key(sha2_salt, sha2_pass);
    for _ in 0..64 {
        blowfish.bc_expand_key(sha2_salt);
        blowfish.bc_expand_key(sha2_pass);
    }
    let mut cdata = [0u32; BHASH_WORDS];
    for (word, bytes) in cdata.iter_mut().zip(BHASH_SEED.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for _ in 0..64 {
        for pair in cdata.chunks_exact_mut(2) {
            let [l, r] = blowfish.bc_encrypt([pair[0], pair[1]]);
            pair[0] = l;
            pair[1] = r;
        }
    }
    let mut out = [0u8; BHASH_OUTPUT];
    for (bytes, word) in out.chunks_exact_mut(4).zip(cdata.iter()) {
        bytes.copy_from_slice(&word.to_le_bytes());
    }
    cdata.zeroize();
    out
}

/// One output block: the PBKDF2-style chain for block number `count` (1-based).
fn block(sha2_pass: &[u8], salt: &[u8], count: u32, rounds: u32) -> Zeroizing<[u8; BHASH_OUTPUT]> {
    let sha2_salt = Sha512::new().chain_update(salt).chain_update(count.to_be_bytes()).finalize();
    let mut tmp = Zeroizing::new(bhash(sha2_pass, &sha2_salt));
    let mut out = Zeroizing::new(*tmp);
    for _ in 1..rounds {
        let sha2_salt = Sha512::digest(tmp.as_slice());
        *tmp = bhash(sha2_pass, &sha2_salt);
        for (o, t) in out.iter_mut().zip(tmp.iter()) {
            *o ^= t;
        }
    }
    out
}

/// Fill `output` with bcrypt-pbkdf(passphrase, salt, rounds), identical to OpenSSH's.
pub fn bcrypt_pbkdf(passphrase: &[u8], salt: &[u8], rounds: u32, output: &mut [u8]) -> Result<(), KeyError> {
    if passphrase.is_empty() || salt.is_empty() || output.is_empty() || rounds == 0 {
        return Err(KeyError::Crypto("bcrypt-pbkdf needs a passphrase, a salt, an output and rounds".into()));
    }
    if output.len() > MAX_OUTPUT || salt.len() > MAX_SALT {
        return Err(KeyError::Crypto("bcrypt-pbkdf parameters out of range".into()));
    }
    let sha2_pass = Zeroizing::new(Sha512::digest(passphrase));
    let stride = output.len().div_ceil(BHASH_OUTPUT);
    let parallel = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) > 1;
    let blocks: Vec<Zeroizing<[u8; BHASH_OUTPUT]>> = if stride > 1 && parallel {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (1..=stride as u32)
                .map(|count| {
                    let sha2_pass = &sha2_pass;
                    scope.spawn(move || block(sha2_pass, salt, count, rounds))
                })
                .collect();
            workers.into_iter().map(|w| w.join()).collect::<Result<Vec<_>, _>>()
        })
        .map_err(|_| KeyError::Crypto("a bcrypt-pbkdf worker thread failed".into()))?
    } else {
        (1..=stride as u32).map(|count| block(&sha2_pass, salt, count, rounds)).collect()
    };
    // Scatter the blocks into the key the way OpenSSH does ("pbkdf2 deviation: output the key
    // material non-linearly"): block `count` fills positions count-1, count-1+stride, ...
    let amt = output.len().div_ceil(stride);
    for (index, block) in blocks.iter().enumerate() {
        for (i, byte) in block.iter().take(amt).enumerate() {
            let dest = i * stride + index;
            if dest >= output.len() {
                break;
            }
            output[dest] = *byte;
        }
    }
    Ok(())
}

/// A cipher key and its IV, wiped on drop.
pub type KeyAndIv = (Zeroizing<Vec<u8>>, Zeroizing<Vec<u8>>);

/// The key and IV for `cipher` from an OpenSSH key's KDF settings.
pub fn derive_key_and_iv(kdf: &Kdf, cipher: Cipher, passphrase: &[u8]) -> Result<KeyAndIv, KeyError> {
    let Kdf::Bcrypt { salt, rounds } = kdf else {
        return Err(KeyError::Crypto("the key is not protected by bcrypt-pbkdf".into()));
    };
    let (key_len, iv_len) =
        cipher.key_and_iv_size().ok_or_else(|| KeyError::Crypto(format!("{cipher} takes no key")))?;
    let mut okm = Zeroizing::new(vec![0u8; key_len + iv_len]);
    bcrypt_pbkdf(passphrase, salt, *rounds, &mut okm)?;
    let iv = Zeroizing::new(okm.split_off(key_len));
    Ok((okm, iv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_implementation_for_every_output_length() {
        for len in [1usize, 16, 31, 32, 33, 48, 64, 65, 80, 100] {
            for rounds in [1u32, 2, 3] {
                let mut ours = vec![0u8; len];
                let mut theirs = vec![0u8; len];
                bcrypt_pbkdf(b"pass phrase", b"0123456789abcdef", rounds, &mut ours).unwrap();
                bcrypt_pbkdf::bcrypt_pbkdf("pass phrase", b"0123456789abcdef", rounds, &mut theirs).unwrap();
                assert_eq!(ours, theirs, "len {len} rounds {rounds}");
            }
        }
    }

    #[test]
    fn refuses_what_openssh_refuses() {
        let mut out = [0u8; 48];
        assert!(bcrypt_pbkdf(b"", b"salt", 16, &mut out).is_err());
        assert!(bcrypt_pbkdf(b"p", b"", 16, &mut out).is_err());
        assert!(bcrypt_pbkdf(b"p", b"salt", 0, &mut out).is_err());
        assert!(bcrypt_pbkdf(b"p", b"salt", 1, &mut [0u8; 1025]).is_err());
    }
}
