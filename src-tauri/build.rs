// Commands are opt-in: only those listed here can be allowed by a capability file.
const COMMANDS: &[&str] = &[
    "app_info",
    "keyring_status",
    "list_keys",
    "key_details",
    "generate_key",
    "probe_import",
    "import_key",
    "change_passphrase",
    "set_comment",
    "remember_passphrase",
    "forget_passphrase",
    "export_key",
    "delete_key",
    "agent_status",
    "agent_activity",
    "agent_lock",
    "agent_unlock",
    "set_key_policy",
    "pending_prompts",
    "answer_approval",
    "answer_unlock",
    "save_settings",
    "integration_status",
    "set_integration",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
