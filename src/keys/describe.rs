//! What a key is, in the words ssh-keygen uses: type label, size, wire blob.

use ssh_key::public::KeyData;
use ssh_key::{Algorithm, EcdsaCurve};

use super::rsa;

/// The SSH wire encoding of a public key (RFC 4253 section 6.6), what fingerprints hash.
pub fn blob(key: &KeyData) -> Vec<u8> {
    use ssh_encoding::Encode;
    let mut out = Vec::new();
    // Encoding into a Vec cannot fail: the only errors are length overflows of fixed buffers.
    let _ = key.encode(&mut out);
    out
}

/// "ED25519", "ECDSA", "RSA": ssh-keygen's `sshkey_type()`.
pub fn type_label(key: &KeyData) -> &'static str {
    match key.algorithm() {
        Algorithm::Ed25519 => "ED25519",
        Algorithm::Ecdsa { .. } => "ECDSA",
        Algorithm::Rsa { .. } => "RSA",
        Algorithm::Dsa => "DSA",
        Algorithm::SkEd25519 => "ED25519-SK",
        Algorithm::SkEcdsaSha2NistP256 => "ECDSA-SK",
        _ => "UNKNOWN",
    }
}

/// The key size in bits: ssh-keygen's `sshkey_size()`.
pub fn bits(key: &KeyData) -> u32 {
    match key {
        KeyData::Ed25519(_) | KeyData::SkEd25519(_) => 256,
        KeyData::Ecdsa(ec) => match ec.curve() {
            EcdsaCurve::NistP256 => 256,
            EcdsaCurve::NistP384 => 384,
            EcdsaCurve::NistP521 => 521,
        },
        KeyData::SkEcdsaSha2NistP256(_) => 256,
        KeyData::Rsa(rsa) => rsa::modulus_bits(&rsa.n),
        KeyData::Dsa(dsa) => rsa::modulus_bits(&dsa.p),
        _ => 0,
    }
}

/// A human name such as "Ed25519", "ECDSA P-384" or "RSA 3072".
pub fn display_name(key: &KeyData) -> String {
    match key {
        KeyData::Ed25519(_) => "Ed25519".into(),
        KeyData::Ecdsa(_) => format!("ECDSA P-{}", bits(key)),
        KeyData::Rsa(_) => format!("RSA {}", bits(key)),
        other => type_label(other).to_owned(),
    }
}
