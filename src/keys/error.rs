//! Errors of the keys layer.

use std::fmt;

/// What went wrong while making, reading or converting a key.
///
/// Every variant has a stable [`code`](KeyError::code) that the desktop UI shows beside the
/// message, and a message that says what was wrong and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("RSA keys of {bits} bits are too weak to generate: use 2048 bits or more (3072 is the default)")]
    RsaTooSmall { bits: u32 },

    #[error("{key_type} keys cannot have {bits} bits: choose one of {allowed}")]
    UnsupportedBits { key_type: &'static str, bits: u32, allowed: &'static str },

    #[error("unknown key type {name:?}: choose ed25519, ecdsa or rsa")]
    UnknownKeyType { name: String },

    #[error("{what} keys are not supported: {why}")]
    UnsupportedKeyType { what: String, why: &'static str },

    #[error("incorrect passphrase supplied to decrypt private key")]
    WrongPassphrase,

    #[error("this key is encrypted: a passphrase is needed to open it")]
    PassphraseRequired,

    #[error("not a key file Latchkey can read ({hint})")]
    UnrecognizedFormat { hint: String },

    #[error("the {format} key is damaged or truncated: {detail}")]
    Malformed { format: KeyFormat, detail: String },

    #[error("the {format} key uses {what}, which Latchkey cannot read")]
    UnsupportedEncryption { format: KeyFormat, what: String },

    #[error("the file is {size} bytes, far larger than any key file ({limit} bytes at most): not a key")]
    TooLarge { size: u64, limit: u64 },

    #[error("the comment must be a single line")]
    MultilineComment,

    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
}

impl KeyError {
    /// A stable, machine-readable name for the error, shown in the UI and pinned by tests.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::RsaTooSmall { .. } => "rsa_too_small",
            KeyError::UnsupportedBits { .. } => "unsupported_bits",
            KeyError::UnknownKeyType { .. } => "unknown_key_type",
            KeyError::UnsupportedKeyType { .. } => "unsupported_key_type",
            KeyError::WrongPassphrase => "wrong_passphrase",
            KeyError::PassphraseRequired => "passphrase_required",
            KeyError::UnrecognizedFormat { .. } => "unrecognized_format",
            KeyError::Malformed { .. } => "malformed_key",
            KeyError::UnsupportedEncryption { .. } => "unsupported_encryption",
            KeyError::TooLarge { .. } => "file_too_large",
            KeyError::MultilineComment => "multiline_comment",
            KeyError::Crypto(_) => "crypto_failure",
        }
    }

    pub(crate) fn malformed(format: KeyFormat, detail: impl fmt::Display) -> Self {
        KeyError::Malformed { format, detail: detail.to_string() }
    }
}

/// The on-disk formats Latchkey reads. Writing is always OpenSSH's own format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum KeyFormat {
    /// `-----BEGIN OPENSSH PRIVATE KEY-----` (openssh-key-v1), what ssh-keygen writes by default.
    Openssh,
    /// `-----BEGIN RSA PRIVATE KEY-----`, possibly with OpenSSL's `Proc-Type: 4,ENCRYPTED`.
    PemPkcs1,
    /// `-----BEGIN EC PRIVATE KEY-----`, possibly with OpenSSL's `Proc-Type: 4,ENCRYPTED`.
    PemSec1,
    /// `-----BEGIN PRIVATE KEY-----`
    Pkcs8,
    /// `-----BEGIN ENCRYPTED PRIVATE KEY-----` (PBES2)
    Pkcs8Encrypted,
    /// PuTTY's `.ppk`, version 2 (SHA-1 MAC) or 3 (Argon2 KDF).
    PuttyV2,
    PuttyV3,
}

impl fmt::Display for KeyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyFormat::Openssh => "OpenSSH",
            KeyFormat::PemPkcs1 => "PEM (PKCS#1 RSA)",
            KeyFormat::PemSec1 => "PEM (SEC1 EC)",
            KeyFormat::Pkcs8 => "PKCS#8",
            KeyFormat::Pkcs8Encrypted => "encrypted PKCS#8",
            KeyFormat::PuttyV2 => "PuTTY .ppk v2",
            KeyFormat::PuttyV3 => "PuTTY .ppk v3",
        })
    }
}
