//! PuTTY's private key files (`.ppk`), format versions 2 and 3, as described in the PuTTY
//! manual's appendix "PPK file format" and implemented by `ppk_load_s` in PuTTY's sshpubk.c.
//!
//! ```text
//! PuTTY-User-Key-File-3: ssh-ed25519          (2 for version 2)
//! Encryption: aes256-cbc                      (or none)
//! Comment: ...
//! Public-Lines: N                             + N lines of base64: the SSH public key blob
//! Key-Derivation: Argon2id                    (version 3, encrypted only; also Argon2i/Argon2d)
//! Argon2-Memory: 8192                         (KiB)
//! Argon2-Passes: 34
//! Argon2-Parallelism: 1
//! Argon2-Salt: <hex>
//! Private-Lines: M                            + M lines of base64: the private fields, padded
//! Private-MAC: <hex>
//! ```
//!
//! Version 2 derives the AES-256-CBC key as SHA-1(0u32 || passphrase) || SHA-1(1u32 ||
//! passphrase) cut to 32 bytes with a zero IV, and MACs with HMAC-SHA-1 keyed by
//! SHA-1("putty-private-key-file-mac-key" || passphrase). Version 3 takes 80 bytes of Argon2
//! output as AES key (32), IV (16) and HMAC-SHA-256 key (32); unencrypted it MACs with an empty
//! key. Both MAC the SSH-string-encoded algorithm, encryption, comment, public blob and
//! decrypted private blob. The MAC is the only check there is: with a passphrase a mismatch means
//! the passphrase was wrong, without one the file was changed.

use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};
use sha2::Sha256;
use ssh_key::Mpint;
use ssh_key::private::{KeypairData, RsaKeypair, RsaPrivateKey};
use ssh_key::public::KeyData;
use zeroize::Zeroizing;

use super::keypair::{self, Curve};
use super::wire::Wire;
use super::{Imported, KeyError, KeyFormat, Passphrase, Probe, check_supported, dsa_unsupported, finish, non_empty};

/// PuTTY refuses blobs of more lines than this (MAX_KEY_BLOB_LINES); RSA-16384 needs ~60.
const MAX_BLOB_LINES: usize = 1024;

/// Bounds on the Argon2 cost a file may ask for: Argon2 allocates its memory up front, and a
/// failed allocation aborts the process, so a hostile file could otherwise crash the app or keep
/// it busy for hours. PuTTYgen's defaults are 8 MiB and ~100 ms worth of passes.
const MAX_ARGON2_MEMORY_KIB: u32 = 1 << 20;
const MAX_ARGON2_PARALLELISM: u32 = 64;
/// Memory (KiB) times passes: about half a minute of work at the extreme.
const MAX_ARGON2_WORK: u64 = 1 << 26;

/// The structure of a `.ppk`, before decryption.
struct Ppk<'a> {
    format: KeyFormat,
    algorithm: &'a [u8],
    encryption: &'a [u8],
    comment: &'a [u8],
    public: Zeroizing<Vec<u8>>,
    kdf: Option<Argon2Params>,
    /// Encrypted if `encryption` is not `none`; secret either way.
    private: Zeroizing<Vec<u8>>,
    mac: Vec<u8>,
}

struct Argon2Params {
    algorithm: argon2::Algorithm,
    memory_kib: u32,
    passes: u32,
    parallelism: u32,
    salt: Vec<u8>,
}

impl Ppk<'_> {
    fn encrypted(&self) -> bool {
        self.encryption != b"none"
    }

    fn comment(&self) -> String {
        // PuTTYgen on Windows may have written the comment in a legacy code page.
        String::from_utf8_lossy(self.comment).into_owned()
    }

    fn public_key(&self) -> Result<KeyData, KeyError> {
        let key = ssh_key::PublicKey::from_bytes(&self.public)
            .map_err(|e| KeyError::malformed(self.format, format!("the public key does not parse ({e})")))?;
        if key.algorithm().as_str().as_bytes() != self.algorithm {
            return Err(KeyError::malformed(self.format, "the public key is not of the type the header names"));
        }
        Ok(key.key_data().clone())
    }
}

pub(super) fn probe(text: &[u8]) -> Result<Probe, KeyError> {
    let ppk = parse(text)?;
    let public = ppk.public_key()?;
    check_supported(&public)?;
    if !ppk.encrypted() {
        // Nothing is secret, so the MAC and the private fields can be checked right away.
        import(text, None)?;
    }
    Ok(Probe {
        format: ppk.format,
        encrypted: ppk.encrypted(),
        public: Some(public),
        comment: non_empty(&ppk.comment()),
    })
}

pub(super) fn import(text: &[u8], passphrase: Option<&Passphrase>) -> Result<Imported, KeyError> {
    let ppk = parse(text)?;
    let public = ppk.public_key()?;
    check_supported(&public)?;
    let encrypted = ppk.encrypted();
    let passphrase: &[u8] = match (encrypted, passphrase) {
        (false, _) => b"",
        (true, None) => return Err(KeyError::PassphraseRequired),
        (true, Some(p)) => p.expose().as_bytes(),
    };
    let keys = derive_keys(&ppk, passphrase)?;

    let mut private = ppk.private.clone();
    if encrypted {
        if !private.len().is_multiple_of(16) {
            return Err(KeyError::malformed(
                ppk.format,
                "the private part is not whole AES blocks: the file is cut short",
            ));
        }
        let decryptor = cbc::Decryptor::<aes::Aes256>::new_from_slices(&keys.cipher_key, &keys.iv)
            .map_err(|_| KeyError::Crypto("AES-256-CBC key setup".into()))?;
        decryptor
            .decrypt_padded_mut::<NoPadding>(&mut private)
            .map_err(|_| KeyError::malformed(ppk.format, "the private part could not be decrypted"))?;
    }
    verify_mac(&ppk, &keys.mac_key, &private)?;

    let data = keypair_from_blobs(&public, &private, ppk.format)?;
    finish(data, ppk.comment(), ppk.format, encrypted)
}

fn parse(text: &[u8]) -> Result<Ppk<'_>, KeyError> {
    let mut lines = Lines { rest: text, format: KeyFormat::PuttyV3 };
    let (name, algorithm) = lines.any_field()?;
    let format = match name.strip_prefix(b"PuTTY-User-Key-File-") {
        Some(b"3") => KeyFormat::PuttyV3,
        Some(b"2") => KeyFormat::PuttyV2,
        Some(b"1") => {
            return Err(KeyError::UnrecognizedFormat {
                hint: "a PuTTY key file of format version 1 (from very old PuTTY releases); open \
                    it in a current PuTTYgen and save it again, then import that"
                    .into(),
            });
        }
        Some(version) => {
            return Err(KeyError::UnrecognizedFormat {
                hint: format!(
                    "a PuTTY key file of format version {}, newer than Latchkey reads; in PuTTYgen \
                     save it as version 3 (Key > Parameters for saving key files) or export it as \
                     an OpenSSH key",
                    String::from_utf8_lossy(version)
                ),
            });
        }
        None => {
            return Err(KeyError::malformed(KeyFormat::PuttyV3, "the first line is not a PuTTY key header"));
        }
    };
    lines.format = format;
    check_algorithm(algorithm)?;

    let encryption = lines.field("Encryption")?;
    if encryption != b"none" && encryption != b"aes256-cbc" {
        return Err(KeyError::UnsupportedEncryption {
            format,
            what: format!("the cipher {:?}", String::from_utf8_lossy(encryption)),
        });
    }
    let comment = lines.field("Comment")?;
    let public = lines.blob("Public-Lines")?;
    let kdf =
        if format == KeyFormat::PuttyV3 && encryption != b"none" { Some(argon2_params(&mut lines)?) } else { None };
    let private = lines.blob("Private-Lines")?;
    let mac_hex = match lines.field("Private-MAC") {
        Ok(mac) => mac,
        Err(_) if lines.rest.trim_ascii().is_empty() => {
            return Err(KeyError::malformed(format, "the `Private-MAC:` line is missing: the file is cut short"));
        }
        Err(e) => return Err(e),
    };
    let mac_len = if format == KeyFormat::PuttyV2 { 20 } else { 32 };
    let mac = std::str::from_utf8(mac_hex)
        .ok()
        .and_then(|hex| super::pem::hex(hex.trim()))
        .filter(|mac| mac.len() == mac_len)
        .ok_or_else(|| KeyError::malformed(format, "the `Private-MAC:` value is not a MAC"))?;
    Ok(Ppk { format, algorithm, encryption, comment, public, kdf, private, mac })
}

/// Refuse unusable key types by name, before anything is decoded.
fn check_algorithm(algorithm: &[u8]) -> Result<(), KeyError> {
    match algorithm {
        b"ssh-rsa" | b"ssh-ed25519" | b"ecdsa-sha2-nistp256" | b"ecdsa-sha2-nistp384" | b"ecdsa-sha2-nistp521" => {
            Ok(())
        }
        b"ssh-dss" => Err(dsa_unsupported()),
        b"ssh-ed448" => Err(KeyError::UnsupportedKeyType { what: "Ed448".into(), why: "OpenSSH has no Ed448 keys" }),
        name if name.ends_with(b"-cert-v01@openssh.com") => Err(KeyError::UnsupportedKeyType {
            what: "certificate-carrying PuTTY".into(),
            why: "remove the certificate first (`puttygen KEY --remove-certificate -o NEW`) and \
                import the plain key",
        }),
        name => Err(KeyError::UnsupportedKeyType {
            what: String::from_utf8_lossy(name).into_owned(),
            why: "Latchkey handles Ed25519, ECDSA (NIST P-256/384/521) and RSA keys",
        }),
    }
}

fn argon2_params(lines: &mut Lines<'_>) -> Result<Argon2Params, KeyError> {
    let format = lines.format;
    let algorithm = match lines.field("Key-Derivation")? {
        b"Argon2id" => argon2::Algorithm::Argon2id,
        b"Argon2i" => argon2::Algorithm::Argon2i,
        b"Argon2d" => argon2::Algorithm::Argon2d,
        other => {
            return Err(KeyError::UnsupportedEncryption {
                format,
                what: format!("the key derivation {:?}", String::from_utf8_lossy(other)),
            });
        }
    };
    let mut number = |name: &str| -> Result<u32, KeyError> {
        let value = lines.field(name)?;
        std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .ok_or_else(|| KeyError::malformed(format, format!("`{name}:` is not a number")))
    };
    let memory_kib = number("Argon2-Memory")?;
    let passes = number("Argon2-Passes")?;
    let parallelism = number("Argon2-Parallelism")?;
    let salt = std::str::from_utf8(lines.field("Argon2-Salt")?)
        .ok()
        .and_then(|hex| super::pem::hex(hex.trim()))
        .ok_or_else(|| KeyError::malformed(format, "`Argon2-Salt:` is not hex"))?;
    let work = u64::from(memory_kib) * u64::from(passes);
    if memory_kib > MAX_ARGON2_MEMORY_KIB || parallelism > MAX_ARGON2_PARALLELISM || work > MAX_ARGON2_WORK {
        return Err(KeyError::UnsupportedEncryption {
            format,
            what: format!(
                "Argon2 with {memory_kib} KiB, {passes} passes and {parallelism} lanes, more than \
                 Latchkey allows so that a hostile file cannot exhaust this machine; save it again \
                 in PuTTYgen with the default settings"
            ),
        });
    }
    Ok(Argon2Params { algorithm, memory_kib, passes, parallelism, salt })
}

struct DerivedKeys {
    cipher_key: Zeroizing<Vec<u8>>,
    iv: Zeroizing<Vec<u8>>,
    mac_key: Zeroizing<Vec<u8>>,
}

fn derive_keys(ppk: &Ppk<'_>, passphrase: &[u8]) -> Result<DerivedKeys, KeyError> {
    if ppk.format == KeyFormat::PuttyV2 {
        let mut cipher_key = Zeroizing::new(Vec::with_capacity(40));
        for counter in 0u32..2 {
            let mut sha = Sha1::new();
            sha.update(counter.to_be_bytes());
            sha.update(passphrase);
            let digest = Zeroizing::new(<[u8; 20]>::from(sha.finalize()));
            cipher_key.extend_from_slice(digest.as_slice());
        }
        cipher_key.truncate(32);
        let mut sha = Sha1::new();
        sha.update(b"putty-private-key-file-mac-key");
        sha.update(passphrase);
        let digest = Zeroizing::new(<[u8; 20]>::from(sha.finalize()));
        let mac_key = Zeroizing::new(digest.to_vec());
        return Ok(DerivedKeys { cipher_key, iv: Zeroizing::new(vec![0; 16]), mac_key });
    }
    let Some(kdf) = &ppk.kdf else {
        // Version 3 without encryption: HMAC-SHA-256 with an empty key.
        return Ok(DerivedKeys {
            cipher_key: Zeroizing::new(Vec::new()),
            iv: Zeroizing::new(Vec::new()),
            mac_key: Zeroizing::new(Vec::new()),
        });
    };
    let bad_params =
        |e: argon2::Error| KeyError::malformed(ppk.format, format!("the Argon2 parameters are not valid ({e})"));
    let params = argon2::Params::new(kdf.memory_kib, kdf.passes, kdf.parallelism, Some(80)).map_err(bad_params)?;
    let argon2 = argon2::Argon2::new(kdf.algorithm, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 80]);
    argon2.hash_password_into(passphrase, &kdf.salt, out.as_mut_slice()).map_err(bad_params)?;
    let (cipher_key, rest) = out.split_at(32);
    let (iv, mac_key) = rest.split_at(16);
    Ok(DerivedKeys {
        cipher_key: Zeroizing::new(cipher_key.to_vec()),
        iv: Zeroizing::new(iv.to_vec()),
        mac_key: Zeroizing::new(mac_key.to_vec()),
    })
}

fn verify_mac(ppk: &Ppk<'_>, key: &[u8], private: &[u8]) -> Result<(), KeyError> {
    let fields = [ppk.algorithm, ppk.encryption, ppk.comment, &ppk.public, private];
    // `verify_slice` compares in constant time.
    let verified = if ppk.format == KeyFormat::PuttyV2 {
        mac_over::<Hmac<Sha1>>(key, &fields).is_some_and(|mac| mac.verify_slice(&ppk.mac).is_ok())
    } else {
        mac_over::<Hmac<Sha256>>(key, &fields).is_some_and(|mac| mac.verify_slice(&ppk.mac).is_ok())
    };
    match (verified, ppk.encrypted()) {
        (true, _) => Ok(()),
        (false, true) => Err(KeyError::WrongPassphrase),
        (false, false) => Err(KeyError::malformed(
            ppk.format,
            "the integrity check (Private-MAC) failed, so the file was changed or damaged",
        )),
    }
}

/// The MAC over SSH strings (RFC 4251 §5: u32 length, then the bytes) of `fields`.
fn mac_over<M: Mac + hmac::digest::KeyInit>(key: &[u8], fields: &[&[u8]]) -> Option<M> {
    let mut mac = <M as Mac>::new_from_slice(key).ok()?;
    for field in fields {
        // Every field comes from a file of at most MAX_KEY_FILE_BYTES, so the length fits.
        mac.update(&u32::try_from(field.len()).ok()?.to_be_bytes());
        mac.update(field);
    }
    Some(mac)
}

/// The key from the public blob and the decrypted private fields (the PPK appendix lists them:
/// RSA d, p, q, iqmp as mpints; Ed25519 the 32-byte seed as a string; ECDSA the scalar as an
/// mpint). What follows them is padding.
fn keypair_from_blobs(public: &KeyData, private: &[u8], format: KeyFormat) -> Result<KeypairData, KeyError> {
    let truncated = || KeyError::malformed(format, "the private part ends too early");
    let mut wire = Wire(private);
    match public {
        KeyData::Rsa(rsa) => {
            let mut mpint = || -> Result<Mpint, KeyError> {
                let bytes = wire.string().ok_or_else(truncated)?;
                let value = Mpint::from_bytes(bytes).map_err(|e| KeyError::malformed(format, e))?;
                value.as_positive_bytes().ok_or_else(|| KeyError::malformed(format, "an RSA number is negative"))?;
                Ok(value)
            };
            let d = mpint()?;
            let p = mpint()?;
            let q = mpint()?;
            let iqmp = mpint()?;
            Ok(KeypairData::Rsa(RsaKeypair { public: rsa.clone(), private: RsaPrivateKey { d, iqmp, p, q } }))
        }
        KeyData::Ed25519(key) => {
            let seed = wire.string().ok_or_else(truncated)?;
            keypair::ed25519(seed, Some(key.0.as_slice()), format)
        }
        KeyData::Ecdsa(key) => {
            let scalar = wire.string().ok_or_else(truncated)?;
            let curve = Curve::from_ssh_name(key.curve().as_str().as_bytes())
                .ok_or_else(|| KeyError::malformed(format, "unknown ECDSA curve"))?;
            keypair::ecdsa(curve, scalar, Some(key.as_sec1_bytes()), format)
        }
        // check_supported ran before: nothing else gets here.
        other => Err(KeyError::UnsupportedKeyType {
            what: other.algorithm().to_string(),
            why: "Latchkey handles Ed25519, ECDSA (NIST P-256/384/521) and RSA keys",
        }),
    }
}

/// The `.ppk` text, one `Name: value` line or blob at a time. Lines end in LF, CRLF or CR.
struct Lines<'a> {
    rest: &'a [u8],
    format: KeyFormat,
}

impl<'a> Lines<'a> {
    fn line(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let end = self.rest.iter().position(|&b| b == b'\n' || b == b'\r').unwrap_or(self.rest.len());
        let (line, mut rest) = self.rest.split_at(end);
        if let Some(after) = rest.strip_prefix(b"\r") {
            rest = after;
        }
        if let Some(after) = rest.strip_prefix(b"\n") {
            rest = after;
        }
        self.rest = rest;
        Some(line)
    }

    /// The next `Name: value` line (PuTTY's `read_header`: the name ends at ": ").
    fn any_field(&mut self) -> Result<(&'a [u8], &'a [u8]), KeyError> {
        let format = self.format;
        let line =
            self.line().ok_or_else(|| KeyError::malformed(format, "the file ends too early: it is cut short"))?;
        let at = line
            .windows(2)
            .position(|pair| pair == b": ")
            .ok_or_else(|| KeyError::malformed(format, "a line that should be `Name: value` is not"))?;
        let (name, value) = line.split_at(at);
        Ok((name, value.get(2..).unwrap_or_default()))
    }

    /// The value of the next line, which must be the field `name`.
    fn field(&mut self, name: &str) -> Result<&'a [u8], KeyError> {
        let (found, value) = self.any_field()?;
        if found != name.as_bytes() {
            return Err(KeyError::malformed(
                self.format,
                format!("expected the `{name}:` line, found `{}:`", String::from_utf8_lossy(found)),
            ));
        }
        Ok(value)
    }

    /// `Name-Lines: N` followed by N lines of base64.
    fn blob(&mut self, name: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let format = self.format;
        let count = std::str::from_utf8(self.field(name)?)
            .ok()
            .and_then(|n| n.trim().parse::<usize>().ok())
            .filter(|&n| n <= MAX_BLOB_LINES)
            .ok_or_else(|| KeyError::malformed(format, format!("`{name}:` is not a line count")))?;
        let mut text = Zeroizing::new(String::new());
        for _ in 0..count {
            let line = self
                .line()
                .ok_or_else(|| KeyError::malformed(format, "the file ends inside a key blob: it is cut short"))?;
            let line = std::str::from_utf8(line.trim_ascii())
                .map_err(|_| KeyError::malformed(format, "a key blob line is not base64"))?;
            text.push_str(line);
        }
        super::armor::base64(&text).map_err(|e| KeyError::malformed(format, format!("a key blob is damaged ({e})")))
    }
}
