//! Latchkey's core: SSH keys, the key store, remembered passphrases and (later) the agent.
//!
//! Everything a user can do in Latchkey is a function here first; the `latchkey` command line and
//! the Tauri desktop shell are thin layers over it. This crate knows nothing of Tauri or GTK.
//!
//! # Module map
//!
//! | module      | owns                                                            | must not            |
//! |-------------|-----------------------------------------------------------------|---------------------|
//! | [`keys`]    | generating, importing, encrypting, fingerprinting and encoding  | touch the disk      |
//! |             | SSH keys; the [`keys::Passphrase`] secret type                  |                     |
//! | [`fsutil`]  | atomic, no-clobber file writes with the right permissions       | know what a key is  |
//! | [`store`]   | the key store on disk: key files plus `keys.toml` metadata      | hold passphrases    |
//! | [`secrets`] | passphrases the user chose to remember, in the OS keyring       | write files         |
//! | [`agent`]   | the SSH agent: socket, protocol, policies, prompts                | know of Tauri       |
//! | [`integration`] | "use Latchkey for all apps": ~/.ssh/config block, session env | touch keys          |
//! | [`settings`] | the desktop's settings file                                      |                     |
//! | [`cli`]     | the `latchkey` command line, including the ssh-keygen-compatible | contain key logic   |
//! |             | `latchkey keygen`                                               |                     |
//!
//! Dependency direction: `cli -> {agent, integration} -> store -> {keys, secrets, fsutil}`. Private key material only
//! ever lives in `ssh_key::PrivateKey` (which zeroizes on drop) or in `Zeroizing` buffers;
//! passphrases only in [`keys::Passphrase`], whose `Debug` prints nothing secret.

pub mod agent;
pub mod cli;
pub mod fsutil;
pub mod integration;
pub mod keys;
pub mod paths;
pub mod secrets;
pub mod settings;
pub mod store;
