//! Passphrases the user chose to remember, kept in the OS keyring (on Linux the Secret Service,
//! e.g. gnome-keyring or KWallet), behind the small [`SecretStore`] trait.
//!
//! Nothing here writes a file: when no keyring is reachable, calls fail with
//! [`SecretsError::Unavailable`] and callers carry on without remembering (nothing is lost).
//! Keyring calls block (D-Bus round trips): async callers use `spawn_blocking`.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::keys::Passphrase;

/// The keyring "service" under which every Latchkey secret is filed.
pub const SERVICE: &str = "latchkey";

/// Which secret: the passphrase of the key with this SHA256 fingerprint. Keyed by fingerprint,
/// not by name, so that renaming a key keeps its remembered passphrase and two stores on one
/// machine (say, a test's LATCHKEY_HOME) agree on what belongs to which key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretId(String);

impl SecretId {
    pub fn for_key(sha256_fingerprint: &str) -> Self {
        Self(format!("key-passphrase:{sha256_fingerprint}"))
    }

    pub fn account(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    #[error(
        "the OS keyring is unavailable ({detail}); Latchkey works without it, but cannot remember passphrases until a Secret Service (gnome-keyring, KWallet) is running and unlocked"
    )]
    Unavailable { detail: String },
    #[error("the OS keyring refused the request: {detail}")]
    Refused { detail: String },
}

impl SecretsError {
    pub fn code(&self) -> &'static str {
        match self {
            SecretsError::Unavailable { .. } => "keyring_unavailable",
            SecretsError::Refused { .. } => "keyring_refused",
        }
    }
}

/// Where remembered passphrases live. The agent and store depend on this, not on a keyring.
pub trait SecretStore: Send + Sync {
    /// The remembered passphrase, or `None` if none is stored for `id`.
    fn get(&self, id: &SecretId) -> Result<Option<Passphrase>, SecretsError>;
    fn set(&self, id: &SecretId, passphrase: &Passphrase) -> Result<(), SecretsError>;
    /// Forget `id`; forgetting something never stored is not an error.
    fn delete(&self, id: &SecretId) -> Result<(), SecretsError>;
    /// `Ok` if the keyring answers, else why not. Cheap enough for a status line.
    fn check(&self) -> Result<(), SecretsError>;
}

/// The OS keyring through the `keyring` crate.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsKeyring;

impl OsKeyring {
    fn entry(id: &SecretId) -> Result<keyring::Entry, SecretsError> {
        keyring::Entry::new(SERVICE, id.account()).map_err(map_error)
    }
}

fn map_error(e: keyring::Error) -> SecretsError {
    match e {
        keyring::Error::NoDefaultStore
        | keyring::Error::NoStorageAccess(_)
        | keyring::Error::PlatformFailure(_)
        | keyring::Error::NotSupportedByStore(_) => SecretsError::Unavailable { detail: e.to_string() },
        other => SecretsError::Refused { detail: other.to_string() },
    }
}

impl SecretStore for OsKeyring {
    fn get(&self, id: &SecretId) -> Result<Option<Passphrase>, SecretsError> {
        match Self::entry(id)?.get_password() {
            Ok(text) => Ok(Some(Passphrase::new(text))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    fn set(&self, id: &SecretId, passphrase: &Passphrase) -> Result<(), SecretsError> {
        Self::entry(id)?.set_password(passphrase.expose()).map_err(map_error)
    }

    fn delete(&self, id: &SecretId) -> Result<(), SecretsError> {
        match Self::entry(id)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }

    fn check(&self) -> Result<(), SecretsError> {
        if let Err(e) = keyring::Entry::store_status() {
            return Err(SecretsError::Unavailable { detail: e.to_string() });
        }
        // Looking up an entry that does not exist makes a real round trip to the service.
        self.get(&SecretId("latchkey-availability-probe".into())).map(|_| ())
    }
}

/// An in-memory store, for unit tests of the logic that uses a [`SecretStore`].
#[derive(Debug, Default)]
pub struct MemorySecrets {
    entries: Mutex<HashMap<SecretId, Passphrase>>,
    unavailable: bool,
}

impl MemorySecrets {
    /// A store that behaves like a machine with no keyring running.
    pub fn unavailable() -> Self {
        Self { entries: Mutex::default(), unavailable: true }
    }

    fn guard(&self) -> Result<std::sync::MutexGuard<'_, HashMap<SecretId, Passphrase>>, SecretsError> {
        if self.unavailable {
            return Err(SecretsError::Unavailable { detail: "no keyring in this test".into() });
        }
        Ok(self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

impl SecretStore for MemorySecrets {
    fn get(&self, id: &SecretId) -> Result<Option<Passphrase>, SecretsError> {
        Ok(self.guard()?.get(id).cloned())
    }
    fn set(&self, id: &SecretId, passphrase: &Passphrase) -> Result<(), SecretsError> {
        self.guard()?.insert(id.clone(), passphrase.clone());
        Ok(())
    }
    fn delete(&self, id: &SecretId) -> Result<(), SecretsError> {
        self.guard()?.remove(id);
        Ok(())
    }
    fn check(&self) -> Result<(), SecretsError> {
        self.guard().map(|_| ())
    }
}
