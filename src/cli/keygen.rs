//! `latchkey keygen`: ssh-keygen's flags for generating and inspecting keys, with ssh-keygen's
//! output, so scripts can switch to it.
//!
//! Supported: `-t -b -C -N -P -a -f -q` to generate, `-l [-v] [-E sha256|md5] -f` to fingerprint,
//! `-y [-P] -f`, `-p [-P] [-N] [-a] -f`, `-c [-P] [-C] [-a] -f`, `-e -f`. Messages on stdout follow
//! OpenSSH 9.2's ssh-keygen.c word for word; errors go to stderr. Exit status as ssh-keygen: 0,
//! 1 for a refused overwrite or failed save, 255 for fatal errors.
//!
//! Where Latchkey deliberately differs: the default type is Ed25519 (as OpenSSH 9.5+), RSA below
//! 2048 bits is refused and above it only 2048, 3072, 4096 and 8192 are offered (what aws-lc-rs
//! generates), `-p`/`-c` keep the key's KDF rounds unless `-a` is given, files are written
//! atomically, and an existing file is never overwritten without a "y" on a terminal.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::getopt::{Arg, getopt};
use super::prompt::Prompter;
use crate::fsutil::{self, FileSpec, Overwrite};
use crate::keys::{self, FingerprintHash, KeyData, KeySpec, Passphrase, PrivateKey, PublicKey};
use crate::store::pub_path;

const OPTSTRING: &str = "t:b:C:N:a:f:qlvE:yP:pceo";
const SUPPORTED: &str = "-t -b -C -N -P -a -f -q, -l [-v] [-E hash], -y [-P], -p [-P] [-N] [-a], -c [-P] [-C] [-a], -e";

/// An error that ends the command: its message and ssh-keygen's exit status for it.
struct Fatal {
    message: String,
    status: i32,
}

impl Fatal {
    fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), status: 255 }
    }
    fn status(mut self, status: i32) -> Self {
        self.status = status;
        self
    }
}

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal::new(e.to_string())
    }
}

#[derive(Default)]
struct Options {
    key_type: Option<String>,
    bits: Option<String>,
    comment: Option<String>,
    new_passphrase: Option<Passphrase>,
    old_passphrase: Option<Passphrase>,
    rounds: Option<String>,
    file: Option<PathBuf>,
    quiet: bool,
    fingerprint: bool,
    verbose: bool,
    hash: Option<String>,
    print_public: bool,
    change_passphrase: bool,
    change_comment: bool,
    export: bool,
}

pub fn run(args: &[OsString]) -> i32 {
    match run_inner(args) {
        Ok(()) => 0,
        Err(fatal) => {
            if !fatal.message.is_empty() {
                eprintln!("latchkey keygen: {}", fatal.message);
            }
            fatal.status
        }
    }
}

fn run_inner(args: &[OsString]) -> Result<(), Fatal> {
    let parsed = getopt(args, OPTSTRING).map_err(|e| Fatal::new(format!("{e}; supported: {SUPPORTED}")).status(1))?;
    let mut o = Options::default();
    for arg in parsed {
        let text = |v: OsString| v.to_string_lossy().into_owned();
        match arg {
            Arg::Value('t', v) => o.key_type = Some(text(v)),
            Arg::Value('b', v) => o.bits = Some(text(v)),
            Arg::Value('C', v) => o.comment = Some(text(v)),
            Arg::Value('N', v) => o.new_passphrase = Some(Passphrase::new(text(v))),
            Arg::Value('P', v) => o.old_passphrase = Some(Passphrase::new(text(v))),
            Arg::Value('a', v) => o.rounds = Some(text(v)),
            Arg::Value('f', v) => o.file = Some(PathBuf::from(v)),
            Arg::Value('E', v) => o.hash = Some(text(v)),
            Arg::Flag('q') => o.quiet = true,
            Arg::Flag('l') => o.fingerprint = true,
            Arg::Flag('v') => o.verbose = true,
            Arg::Flag('y') => o.print_public = true,
            Arg::Flag('p') => o.change_passphrase = true,
            Arg::Flag('c') => o.change_comment = true,
            Arg::Flag('e') => o.export = true,
            // -o (new format) has been the default since OpenSSH 7.8; accepted for old scripts.
            Arg::Flag('o') => {}
            Arg::Operand(_) => return Err(Fatal::new("Too many arguments.").status(1)),
            Arg::Flag(c) | Arg::Value(c, _) => return Err(Fatal::new(format!("unexpected option -{c}")).status(1)),
        }
    }
    if o.change_passphrase && o.change_comment {
        return Err(Fatal::new("Can only have one of -p and -c.").status(1));
    }
    let rounds = match &o.rounds {
        None => None,
        Some(r) => {
            Some(r.parse::<u32>().ok().filter(|r| *r >= 1).ok_or_else(|| Fatal::new(format!("Invalid number: {r}")))?)
        }
    };
    let mut prompter = Prompter::new(false);
    if o.fingerprint {
        let hash = match &o.hash {
            None => FingerprintHash::Sha256,
            Some(h) => {
                FingerprintHash::parse(h).ok_or_else(|| Fatal::new(format!("Invalid hash algorithm \"{h}\"")))?
            }
        };
        return fingerprint(&require_file(&o, &prompter)?, hash, o.verbose);
    }
    if o.change_passphrase {
        return change_passphrase(&o, rounds, &mut prompter);
    }
    if o.change_comment {
        return change_comment(&o, rounds, &mut prompter);
    }
    if o.export {
        return export(&require_file(&o, &prompter)?, &o, &mut prompter);
    }
    if o.print_public {
        let path = require_file(&o, &prompter)?;
        let (key, _, _) = load_private(&path, o.old_passphrase.clone(), "Enter passphrase: ", &mut prompter)?;
        println!("{}", keys::public_line(key.public_key().key_data(), key.comment()));
        return Ok(());
    }
    generate(&o, rounds, &mut prompter)
}

fn require_file(o: &Options, prompter: &Prompter) -> Result<PathBuf, Fatal> {
    if let Some(f) = &o.file {
        return Ok(f.clone());
    }
    let default = default_identity("ed25519");
    let prompt = format!("Enter file in which the key is ({}): ", default.display());
    let answer = prompter.line(&prompt, "the key file", "pass it with -f FILE")?;
    Ok(if answer.is_empty() { default } else { PathBuf::from(answer) })
}

fn default_identity(kind: &str) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".ssh").join(format!("id_{kind}"))
}

fn generate(o: &Options, rounds: Option<u32>, prompter: &mut Prompter) -> Result<(), Fatal> {
    let bits = o.bits.as_deref().map(parse_bits).transpose()?;
    let spec = KeySpec::from_ssh_keygen(o.key_type.as_deref(), bits)?;
    if !o.quiet {
        println!("Generating public/private {} key pair.", spec.ssh_keygen_name());
    }
    let comment = o.comment.clone().unwrap_or_else(crate::paths::user_at_host);
    keys::check_comment(&comment)?;
    let key = keys::generate(&spec, &comment)?;
    let path = match &o.file {
        Some(f) => f.clone(),
        None => {
            let default = default_identity(spec.ssh_keygen_name());
            let prompt = format!("Enter file in which to save the key ({}): ", default.display());
            let answer = prompter.line(&prompt, "the file to save the key in", "pass it with -f FILE")?;
            if answer.is_empty() {
                // ssh-keygen creates ~/.ssh for the default path.
                if let Some(dir) = default.parent() {
                    fsutil::create_private_dir(dir)?;
                }
                default
            } else {
                PathBuf::from(answer)
            }
        }
    };
    let overwrite = if path.symlink_metadata().is_ok() {
        println!("{} already exists.", path.display());
        if !prompter.interactive() {
            return Err(Fatal::new(format!(
                "{} already exists and there is no terminal to confirm overwriting it: remove it first or choose another -f",
                path.display()
            ))
            .status(1));
        }
        if !prompter.confirm("Overwrite (y/n)? ")? {
            return Err(Fatal::new("").status(1));
        }
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    };
    // As ssh-keygen, -P is the new key's passphrase too, and wins over -N.
    let passphrase = match o.old_passphrase.clone().or_else(|| o.new_passphrase.clone()) {
        Some(p) => p,
        None => prompter.new_passphrase(
            "Enter passphrase (empty for no passphrase): ",
            "Enter same passphrase again: ",
            "pass it with -N PASSPHRASE (-N '' for none)",
        )?,
    };
    let stored = keys::protect(&key, Some(&passphrase), rounds.unwrap_or(keys::STANDARD_ROUNDS))?;
    let private_text = keys::to_openssh(&stored)?;
    let public_line = keys::public_line(key.public_key().key_data(), &comment);
    let public_path = pub_path(&path);
    fsutil::write_group(
        &[
            FileSpec { path: &path, contents: private_text.as_bytes(), mode: 0o600 },
            FileSpec { path: &public_path, contents: format!("{public_line}\n").as_bytes(), mode: 0o644 },
        ],
        overwrite,
    )
    .map_err(|e| Fatal::new(format!("Saving key \"{}\" failed: {e}", path.display())).status(1))?;
    if !o.quiet {
        let data = key.public_key().key_data();
        println!("Your identification has been saved in {}", path.display());
        println!("Your public key has been saved in {}", public_path.display());
        println!("The key fingerprint is:");
        println!("{} {}", keys::fingerprint(data, FingerprintHash::Sha256), comment);
        println!("The key's randomart image is:");
        println!("{}", keys::randomart(data, FingerprintHash::Sha256));
    }
    Ok(())
}

/// `-b BITS` as ssh-keygen's strtonum(3) reads it: a number from 1 to 2^32-1.
fn parse_bits(text: &str) -> Result<u32, Fatal> {
    use std::num::IntErrorKind;
    let bad = |why: &str| Fatal::new(format!("Bits has bad value {text} ({why})"));
    // strtoll(3) skips leading white space.
    match text.trim_start().parse::<i64>() {
        Ok(n) if n < 1 => Err(bad("too small")),
        Ok(n) => u32::try_from(n).map_err(|_| bad("too large")),
        Err(e) if *e.kind() == IntErrorKind::PosOverflow => Err(bad("too large")),
        Err(e) if *e.kind() == IntErrorKind::NegOverflow => Err(bad("too small")),
        Err(_) => Err(bad("invalid")),
    }
}

/// Read a private key in any supported format, decrypting it with `passphrase` or a prompt.
fn load_private(
    path: &Path,
    passphrase: Option<Passphrase>,
    prompt: &str,
    prompter: &mut Prompter,
) -> Result<(PrivateKey, Option<u32>, keys::KeyFormat), Fatal> {
    let bytes = fsutil::read_limited(path, keys::MAX_KEY_FILE_BYTES)?;
    let load_err = |e: keys::KeyError| Fatal::new(format!("Load key \"{}\": {e}", path.display()));
    let probe = keys::import::probe(&bytes).map_err(load_err)?;
    let rounds = if probe.format == keys::KeyFormat::Openssh {
        keys::parse_openssh(&bytes).ok().and_then(|k| keys::rounds_of(&k))
    } else {
        None
    };
    let passphrase = match (probe.encrypted, passphrase) {
        (false, _) => None,
        (true, Some(p)) => Some(p),
        (true, None) => Some(prompter.passphrase(prompt, "pass it with -P PASSPHRASE")?),
    };
    let imported = keys::import::import(&bytes, passphrase.as_ref()).map_err(load_err)?;
    Ok((imported.key, rounds, probe.format))
}

fn fingerprint(path: &Path, hash: FingerprintHash, verbose: bool) -> Result<(), Fatal> {
    let print = |key: &KeyData, comment: &str| {
        let comment = if comment.is_empty() { "no comment" } else { comment };
        println!("{} {} {} ({})", keys::bits(key), keys::fingerprint(key, hash), comment, keys::type_label(key));
        if verbose {
            println!("{}", keys::randomart(key, hash));
        }
    };
    let bytes = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(std::io::stdin(), keys::MAX_KEY_FILE_BYTES), &mut buf)?;
        zeroize::Zeroizing::new(buf)
    } else {
        fsutil::read_limited(path, keys::MAX_KEY_FILE_BYTES)?
    };
    let text = String::from_utf8_lossy(&bytes);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first.contains("PRIVATE KEY") || first.starts_with("PuTTY-User-Key-File-") {
        // As ssh-keygen: the comment comes from the .pub if there is one, else from the private
        // key if it opens without a passphrase; an encrypted key alone has "no comment".
        let probe = keys::import::probe(&bytes)
            .map_err(|e| Fatal::new(format!("{} is not a key file: {e}", path.display())))?;
        let from_pub = read_public_file(&pub_path(path));
        let public = match (&from_pub, &probe.public) {
            (Some(p), _) => p.key_data().clone(),
            (None, Some(k)) => k.clone(),
            (None, None) => match keys::import::import(&bytes, None) {
                Ok(imported) => imported.key.public_key().key_data().clone(),
                Err(_) => return Err(Fatal::new(format!("{} is not a key file.", path.display()))),
            },
        };
        let comment = match from_pub.as_ref().map(|p| p.comment().to_owned()).filter(|c| !c.is_empty()) {
            Some(c) => c,
            None => match (probe.encrypted, &probe.comment) {
                (_, Some(c)) => c.clone(),
                (false, None) => {
                    keys::import::import(&bytes, None).map(|i| i.key.comment().to_owned()).unwrap_or_default()
                }
                (true, None) => String::new(),
            },
        };
        print(&public, &comment);
        return Ok(());
    }
    let mut found = 0;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(key) = parse_public_with_options(line) {
            print(key.key_data(), key.comment());
            found += 1;
        }
    }
    if found == 0 {
        return Err(Fatal::new(format!("{} is not a public key file.", path.display())));
    }
    Ok(())
}

/// A public key line, possibly with authorized_keys options in front.
fn parse_public_with_options(line: &str) -> Option<PublicKey> {
    if let Ok(key) = PublicKey::from_openssh(line) {
        return Some(key);
    }
    line.parse::<ssh_key::authorized_keys::Entry>().ok().map(|e| e.public_key().clone())
}

fn read_public_file(path: &Path) -> Option<PublicKey> {
    let bytes = fsutil::read_limited(path, keys::MAX_KEY_FILE_BYTES).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    text.lines().map(str::trim).find(|l| !l.is_empty()).and_then(parse_public_with_options)
}

fn change_passphrase(o: &Options, rounds: Option<u32>, prompter: &mut Prompter) -> Result<(), Fatal> {
    let path = require_file(o, prompter)?;
    let (key, old_rounds, format) = load_private(&path, o.old_passphrase.clone(), "Enter old passphrase: ", prompter)
        .map_err(|f| {
        // ssh-keygen -p names the file without quotes here.
        let quoted = format!("Load key \"{}\"", path.display());
        Fatal::new(f.message.replacen(&quoted, &format!("Failed to load key {}", path.display()), 1))
    })?;
    // ssh-keygen has a comment (possibly empty) only for formats that store one.
    if format == keys::KeyFormat::Openssh || !key.comment().is_empty() {
        println!("Key has comment '{}'", key.comment());
    }
    let new = match o.new_passphrase.clone() {
        Some(p) => p,
        None => prompter
            .new_passphrase(
                "Enter new passphrase (empty for no passphrase): ",
                "Enter same passphrase again: ",
                "pass it with -N PASSPHRASE (-N '' for none)",
            )
            .map_err(|e| match e {
                super::prompt::PromptError::Mismatch => Fatal::new("Pass phrases do not match.  Try again.").status(1),
                other => other.into(),
            })?,
    };
    let rounds = rounds.or(old_rounds).unwrap_or(keys::STANDARD_ROUNDS);
    let text = keys::to_openssh(&keys::protect(&key, Some(&new), rounds)?)?;
    fsutil::write_file(&path, text.as_bytes(), 0o600, Overwrite::Replace)
        .map_err(|e| Fatal::new(format!("Saving key \"{}\" failed: {e}.", path.display())).status(1))?;
    println!("Your identification has been saved with the new passphrase.");
    Ok(())
}

fn change_comment(o: &Options, rounds: Option<u32>, prompter: &mut Prompter) -> Result<(), Fatal> {
    let path = require_file(o, prompter)?;
    let passphrase = o.old_passphrase.clone();
    let bytes = fsutil::read_limited(&path, keys::MAX_KEY_FILE_BYTES)?;
    let encrypted = keys::import::probe(&bytes).map(|p| p.encrypted).unwrap_or(false);
    let passphrase = match (encrypted, passphrase) {
        (true, None) => Some(prompter.passphrase("Enter passphrase: ", "pass it with -P PASSPHRASE")?),
        (_, p) => p,
    };
    let (mut key, old_rounds, _) = load_private(&path, passphrase.clone(), "Enter passphrase: ", prompter)
        .map_err(|f| Fatal::new(f.message.replacen("Load key", "Cannot load private key", 1)))?;
    let old = key.comment().to_owned();
    if old.is_empty() {
        println!("No existing comment");
    } else {
        println!("Old comment: {old}");
    }
    let new = match &o.comment {
        Some(c) => c.clone(),
        None => prompter.line("New comment: ", "the new comment", "pass it with -C COMMENT")?,
    };
    if new == old {
        println!("No change to comment");
        return Ok(());
    }
    keys::check_comment(&new)?;
    key.set_comment(new.clone());
    let protection = passphrase.filter(|_| encrypted);
    // As -p: -a sets the rounds; without it the key keeps its own (ssh-keygen would reset them to 16).
    let rounds = rounds.or(old_rounds).unwrap_or(keys::STANDARD_ROUNDS);
    let text = keys::to_openssh(&keys::protect(&key, protection.as_ref(), rounds)?)?;
    let public_line = keys::public_line(key.public_key().key_data(), &new);
    let public_path = pub_path(&path);
    fsutil::write_group(
        &[
            FileSpec { path: &path, contents: text.as_bytes(), mode: 0o600 },
            FileSpec { path: &public_path, contents: format!("{public_line}\n").as_bytes(), mode: 0o644 },
        ],
        Overwrite::Replace,
    )
    .map_err(|e| Fatal::new(format!("Saving key \"{}\" failed: {e}", path.display())).status(1))?;
    println!("Comment '{new}' applied");
    Ok(())
}

fn export(path: &Path, o: &Options, prompter: &mut Prompter) -> Result<(), Fatal> {
    // As ssh-keygen: the file as a public key, else its .pub, else the private key's public half.
    let public = match read_public_file(path).or_else(|| read_public_file(&pub_path(path))) {
        Some(p) => p.key_data().clone(),
        None => {
            let bytes = fsutil::read_limited(path, keys::MAX_KEY_FILE_BYTES)?;
            match keys::import::probe(&bytes).ok().and_then(|p| p.public) {
                Some(k) => k,
                None => load_private(path, o.old_passphrase.clone(), "Enter passphrase: ", prompter)?
                    .0
                    .public_key()
                    .key_data()
                    .clone(),
            }
        }
    };
    print!("{}", keys::rfc4716(&public, &crate::paths::user_at_host()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_bits;

    #[test]
    fn bits_are_read_and_refused_as_ssh_keygen_does() {
        for (text, bits) in [("256", 256), ("+4096", 4096), (" 8192", 8192), ("4294967295", u32::MAX)] {
            assert_eq!(parse_bits(text).ok(), Some(bits), "{text}");
        }
        for (text, message) in [
            ("0", "Bits has bad value 0 (too small)"),
            ("-5", "Bits has bad value -5 (too small)"),
            ("4294967296", "Bits has bad value 4294967296 (too large)"),
            ("99999999999999999999999", "Bits has bad value 99999999999999999999999 (too large)"),
            ("5x", "Bits has bad value 5x (invalid)"),
            ("", "Bits has bad value  (invalid)"),
        ] {
            assert_eq!(parse_bits(text).err().map(|f| f.message).as_deref(), Some(message));
        }
    }
}
