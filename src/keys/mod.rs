//! SSH keys as values: generate, import, encrypt, fingerprint and encode them.
//!
//! Pure functions over bytes and `ssh_key` types; nothing here reads or writes files (the
//! [`crate::store`] and [`crate::fsutil`] modules do that), so everything is testable in memory
//! and the same code serves the CLI, the desktop app and the agent.

pub(crate) mod bcrypt;
mod describe;
mod encode;
mod error;
mod fingerprint;
mod generate;
pub mod import;
mod kdf;
mod passphrase;
mod rsa;
mod sign;
mod spec;

pub use describe::{bits, blob, display_name, type_label};
pub use encode::{public_line, rfc4716};
pub use error::{KeyError, KeyFormat};
pub use fingerprint::{FingerprintHash, fingerprint, randomart};
pub use generate::generate;
pub use kdf::{KdfStrength, STANDARD_ROUNDS, calibrate_rounds, decrypt, encrypt, protect, rounds_of};
pub use passphrase::Passphrase;
pub use sign::{RSA_SHA2_256, RSA_SHA2_512, Signer};
pub use spec::{DEFAULT_RSA_BITS, KeyKind, KeySpec, MIN_RSA_BITS};

pub use ssh_key::{PrivateKey, PublicKey, public::KeyData};

/// Key files are a few KiB at most (RSA-8192 in PEM is under 7 KiB); anything past this is
/// refused before it is parsed, so a huge or endless file cannot exhaust memory.
pub const MAX_KEY_FILE_BYTES: u64 = 1 << 20;

/// Comments end up on a single `.pub` line: a newline would split the key into two lines.
pub fn check_comment(comment: &str) -> Result<(), KeyError> {
    if comment.contains(['\n', '\r']) { Err(KeyError::MultilineComment) } else { Ok(()) }
}

/// Parse a private key in OpenSSH format (encrypted or not). Public parts are readable without
/// the passphrase.
pub fn parse_openssh(text: &[u8]) -> Result<PrivateKey, KeyError> {
    PrivateKey::from_openssh(text).or_else(|e| {
        // ssh-key 0.6 rejects some keys OpenSSH writes (short ECDSA scalars, CRLF, re-wrapped
        // lines); the importer's own openssh-key-v1 parser reads them. Only unencrypted keys get
        // here: ssh-key does not look inside an encrypted section until it is decrypted.
        match import::import(text, None) {
            Ok(imported) if imported.format == KeyFormat::Openssh => Ok(imported.key),
            _ => Err(KeyError::malformed(KeyFormat::Openssh, e)),
        }
    })
}

/// Encode a private key as an OpenSSH private key file (LF line endings, as ssh-keygen writes).
pub fn to_openssh(key: &PrivateKey) -> Result<zeroize::Zeroizing<String>, KeyError> {
    key.to_openssh(ssh_key::LineEnding::LF).map_err(|e| KeyError::Crypto(format!("encoding the key: {e}")))
}

/// Parse one `.pub` / authorized_keys style line: `type base64 [comment]`.
pub fn parse_public_line(line: &str) -> Result<PublicKey, KeyError> {
    PublicKey::from_openssh(line.trim())
        .map_err(|e| KeyError::UnrecognizedFormat { hint: format!("not an OpenSSH public key line: {e}") })
}
