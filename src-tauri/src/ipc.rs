//! The contract between the desktop shell and its UI: request and response types of the Tauri
//! commands, and the error shape. TypeScript declarations are generated from these (see
//! [`typescript_bindings`]) into `ui/src/lib/bindings.ts`; a test fails when that file is stale.
//!
//! Passphrases only travel UI -> backend, as [`Passphrase`], which has no `Serialize`: no response
//! or event can carry one back.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use latchkey::keys::{KdfStrength, KeyError, KeyFormat, KeyKind, Passphrase};
use latchkey::store::StoreError;

/// Every command fails with this: a stable code the UI can branch on (and shows), and a message
/// in words a person understands.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IpcError {
    pub code: String,
    pub message: String,
}

impl IpcError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into() }
    }
}

impl From<StoreError> for IpcError {
    fn from(e: StoreError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<KeyError> for IpcError {
    fn from(e: KeyError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<latchkey::fsutil::FsError> for IpcError {
    fn from(e: latchkey::fsutil::FsError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<latchkey::store::InvalidName> for IpcError {
    fn from(e: latchkey::store::InvalidName) -> Self {
        Self::new("invalid_name", e.to_string())
    }
}

pub type IpcResult<T> = Result<T, IpcError>;

#[derive(Debug, Clone, Serialize, TS)]
pub struct AppInfo {
    pub version: String,
    /// Where the key store lives (LATCHKEY_HOME or the platform data dir).
    pub data_dir: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct KeyringStatus {
    pub available: bool,
    /// Why it is unavailable, in words.
    pub detail: Option<String>,
}

#[derive(Debug, Deserialize, TS)]
pub struct GenerateRequest {
    pub name: String,
    pub kind: KeyKind,
    /// `null`: the kind's default (RSA 3072, ECDSA 256).
    pub bits: Option<u32>,
    /// `null`: user@hostname.
    pub comment: Option<String>,
    #[ts(type = "string | null")]
    pub passphrase: Option<Passphrase>,
    /// Must be true to store the key without a passphrase.
    pub no_passphrase: bool,
    pub kdf: KdfStrength,
    pub remember: bool,
}

/// Where a key to import comes from: a file (picker, drag-and-drop, typed path) or pasted text.
#[derive(Debug, Deserialize, TS)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ImportSource {
    Path { path: String },
    Text { text: String },
}

/// What the import dialog learns about a file before asking for its passphrase.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportProbe {
    pub format: KeyFormat,
    pub encrypted: bool,
    pub key_type: Option<String>,
    pub fingerprint_sha256: Option<String>,
    pub comment: Option<String>,
    pub suggested_name: String,
}

#[derive(Debug, Deserialize, TS)]
pub struct ImportRequest {
    pub source: ImportSource,
    pub name: String,
    /// Opens the source file, if it is encrypted.
    #[ts(type = "string | null")]
    pub passphrase: Option<Passphrase>,
    /// The stored copy's passphrase; `null` keeps the source's.
    #[ts(type = "string | null")]
    pub new_passphrase: Option<Passphrase>,
    /// Store an unencrypted source without a passphrase (explicit consent).
    pub no_passphrase: bool,
    pub kdf: KdfStrength,
    pub remember: bool,
}

#[derive(Debug, Deserialize, TS)]
pub struct ChangePassphraseRequest {
    pub name: String,
    #[ts(type = "string | null")]
    pub old_passphrase: Option<Passphrase>,
    /// `null` or empty removes the passphrase (the UI asks for confirmation first).
    #[ts(type = "string | null")]
    pub new_passphrase: Option<Passphrase>,
    /// `null` keeps the key's current KDF rounds.
    pub kdf: Option<KdfStrength>,
}

#[derive(Debug, Deserialize, TS)]
pub struct SetCommentRequest {
    pub name: String,
    pub comment: String,
    /// Needed for an encrypted key whose passphrase is not remembered.
    #[ts(type = "string | null")]
    pub passphrase: Option<Passphrase>,
}

#[derive(Debug, Deserialize, TS)]
pub struct RememberRequest {
    pub name: String,
    #[ts(type = "string")]
    pub passphrase: Passphrase,
}

#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum ExportFormat {
    /// The `.pub` line.
    OpensshPublic,
    /// RFC 4716 (`ssh-keygen -e`).
    Rfc4716,
    /// The private key file as stored (still passphrase-protected) plus its `.pub`.
    OpensshPrivate,
}

#[derive(Debug, Deserialize, TS)]
pub struct ExportRequest {
    pub name: String,
    pub format: ExportFormat,
    /// Target file; never overwritten (the save dialog asks the user first, so the UI passes
    /// `overwrite: true` only after that confirmation).
    pub path: String,
    pub overwrite: bool,
}

#[derive(Debug, Deserialize, TS)]
pub struct DeleteRequest {
    pub name: String,
    /// Also delete the files of a key that was registered in place (Latchkey did not create them).
    pub delete_registered_files: bool,
}

/// The Agent view's snapshot.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AgentStatus {
    /// The agent listens on `socket`.
    pub serving: bool,
    pub socket: String,
    /// Why it does not serve (another agent on the socket, say).
    pub problem: Option<String>,
    pub locked: bool,
    pub identities: Vec<latchkey::agent::IdentityView>,
    /// `export SSH_AUTH_SOCK=...` for a terminal.
    pub export_line: String,
    pub settings: latchkey::settings::Settings,
}

#[derive(Debug, Deserialize, TS)]
pub struct SetPolicyRequest {
    pub name: String,
    pub policy: latchkey::store::KeyPolicy,
}

#[derive(Debug, Deserialize, TS)]
pub struct ApprovalAnswer {
    #[ts(type = "number")]
    pub id: u64,
    pub decision: latchkey::agent::approval::Decision,
}

#[derive(Debug, Deserialize, TS)]
pub struct UnlockAnswer {
    #[ts(type = "number")]
    pub id: u64,
    /// `null`: the user declined.
    #[ts(type = "string | null")]
    pub passphrase: Option<Passphrase>,
}

/// The TypeScript declarations of every type that crosses the IPC boundary, as one module.
pub fn typescript_bindings() -> String {
    use latchkey::agent::approval::{ApprovalReason, ApprovalRequest, Decision, UnlockRequest};
    use latchkey::agent::process::{ProcessChain, ProcessInfo};
    use latchkey::agent::{ActivityEntry, IdentityView};
    use latchkey::settings::Settings;
    use latchkey::store::{ForwardingPolicy, KeyDetails, KeyOrigin, KeyPolicy, KeySummary, Removed, Saved, Warning};
    let cfg = ts_rs::Config::default();
    let decls = [
        IpcError::decl(&cfg),
        AppInfo::decl(&cfg),
        KeyringStatus::decl(&cfg),
        KeyKind::decl(&cfg),
        KdfStrength::decl(&cfg),
        KeyFormat::decl(&cfg),
        KeyOrigin::decl(&cfg),
        KeySummary::decl(&cfg),
        KeyDetails::decl(&cfg),
        Warning::decl(&cfg),
        Saved::decl(&cfg),
        Removed::decl(&cfg),
        GenerateRequest::decl(&cfg),
        ImportSource::decl(&cfg),
        ImportProbe::decl(&cfg),
        ImportRequest::decl(&cfg),
        ChangePassphraseRequest::decl(&cfg),
        SetCommentRequest::decl(&cfg),
        RememberRequest::decl(&cfg),
        ExportFormat::decl(&cfg),
        ExportRequest::decl(&cfg),
        DeleteRequest::decl(&cfg),
        ForwardingPolicy::decl(&cfg),
        KeyPolicy::decl(&cfg),
        SetPolicyRequest::decl(&cfg),
        Settings::decl(&cfg),
        IdentityView::decl(&cfg),
        AgentStatus::decl(&cfg),
        ActivityEntry::decl(&cfg),
        crate::activity_feed::ActivityBatch::decl(&cfg),
        ProcessInfo::decl(&cfg),
        ProcessChain::decl(&cfg),
        ApprovalReason::decl(&cfg),
        ApprovalRequest::decl(&cfg),
        UnlockRequest::decl(&cfg),
        Decision::decl(&cfg),
        crate::agent::Prompt::decl(&cfg),
        ApprovalAnswer::decl(&cfg),
        UnlockAnswer::decl(&cfg),
        latchkey::integration::IntegrationStatus::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types in src-tauri/src/ipc.rs and the latchkey core by\n// `cargo xtask bindings`. Do not edit by hand: a test fails when this file is stale.\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BINDINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/bindings.ts");

    #[test]
    fn typescript_bindings_are_up_to_date() {
        let fresh = typescript_bindings();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(BINDINGS, &fresh).unwrap();
        }
        let committed = std::fs::read_to_string(BINDINGS).unwrap_or_default();
        assert!(
            committed == fresh,
            "ui/src/lib/bindings.ts is stale: run `cargo xtask bindings` and commit the result"
        );
    }

    #[test]
    fn errors_keep_their_wire_shape() {
        let err = IpcError::from(KeyError::WrongPassphrase);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["code"], "wrong_passphrase");
        assert!(json["message"].as_str().unwrap().contains("passphrase"));
        assert_eq!(json.as_object().unwrap().len(), 2);
    }

    #[test]
    fn passphrases_deserialize_but_never_print() {
        let req: RememberRequest = serde_json::from_str(r#"{"name":"k","passphrase":"s3cret-pass"}"#).unwrap();
        assert_eq!(req.passphrase.expose(), "s3cret-pass");
        assert!(!format!("{req:?}").contains("s3cret"));
    }
}
