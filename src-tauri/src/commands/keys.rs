//! The Keys view's commands.

use std::path::Path;
use std::sync::Arc;

use tauri::State;

use latchkey::fsutil::{self, Overwrite};
use latchkey::keys::{self, FingerprintHash, KeySpec, Passphrase};
use latchkey::secrets::{OsKeyring, SecretStore};
use latchkey::store::{ImportKey, KeyDetails, KeyName, KeyStore, KeySummary, NewKey, Removed, Saved};
use zeroize::Zeroizing;

use super::blocking;
use crate::ipc::*;

/// What the key commands share: the store (with the OS keyring behind it).
pub struct KeysState {
    pub store: Arc<KeyStore>,
}

#[tauri::command]
pub fn app_info(state: State<'_, KeysState>) -> AppInfo {
    AppInfo { version: env!("CARGO_PKG_VERSION").into(), data_dir: state.store.root().display().to_string() }
}

#[tauri::command]
pub async fn keyring_status() -> IpcResult<KeyringStatus> {
    blocking(|| {
        Ok(match OsKeyring.check() {
            Ok(()) => KeyringStatus { available: true, detail: None },
            Err(e) => KeyringStatus { available: false, detail: Some(e.to_string()) },
        })
    })
    .await
}

#[tauri::command]
pub async fn list_keys(state: State<'_, KeysState>) -> IpcResult<Vec<KeySummary>> {
    let store = state.store.clone();
    blocking(move || Ok(store.list()?)).await
}

#[tauri::command]
pub async fn key_details(state: State<'_, KeysState>, name: String) -> IpcResult<KeyDetails> {
    let store = state.store.clone();
    blocking(move || Ok(store.details(&name)?)).await
}

#[tauri::command]
pub async fn generate_key(state: State<'_, KeysState>, request: GenerateRequest) -> IpcResult<Saved> {
    let store = state.store.clone();
    blocking(move || {
        let passphrase = required_passphrase(request.passphrase, request.no_passphrase)?;
        let key = NewKey {
            name: KeyName::parse(&request.name)?,
            spec: KeySpec::new(request.kind, request.bits)?,
            comment: request.comment.filter(|c| !c.is_empty()),
            passphrase,
            rounds: request.kdf.rounds(),
            remember: request.remember,
        };
        Ok(store.generate(key)?)
    })
    .await
}

#[tauri::command]
pub async fn probe_import(source: ImportSource) -> IpcResult<ImportProbe> {
    blocking(move || {
        let (bytes, label) = read_source(&source)?;
        let probe = keys::import::probe(&bytes)?;
        let suggested = match &source {
            ImportSource::Path { path } => KeyName::suggest_from_file(path),
            ImportSource::Text { .. } => KeyName::suggest_from_file(probe.comment.as_deref().unwrap_or("pasted-key")),
        };
        let _ = label;
        Ok(ImportProbe {
            format: probe.format,
            encrypted: probe.encrypted,
            key_type: probe.public.as_ref().map(keys::display_name),
            fingerprint_sha256: probe.public.as_ref().map(|k| keys::fingerprint(k, FingerprintHash::Sha256)),
            comment: probe.comment,
            suggested_name: suggested.to_string(),
        })
    })
    .await
}

#[tauri::command]
pub async fn import_key(state: State<'_, KeysState>, request: ImportRequest) -> IpcResult<Saved> {
    let store = state.store.clone();
    blocking(move || {
        let (bytes, label) = read_source(&request.source)?;
        let key = ImportKey {
            name: KeyName::parse(&request.name)?,
            source: &bytes,
            source_label: label,
            source_passphrase: request.passphrase.and_then(Passphrase::non_empty),
            new_passphrase: request.new_passphrase.and_then(Passphrase::non_empty),
            allow_unencrypted: request.no_passphrase,
            comment: None,
            rounds: request.kdf.rounds(),
            remember: request.remember,
        };
        Ok(store.import(key)?)
    })
    .await
}

#[tauri::command]
pub async fn change_passphrase(state: State<'_, KeysState>, request: ChangePassphraseRequest) -> IpcResult<Saved> {
    let store = state.store.clone();
    blocking(move || {
        let old = request.old_passphrase.and_then(Passphrase::non_empty);
        let new = request.new_passphrase.and_then(Passphrase::non_empty);
        let rounds = request.kdf.map(|k| k.rounds());
        Ok(store.change_passphrase(&request.name, old.as_ref(), new.as_ref(), rounds)?)
    })
    .await
}

#[tauri::command]
pub async fn set_comment(state: State<'_, KeysState>, request: SetCommentRequest) -> IpcResult<KeySummary> {
    let store = state.store.clone();
    blocking(move || {
        let passphrase = request.passphrase.and_then(Passphrase::non_empty);
        Ok(store.set_comment(&request.name, &request.comment, passphrase.as_ref())?)
    })
    .await
}

#[tauri::command]
pub async fn remember_passphrase(state: State<'_, KeysState>, request: RememberRequest) -> IpcResult<KeySummary> {
    let store = state.store.clone();
    blocking(move || Ok(store.remember(&request.name, &request.passphrase)?)).await
}

#[tauri::command]
pub async fn forget_passphrase(state: State<'_, KeysState>, name: String) -> IpcResult<KeySummary> {
    let store = state.store.clone();
    blocking(move || Ok(store.forget(&name)?)).await
}

#[tauri::command]
pub async fn export_key(state: State<'_, KeysState>, request: ExportRequest) -> IpcResult<()> {
    let store = state.store.clone();
    blocking(move || {
        let path = Path::new(&request.path);
        let overwrite = if request.overwrite { Overwrite::Replace } else { Overwrite::Refuse };
        match request.format {
            ExportFormat::OpensshPublic | ExportFormat::Rfc4716 => {
                let text = store.export_public(&request.name, matches!(request.format, ExportFormat::Rfc4716))?;
                fsutil::write_file(path, text.as_bytes(), 0o644, overwrite)?;
            }
            // Private keys are never written over an existing file, confirmation or not.
            ExportFormat::OpensshPrivate => store.export_private(&request.name, path)?,
        }
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn delete_key(state: State<'_, KeysState>, request: DeleteRequest) -> IpcResult<Removed> {
    let store = state.store.clone();
    blocking(move || Ok(store.remove(&request.name, request.delete_registered_files)?)).await
}

/// A passphrase, or `None` when the user explicitly chose none; refuses an accidental empty one.
fn required_passphrase(passphrase: Option<Passphrase>, no_passphrase: bool) -> IpcResult<Option<Passphrase>> {
    match passphrase.and_then(Passphrase::non_empty) {
        Some(p) => Ok(Some(p)),
        None if no_passphrase => Ok(None),
        None => Err(IpcError::new(
            "passphrase_missing",
            "enter a passphrase, or tick \"No passphrase\" to store the key unprotected",
        )),
    }
}

fn read_source(source: &ImportSource) -> IpcResult<(Zeroizing<Vec<u8>>, String)> {
    match source {
        ImportSource::Path { path } => {
            let bytes = fsutil::read_limited(Path::new(path), keys::MAX_KEY_FILE_BYTES)?;
            Ok((bytes, path.clone()))
        }
        ImportSource::Text { text } => {
            if text.len() as u64 > keys::MAX_KEY_FILE_BYTES {
                return Err(IpcError::new("file_too_large", "the pasted text is far larger than any key"));
            }
            Ok((Zeroizing::new(text.as_bytes().to_vec()), "pasted text".into()))
        }
    }
}
