// Generated from the Rust types in src-tauri/src/ipc.rs and the latchkey core by
// `cargo xtask bindings`. Do not edit by hand: a test fails when this file is stale.

export type IpcError = { code: string, message: string, };

export type AppInfo = { version: string, 
/**
 * Where the key store lives (LATCHKEY_HOME or the platform data dir).
 */
data_dir: string, };

export type KeyringStatus = { available: boolean, 
/**
 * Why it is unavailable, in words.
 */
detail: string | null, };

export type KeyKind = "ed25519" | "ecdsa" | "rsa";

export type KdfStrength = "standard" | "strong";

export type KeyFormat = "openssh" | "pem-pkcs1" | "pem-sec1" | "pkcs8" | "pkcs8-encrypted" | "putty-v2" | "putty-v3";

export type KeyOrigin = "generated" | "imported" | "registered";

export type KeySummary = { name: string, 
/**
 * ssh-keygen's type label: "ED25519", "ECDSA", "RSA".
 */
key_type: string, 
/**
 * "Ed25519", "ECDSA P-256", "RSA 3072".
 */
display_type: string, bits: number, fingerprint_sha256: string, comment: string, 
/**
 * Where the private key file lives.
 */
path: string, origin: KeyOrigin, encrypted: boolean, 
/**
 * bcrypt-pbkdf rounds of an encrypted key (16 is ssh-keygen's standard).
 */
kdf_rounds: number | null, 
/**
 * The passphrase is kept in the OS keyring.
 */
remembered: boolean, 
/**
 * Set when the key file cannot be read (moved, deleted, damaged): what is wrong.
 */
problem: string | null, 
/**
 * What the agent may do with the key.
 */
policy: KeyPolicy, };

export type KeyDetails = { summary: KeySummary, fingerprint_md5: string, randomart_sha256: string, randomart_md5: string, 
/**
 * The `.pub` line, for authorized_keys.
 */
public_key: string, 
/**
 * The RFC 4716 form (`ssh-keygen -e`).
 */
public_key_rfc4716: string, };

export type Warning = { code: string, message: string, };

export type Saved = { key: KeySummary, warnings: Array<Warning>, };

export type Removed = { name: string, 
/**
 * Files deleted from disk (empty when a registered key was only unregistered).
 */
deleted_files: Array<string>, warnings: Array<Warning>, };

export type GenerateRequest = { name: string, kind: KeyKind, 
/**
 * `null`: the kind's default (RSA 3072, ECDSA 256).
 */
bits: number | null, 
/**
 * `null`: user@hostname.
 */
comment: string | null, passphrase: string | null, 
/**
 * Must be true to store the key without a passphrase.
 */
no_passphrase: boolean, kdf: KdfStrength, remember: boolean, };

export type ImportSource = { "type": "path", path: string, } | { "type": "text", text: string, };

export type ImportProbe = { format: KeyFormat, encrypted: boolean, key_type: string | null, fingerprint_sha256: string | null, comment: string | null, suggested_name: string, };

export type ImportRequest = { source: ImportSource, name: string, 
/**
 * Opens the source file, if it is encrypted.
 */
passphrase: string | null, 
/**
 * The stored copy's passphrase; `null` keeps the source's.
 */
new_passphrase: string | null, 
/**
 * Store an unencrypted source without a passphrase (explicit consent).
 */
no_passphrase: boolean, kdf: KdfStrength, remember: boolean, };

export type ChangePassphraseRequest = { name: string, old_passphrase: string | null, 
/**
 * `null` or empty removes the passphrase (the UI asks for confirmation first).
 */
new_passphrase: string | null, 
/**
 * `null` keeps the key's current KDF rounds.
 */
kdf: KdfStrength | null, };

export type SetCommentRequest = { name: string, comment: string, 
/**
 * Needed for an encrypted key whose passphrase is not remembered.
 */
passphrase: string | null, };

export type RememberRequest = { name: string, passphrase: string, };

export type ExportFormat = "openssh-public" | "rfc4716" | "openssh-private";

export type ExportRequest = { name: string, format: ExportFormat, 
/**
 * Target file; never overwritten (the save dialog asks the user first, so the UI passes
 * `overwrite: true` only after that confirmation).
 */
path: string, overwrite: boolean, };

export type DeleteRequest = { name: string, 
/**
 * Also delete the files of a key that was registered in place (Latchkey did not create them).
 */
delete_registered_files: boolean, };

export type ForwardingPolicy = "ask" | "allow" | "deny";

export type KeyPolicy = { 
/**
 * Ask before each use.
 */
confirm: boolean, 
/**
 * Only offer and use the key for these hosts (`github.com`, `*.corp.example`, `[h]:2222`,
 * `SHA256:<host key fingerprint>`, `!excluded`). Empty: every host.
 */
hosts?: Array<string>, 
/**
 * Minutes an unlocked key stays in memory (None: until the agent locks or stops).
 */
lifetime_minutes?: number | null, forwarding: ForwardingPolicy, };

export type SetPolicyRequest = { name: string, policy: KeyPolicy, };

export type Settings = { 
/**
 * Lock the agent after this many minutes without a signature (None: never).
 */
idle_lock_minutes: number | null, 
/**
 * Show a notification for each signature.
 */
notify_on_sign: boolean, 
/**
 * Start (hidden, in the tray) when the user logs in.
 */
start_at_login: boolean, };

export type IdentityView = { name: string, fingerprint: string, comment: string, key_type: string, 
/**
 * In the Latchkey store (else added by a client such as ssh-add).
 */
from_store: boolean, 
/**
 * Decrypted and ready (store keys unlock on first use).
 */
unlocked: boolean, confirm: boolean, hosts: Array<string>, 
/**
 * Seconds until the decrypted key is forgotten.
 */
expires_in_secs: number | null, };

export type AgentStatus = { 
/**
 * The agent listens on `socket`.
 */
serving: boolean, socket: string, 
/**
 * Why it does not serve (another agent on the socket, say).
 */
problem: string | null, locked: boolean, identities: Array<IdentityView>, 
/**
 * `export SSH_AUTH_SOCK=...` for a terminal.
 */
export_line: string, settings: Settings, };

export type ActivityEntry = { 
/**
 * RFC 3339 UTC.
 */
time: string, key: string, fingerprint: string, 
/**
 * The process chain, summarised ("ssh (pid 12) ← bash (pid 3)").
 */
process: string, host: string | null, forwarded: boolean, 
/**
 * "signed", "denied", "refused: ...".
 */
outcome: string, };

export type ActivityBatch = { 
/**
 * Oldest first.
 */
entries: Array<ActivityEntry>, 
/**
 * How many entries came just before `entries` and are left out of the batch (the agent's log,
 * `agent_activity`, keeps them).
 */
dropped: number, };

export type ProcessInfo = { pid: number, 
/**
 * The executable's path (`/proc/PID/exe`), or its name if that is unreadable.
 */
exe: string, 
/**
 * The command line, arguments separated by spaces.
 */
command: string, };

export type ProcessChain = { processes: Array<ProcessInfo>, };

export type ApprovalReason = "confirm" | "forwarded";

export type ApprovalRequest = { key_name: string, fingerprint: string, process: ProcessChain, 
/**
 * Where the key would be used, from session-bind and known_hosts (None: not bound).
 */
destination: string | null, forwarded: boolean, reason: ApprovalReason, };

export type UnlockRequest = { key_name: string, fingerprint: string, process: ProcessChain, destination: string | null, 
/**
 * The previous attempt had the wrong passphrase.
 */
retry: boolean, };

export type Decision = { "kind": "allow-once" } | { "kind": "allow-application", minutes: number, } | { "kind": "allow-until-lock" } | { "kind": "deny" };

export type Prompt = { "kind": "approval", id: number, request: ApprovalRequest, } | { "kind": "unlock", id: number, request: UnlockRequest, };

export type ApprovalAnswer = { id: number, decision: Decision, };

export type UnlockAnswer = { id: number, 
/**
 * `null`: the user declined.
 */
passphrase: string | null, };

export type IntegrationStatus = { enabled: boolean, ssh_config: string, ssh_config_block: boolean, environment_file: string | null, session_environment: boolean, 
/**
 * What could not be done (no systemd user manager, say): in words.
 */
notes: Array<string>, };
