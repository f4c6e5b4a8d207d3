//! OpenSSH's own private key format, openssh-key-v1 (OpenSSH's PROTOCOL.key), encrypted or not.
//!
//! ```text
//! "openssh-key-v1\0" string ciphername  string kdfname  string kdfoptions
//! uint32 1  string publickey  string private-section  [16-byte tag for AEAD ciphers]
//! private-section = uint32 check  uint32 check  keypair fields  string comment  padding 1 2 3 ...
//! ```
//!
//! The KDF (bcrypt-pbkdf) and the ciphers come from ssh-key; the container and the private
//! section are parsed here, because ssh-key 0.6 rejects ECDSA scalars that OpenSSH wrote with
//! their leading zero bytes stripped (OpenSSH stores them as mpints, so a scalar whose top byte is
//! zero and whose next is below 0x80 comes out a byte short): one P-521 key in four, one P-256 or
//! P-384 key in 512. Parsing the fields here also puts every keypair through the same checks as
//! the other formats (`keypair`). The armour was already removed by `armor`, which, unlike
//! ssh-key's strict decoder (and ssh-keygen itself), accepts CRLF and re-wrapped lines.

use ssh_key::private::{KeypairData, RsaKeypair, RsaPrivateKey};
use ssh_key::public::{KeyData, RsaPublicKey};
use ssh_key::{Cipher, Kdf, Mpint};
use zeroize::Zeroizing;

use super::keypair::{self, Curve};
use super::wire::Wire;
use super::{Imported, KeyError, KeyFormat, Passphrase, Probe, check_supported, finish, non_empty};

const FORMAT: KeyFormat = KeyFormat::Openssh;
const MAGIC: &[u8] = b"openssh-key-v1\0";
/// ssh-keygen writes 16 rounds (`-a`), about 8 ms each; 10,000 is over a minute of work, far past
/// any setting in real use, and bounds what a hostile file can make an import cost.
const MAX_BCRYPT_ROUNDS: u32 = 10_000;

/// The container, before the private section is decrypted.
struct Container<'a> {
    cipher: Cipher,
    kdf: Kdf,
    public: KeyData,
    private: &'a [u8],
    tag: Option<[u8; 16]>,
}

fn damaged(detail: &str) -> KeyError {
    KeyError::malformed(FORMAT, detail)
}

fn parse(blob: &[u8]) -> Result<Container<'_>, KeyError> {
    let rest = blob.strip_prefix(MAGIC).ok_or_else(|| damaged("the openssh-key-v1 header is missing"))?;
    let mut wire = Wire(rest);
    let truncated = || damaged("the key ends too early: the file is cut short");
    let cipher_name = wire.string().ok_or_else(truncated)?;
    let kdf_name = wire.string().ok_or_else(truncated)?;
    let kdf_options = wire.string().ok_or_else(truncated)?;
    let count = wire.u32().ok_or_else(truncated)?;
    if count != 1 {
        return Err(damaged("the file holds more than one key, which OpenSSH itself never writes"));
    }
    let public = wire.string().ok_or_else(truncated)?;
    let private = wire.string().ok_or_else(truncated)?;

    // The public half is stored in the clear, so unusable key types are refused before any
    // passphrase is asked for.
    let public = ssh_key::PublicKey::from_bytes(public)
        .map_err(|e| KeyError::malformed(FORMAT, format!("the public key does not parse ({e})")))?
        .key_data()
        .clone();
    check_supported(&public)?;

    let cipher = std::str::from_utf8(cipher_name).ok().and_then(|name| Cipher::new(name).ok());
    let Some(cipher) = cipher.filter(|c| supported_cipher(*c)) else {
        return Err(KeyError::UnsupportedEncryption {
            format: FORMAT,
            what: format!(
                "the cipher {:?}; re-encrypt it with `ssh-keygen -p -Z aes256-ctr -f KEY` and \
                 import it again",
                String::from_utf8_lossy(cipher_name)
            ),
        });
    };
    let kdf = match kdf_name {
        b"none" => Kdf::None,
        b"bcrypt" => {
            let mut options = Wire(kdf_options);
            let salt = options.string().ok_or_else(|| damaged("the bcrypt salt is missing"))?;
            let rounds = options.u32().ok_or_else(|| damaged("the bcrypt round count is missing"))?;
            if rounds > MAX_BCRYPT_ROUNDS {
                return Err(KeyError::UnsupportedEncryption {
                    format: FORMAT,
                    what: format!(
                        "bcrypt-pbkdf with {rounds} rounds, more than Latchkey allows so that a \
                         hostile file cannot stall it for hours"
                    ),
                });
            }
            Kdf::Bcrypt { salt: salt.to_vec(), rounds }
        }
        other => {
            return Err(KeyError::UnsupportedEncryption {
                format: FORMAT,
                what: format!("the key derivation {:?}", String::from_utf8_lossy(other)),
            });
        }
    };
    if cipher.is_some() != kdf.is_some() {
        return Err(damaged("the cipher and the key derivation disagree about whether the key is encrypted"));
    }
    let tag = if cipher.has_tag() {
        let tag = wire.take(16).ok_or_else(truncated)?;
        Some(<[u8; 16]>::try_from(tag).map_err(|_| truncated())?)
    } else {
        None
    };
    if !wire.0.is_empty() {
        return Err(damaged("there is data after the key"));
    }
    Ok(Container { cipher, kdf, public, private, tag })
}

/// What ssh-key 0.6 can decrypt: the ciphers ssh-keygen offers with `-Z`, except 3des-cbc.
fn supported_cipher(cipher: Cipher) -> bool {
    !matches!(cipher, Cipher::TDesCbc)
}

pub(super) fn probe(blob: &[u8]) -> Result<Probe, KeyError> {
    let container = parse(blob)?;
    let encrypted = container.cipher.is_some();
    // The comment sits in the private section, so it is only known for unencrypted keys.
    let comment = if encrypted { None } else { non_empty(&open_section(&container, container.private)?.1) };
    Ok(Probe { format: FORMAT, encrypted, public: Some(container.public), comment })
}

pub(super) fn import(blob: &[u8], passphrase: Option<&Passphrase>) -> Result<Imported, KeyError> {
    let container = parse(blob)?;
    let encrypted = container.cipher.is_some();
    let (data, comment) = if encrypted {
        let passphrase = passphrase.ok_or(KeyError::PassphraseRequired)?;
        let plain = decrypt(&container, passphrase)?;
        open_section(&container, &plain)?
    } else {
        open_section(&container, container.private)?
    };
    finish(data, comment, FORMAT, encrypted)
}

fn decrypt(container: &Container<'_>, passphrase: &Passphrase) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let cipher = container.cipher;
    if container.private.is_empty() || !container.private.len().is_multiple_of(cipher.block_size()) {
        return Err(damaged("the encrypted part is not whole cipher blocks: the file is cut short"));
    }
    // Our parallel bcrypt-pbkdf: same output as OpenSSH's, half the wall time on two cores.
    let (key, iv) = crate::keys::bcrypt::derive_key_and_iv(&container.kdf, cipher, passphrase.expose().as_bytes())
        .map_err(|e| {
            // bcrypt-pbkdf refuses an empty passphrase, and an encrypted key never has one
            // (ssh-keygen takes an empty passphrase to mean "do not encrypt").
            if passphrase.is_empty() {
                KeyError::WrongPassphrase
            } else {
                KeyError::Crypto(format!("deriving the key from the passphrase: {e}"))
            }
        })?;
    let mut buffer = Zeroizing::new(container.private.to_vec());
    // The AEAD ciphers (aes-gcm, chacha20-poly1305) fail here on a wrong passphrase; the others
    // are caught by the check integers.
    cipher.decrypt(&key, &iv, &mut buffer, container.tag).map_err(|_| KeyError::WrongPassphrase)?;
    Ok(buffer)
}

/// The keypair and comment from a plaintext private section.
fn open_section(container: &Container<'_>, section: &[u8]) -> Result<(KeypairData, String), KeyError> {
    let encrypted = container.cipher.is_some();
    let mut wire = Wire(section);
    let truncated = || damaged("the private key ends too early");
    let (check1, check2) = (wire.u32().ok_or_else(truncated)?, wire.u32().ok_or_else(truncated)?);
    if check1 != check2 {
        // PROTOCOL.key: the check integers match only after a successful decryption.
        return Err(if encrypted { KeyError::WrongPassphrase } else { damaged("the check integers differ") });
    }
    let key_type = wire.string().ok_or_else(truncated)?;
    let data = match (&container.public, key_type) {
        (KeyData::Ed25519(public), b"ssh-ed25519") => {
            // string public (32), string seed || public (64)
            let stored_public = wire.string().ok_or_else(truncated)?;
            let both = wire.string().ok_or_else(truncated)?;
            let (seed, again) = both.split_at_checked(32).ok_or_else(|| damaged("the Ed25519 key is too short"))?;
            if stored_public != public.0.as_slice() || again != public.0.as_slice() {
                return Err(damaged("the private key's public half differs from the stored public key"));
            }
            keypair::ed25519(seed, Some(stored_public), FORMAT)?
        }
        (KeyData::Ecdsa(public), name) if name == public.algorithm().as_str().as_bytes() => {
            // string curve, string Q, mpint d (RFC 5656 §3.1 plus the private scalar)
            let curve_name = wire.string().ok_or_else(truncated)?;
            let point = wire.string().ok_or_else(truncated)?;
            let scalar = wire.string().ok_or_else(truncated)?;
            let curve = Curve::from_ssh_name(curve_name).ok_or_else(|| damaged("unknown ECDSA curve"))?;
            if point != public.as_sec1_bytes() {
                return Err(damaged("the private key's public half differs from the stored public key"));
            }
            keypair::ecdsa(curve, scalar, Some(point), FORMAT)?
        }
        (KeyData::Rsa(public), b"ssh-rsa") => {
            // mpint n, e, d, iqmp, p, q
            let mut mpint = || -> Result<Mpint, KeyError> {
                let value = Mpint::from_bytes(wire.string().ok_or_else(truncated)?)
                    .map_err(|e| KeyError::malformed(FORMAT, e))?;
                value.as_positive_bytes().ok_or_else(|| damaged("an RSA number is negative"))?;
                Ok(value)
            };
            let n = mpint()?;
            let e = mpint()?;
            let d = mpint()?;
            let iqmp = mpint()?;
            let p = mpint()?;
            let q = mpint()?;
            let stored = RsaPublicKey { e, n };
            if &stored != public {
                return Err(damaged("the private key's public half differs from the stored public key"));
            }
            KeypairData::Rsa(RsaKeypair { public: stored, private: RsaPrivateKey { d, iqmp, p, q } })
        }
        _ => {
            return Err(damaged("the private key is not of the type of the stored public key"));
        }
    };
    let comment = wire.string().ok_or_else(truncated)?;
    let comment = String::from_utf8_lossy(comment).into_owned();
    // Padding 1, 2, 3, ... to the cipher's block size. Like OpenSSH (private2_check_padding),
    // only the sequence is checked, not its length: puttygen pads unencrypted keys to 16 bytes.
    let padding = wire.0;
    let in_sequence = padding.iter().zip(1u8..).all(|(&byte, expected)| byte == expected);
    if padding.len() > 255 || !in_sequence {
        return Err(damaged("the padding after the key is wrong"));
    }
    Ok((data, comment))
}
