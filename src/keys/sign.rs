//! Signing with a decrypted private key, in SSH's signature encodings (RFC 4253 section 6.6,
//! RFC 5656 section 3.1.2, RFC 8332, RFC 8709).
//!
//! Every private-key operation goes through aws-lc (constant-time, the assembly fast paths of
//! BoringSSL): Ed25519 and ECDSA through aws-lc-rs, RSA through aws-lc's `RSA_sign` directly,
//! because aws-lc-rs offers no SHA-1 signing and `ssh-rsa` (SHA-1) is still requested by old
//! clients. The key material is held by aws-lc, which wipes it when the key is freed.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair,
    Ed25519KeyPair,
};
use ssh_key::private::{EcdsaKeypair, KeypairData};

use super::KeyError;
use super::rsa::RsaSigner;

/// SSH_AGENT_RSA_SHA2_256 and SSH_AGENT_RSA_SHA2_512 (draft-miller-ssh-agent section 7.3).
pub const RSA_SHA2_256: u32 = 0x02;
pub const RSA_SHA2_512: u32 = 0x04;

/// A private key ready to sign.
pub enum Signer {
    Ed25519(Ed25519KeyPair),
    Ecdsa { pair: EcdsaKeyPair, name: &'static str, coordinate_len: usize },
    Rsa(RsaSigner),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Signer::Ed25519(_) => "Signer(Ed25519)",
            Signer::Ecdsa { .. } => "Signer(ECDSA)",
            Signer::Rsa(_) => "Signer(RSA)",
        })
    }
}

fn rejected(what: &str, e: impl std::fmt::Display) -> KeyError {
    KeyError::Crypto(format!("loading the {what} key for signing: {e}"))
}

impl Signer {
    /// Load a decrypted key. DSA and security-key types are refused.
    pub fn new(key: &KeypairData) -> Result<Self, KeyError> {
        match key {
            KeypairData::Ed25519(pair) => {
                let signer = Ed25519KeyPair::from_seed_and_public_key(pair.private.as_ref(), pair.public.as_ref())
                    .map_err(|e| rejected("Ed25519", e))?;
                Ok(Signer::Ed25519(signer))
            }
            KeypairData::Ecdsa(pair) => {
                let (alg, name, coordinate_len) = match pair {
                    EcdsaKeypair::NistP256 { .. } => (&ECDSA_P256_SHA256_FIXED_SIGNING, "ecdsa-sha2-nistp256", 32),
                    EcdsaKeypair::NistP384 { .. } => (&ECDSA_P384_SHA384_FIXED_SIGNING, "ecdsa-sha2-nistp384", 48),
                    EcdsaKeypair::NistP521 { .. } => (&ECDSA_P521_SHA512_FIXED_SIGNING, "ecdsa-sha2-nistp521", 66),
                };
                let signer = EcdsaKeyPair::from_private_key_and_public_key(
                    alg,
                    pair.private_key_bytes(),
                    pair.public_key_bytes(),
                )
                .map_err(|e| rejected("ECDSA", e))?;
                Ok(Signer::Ecdsa { pair: signer, name, coordinate_len })
            }
            KeypairData::Rsa(pair) => Ok(Signer::Rsa(RsaSigner::new(pair)?)),
            other => Err(KeyError::UnsupportedKeyType {
                what: other.algorithm().map(|a| a.to_string()).unwrap_or_else(|_| "this".into()),
                why: "Latchkey signs with Ed25519, ECDSA and RSA keys only",
            }),
        }
    }

    /// The SSH signature blob (`string algorithm, string signature`) over `data`. `flags` picks
    /// the RSA hash (SHA-1 when neither SHA-2 flag is set, as OpenSSH does).
    pub fn sign(&self, data: &[u8], flags: u32) -> Result<Vec<u8>, KeyError> {
        let mut out = Vec::with_capacity(600);
        match self {
            Signer::Ed25519(pair) => {
                let sig = pair.sign(data);
                put_string(&mut out, b"ssh-ed25519");
                put_string(&mut out, sig.as_ref());
            }
            Signer::Ecdsa { pair, name, coordinate_len } => {
                let sig = pair
                    .sign(&SystemRandom::new(), data)
                    .map_err(|e| KeyError::Crypto(format!("ECDSA signing failed: {e}")))?;
                let raw = sig.as_ref();
                if raw.len() != 2 * coordinate_len {
                    return Err(KeyError::Crypto("ECDSA signature of unexpected length".into()));
                }
                let (r, s) = raw.split_at(*coordinate_len);
                let mut inner = Vec::with_capacity(raw.len() + 10);
                put_mpint(&mut inner, r);
                put_mpint(&mut inner, s);
                put_string(&mut out, name.as_bytes());
                put_string(&mut out, &inner);
            }
            Signer::Rsa(rsa) => {
                let (name, sig) = if flags & RSA_SHA2_256 != 0 {
                    ("rsa-sha2-256", rsa.sign_sha256(data)?)
                } else if flags & RSA_SHA2_512 != 0 {
                    ("rsa-sha2-512", rsa.sign_sha512(data)?)
                } else {
                    ("ssh-rsa", rsa.sign_sha1(data)?)
                };
                put_string(&mut out, name.as_bytes());
                put_string(&mut out, &sig);
            }
        }
        Ok(out)
    }
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// An unsigned big-endian integer as an SSH mpint (RFC 4251 section 5): minimal, with a zero
/// byte in front when the top bit is set.
fn put_mpint(out: &mut Vec<u8>, unsigned: &[u8]) {
    let first = unsigned.iter().position(|&b| b != 0).unwrap_or(unsigned.len());
    let digits = &unsigned[first..];
    let pad = digits.first().is_some_and(|&b| b & 0x80 != 0);
    out.extend_from_slice(&((digits.len() + usize::from(pad)) as u32).to_be_bytes());
    if pad {
        out.push(0);
    }
    out.extend_from_slice(digits);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyKind, KeySpec, generate};
    use signature::Verifier;
    use ssh_key::{PublicKey, Signature};

    fn verify(spec: KeySpec, flags: u32, expect_alg: &str) {
        let key = generate(&spec, "t").unwrap();
        let signer = Signer::new(key.key_data()).unwrap();
        let blob = signer.sign(b"data to sign", flags).unwrap();
        if let Some(rsa) = key.public_key().key_data().rsa() {
            // ssh-key verifies RSA only with the RustCrypto rsa crate; check with aws-lc instead.
            use aws_lc_rs::signature::{
                RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA512,
                RsaPublicKeyComponents,
            };
            let public =
                RsaPublicKeyComponents { n: rsa.n.as_positive_bytes().unwrap(), e: rsa.e.as_positive_bytes().unwrap() };
            let mut r = &blob[..];
            let name = take_string(&mut r);
            let raw = take_string(&mut r);
            assert_eq!(name, expect_alg.as_bytes());
            let params = match expect_alg {
                "ssh-rsa" => &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                "rsa-sha2-256" => &RSA_PKCS1_2048_8192_SHA256,
                _ => &RSA_PKCS1_2048_8192_SHA512,
            };
            public.verify(params, b"data to sign", raw).unwrap();
            assert!(public.verify(params, b"other", raw).is_err());
            return;
        }
        let sig = Signature::try_from(blob.as_slice()).unwrap();
        assert_eq!(sig.algorithm().to_string(), expect_alg);
        let public: &PublicKey = key.public_key();
        public.key_data().verify(b"data to sign", &sig).unwrap();
        assert!(public.key_data().verify(b"other data", &sig).is_err());
    }

    fn take_string<'a>(r: &mut &'a [u8]) -> &'a [u8] {
        let n = u32::from_be_bytes(r[..4].try_into().unwrap()) as usize;
        let (s, rest) = r[4..].split_at(n);
        *r = rest;
        s
    }

    #[test]
    fn signatures_verify_for_every_type() {
        verify(KeySpec::default(), 0, "ssh-ed25519");
        verify(KeySpec::new(KeyKind::Ecdsa, Some(256)).unwrap(), 0, "ecdsa-sha2-nistp256");
        verify(KeySpec::new(KeyKind::Ecdsa, Some(384)).unwrap(), 0, "ecdsa-sha2-nistp384");
        verify(KeySpec::new(KeyKind::Ecdsa, Some(521)).unwrap(), 0, "ecdsa-sha2-nistp521");
        let rsa = KeySpec::new(KeyKind::Rsa, Some(2048)).unwrap();
        verify(rsa, RSA_SHA2_256, "rsa-sha2-256");
        verify(rsa, RSA_SHA2_512, "rsa-sha2-512");
        verify(rsa, 0, "ssh-rsa");
    }

    #[test]
    fn mpints_are_minimal() {
        let mut out = Vec::new();
        put_mpint(&mut out, &[0, 0, 0x7f]);
        assert_eq!(out, [0, 0, 0, 1, 0x7f]);
        out.clear();
        put_mpint(&mut out, &[0, 0x80]);
        assert_eq!(out, [0, 0, 0, 2, 0, 0x80]);
        out.clear();
        put_mpint(&mut out, &[0, 0]);
        assert_eq!(out, [0, 0, 0, 0]);
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use crate::keys::{KeyKind, KeySpec, generate};

    /// Not a test of speed (no timing assertions): prints how long one signature takes, for
    /// profiling the agent's hot path. `cargo test --release --lib sign_cost -- --ignored --nocapture`
    #[test]
    #[ignore = "prints timings; run by hand"]
    fn sign_cost() {
        for spec in [
            KeySpec::default(),
            KeySpec::new(KeyKind::Ecdsa, Some(256)).unwrap(),
            KeySpec::new(KeyKind::Rsa, Some(3072)).unwrap(),
        ] {
            let key = generate(&spec, "t").unwrap();
            let signer = Signer::new(key.key_data()).unwrap();
            let n = 2000;
            let start = std::time::Instant::now();
            for _ in 0..n {
                signer.sign(&[0x5a; 160], RSA_SHA2_256).unwrap();
            }
            println!("{spec}: {:?} per signature", start.elapsed() / n);
        }
    }
}
