//! Asking the user for passphrases and confirmations on the terminal.
//!
//! Passphrases are read from the terminal without echo. Without a terminal nothing is prompted:
//! the command fails with a message that says how to pass the value instead, because a script
//! hanging on a hidden prompt is worse than a clear error.

use std::io::{self, BufRead, IsTerminal, Write};

use crate::keys::Passphrase;

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("{what} is needed but there is no terminal to ask on: {hint}")]
    NoTerminal { what: String, hint: String },
    #[error("the passphrases do not match")]
    Mismatch,
    #[error("reading from the terminal failed: {0}")]
    Io(#[from] io::Error),
}

/// Where answers come from: the terminal, or (with `--passphrase-stdin`) successive lines of
/// standard input, for scripts and tests.
pub struct Prompter {
    stdin_lines: Option<io::Lines<io::StdinLock<'static>>>,
}

impl Prompter {
    pub fn new(passphrases_on_stdin: bool) -> Self {
        Self { stdin_lines: passphrases_on_stdin.then(|| io::stdin().lock().lines()) }
    }

    pub fn interactive(&self) -> bool {
        self.stdin_lines.is_none() && io::stdin().is_terminal()
    }

    /// One passphrase. `hint` says how to supply it without a terminal.
    pub fn passphrase(&mut self, prompt: &str, hint: &str) -> Result<Passphrase, PromptError> {
        if let Some(lines) = &mut self.stdin_lines {
            let line = lines.next().transpose()?.unwrap_or_default();
            return Ok(Passphrase::new(line));
        }
        if !io::stdin().is_terminal() {
            return Err(PromptError::NoTerminal { what: "a passphrase".into(), hint: hint.into() });
        }
        Ok(Passphrase::from(zeroize::Zeroizing::new(rpassword::prompt_password(prompt)?)))
    }

    /// A new passphrase, typed twice.
    pub fn new_passphrase(&mut self, first: &str, again: &str, hint: &str) -> Result<Passphrase, PromptError> {
        let one = self.passphrase(first, hint)?;
        if self.stdin_lines.is_some() {
            return Ok(one);
        }
        let two = self.passphrase(again, hint)?;
        if one != two {
            return Err(PromptError::Mismatch);
        }
        Ok(one)
    }

    /// A yes/no question on the terminal; no terminal means no.
    pub fn confirm(&self, question: &str) -> Result<bool, PromptError> {
        if !io::stdin().is_terminal() {
            return Ok(false);
        }
        let mut out = io::stdout();
        write!(out, "{question}")?;
        out.flush()?;
        let mut answer = String::new();
        io::stdin().read_line(&mut answer)?;
        Ok(matches!(answer.trim_start().chars().next(), Some('y' | 'Y')))
    }

    /// A line of text (not secret), with echo.
    pub fn line(&self, prompt: &str, what: &str, hint: &str) -> Result<String, PromptError> {
        if !io::stdin().is_terminal() {
            return Err(PromptError::NoTerminal { what: what.into(), hint: hint.into() });
        }
        let mut out = io::stdout();
        write!(out, "{prompt}")?;
        out.flush()?;
        let mut answer = String::new();
        io::stdin().read_line(&mut answer)?;
        Ok(answer.trim_end_matches(['\n', '\r']).to_owned())
    }
}
