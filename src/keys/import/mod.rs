//! Reading private keys written by other tools: OpenSSH, PEM (PKCS#1, SEC1), PKCS#8 and PuTTY.
//!
//! This module owns recognising a key file's format ([`probe`]) and turning it into an
//! `ssh_key::PrivateKey` ([`import`]); it never touches the file system and never writes a
//! foreign format. Each container has its own module:
//!
//! - `armor`: the PEM text armour (RFC 7468, with RFC 1421 headers) shared by the PEM formats.
//! - `openssh`: `-----BEGIN OPENSSH PRIVATE KEY-----` (OpenSSH's PROTOCOL.key).
//! - `pem`: PKCS#1 RSA (RFC 8017) and SEC1 EC (RFC 5915) keys, and OpenSSL's legacy
//!   `Proc-Type: 4,ENCRYPTED` encryption.
//! - `pkcs8`: PKCS#8 (RFC 5208 / RFC 5958) plain and PBES2-encrypted (RFC 8018), including
//!   Ed25519 (RFC 8410).
//! - `putty`: PuTTY's `.ppk` versions 2 and 3.
//! - `keypair`: turning the numbers any of them hold into checked ssh-key keypairs.
//! - `wire`: the SSH wire encoding inside OpenSSH and PuTTY blobs.
//!
//! Every decrypted buffer lives in `zeroize::Zeroizing`; no error message carries key material
//! or a passphrase. Hostile input gets an error, never a panic, and the KDF cost parameters a
//! file asks for are capped so that it cannot exhaust memory or stall the app.

mod armor;
mod keypair;
mod openssh;
mod pem;
mod pkcs8;
mod putty;
#[cfg(test)]
mod tests;
mod wire;

use ssh_key::private::KeypairData;
use ssh_key::public::KeyData;

use super::{KeyError, KeyFormat, MAX_KEY_FILE_BYTES, Passphrase, PrivateKey};

/// What can be learnt about a key file without its passphrase.
#[derive(Debug, Clone)]
pub struct Probe {
    pub format: KeyFormat,
    pub encrypted: bool,
    /// The public key, where the format stores it in the clear (OpenSSH, PuTTY), or where the
    /// whole file is unencrypted (then it is derived from the private key).
    pub public: Option<ssh_key::public::KeyData>,
    /// The comment, where the format stores it in the clear (PuTTY, unencrypted OpenSSH).
    pub comment: Option<String>,
}

/// A decrypted private key read from another tool's file.
pub struct Imported {
    /// The key, decrypted; its comment is the file's comment (if the format has one).
    pub key: PrivateKey,
    pub format: KeyFormat,
    /// Whether the file was protected by a passphrase.
    pub was_encrypted: bool,
}

/// Recognise the format of `bytes` and what it reveals without a passphrase.
///
/// Files whose key type Latchkey cannot use (DSA, security keys, small RSA ...) are refused here
/// already when the type is visible without the passphrase, so nobody is asked for a
/// passphrase only to be told afterwards that the key is unusable.
pub fn probe(bytes: &[u8]) -> Result<Probe, KeyError> {
    let source = classify(bytes)?;
    let (format, encrypted) = match &source {
        Source::Openssh(blob) => return openssh::probe(blob),
        Source::Putty(text) => return putty::probe(text),
        Source::Pkcs1 { block } => (KeyFormat::PemPkcs1, pem::is_encrypted(block, KeyFormat::PemPkcs1)?),
        Source::Sec1 { block } => (KeyFormat::PemSec1, pem::is_encrypted(block, KeyFormat::PemSec1)?),
        Source::Pkcs8(_) => (KeyFormat::Pkcs8, false),
        Source::Pkcs8Encrypted(der) => {
            pkcs8::check_encrypted(der)?;
            (KeyFormat::Pkcs8Encrypted, true)
        }
    };
    if encrypted {
        return Ok(Probe { format, encrypted, public: None, comment: None });
    }
    // Unencrypted: everything is in the clear, so the public half can be shown (and the whole
    // file checked) before the user commits to importing it.
    let imported = open(source, None)?;
    Ok(Probe {
        format,
        encrypted,
        public: Some(imported.key.public_key().key_data().clone()),
        comment: non_empty(imported.key.comment()),
    })
}

/// Read and decrypt a private key in any supported format.
///
/// `passphrase` is needed only for encrypted files: without it they give
/// [`KeyError::PassphraseRequired`], with a wrong one [`KeyError::WrongPassphrase`].
pub fn import(bytes: &[u8], passphrase: Option<&Passphrase>) -> Result<Imported, KeyError> {
    open(classify(bytes)?, passphrase)
}

fn open(source: Source<'_>, passphrase: Option<&Passphrase>) -> Result<Imported, KeyError> {
    match source {
        Source::Openssh(blob) => openssh::import(&blob, passphrase),
        Source::Pkcs1 { block } => pem::import(&block, KeyFormat::PemPkcs1, passphrase),
        Source::Sec1 { block } => pem::import(&block, KeyFormat::PemSec1, passphrase),
        Source::Pkcs8(der) => pkcs8::import_plain(&der, KeyFormat::Pkcs8, false),
        Source::Pkcs8Encrypted(der) => pkcs8::import_encrypted(&der, passphrase),
        Source::Putty(text) => putty::import(text, passphrase),
    }
}

/// A recognised container, with its payload decoded from any armour.
enum Source<'a> {
    /// The decoded openssh-key-v1 blob.
    Openssh(zeroize::Zeroizing<Vec<u8>>),
    Pkcs1 {
        block: armor::Block<'a>,
    },
    Sec1 {
        block: armor::Block<'a>,
    },
    /// DER `PrivateKeyInfo`.
    Pkcs8(zeroize::Zeroizing<Vec<u8>>),
    /// DER `EncryptedPrivateKeyInfo`.
    Pkcs8Encrypted(zeroize::Zeroizing<Vec<u8>>),
    /// The whole `.ppk` text (its line structure matters to the MAC).
    Putty(&'a [u8]),
}

/// What a file is, from its first bytes and its PEM labels.
fn classify(bytes: &[u8]) -> Result<Source<'_>, KeyError> {
    let size = bytes.len() as u64;
    if size > MAX_KEY_FILE_BYTES {
        return Err(KeyError::TooLarge { size, limit: MAX_KEY_FILE_BYTES });
    }
    // Windows editors (Notepad) put a UTF-8 byte order mark in front of text files.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let bytes = bytes.trim_ascii_start();
    if bytes.is_empty() {
        return Err(unrecognized("the file is empty"));
    }
    if bytes.starts_with(b"PuTTY-User-Key-File-") {
        return Ok(Source::Putty(bytes));
    }
    if bytes.starts_with(b"SSH PRIVATE KEY FILE FORMAT 1.1") {
        return Err(KeyError::UnsupportedKeyType {
            what: "SSH-1 RSA".into(),
            why: "SSH protocol 1 is obsolete (OpenSSH dropped it in version 7.6); generate a new \
                key",
        });
    }
    // A DER SEQUENCE: PKCS#8, PKCS#1 or SEC1 without the PEM armour. (0x30 is also the digit
    // `0`, so a text file can start with it too.)
    if bytes.first() == Some(&0x30)
        && let Some(source) = classify_der(bytes)
    {
        return source;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(unrecognized("binary data that is not a key file"));
    };
    if text.contains("---- BEGIN SSH2 PUBLIC KEY ----") {
        return Err(public_key_given());
    }
    if text.contains("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----") {
        return Err(unrecognized(
            "an ssh.com (SECSH) private key; convert it with `puttygen KEY -O private-openssh-new \
             -o NEW` and import the new file",
        ));
    }
    let blocks = armor::blocks(text);
    if blocks.is_empty() {
        return Err(classify_text(text));
    }
    // The first block that holds a private key wins: `openssl ecparam -genkey` writes an
    // `EC PARAMETERS` block first, and `openssl ... -text` puts a dump around the key.
    let mut others = Vec::new();
    for raw in blocks {
        let source = match raw.label {
            "OPENSSH PRIVATE KEY" => Source::Openssh(raw.decode(KeyFormat::Openssh)?.data),
            "RSA PRIVATE KEY" => Source::Pkcs1 { block: raw.decode(KeyFormat::PemPkcs1)? },
            "EC PRIVATE KEY" => Source::Sec1 { block: raw.decode(KeyFormat::PemSec1)? },
            "PRIVATE KEY" => Source::Pkcs8(raw.decode(KeyFormat::Pkcs8)?.data),
            "ENCRYPTED PRIVATE KEY" => Source::Pkcs8Encrypted(raw.decode(KeyFormat::Pkcs8Encrypted)?.data),
            "DSA PRIVATE KEY" => return Err(dsa_unsupported()),
            _ => {
                others.push(raw.label);
                continue;
            }
        };
        return Ok(source);
    }
    Err(classify_other_labels(&others))
}

/// A file that starts like DER: try the private-key structures it could be, most specific first.
/// `None` if it is none of them.
fn classify_der(der: &[u8]) -> Option<Result<Source<'_>, KeyError>> {
    use ::pkcs8::der::Decode;

    let owned = || zeroize::Zeroizing::new(der.to_vec());
    let source = if pkcs8::is_encrypted_info(der) {
        Source::Pkcs8Encrypted(owned())
    } else if ::pkcs8::PrivateKeyInfo::from_der(der).is_ok() {
        Source::Pkcs8(owned())
    } else if pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        Source::Pkcs1 { block: armor::Block::binary(owned()) }
    } else if sec1::EcPrivateKey::from_der(der).is_ok() {
        Source::Sec1 { block: armor::Block::binary(owned()) }
    } else if ::pkcs8::spki::SubjectPublicKeyInfoRef::from_der(der).is_ok() {
        return Some(Err(public_key_given()));
    } else {
        return None;
    };
    Some(Ok(source))
}

/// Text without PEM armour: a public key line, or not a key at all.
fn classify_text(text: &str) -> KeyError {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or("");
    // `[options] type base64 [comment]` (sshd(8) AUTHORIZED_KEYS FILE FORMAT); every public key
    // blob starts with a 4-byte length under 2^24, which is "AAAA" in base64.
    let words: Vec<&str> = first.split_ascii_whitespace().collect();
    let looks_public = words.windows(2).any(|pair| {
        let [kind, blob] = pair else { return false };
        ["ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"].iter().any(|p| kind.starts_with(p)) && blob.starts_with("AAAA")
    });
    if first.contains("-cert-v01@openssh.com") {
        return unrecognized(
            "this is an SSH certificate (a public key signed by a CA); import the private key file \
             it belongs to",
        );
    }
    if looks_public {
        return public_key_given();
    }
    if text.contains('\0') || text.chars().any(|c| c.is_control() && !c.is_ascii_whitespace()) {
        return unrecognized("binary data that is not a key file");
    }
    unrecognized("no `-----BEGIN ... PRIVATE KEY-----` line or PuTTY header was found")
}

fn classify_other_labels(labels: &[&str]) -> KeyError {
    let has = |wanted: &[&str]| labels.iter().any(|l| wanted.contains(l));
    if has(&["PUBLIC KEY", "RSA PUBLIC KEY", "SSH2 PUBLIC KEY", "OPENSSH PUBLIC KEY"]) {
        return public_key_given();
    }
    if has(&["CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"]) {
        return unrecognized("this is an X.509 certificate, not a private key; import the private key file");
    }
    if has(&["PGP PRIVATE KEY BLOCK", "PGP PUBLIC KEY BLOCK"]) {
        return unrecognized(
            "an OpenPGP key; export it as an SSH key first (gpg --export-ssh-key for the public \
             half)",
        );
    }
    match labels.first() {
        Some(label) => unrecognized(&format!("a PEM block labelled `{label}`, which does not hold a private key")),
        None => unrecognized("no private key block was found"),
    }
}

fn unrecognized(hint: &str) -> KeyError {
    KeyError::UnrecognizedFormat { hint: hint.to_owned() }
}

fn public_key_given() -> KeyError {
    unrecognized("this is a public key; import the private key file (usually the same name without .pub)")
}

fn dsa_unsupported() -> KeyError {
    KeyError::UnsupportedKeyType {
        what: "DSA".into(),
        why: "DSA is obsolete and OpenSSH has refused it since version 7.0; generate an Ed25519 \
            key instead",
    }
}

fn non_empty(comment: &str) -> Option<String> {
    if comment.is_empty() { None } else { Some(comment.to_owned()) }
}

/// The key types Latchkey's agent can serve. Applied to every import, and to the public key
/// already at probe time where the format shows it.
fn check_supported(public: &KeyData) -> Result<(), KeyError> {
    match public {
        KeyData::Ed25519(_) | KeyData::Ecdsa(_) => Ok(()),
        KeyData::Rsa(rsa) => keypair::check_rsa_bits(super::rsa::modulus_bits(&rsa.n)),
        KeyData::Dsa(_) => Err(dsa_unsupported()),
        KeyData::SkEd25519(_) | KeyData::SkEcdsaSha2NistP256(_) => Err(KeyError::UnsupportedKeyType {
            what: format!("FIDO security-key ({})", public.algorithm()),
            why: "their private half stays on the hardware token, which Latchkey cannot use; \
                    keep using this key with ssh-agent and the token",
        }),
        other => Err(KeyError::UnsupportedKeyType {
            what: other.algorithm().to_string(),
            why: "Latchkey handles Ed25519, ECDSA (NIST P-256/384/521) and RSA keys",
        }),
    }
}

/// The last step of every importer: wrap checked keypair data with its comment.
fn finish(data: KeypairData, comment: String, format: KeyFormat, was_encrypted: bool) -> Result<Imported, KeyError> {
    // A comment ends up on a `.pub` line (see `check_comment`); OpenSSH's binary format could
    // carry a line break in it, which is flattened rather than failing the whole import.
    let comment = comment.replace(['\r', '\n'], " ");
    let key = PrivateKey::new(data, comment).map_err(|e| KeyError::malformed(format, e))?;
    check_supported(key.public_key().key_data())?;
    Ok(Imported { key, format, was_encrypted })
}
