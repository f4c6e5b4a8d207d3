//! `latchkey key ...`: the key store from the command line.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::prompt::Prompter;
use super::{CliError, CliResult};
use crate::fsutil;
use crate::keys::{self, KdfStrength, KeySpec};
use crate::store::{ForwardingPolicy, ImportKey, KeyName, KeyOrigin, KeyStore, KeySummary, NewKey, Warning};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// List the keys in the store.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Generate a new key into the store.
    New {
        name: String,
        /// ed25519 (default), ecdsa or rsa.
        #[arg(short = 't', long = "type", default_value = "ed25519")]
        key_type: String,
        /// Key size: RSA 2048/3072 (default)/4096/8192, ECDSA 256 (default)/384/521.
        #[arg(short, long)]
        bits: Option<u32>,
        /// Comment (default: user@hostname).
        #[arg(short = 'C', long)]
        comment: Option<String>,
        /// Store the key without a passphrase (DANGEROUS: anyone who copies the file can use it).
        #[arg(long)]
        no_passphrase: bool,
        #[command(flatten)]
        protection: Protection,
    },
    /// Import a private key file (OpenSSH, PEM, PKCS#8, PuTTY .ppk). The file is only read.
    Import {
        file: PathBuf,
        /// Name in the store (default: from the file name).
        #[arg(long)]
        name: Option<String>,
        /// Register an OpenSSH key file where it is instead of copying it into the store.
        #[arg(long)]
        in_place: bool,
        /// Give the stored copy a new passphrase (asked twice) instead of keeping the file's.
        #[arg(long)]
        new_passphrase: bool,
        /// Store an unencrypted key without a passphrase (DANGEROUS).
        #[arg(long)]
        no_passphrase: bool,
        /// Replace the key's comment.
        #[arg(short = 'C', long)]
        comment: Option<String>,
        #[command(flatten)]
        protection: Protection,
    },
    /// Show a key: fingerprints, randomart, public key.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Print the public key (OpenSSH or RFC 4716), or copy the private key file elsewhere.
    Export {
        name: String,
        #[arg(long, value_enum, default_value = "openssh")]
        format: ExportFormat,
        /// With --format private: where to write the copy (never overwritten).
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Change, add or remove a key's passphrase.
    Passwd {
        name: String,
        /// Remove the passphrase (DANGEROUS: the key file becomes usable by anyone who copies it).
        #[arg(long)]
        remove: bool,
        #[command(flatten)]
        protection: Protection,
    },
    /// Change a key's comment.
    Comment {
        name: String,
        comment: String,
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Remember a key's passphrase in the OS keyring.
    Remember {
        name: String,
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Forget a key's remembered passphrase.
    Forget { name: String },
    /// Decrypt a key now and hand it to the running agent (for when the agent cannot ask).
    Unlock {
        name: String,
        /// The agent's socket (default: $SSH_AUTH_SOCK).
        #[arg(short = 'a', value_name = "SOCKET")]
        socket: Option<PathBuf>,
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Set what the agent may do with a key.
    Policy {
        name: String,
        /// Ask before each use.
        #[arg(long, overrides_with = "no_confirm")]
        confirm: bool,
        #[arg(long)]
        no_confirm: bool,
        /// Only offer and use the key for these hosts (comma-separated patterns: github.com,
        /// *.corp.example, [host]:2222, SHA256:<host key>, !excluded).
        #[arg(long, value_delimiter = ',', conflicts_with = "any_host")]
        hosts: Option<Vec<String>>,
        /// Offer the key to every host.
        #[arg(long)]
        any_host: bool,
        /// Minutes the key stays unlocked in the agent.
        #[arg(long, conflicts_with = "no_lifetime")]
        lifetime: Option<u32>,
        #[arg(long)]
        no_lifetime: bool,
        /// Forwarded requests (ssh -A): ask (default), allow (DANGEROUS) or deny.
        #[arg(long, value_enum)]
        forwarding: Option<Forwarding>,
    },
    /// Remove a key from the store. Files Latchkey created are deleted; registered keys' files
    /// are kept unless --delete-files is given.
    Rm {
        name: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Also delete the files of a key registered in place (Latchkey did not create them).
        #[arg(long)]
        delete_files: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Forwarding {
    Ask,
    Allow,
    Deny,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Openssh,
    Rfc4716,
    Private,
}

/// How a new or changed passphrase is chosen and kept.
#[derive(Debug, Args)]
pub struct Protection {
    /// KDF rounds "strong" (calibrated to ~0.5 s per unlock here) instead of ssh-keygen's 16.
    #[arg(long)]
    strong: bool,
    /// Remember the passphrase in the OS keyring.
    #[arg(long)]
    remember: bool,
    /// Read passphrases from standard input, one per line, instead of the terminal.
    #[arg(long)]
    passphrase_stdin: bool,
}

impl Protection {
    fn strength(&self) -> KdfStrength {
        if self.strong { KdfStrength::Strong } else { KdfStrength::Standard }
    }
}

pub fn run(command: KeyCommand) -> CliResult {
    let store = KeyStore::open_default();
    match command {
        KeyCommand::List { json } => list(&store, json),
        KeyCommand::New { name, key_type, bits, comment, no_passphrase, protection } => {
            let mut prompter = Prompter::new(protection.passphrase_stdin);
            let spec = KeySpec::from_ssh_keygen(Some(&key_type), bits)?;
            let passphrase = if no_passphrase {
                None
            } else {
                let p = prompter.new_passphrase(
                    "Enter passphrase: ",
                    "Enter same passphrase again: ",
                    "use --passphrase-stdin, or --no-passphrase for none",
                )?;
                Some(p.non_empty().ok_or(CliError::EmptyPassphrase)?)
            };
            let saved = store.generate(NewKey {
                name: KeyName::parse(&name)?,
                spec,
                comment,
                passphrase,
                rounds: protection.strength().rounds(),
                remember: protection.remember,
            })?;
            warn(&saved.warnings);
            println!("Generated {} key {:?}: {}", saved.key.display_type, saved.key.name, saved.key.fingerprint_sha256);
            println!("Private key: {}", saved.key.path);
            Ok(())
        }
        KeyCommand::Import { file, name, in_place, new_passphrase, no_passphrase, comment, protection } => {
            let name = match name {
                Some(n) => KeyName::parse(&n)?,
                None => KeyName::suggest_from_file(&file.to_string_lossy()),
            };
            if in_place {
                let summary = store.register(&file, name)?;
                println!("Registered {:?} in place: {}", summary.name, summary.path);
                return Ok(());
            }
            let mut prompter = Prompter::new(protection.passphrase_stdin);
            let bytes = fsutil::read_limited(&file, keys::MAX_KEY_FILE_BYTES)?;
            let probe = keys::import::probe(&bytes)?;
            let source_passphrase = if probe.encrypted {
                Some(
                    prompter
                        .passphrase(&format!("Enter passphrase for {}: ", file.display()), "use --passphrase-stdin")?,
                )
            } else {
                None
            };
            let new = if new_passphrase || (!probe.encrypted && !no_passphrase) {
                let p = prompter.new_passphrase(
                    "Enter a passphrase for the imported key: ",
                    "Enter same passphrase again: ",
                    "use --passphrase-stdin, or --no-passphrase for none",
                )?;
                Some(p.non_empty().ok_or(CliError::EmptyPassphrase)?)
            } else {
                None
            };
            let saved = store.import(ImportKey {
                name,
                source: &bytes,
                source_label: file.display().to_string(),
                source_passphrase,
                new_passphrase: new,
                allow_unencrypted: no_passphrase,
                comment,
                rounds: protection.strength().rounds(),
                remember: protection.remember,
            })?;
            warn(&saved.warnings);
            println!(
                "Imported {} ({}) as {:?}: {}",
                file.display(),
                probe.format,
                saved.key.name,
                saved.key.fingerprint_sha256
            );
            Ok(())
        }
        KeyCommand::Show { name, json } => {
            let details = store.details(&name)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&details).map_err(|e| CliError::Other(e.to_string()))?);
                return Ok(());
            }
            let s = &details.summary;
            println!("Name:        {}", s.name);
            println!("Type:        {}", s.display_type);
            println!("File:        {}{}", s.path, origin_note(s.origin));
            println!("Comment:     {}", s.comment);
            println!("Protected:   {}", protection_note(s));
            println!("SHA256:      {}", s.fingerprint_sha256);
            println!("MD5:         {}", details.fingerprint_md5);
            if let Some(problem) = &s.problem {
                println!("Problem:     {problem}");
            }
            println!("{}", details.randomart_sha256);
            println!("{}", details.public_key);
            Ok(())
        }
        KeyCommand::Export { name, format, output } => match format {
            ExportFormat::Openssh => {
                print!("{}", store.export_public(&name, false)?);
                Ok(())
            }
            ExportFormat::Rfc4716 => {
                print!("{}", store.export_public(&name, true)?);
                Ok(())
            }
            ExportFormat::Private => {
                let output = output.ok_or_else(|| CliError::Usage("--format private needs --output PATH".into()))?;
                store.export_private(&name, &output)?;
                println!(
                    "Copied the private key of {name:?} to {} (still protected by its passphrase)",
                    output.display()
                );
                Ok(())
            }
        },
        KeyCommand::Passwd { name, remove, protection } => {
            let mut prompter = Prompter::new(protection.passphrase_stdin);
            let record = store.record_of(&name)?;
            let summary = store.list()?.into_iter().find(|s| s.name == record.name.as_str());
            let old = if summary.as_ref().is_some_and(|s| s.encrypted) {
                Some(prompter.passphrase("Enter old passphrase: ", "use --passphrase-stdin")?)
            } else {
                None
            };
            let new = if remove {
                None
            } else {
                let p = prompter.new_passphrase(
                    "Enter new passphrase: ",
                    "Enter same passphrase again: ",
                    "use --passphrase-stdin, or --remove to remove the passphrase",
                )?;
                Some(p.non_empty().ok_or(CliError::EmptyPassphrase)?)
            };
            let rounds = protection.strong.then(|| KdfStrength::Strong.rounds());
            let saved = store.change_passphrase(&name, old.as_ref(), new.as_ref(), rounds)?;
            warn(&saved.warnings);
            if new.is_some()
                && protection.remember
                && !saved.key.remembered
                && let Some(p) = &new
            {
                store.remember(&name, p)?;
            }
            println!(
                "{} {:?}.",
                if new.is_some() { "Changed the passphrase of" } else { "Removed the passphrase of" },
                name
            );
            Ok(())
        }
        KeyCommand::Comment { name, comment, passphrase_stdin } => {
            let mut prompter = Prompter::new(passphrase_stdin);
            let needs = store.list()?.into_iter().any(|s| s.name == name && s.encrypted && !s.remembered);
            let passphrase =
                if needs { Some(prompter.passphrase("Enter passphrase: ", "use --passphrase-stdin")?) } else { None };
            match store.set_comment(&name, &comment, passphrase.as_ref()) {
                Err(e) if passphrase.is_none() && e.asks_for_passphrase() => {
                    eprintln!("latchkey: {e}");
                    let p = prompter.passphrase("Enter passphrase: ", "use --passphrase-stdin")?;
                    store.set_comment(&name, &comment, Some(&p))?;
                }
                other => {
                    other?;
                }
            }
            println!("Comment '{comment}' applied to {name:?}");
            Ok(())
        }
        KeyCommand::Remember { name, passphrase_stdin } => {
            let mut prompter = Prompter::new(passphrase_stdin);
            let p = prompter.passphrase("Enter passphrase: ", "use --passphrase-stdin")?;
            store.remember(&name, &p)?;
            println!("{name:?} now unlocks with what the OS keyring keeps for it.");
            Ok(())
        }
        KeyCommand::Forget { name } => {
            store.forget(&name)?;
            println!("The OS keyring no longer keeps anything for {name:?}.");
            Ok(())
        }
        KeyCommand::Unlock { name, socket, passphrase_stdin } => {
            let socket = socket.or_else(|| std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from)).ok_or_else(|| {
                CliError::Usage("no agent to unlock the key in: set SSH_AUTH_SOCK or pass -a SOCKET".into())
            })?;
            let mut prompter = Prompter::new(passphrase_stdin);
            let key = match store.unlock(&name, None) {
                Ok(key) => key,
                Err(e) if e.asks_for_passphrase() => {
                    if e.code() == "remembered_passphrase_unavailable" {
                        eprintln!("latchkey: {e}");
                    }
                    let p = prompter.passphrase(&format!("Enter passphrase for {name}: "), "use --passphrase-stdin")?;
                    store.unlock(&name, Some(&p))?
                }
                Err(e) => return Err(e.into()),
            };
            crate::agent::client::add_identity(&socket, key.key_data(), key.comment()).map_err(CliError::Other)?;
            println!("Unlocked {name:?} in the agent at {}.", socket.display());
            Ok(())
        }
        KeyCommand::Policy { name, confirm, no_confirm, hosts, any_host, lifetime, no_lifetime, forwarding } => {
            let mut policy = store.record_of(&name)?.policy;
            if confirm {
                policy.confirm = true;
            }
            if no_confirm {
                policy.confirm = false;
            }
            if let Some(hosts) = hosts {
                policy.hosts = hosts.into_iter().map(|h| h.trim().to_owned()).filter(|h| !h.is_empty()).collect();
            }
            if any_host {
                policy.hosts.clear();
            }
            if let Some(minutes) = lifetime {
                policy.lifetime_minutes = Some(minutes);
            }
            if no_lifetime {
                policy.lifetime_minutes = None;
            }
            if let Some(f) = forwarding {
                policy.forwarding = match f {
                    Forwarding::Ask => ForwardingPolicy::Ask,
                    Forwarding::Allow => ForwardingPolicy::Allow,
                    Forwarding::Deny => ForwardingPolicy::Deny,
                };
            }
            let summary = store.set_policy(&name, policy)?;
            let p = &summary.policy;
            println!(
                "{name:?}: {}, {}, {}, forwarded requests: {:?}",
                if p.confirm { "asks before each use" } else { "used without asking" },
                if p.hosts.is_empty() {
                    "for every host".to_owned()
                } else {
                    format!("only for {}", p.hosts.join(", "))
                },
                p.lifetime_minutes
                    .map(|m| format!("unlocked for {m} min"))
                    .unwrap_or_else(|| "unlocked until the agent locks".into()),
                p.forwarding
            );
            Ok(())
        }
        KeyCommand::Rm { name, yes, delete_files } => {
            let record = store.record_of(&name)?;
            let deletes = record.origin.owns_file() || delete_files;
            if !yes {
                let what = if deletes {
                    format!("Remove key {name:?} and delete {}? [y/N] ", record.private_key.display())
                } else {
                    format!(
                        "Remove key {name:?} from Latchkey? Its file {} stays where it is. [y/N] ",
                        record.private_key.display()
                    )
                };
                let prompter = Prompter::new(false);
                if !prompter.interactive() {
                    return Err(CliError::Usage(format!(
                        "not removing {name:?}: there is no terminal to confirm on; pass --yes"
                    )));
                }
                if !prompter.confirm(&what)? {
                    println!("Nothing removed.");
                    return Ok(());
                }
            }
            let removed = store.remove(&name, delete_files)?;
            warn(&removed.warnings);
            println!("Removed {name:?}.");
            for f in removed.deleted_files {
                println!("Deleted {f}");
            }
            Ok(())
        }
    }
}

fn list(store: &KeyStore, json: bool) -> CliResult {
    let keys = store.list()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&keys).map_err(|e| CliError::Other(e.to_string()))?);
        return Ok(());
    }
    if keys.is_empty() {
        println!("No keys yet: `latchkey key new NAME` generates one, `latchkey key import FILE` imports one.");
        return Ok(());
    }
    let width = keys.iter().map(|k| k.name.len()).max().unwrap_or(4).max(4);
    println!("{:width$}  {:12}  {:51}  {:11}  COMMENT", "NAME", "TYPE", "FINGERPRINT", "PASSPHRASE");
    for k in &keys {
        println!(
            "{:width$}  {:12}  {:51}  {:11}  {}{}",
            k.name,
            k.display_type,
            k.fingerprint_sha256,
            protection_note(k),
            k.comment,
            k.problem.as_ref().map(|p| format!("  [problem: {p}]")).unwrap_or_default()
        );
    }
    Ok(())
}

fn protection_note(k: &KeySummary) -> &'static str {
    match (k.encrypted, k.remembered) {
        (true, true) => "remembered",
        (true, false) => "yes",
        (false, _) => "none",
    }
}

fn origin_note(origin: KeyOrigin) -> &'static str {
    match origin {
        KeyOrigin::Generated => "",
        KeyOrigin::Imported => " (imported copy)",
        KeyOrigin::Registered => " (registered in place)",
    }
}

fn warn(warnings: &[Warning]) {
    for w in warnings {
        eprintln!("latchkey: warning: {}", w.message);
    }
}
