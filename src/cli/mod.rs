//! The `latchkey` command line: a thin layer over the core modules.
//!
//! - `latchkey keygen ...`: ssh-keygen-compatible ([`keygen`]).
//! - `latchkey key ...`: the key store ([`key`]).

mod agent;
mod getopt;
mod key;
mod keygen;
mod prompt;

use std::ffi::OsString;

use clap::{Parser, Subcommand};

use crate::fsutil::FsError;
use crate::keys::KeyError;
use crate::store::{InvalidName, StoreError};

#[derive(Debug, Parser)]
#[command(name = "latchkey", version, about = "SSH keys, agent and tunnels: the Latchkey command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// ssh-keygen-compatible: -t -b -C -N -a -f -q to generate; -l [-v] [-E md5] -f; -y [-P] -f;
    /// -p [-P] [-N] [-a] -f; -c [-P] [-C] -f; -e -f.
    #[command(disable_help_flag = true)]
    Keygen {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Manage the key store: list, new, import, show, export, passwd, comment, remember, forget,
    /// policy, unlock, rm.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Run the SSH agent (like ssh-agent): serves the store's keys and keys added with ssh-add.
    Agent(agent::AgentArgs),
    /// Use the Latchkey agent for all apps (on), undo it (off), or show what is in place.
    Integrate {
        #[arg(value_enum)]
        action: IntegrateAction,
        /// The agent socket to point at (default: the default socket).
        #[arg(short = 'a', value_name = "SOCKET")]
        socket: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum IntegrateAction {
    On,
    Off,
    Status,
}

fn integrate(action: IntegrateAction, socket: Option<std::path::PathBuf>) -> CliResult {
    use crate::integration;
    let paths = integration::Paths::for_user(&crate::paths::data_dir());
    let socket = socket.unwrap_or_else(crate::agent::server::default_socket);
    let status = match action {
        IntegrateAction::On => integration::enable(&paths, &socket),
        IntegrateAction::Off => integration::disable(&paths),
        IntegrateAction::Status => integration::status(&paths),
    }
    .map_err(|e| CliError::Other(e.to_string()))?;
    if status.enabled {
        println!("All apps use the Latchkey agent: {} has the IdentityAgent block.", status.ssh_config);
    } else {
        println!("Apps use whatever SSH_AUTH_SOCK says; {} has no Latchkey block.", status.ssh_config);
    }
    if let Some(f) = &status.environment_file {
        println!("Desktop session: {f} sets SSH_AUTH_SOCK from the next login.");
    }
    for note in &status.notes {
        println!("Note: {note}");
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    File(#[from] FsError),
    #[error(transparent)]
    Name(#[from] InvalidName),
    #[error(transparent)]
    Prompt(#[from] prompt::PromptError),
    #[error("an empty passphrase is no passphrase: to store the key unprotected, say so with --no-passphrase")]
    EmptyPassphrase,
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Other(String),
}

type CliResult = Result<(), CliError>;

fn report(result: CliResult) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("latchkey: {e}");
            1
        }
    }
}

/// Run the command line; returns the process exit status.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Keygen { args } => keygen::run(&args),
        Command::Key(command) => report(key::run(command)),
        Command::Agent(args) => report(agent::run(args)),
        Command::Integrate { action, socket } => report(integrate(action, socket)),
    }
}
