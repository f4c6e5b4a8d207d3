//! Reading private keys written by other tools: OpenSSH, PEM (PKCS#1, SEC1), PKCS#8 and PuTTY.
//!
//! (Interface placeholder: the full importers land in the next commit.)

use super::{KeyError, KeyFormat, Passphrase, PrivateKey};

/// What can be learnt about a key file without its passphrase.
#[derive(Debug, Clone)]
pub struct Probe {
    pub format: KeyFormat,
    pub encrypted: bool,
    /// The public key, where the format stores it in the clear (OpenSSH, PuTTY).
    pub public: Option<ssh_key::public::KeyData>,
    /// The comment, where the format stores it in the clear (PuTTY).
    pub comment: Option<String>,
}

/// A decrypted private key read from another tool's file.
pub struct Imported {
    /// The key, decrypted; its comment is the file's comment (if the format has one).
    pub key: PrivateKey,
    pub format: KeyFormat,
    /// Whether the file was protected by a passphrase.
    pub was_encrypted: bool,
}

/// Recognise the format of `bytes` and what it reveals without a passphrase.
pub fn probe(bytes: &[u8]) -> Result<Probe, KeyError> {
    let key = super::parse_openssh(bytes)?;
    Ok(Probe {
        format: KeyFormat::Openssh,
        encrypted: key.is_encrypted(),
        public: Some(key.public_key().key_data().clone()),
        comment: None,
    })
}

/// Read and decrypt a private key in any supported format.
///
/// `passphrase` is needed only for encrypted files: without it they give
/// [`KeyError::PassphraseRequired`], with a wrong one [`KeyError::WrongPassphrase`].
pub fn import(bytes: &[u8], passphrase: Option<&Passphrase>) -> Result<Imported, KeyError> {
    let key = super::parse_openssh(bytes)?;
    let was_encrypted = key.is_encrypted();
    let key = match (was_encrypted, passphrase) {
        (false, _) => key,
        (true, None) => return Err(KeyError::PassphraseRequired),
        (true, Some(p)) => super::decrypt(&key, p)?,
    };
    Ok(Imported { key, format: KeyFormat::Openssh, was_encrypted })
}
