//! Key generation.

use ssh_key::private::{Ed25519Keypair, KeypairData};
use ssh_key::rand_core::OsRng;
use ssh_key::{Algorithm, EcdsaCurve, PrivateKey};

use super::{KeyError, KeyKind, KeySpec, rsa};

/// Generate a new private key. The comment is the one written into the key and its `.pub` line.
///
/// Ed25519 and ECDSA come from the RustCrypto curve crates (constant-time); RSA from aws-lc-rs.
pub fn generate(spec: &KeySpec, comment: &str) -> Result<PrivateKey, KeyError> {
    super::check_comment(comment)?;
    let data = match spec.kind() {
        KeyKind::Ed25519 => KeypairData::Ed25519(Ed25519Keypair::random(&mut OsRng)),
        KeyKind::Ecdsa => {
            let curve = match spec.bits() {
                256 => EcdsaCurve::NistP256,
                384 => EcdsaCurve::NistP384,
                _ => EcdsaCurve::NistP521,
            };
            let key = PrivateKey::random(&mut OsRng, Algorithm::Ecdsa { curve })
                .map_err(|e| KeyError::Crypto(format!("ECDSA key generation: {e}")))?;
            key.key_data().clone()
        }
        KeyKind::Rsa => KeypairData::Rsa(rsa::generate(spec.bits())?),
    };
    PrivateKey::new(data, comment).map_err(|e| KeyError::Crypto(format!("assembling the key: {e}")))
}
