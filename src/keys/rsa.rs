//! RSA through aws-lc-rs.
//!
//! The RustCrypto `rsa` crate has a timing side channel on private-key operations
//! (RUSTSEC-2023-0071) and ssh-key 0.6's own RSA signing is broken, so every RSA private-key
//! operation in Latchkey goes through aws-lc-rs, which is constant-time. ssh-key is only used to
//! hold and encode the numbers.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use pkcs8::der::Decode;
use ssh_key::Mpint;
use ssh_key::private::{RsaKeypair, RsaPrivateKey};
use ssh_key::public::RsaPublicKey;

use super::{KeyError, KeyFormat};

/// Generate an RSA key of `bits` bits (one of 2048, 3072, 4096, 8192; [`super::KeySpec`] checks).
pub(crate) fn generate(bits: u32) -> Result<RsaKeypair, KeyError> {
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        8192 => KeySize::Rsa8192,
        other => {
            return Err(KeyError::UnsupportedBits {
                key_type: "RSA",
                bits: other,
                allowed: "2048, 3072, 4096 or 8192",
            });
        }
    };
    let pair = KeyPair::generate(size).map_err(|e| KeyError::Crypto(format!("RSA key generation: {e}")))?;
    let pkcs8 = pair.as_der().map_err(|e| KeyError::Crypto(format!("RSA key export: {e}")))?;
    let info = pkcs8::PrivateKeyInfo::from_der(pkcs8.as_ref())
        .map_err(|e| KeyError::Crypto(format!("RSA key export: {e}")))?;
    let pkcs1 = pkcs1::RsaPrivateKey::from_der(info.private_key)
        .map_err(|e| KeyError::Crypto(format!("RSA key export: {e}")))?;
    keypair_from_pkcs1(&pkcs1, KeyFormat::Pkcs8)
}

/// The OpenSSH representation of a PKCS#1 RSA private key.
///
/// OpenSSH stores n, e, d, iqmp, p, q; its `iqmp` (q⁻¹ mod p) is PKCS#1's `coefficient`.
pub(crate) fn keypair_from_pkcs1(key: &pkcs1::RsaPrivateKey<'_>, format: KeyFormat) -> Result<RsaKeypair, KeyError> {
    if key.other_prime_infos.is_some() {
        return Err(KeyError::UnsupportedKeyType {
            what: "multi-prime RSA".into(),
            why: "OpenSSH keys have exactly two primes",
        });
    }
    let mpint = |bytes: &[u8]| {
        Mpint::from_positive_bytes(bytes).map_err(|e| KeyError::malformed(format, format!("RSA number: {e}")))
    };
    let public = RsaPublicKey { e: mpint(key.public_exponent.as_bytes())?, n: mpint(key.modulus.as_bytes())? };
    let private = RsaPrivateKey {
        d: mpint(key.private_exponent.as_bytes())?,
        iqmp: mpint(key.coefficient.as_bytes())?,
        p: mpint(key.prime1.as_bytes())?,
        q: mpint(key.prime2.as_bytes())?,
    };
    Ok(RsaKeypair { public, private })
}

/// The bit length of an RSA modulus, as `ssh-keygen -l` prints it.
pub(crate) fn modulus_bits(n: &Mpint) -> u32 {
    let bytes = n.as_positive_bytes().unwrap_or(&[]);
    match bytes.iter().position(|&b| b != 0) {
        None => 0,
        Some(first) => {
            let significant = &bytes[first..];
            (significant.len() as u32) * 8 - significant[0].leading_zeros()
        }
    }
}
