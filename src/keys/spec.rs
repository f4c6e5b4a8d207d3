//! What kind of key to generate: ssh-keygen's `-t` and `-b`, parsed once into a valid spec.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::KeyError;

/// The key families Latchkey generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum KeyKind {
    Ed25519,
    Ecdsa,
    Rsa,
}

/// A key type and size that Latchkey can generate. Only [`KeySpec::new`] makes one, so every
/// value is valid: RSA below 2048 bits or an ECDSA curve that does not exist cannot be expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    kind: KeyKind,
    bits: u32,
}

pub const DEFAULT_RSA_BITS: u32 = 3072;
pub const MIN_RSA_BITS: u32 = 2048;
/// The RSA sizes Latchkey generates and why only these, as the error for any other size says.
const RSA_SIZES: &str = "2048, 3072 (the default), 4096 or 8192 (aws-lc-rs, which makes Latchkey's RSA keys in \
                         constant time, generates no other sizes)";

impl KeySpec {
    /// Validate a kind and an optional size (`None` means the kind's default, as in ssh-keygen).
    pub fn new(kind: KeyKind, bits: Option<u32>) -> Result<Self, KeyError> {
        let bits = match kind {
            // Ed25519 keys have one size; ssh-keygen ignores -b for them without a word, and so do we
            // (scripts that pass `-b 4096` for every type keep working).
            KeyKind::Ed25519 => 256,
            KeyKind::Ecdsa => match bits.unwrap_or(256) {
                bits @ (256 | 384 | 521) => bits,
                bits => {
                    return Err(KeyError::UnsupportedBits {
                        key_type: "ECDSA",
                        bits,
                        allowed: "256, 384 or 521 (the NIST curves P-256, P-384 and P-521)",
                    });
                }
            },
            KeyKind::Rsa => match bits.unwrap_or(DEFAULT_RSA_BITS) {
                bits if bits < MIN_RSA_BITS => return Err(KeyError::RsaTooSmall { bits }),
                bits @ (2048 | 3072 | 4096 | 8192) => bits,
                // ssh-keygen takes any size up to 16384, but aws-lc-rs, which generates our RSA
                // keys in constant time, offers only these four.
                bits => return Err(KeyError::UnsupportedBits { key_type: "RSA", bits, allowed: RSA_SIZES }),
            },
        };
        Ok(Self { kind, bits })
    }

    /// Parse ssh-keygen's `-t NAME` (and `-b BITS`). `None` is the default type, Ed25519.
    pub fn from_ssh_keygen(name: Option<&str>, bits: Option<u32>) -> Result<Self, KeyError> {
        let kind = match name.map(str::to_ascii_lowercase).as_deref() {
            None | Some("ed25519") => KeyKind::Ed25519,
            Some("ecdsa") => KeyKind::Ecdsa,
            Some("rsa") => KeyKind::Rsa,
            Some(sk @ ("ecdsa-sk" | "ed25519-sk")) => {
                return Err(KeyError::UnsupportedKeyType {
                    what: sk.to_owned(),
                    why: "security-key (FIDO) keys live on a hardware token; create them with ssh-keygen",
                });
            }
            Some("dsa") => {
                return Err(KeyError::UnsupportedKeyType {
                    what: "DSA".to_owned(),
                    why: "DSA is insecure and OpenSSH no longer accepts it; use ed25519",
                });
            }
            Some(other) => return Err(KeyError::UnknownKeyType { name: other.to_owned() }),
        };
        Self::new(kind, bits)
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// The lowercase name ssh-keygen prints in "Generating public/private ... key pair."
    pub fn ssh_keygen_name(&self) -> &'static str {
        match self.kind {
            KeyKind::Ed25519 => "ed25519",
            KeyKind::Ecdsa => "ecdsa",
            KeyKind::Rsa => "rsa",
        }
    }
}

impl Default for KeySpec {
    fn default() -> Self {
        Self { kind: KeyKind::Ed25519, bits: 256 }
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            KeyKind::Ed25519 => f.write_str("Ed25519"),
            KeyKind::Ecdsa => write!(f, "ECDSA P-{}", self.bits),
            KeyKind::Rsa => write!(f, "RSA {}", self.bits),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_ssh_keygen() {
        assert_eq!(KeySpec::from_ssh_keygen(None, None).unwrap(), KeySpec::default());
        assert_eq!(KeySpec::from_ssh_keygen(Some("rsa"), None).unwrap().bits(), 3072);
        assert_eq!(KeySpec::from_ssh_keygen(Some("ECDSA"), None).unwrap().bits(), 256);
        assert_eq!(KeySpec::from_ssh_keygen(Some("ecdsa"), Some(521)).unwrap().bits(), 521);
        // As ssh-keygen, -b means nothing for Ed25519.
        for bits in [0, 256, 4096] {
            assert_eq!(KeySpec::from_ssh_keygen(Some("ed25519"), Some(bits)).unwrap(), KeySpec::default());
        }
        for bits in [2048, 3072, 4096, 8192] {
            assert_eq!(KeySpec::new(KeyKind::Rsa, Some(bits)).unwrap().bits(), bits);
        }
    }

    #[test]
    fn weak_or_impossible_sizes_are_refused_with_a_reason() {
        let err = KeySpec::from_ssh_keygen(Some("rsa"), Some(1024)).unwrap_err();
        assert_eq!(err.code(), "rsa_too_small");
        assert!(err.to_string().contains("2048"), "{err}");
        assert_eq!(KeySpec::new(KeyKind::Ecdsa, Some(255)).unwrap_err().code(), "unsupported_bits");
        let odd = KeySpec::new(KeyKind::Rsa, Some(2560)).unwrap_err();
        assert_eq!(odd.code(), "unsupported_bits");
        assert_eq!(
            odd.to_string(),
            "RSA keys cannot have 2560 bits: choose one of 2048, 3072 (the default), 4096 or 8192 (aws-lc-rs, \
             which makes Latchkey's RSA keys in constant time, generates no other sizes)"
        );
        assert_eq!(KeySpec::from_ssh_keygen(Some("dsa"), None).unwrap_err().code(), "unsupported_key_type");
        assert_eq!(KeySpec::from_ssh_keygen(Some("x25519"), None).unwrap_err().code(), "unknown_key_type");
    }
}
