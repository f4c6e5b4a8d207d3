//! Turning the raw numbers a foreign key file holds into ssh-key keypairs, with the checks that
//! make sure they form a key: an ECDSA scalar must be in range and match any public point stored
//! beside it, an Ed25519 seed must match any stored public key, and RSA numbers must be
//! consistent (aws-lc-rs's `RSA_check_key`) and of a size Latchkey's signer accepts.
//!
//! Public halves are always derived from the private half rather than trusted from the file, so
//! an imported key cannot carry a public key that belongs to something else.

use pkcs8::ObjectIdentifier;
use pkcs8::der::Decode;
use ssh_key::private::{EcdsaKeypair, Ed25519Keypair, KeypairData};
use zeroize::Zeroizing;

use super::{KeyError, KeyFormat};

/// The ECDSA curves OpenSSH has (RFC 5656 §10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// The curve a SEC1 / PKCS#8 `namedCurve` OID names (RFC 5480 §2.1.1.1).
    pub fn from_oid(oid: ObjectIdentifier) -> Result<Self, KeyError> {
        match oid.to_string().as_str() {
            "1.2.840.10045.3.1.7" => Ok(Curve::P256),
            "1.3.132.0.34" => Ok(Curve::P384),
            "1.3.132.0.35" => Ok(Curve::P521),
            other => Err(KeyError::UnsupportedKeyType {
                what: format!("EC keys on the {} curve", curve_name(other)),
                why: "SSH has ECDSA keys on NIST P-256, P-384 and P-521 only",
            }),
        }
    }

    /// The curve of an `ecdsa-sha2-<name>` key (RFC 5656 §6.1).
    pub fn from_ssh_name(name: &[u8]) -> Option<Self> {
        match name {
            b"nistp256" => Some(Curve::P256),
            b"nistp384" => Some(Curve::P384),
            b"nistp521" => Some(Curve::P521),
            _ => None,
        }
    }

    fn scalar_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }
}

fn curve_name(oid: &str) -> String {
    let known = match oid {
        "1.3.132.0.10" => "secp256k1",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        "1.2.156.10197.1.301" => "SM2",
        "1.2.840.10045.3.1.1" => "NIST P-192",
        "1.3.132.0.33" => "NIST P-224",
        _ => return format!("OID {oid}"),
    };
    known.to_owned()
}

/// RSA sizes Latchkey can serve: its signer (aws-lc-rs) takes 2048 to 8192 bits, and smaller
/// keys are too weak anyway (NIST SP 800-131A disallows RSA under 2048 bits since 2013).
pub(super) fn check_rsa_bits(bits: u32) -> Result<(), KeyError> {
    if bits < 2048 {
        return Err(KeyError::UnsupportedKeyType {
            what: format!("{bits}-bit RSA"),
            why: "they are too weak today, and Latchkey's signer needs at least 2048 bits; \
                generate a new key (Ed25519 is the best choice)",
        });
    }
    if bits > 8192 {
        return Err(KeyError::UnsupportedKeyType {
            what: format!("{bits}-bit RSA"),
            why: "Latchkey's signer handles RSA keys of up to 8192 bits",
        });
    }
    Ok(())
}

/// The bit length of a big-endian unsigned number.
pub(super) fn bit_len(bytes: &[u8]) -> u32 {
    match bytes.iter().position(|&b| b != 0) {
        None => 0,
        Some(first) => {
            let significant = bytes.len() - first;
            let top = bytes.get(first).copied().unwrap_or(0);
            (significant as u32) * 8 - top.leading_zeros()
        }
    }
}

/// An RSA key from a DER PKCS#1 `RSAPrivateKey` (RFC 8017 appendix A.1.2).
pub(super) fn rsa_from_pkcs1_der(der: &[u8], format: KeyFormat) -> Result<KeypairData, KeyError> {
    let key = pkcs1::RsaPrivateKey::from_der(der)
        .map_err(|e| KeyError::malformed(format, format!("the RSA key structure does not parse ({e})")))?;
    // Multi-prime keys are refused here, before the size check, with their own message.
    let pair = crate::keys::rsa::keypair_from_pkcs1(&key, format)?;
    check_rsa_bits(bit_len(key.modulus.as_bytes()))?;
    // RSA_check_key: n = p*q, d*e = 1 mod (p-1) and (q-1), and the CRT values. A file that
    // parses but fails this was damaged (or deliberately altered) and would make bad signatures.
    aws_lc_rs::rsa::KeyPair::from_der(der).map_err(|e| {
        KeyError::malformed(format, format!("the RSA numbers do not form a valid key ({e}): the file is damaged"))
    })?;
    Ok(KeypairData::Rsa(pair))
}

/// An ECDSA key from its private scalar (big-endian, leading zeros optional) and, if the file
/// stores one, the SEC1 public point, which must belong to the scalar.
pub(super) fn ecdsa(
    curve: Curve,
    scalar: &[u8],
    public: Option<&[u8]>,
    format: KeyFormat,
) -> Result<KeypairData, KeyError> {
    let scalar = fixed_width(scalar, curve.scalar_len())
        .ok_or_else(|| KeyError::malformed(format, "the EC private key is longer than its curve allows"))?;
    let out_of_range = || KeyError::malformed(format, "the EC private key is zero or out of range for its curve");
    let bad_point = || KeyError::malformed(format, "the stored EC public key is not a point on the curve");
    let mismatch = || KeyError::malformed(format, "the stored EC public key does not belong to the private key");

    // One arm per curve: the three crates share an API but no trait that ssh-key's types accept.
    macro_rules! pair {
        ($krate:ident, $variant:ident) => {{
            let secret = $krate::SecretKey::from_slice(&scalar).map_err(|_| out_of_range())?;
            let derived = secret.public_key();
            if let Some(given) = public {
                let given = $krate::PublicKey::from_sec1_bytes(given).map_err(|_| bad_point())?;
                if given != derived {
                    return Err(mismatch());
                }
            }
            EcdsaKeypair::$variant { public: derived.into(), private: secret.into() }
        }};
    }
    let pair = match curve {
        Curve::P256 => pair!(p256, NistP256),
        Curve::P384 => pair!(p384, NistP384),
        Curve::P521 => pair!(p521, NistP521),
    };
    Ok(KeypairData::Ecdsa(pair))
}

/// Left-pad a big-endian number to `width` bytes (encoders disagree on leading zeros).
fn fixed_width(number: &[u8], width: usize) -> Option<Zeroizing<Vec<u8>>> {
    let start = number.iter().position(|&b| b != 0).unwrap_or(number.len());
    let significant = number.get(start..)?;
    let pad = width.checked_sub(significant.len())?;
    let mut out = Zeroizing::new(vec![0u8; width]);
    out.get_mut(pad..)?.copy_from_slice(significant);
    Some(out)
}

/// An Ed25519 key from its 32-byte seed (RFC 8032 §5.1.5); the public key is derived from it
/// and must equal `public` where the file stores one.
pub(super) fn ed25519(seed: &[u8], public: Option<&[u8]>, format: KeyFormat) -> Result<KeypairData, KeyError> {
    let seed: &[u8; 32] = seed.try_into().map_err(|_| {
        KeyError::malformed(format, format!("an Ed25519 private key is 32 bytes, this one {}", seed.len()))
    })?;
    let pair = Ed25519Keypair::from_seed(seed);
    if let Some(given) = public
        && given != pair.public.0.as_slice()
    {
        return Err(KeyError::malformed(format, "the stored Ed25519 public key does not belong to the private key"));
    }
    Ok(KeypairData::Ed25519(pair))
}
