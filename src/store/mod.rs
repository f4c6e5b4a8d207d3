//! The key store: named keys, their OpenSSH files and `keys.toml` metadata under one directory
//! (`LATCHKEY_HOME` or the platform data dir).
//!
//! Layout: `ROOT/keys/NAME` (private, 0600) and `ROOT/keys/NAME.pub` (0644) for keys Latchkey
//! generated or imported; keys registered in place stay where they are (say `~/.ssh/id_ed25519`)
//! and only their record lives here. Every change takes the store lock, writes key files
//! atomically (see [`crate::fsutil`]) and then the metadata, and undoes the key files if the
//! metadata cannot be written, so a failure leaves the store as it was.
//!
//! Passphrases never touch this module's files: remembered ones go to a [`SecretStore`].

mod metadata;
mod name;
mod policy;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

pub use metadata::{KeyOrigin, KeyRecord, SCHEMA_VERSION, now_rfc3339};
pub use name::{InvalidName, KeyName};
pub use policy::{ForwardingPolicy, KeyPolicy};

use crate::fsutil::{self, FileSpec, FsError, Overwrite};
use crate::keys::{self, FingerprintHash, KeyError, KeySpec, Passphrase, PrivateKey, PublicKey};
use crate::secrets::{OsKeyring, SecretId, SecretStore, SecretsError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    File(#[from] FsError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    InvalidName(#[from] InvalidName),
    #[error("there is no key named {name:?}: `latchkey key list` shows the keys in the store")]
    NoSuchKey { name: String },
    #[error("a key named {name:?} exists already: choose another name")]
    NameTaken { name: String },
    #[error("{path} is already in the store as {name:?}")]
    AlreadyRegistered { path: PathBuf, name: String },
    #[error(
        "the imported key has no passphrase: choose one for it, or ask explicitly for no passphrase (--no-passphrase)"
    )]
    ImportNeedsPassphrase,
    #[error(
        "the key is protected by a passphrase and stays protected in the store: keep its passphrase or choose a new one (removing it later is `latchkey key passwd`, named as dangerous there)"
    )]
    ImportWouldDropPassphrase,
    #[error(
        "the passphrase of {name:?} is remembered in the OS keyring, which cannot be reached ({source}): enter the passphrase instead"
    )]
    RememberedPassphraseUnavailable { name: String, source: SecretsError },
    #[error("the key store's metadata {path}{} cannot be read: {detail}. Fix or move the file; Latchkey will not overwrite it", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    CorruptMetadata { path: PathBuf, line: Option<usize>, detail: String },
    #[error("invalid key policy: {0}")]
    InvalidPolicy(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Key(e) => e.code(),
            StoreError::File(e) => e.code(),
            StoreError::Secrets(e) => e.code(),
            StoreError::InvalidName(_) => "invalid_name",
            StoreError::NoSuchKey { .. } => "no_such_key",
            StoreError::NameTaken { .. } => "name_taken",
            StoreError::AlreadyRegistered { .. } => "already_registered",
            StoreError::ImportNeedsPassphrase => "import_needs_passphrase",
            StoreError::ImportWouldDropPassphrase => "import_keeps_passphrase",
            StoreError::RememberedPassphraseUnavailable { .. } => "remembered_passphrase_unavailable",
            StoreError::CorruptMetadata { .. } => "corrupt_metadata",
            StoreError::InvalidPolicy(_) => "invalid_policy",
            StoreError::Internal(_) => "internal",
        }
    }

    /// Whether asking the user for the key's passphrase (again) is the way on: none was given,
    /// it was wrong, or the keyring that remembers it cannot be reached.
    pub fn asks_for_passphrase(&self) -> bool {
        matches!(
            self,
            StoreError::Key(KeyError::PassphraseRequired | KeyError::WrongPassphrase)
                | StoreError::RememberedPassphraseUnavailable { .. }
        )
    }
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Something the user should hear about although the operation succeeded.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Warning {
    pub code: String,
    pub message: String,
}

impl From<&SecretsError> for Warning {
    fn from(e: &SecretsError) -> Self {
        Warning { code: e.code().to_owned(), message: e.to_string() }
    }
}

/// One key as the list shows it. Holds no secret.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeySummary {
    pub name: String,
    /// ssh-keygen's type label: "ED25519", "ECDSA", "RSA".
    pub key_type: String,
    /// "Ed25519", "ECDSA P-256", "RSA 3072".
    pub display_type: String,
    pub bits: u32,
    pub fingerprint_sha256: String,
    pub comment: String,
    /// Where the private key file lives.
    pub path: String,
    pub origin: KeyOrigin,
    pub encrypted: bool,
    /// bcrypt-pbkdf rounds of an encrypted key (16 is ssh-keygen's standard).
    pub kdf_rounds: Option<u32>,
    /// The passphrase is kept in the OS keyring.
    pub remembered: bool,
    /// Set when the key file cannot be read (moved, deleted, damaged): what is wrong.
    pub problem: Option<String>,
    /// What the agent may do with the key.
    pub policy: KeyPolicy,
}

/// Everything the key detail pane shows. Holds no secret.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyDetails {
    pub summary: KeySummary,
    pub fingerprint_md5: String,
    pub randomart_sha256: String,
    pub randomart_md5: String,
    /// The `.pub` line, for authorized_keys.
    pub public_key: String,
    /// The RFC 4716 form (`ssh-keygen -e`).
    pub public_key_rfc4716: String,
}

/// A key to generate into the store.
#[derive(Debug)]
pub struct NewKey {
    pub name: KeyName,
    pub spec: KeySpec,
    /// `None`: ssh-keygen's default, user@hostname.
    pub comment: Option<String>,
    /// `None`: write the key unencrypted, which the caller confirmed the user asked for.
    pub passphrase: Option<Passphrase>,
    pub rounds: u32,
    pub remember: bool,
}

/// A key file from elsewhere to convert into the store. The source file is only read.
#[derive(Debug)]
pub struct ImportKey<'a> {
    pub name: KeyName,
    pub source: &'a [u8],
    /// Shown in the key's record: where it came from.
    pub source_label: String,
    /// The passphrase that opens the source file, if it is encrypted.
    pub source_passphrase: Option<Passphrase>,
    /// The passphrase for the stored copy; `None` keeps the source's passphrase.
    pub new_passphrase: Option<Passphrase>,
    /// Store an unencrypted source unencrypted (the user asked for it explicitly).
    pub allow_unencrypted: bool,
    /// Replace the comment (`None`: keep the file's, if it has one).
    pub comment: Option<String>,
    pub rounds: u32,
    pub remember: bool,
}

/// The result of an operation that can succeed with something to say.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Saved {
    pub key: KeySummary,
    pub warnings: Vec<Warning>,
}

/// What `remove` did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Removed {
    pub name: String,
    /// Files deleted from disk (empty when a registered key was only unregistered).
    pub deleted_files: Vec<String>,
    pub warnings: Vec<Warning>,
}

/// Identifies one version of `keys.toml` (see [`KeyStore::modified`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreStamp {
    inode: u64,
    modified: Option<std::time::SystemTime>,
    len: u64,
}

/// The key store.
pub struct KeyStore {
    root: PathBuf,
    secrets: Arc<dyn SecretStore>,
}

impl KeyStore {
    pub fn open(root: impl Into<PathBuf>, secrets: Arc<dyn SecretStore>) -> Self {
        Self { root: root.into(), secrets }
    }

    /// The user's store (`LATCHKEY_HOME` or the platform data dir) with the OS keyring.
    pub fn open_default() -> Self {
        Self::open(crate::paths::data_dir(), Arc::new(OsKeyring))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn secrets(&self) -> &dyn SecretStore {
        self.secrets.as_ref()
    }

    fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }

    fn metadata_path(&self) -> PathBuf {
        self.root.join("keys.toml")
    }

    /// Serialises changes between processes (the CLI and the desktop app may run together).
    fn lock(&self) -> Result<File> {
        fsutil::create_private_dir(&self.root)?;
        let path = self.root.join(".lock");
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(|e| FsError::Io {
            op: "open",
            path: path.clone(),
            source: e,
        })?;
        file.lock().map_err(|e| FsError::Io { op: "lock", path, source: e })?;
        Ok(file)
    }

    fn load(&self) -> Result<metadata::Metadata> {
        metadata::load(&self.metadata_path())
    }

    fn record<'m>(meta: &'m metadata::Metadata, name: &str) -> Result<&'m KeyRecord> {
        meta.keys.iter().find(|r| r.name.as_str() == name).ok_or_else(|| StoreError::NoSuchKey { name: name.into() })
    }

    /// All keys, in name order.
    pub fn list(&self) -> Result<Vec<KeySummary>> {
        let mut meta = self.load()?;
        meta.keys.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(meta.keys.iter().map(summarize).collect())
    }

    pub fn record_of(&self, name: &str) -> Result<KeyRecord> {
        Ok(Self::record(&self.load()?, name)?.clone())
    }

    pub fn details(&self, name: &str) -> Result<KeyDetails> {
        let meta = self.load()?;
        let record = Self::record(&meta, name)?;
        let public = PublicKey::from_openssh(&record.public_key)
            .map_err(|e| StoreError::Internal(format!("stored public key of {name}: {e}")))?;
        let data = public.key_data();
        Ok(KeyDetails {
            summary: summarize(record),
            fingerprint_md5: keys::fingerprint(data, FingerprintHash::Md5),
            randomart_sha256: keys::randomart(data, FingerprintHash::Sha256),
            randomart_md5: keys::randomart(data, FingerprintHash::Md5),
            public_key: record.public_key.clone(),
            public_key_rfc4716: keys::rfc4716(data, &crate::paths::user_at_host()),
        })
    }

    /// Generate a key into the store.
    pub fn generate(&self, req: NewKey) -> Result<Saved> {
        let comment = req.comment.clone().unwrap_or_else(crate::paths::user_at_host);
        let key = keys::generate(&req.spec, &comment)?;
        self.add_owned(req.name, &key, req.passphrase.as_ref(), req.rounds, req.remember, KeyOrigin::Generated, None)
    }

    /// Convert a key file from another tool into the store (the source is only read).
    pub fn import(&self, req: ImportKey<'_>) -> Result<Saved> {
        let imported = keys::import::import(req.source, req.source_passphrase.as_ref())?;
        let mut key = imported.key;
        if let Some(comment) = &req.comment {
            keys::check_comment(comment)?;
            key.set_comment(comment.clone());
        }
        let protection = match (&req.new_passphrase, &req.source_passphrase) {
            (Some(new), _) => new.clone().non_empty(),
            // An explicit "no passphrase" wins over keeping the source's.
            (None, _) if req.allow_unencrypted && imported.was_encrypted => {
                return Err(StoreError::ImportWouldDropPassphrase);
            }
            (None, _) if req.allow_unencrypted => None,
            (None, Some(old)) if imported.was_encrypted => Some(old.clone()),
            _ => return Err(StoreError::ImportNeedsPassphrase),
        };
        self.add_owned(
            req.name,
            &key,
            protection.as_ref(),
            req.rounds,
            req.remember,
            KeyOrigin::Imported,
            Some(req.source_label),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn add_owned(
        &self,
        name: KeyName,
        key: &PrivateKey,
        passphrase: Option<&Passphrase>,
        rounds: u32,
        remember: bool,
        origin: KeyOrigin,
        imported_from: Option<String>,
    ) -> Result<Saved> {
        let _lock = self.lock()?;
        let mut meta = self.load()?;
        if meta.keys.iter().any(|r| r.name == name) {
            return Err(StoreError::NameTaken { name: name.to_string() });
        }
        let stored = keys::protect(key, passphrase, rounds)?;
        let text = keys::to_openssh(&stored)?;
        let public_line = keys::public_line(key.public_key().key_data(), key.comment());
        let dir = self.keys_dir();
        fsutil::create_private_dir(&dir)?;
        let private_path = dir.join(name.as_str());
        let public_path = pub_path(&private_path);
        fsutil::write_group(
            &[
                FileSpec { path: &private_path, contents: text.as_bytes(), mode: 0o600 },
                FileSpec { path: &public_path, contents: format!("{public_line}\n").as_bytes(), mode: 0o644 },
            ],
            Overwrite::Refuse,
        )?;
        let mut record = KeyRecord {
            name,
            private_key: absolute(&private_path),
            origin,
            public_key: public_line,
            remember_passphrase: false,
            added: metadata::now_rfc3339(),
            imported_from,
            policy: KeyPolicy::default(),
        };
        let mut warnings = Vec::new();
        if let (true, Some(p)) = (remember, passphrase.filter(|p| !p.is_empty())) {
            match self.secrets.set(&secret_id(&record), p) {
                Ok(()) => record.remember_passphrase = true,
                Err(e) => warnings.push(Warning::from(&e)),
            }
        }
        meta.keys.push(record.clone());
        if let Err(e) = metadata::save(&self.metadata_path(), &meta) {
            // Undo: the files are ours, just written, and no record points at them.
            let _ = fsutil::remove_file(&private_path);
            let _ = fsutil::remove_file(&public_path);
            if record.remember_passphrase {
                let _ = self.secrets.delete(&secret_id(&record));
            }
            return Err(e);
        }
        Ok(Saved { key: summarize(&record), warnings })
    }

    /// Register an existing OpenSSH private key file where it is (nothing is copied or changed).
    pub fn register(&self, path: &Path, name: KeyName) -> Result<KeySummary> {
        let path = absolute(path);
        let bytes = fsutil::read_limited(&path, keys::MAX_KEY_FILE_BYTES)?;
        let key = keys::parse_openssh(&bytes)?;
        // An encrypted key's comment is inside the encryption: take it from the .pub if any.
        let comment = read_pub_comment(&path, key.public_key()).unwrap_or_else(|| key.comment().to_owned());
        let _lock = self.lock()?;
        let mut meta = self.load()?;
        if let Some(existing) = meta.keys.iter().find(|r| r.private_key == path) {
            return Err(StoreError::AlreadyRegistered { path, name: existing.name.to_string() });
        }
        if meta.keys.iter().any(|r| r.name == name) {
            return Err(StoreError::NameTaken { name: name.to_string() });
        }
        let record = KeyRecord {
            name,
            private_key: path,
            origin: KeyOrigin::Registered,
            public_key: keys::public_line(key.public_key().key_data(), &comment),
            remember_passphrase: false,
            added: metadata::now_rfc3339(),
            imported_from: None,
            policy: KeyPolicy::default(),
        };
        meta.keys.push(record.clone());
        metadata::save(&self.metadata_path(), &meta)?;
        Ok(summarize(&record))
    }

    /// The passphrase the keyring remembers for `record`; a keyring that cannot be reached is
    /// [`StoreError::RememberedPassphraseUnavailable`], which callers answer by asking the user.
    fn remembered(&self, record: &KeyRecord) -> Result<Option<Passphrase>> {
        self.secrets
            .get(&secret_id(record))
            .map_err(|source| StoreError::RememberedPassphraseUnavailable { name: record.name.to_string(), source })
    }

    /// Decrypt a stored key: with `passphrase`, else with the remembered one, else fail with
    /// [`KeyError::PassphraseRequired`].
    pub fn unlock(&self, name: &str, passphrase: Option<&Passphrase>) -> Result<PrivateKey> {
        let record = self.record_of(name)?;
        let key = read_key_file(&record.private_key)?;
        if !key.is_encrypted() {
            return Ok(key);
        }
        match passphrase {
            Some(p) => Ok(keys::decrypt(&key, p)?),
            None if record.remember_passphrase => match self.remembered(&record)? {
                Some(p) => Ok(keys::decrypt(&key, &p)?),
                None => Err(KeyError::PassphraseRequired.into()),
            },
            None => Err(KeyError::PassphraseRequired.into()),
        }
    }

    /// Change, add (`old` = None on an unencrypted key) or remove (`new` = None) the passphrase,
    /// rewriting the key file atomically. `rounds` = None keeps the key's current rounds.
    pub fn change_passphrase(
        &self,
        name: &str,
        old: Option<&Passphrase>,
        new: Option<&Passphrase>,
        rounds: Option<u32>,
    ) -> Result<Saved> {
        let _lock = self.lock()?;
        let meta = self.load()?;
        let record = Self::record(&meta, name)?.clone();
        let current = read_key_file(&record.private_key)?;
        let rounds = rounds.or_else(|| keys::rounds_of(&current)).unwrap_or(keys::STANDARD_ROUNDS);
        let opened = match (current.is_encrypted(), old) {
            (false, _) => current,
            (true, Some(p)) => keys::decrypt(&current, p)?,
            (true, None) => return Err(KeyError::PassphraseRequired.into()),
        };
        let new = new.filter(|p| !p.is_empty());
        let rewritten = keys::protect(&opened, new, rounds)?;
        let text = keys::to_openssh(&rewritten)?;
        fsutil::write_file(&record.private_key, text.as_bytes(), 0o600, Overwrite::Replace)?;

        let mut warnings = Vec::new();
        let mut meta = meta;
        if record.remember_passphrase {
            let id = secret_id(&record);
            let result = match new {
                Some(p) => self.secrets.set(&id, p),
                None => self.secrets.delete(&id),
            };
            let keep = new.is_some() && result.is_ok();
            if let Err(e) = result {
                warnings.push(Warning::from(&e));
            }
            if let Some(r) = meta.keys.iter_mut().find(|r| r.name.as_str() == name) {
                r.remember_passphrase = keep;
            }
            metadata::save(&self.metadata_path(), &meta)?;
        }
        let record = Self::record(&meta, name)?;
        Ok(Saved { key: summarize(record), warnings })
    }

    /// Change the comment in the private key and its `.pub`, keeping passphrase and rounds.
    pub fn set_comment(&self, name: &str, comment: &str, passphrase: Option<&Passphrase>) -> Result<KeySummary> {
        keys::check_comment(comment)?;
        self.update(name, |record| {
            let current = read_key_file(&record.private_key)?;
            let rounds = keys::rounds_of(&current).unwrap_or(keys::STANDARD_ROUNDS);
            let remembered = if current.is_encrypted() && passphrase.is_none() && record.remember_passphrase {
                self.remembered(record)?
            } else {
                None
            };
            let passphrase = passphrase.or(remembered.as_ref());
            let mut opened = match (current.is_encrypted(), passphrase) {
                (false, _) => current.clone(),
                (true, Some(p)) => keys::decrypt(&current, p)?,
                (true, None) => return Err(KeyError::PassphraseRequired.into()),
            };
            opened.set_comment(comment);
            let rewritten =
                if current.is_encrypted() { keys::protect(&opened, passphrase, rounds)? } else { opened.clone() };
            let text = keys::to_openssh(&rewritten)?;
            let public_line = keys::public_line(opened.public_key().key_data(), comment);
            let public_path = pub_path(&record.private_key);
            fsutil::write_group(
                &[
                    FileSpec { path: &record.private_key, contents: text.as_bytes(), mode: 0o600 },
                    FileSpec { path: &public_path, contents: format!("{public_line}\n").as_bytes(), mode: 0o644 },
                ],
                Overwrite::Replace,
            )?;
            record.public_key = public_line;
            Ok(())
        })
    }

    /// Keep `passphrase` in the OS keyring for `name`, after checking that it opens the key.
    pub fn remember(&self, name: &str, passphrase: &Passphrase) -> Result<KeySummary> {
        self.update(name, |record| {
            keys::decrypt(&read_key_file(&record.private_key)?, passphrase)?;
            self.secrets.set(&secret_id(record), passphrase)?;
            record.remember_passphrase = true;
            Ok(())
        })
    }

    /// Remove a remembered passphrase from the keyring.
    pub fn forget(&self, name: &str) -> Result<KeySummary> {
        self.update(name, |record| {
            self.secrets.delete(&secret_id(record))?;
            record.remember_passphrase = false;
            Ok(())
        })
    }

    /// Change what the agent may do with a key.
    pub fn set_policy(&self, name: &str, policy: KeyPolicy) -> Result<KeySummary> {
        policy.validate().map_err(StoreError::InvalidPolicy)?;
        self.update(name, |record| {
            record.policy = policy;
            Ok(())
        })
    }

    /// Change one key's record under the store lock: `change` does its side effects (key files,
    /// keyring) and edits the record, which is saved only if it succeeded.
    fn update(&self, name: &str, change: impl FnOnce(&mut KeyRecord) -> Result<()>) -> Result<KeySummary> {
        let _lock = self.lock()?;
        let mut meta = self.load()?;
        let record = meta
            .keys
            .iter_mut()
            .find(|r| r.name.as_str() == name)
            .ok_or_else(|| StoreError::NoSuchKey { name: name.into() })?;
        change(record)?;
        let summary = summarize(record);
        metadata::save(&self.metadata_path(), &meta)?;
        Ok(summary)
    }

    /// Every key record, in name order (for the agent, which needs paths and policies).
    pub fn records(&self) -> Result<Vec<KeyRecord>> {
        let mut meta = self.load()?;
        meta.keys.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(meta.keys)
    }

    /// A stamp of the store's metadata file (None: no store yet), so the agent can tell when to
    /// reload without reading it. Every write is an atomic rename to a new inode, so the inode
    /// tells two writes within one timestamp tick apart.
    pub fn modified(&self) -> Option<StoreStamp> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(self.metadata_path()).ok()?;
        Some(StoreStamp { inode: meta.ino(), modified: meta.modified().ok(), len: meta.len() })
    }

    /// Remove a key from the store. Files Latchkey created are deleted; a registered key's
    /// files are left alone unless `delete_registered_files` says otherwise.
    pub fn remove(&self, name: &str, delete_registered_files: bool) -> Result<Removed> {
        let _lock = self.lock()?;
        let mut meta = self.load()?;
        let record = Self::record(&meta, name)?.clone();
        meta.keys.retain(|r| r.name.as_str() != name);
        // Metadata first: if it cannot be written nothing is deleted; if deleting fails after,
        // the files are orphans (reported), never a record without its key.
        metadata::save(&self.metadata_path(), &meta)?;
        let mut deleted = Vec::new();
        let mut warnings = Vec::new();
        if record.origin.owns_file() || delete_registered_files {
            for path in [record.private_key.clone(), pub_path(&record.private_key)] {
                match fsutil::remove_file(&path) {
                    Ok(()) => deleted.push(path.display().to_string()),
                    Err(e) => warnings.push(Warning { code: e.code().into(), message: e.to_string() }),
                }
            }
        }
        if record.remember_passphrase
            && let Err(e) = self.secrets.delete(&secret_id(&record))
        {
            warnings.push(Warning::from(&e));
        }
        Ok(Removed { name: name.to_owned(), deleted_files: deleted, warnings })
    }

    /// The public key line (`.pub` contents) or its RFC 4716 form.
    pub fn export_public(&self, name: &str, rfc4716: bool) -> Result<String> {
        let record = self.record_of(name)?;
        if !rfc4716 {
            return Ok(format!("{}\n", record.public_key));
        }
        let public = PublicKey::from_openssh(&record.public_key)
            .map_err(|e| StoreError::Internal(format!("stored public key of {name}: {e}")))?;
        Ok(keys::rfc4716(public.key_data(), &crate::paths::user_at_host()))
    }

    /// Copy the private key file (still protected by its passphrase) and its `.pub` to `dest`.
    /// Existing files are never overwritten.
    pub fn export_private(&self, name: &str, dest: &Path) -> Result<()> {
        let record = self.record_of(name)?;
        let bytes = fsutil::read_limited(&record.private_key, keys::MAX_KEY_FILE_BYTES)?;
        keys::parse_openssh(&bytes)?;
        let public = format!("{}\n", record.public_key);
        fsutil::write_group(
            &[
                FileSpec { path: dest, contents: &bytes, mode: 0o600 },
                FileSpec { path: &pub_path(dest), contents: public.as_bytes(), mode: 0o644 },
            ],
            Overwrite::Refuse,
        )?;
        Ok(())
    }
}

/// The keyring entry of a key's passphrase.
pub fn secret_id(record: &KeyRecord) -> SecretId {
    let fingerprint = PublicKey::from_openssh(&record.public_key)
        .map(|k| keys::fingerprint(k.key_data(), FingerprintHash::Sha256))
        .unwrap_or_else(|_| record.public_key.clone());
    SecretId::for_key(&fingerprint)
}

/// `path` with `.pub` appended, as ssh-keygen names the public half.
pub fn pub_path(private: &Path) -> PathBuf {
    let mut name = private.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn read_key_file(path: &Path) -> Result<PrivateKey> {
    let bytes = fsutil::read_limited(path, keys::MAX_KEY_FILE_BYTES)?;
    Ok(keys::parse_openssh(&bytes)?)
}

/// The comment of `private`'s `.pub` file, if it holds the same key.
fn read_pub_comment(private: &Path, public: &PublicKey) -> Option<String> {
    let text = fsutil::read_limited(&pub_path(private), keys::MAX_KEY_FILE_BYTES).ok()?;
    let line = std::str::from_utf8(&text).ok()?.lines().next()?;
    let key = PublicKey::from_openssh(line.trim()).ok()?;
    (key.key_data() == public.key_data()).then(|| key.comment().to_owned())
}

fn summarize(record: &KeyRecord) -> KeySummary {
    let public = PublicKey::from_openssh(&record.public_key).ok();
    let (encrypted, kdf_rounds, problem) = match read_key_file(&record.private_key) {
        Ok(key) => {
            let same = public.as_ref().is_some_and(|p| p.key_data() == key.public_key().key_data());
            let problem = (!same).then(|| "the key file now holds a different key than the one registered".to_owned());
            (key.is_encrypted(), keys::rounds_of(&key), problem)
        }
        Err(e) => (false, None, Some(e.to_string())),
    };
    let (key_type, display_type, bits, fingerprint) = match &public {
        Some(p) => (
            keys::type_label(p.key_data()).to_owned(),
            keys::display_name(p.key_data()),
            keys::bits(p.key_data()),
            keys::fingerprint(p.key_data(), FingerprintHash::Sha256),
        ),
        None => ("UNKNOWN".into(), "unknown".into(), 0, String::new()),
    };
    KeySummary {
        name: record.name.to_string(),
        key_type,
        display_type,
        bits,
        fingerprint_sha256: fingerprint,
        comment: public.map(|p| p.comment().to_owned()).unwrap_or_default(),
        path: record.private_key.display().to_string(),
        origin: record.origin,
        encrypted,
        kdf_rounds,
        remembered: record.remember_passphrase,
        problem,
        policy: record.policy.clone(),
    }
}

#[cfg(test)]
mod tests;
