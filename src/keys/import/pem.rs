//! "Traditional" OpenSSL PEM keys: PKCS#1 `RSA PRIVATE KEY` (RFC 8017 appendix A.1.2) and SEC1
//! `EC PRIVATE KEY` (RFC 5915), plain or with OpenSSL's legacy encryption.
//!
//! The legacy encryption (what `ssh-keygen -m PEM -N ...` and `openssl rsa -aes256 -traditional`
//! write) is RFC 1421's header syntax with OpenSSL's own key derivation:
//!
//! ```text
//! Proc-Type: 4,ENCRYPTED
//! DEK-Info: AES-128-CBC,<IV as hex>
//! ```
//!
//! The key is OpenSSL's `EVP_BytesToKey` with MD5, one iteration and the first 8 bytes of the IV
//! as salt; the payload is CBC with PKCS#7 padding. There is no MAC, so a wrong passphrase shows
//! up as bad padding or, rarely, as padding that happens to be valid around garbage; both are
//! reported as a wrong passphrase, as OpenSSL does.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use md5::{Digest, Md5};
use pkcs8::der::Decode;
use ssh_key::private::KeypairData;
use zeroize::Zeroizing;

use super::armor::Block;
use super::keypair::{self, Curve};
use super::{Imported, KeyError, KeyFormat, Passphrase, finish};

/// Whether the block carries OpenSSL's legacy encryption headers.
pub(super) fn is_encrypted(block: &Block<'_>, format: KeyFormat) -> Result<bool, KeyError> {
    match (block.header("Proc-Type"), block.header("DEK-Info")) {
        (None, None) => Ok(false),
        (Some(proc_type), _) if !proc_type.replace(' ', "").eq_ignore_ascii_case("4,ENCRYPTED") => {
            Err(KeyError::UnsupportedEncryption { format, what: format!("the PEM processing type `{proc_type}`") })
        }
        (_, Some(dek_info)) => {
            // Refuse an unknown cipher now rather than after asking for the passphrase.
            LegacyCipher::parse(dek_info, format)?;
            Ok(true)
        }
        (Some(_), None) => Err(KeyError::malformed(format, "the `DEK-Info:` header naming the cipher is missing")),
    }
}

pub(super) fn import(
    block: &Block<'_>,
    format: KeyFormat,
    passphrase: Option<&Passphrase>,
) -> Result<Imported, KeyError> {
    let encrypted = is_encrypted(block, format)?;
    let data = if encrypted {
        let dek_info = block.header("DEK-Info").unwrap_or_default();
        let passphrase = passphrase.ok_or(KeyError::PassphraseRequired)?;
        let plain = decrypt(dek_info, &block.data, passphrase, format)?;
        // Without a MAC, a wrong passphrase that left valid-looking padding yields garbage DER.
        parse(&plain, format).map_err(|e| match e {
            KeyError::Malformed { .. } => KeyError::WrongPassphrase,
            other => other,
        })?
    } else {
        parse(&block.data, format)?
    };
    // Neither structure has a comment.
    finish(data, String::new(), format, encrypted)
}

fn parse(der: &[u8], format: KeyFormat) -> Result<KeypairData, KeyError> {
    match format {
        KeyFormat::PemPkcs1 => keypair::rsa_from_pkcs1_der(der, format),
        _ => sec1_keypair(der, None, None, format),
    }
}

/// An EC key from a DER SEC1 `ECPrivateKey`. `outer_curve` and `outer_public` come from an
/// enclosing PKCS#8 structure, which may be the only place the curve is named (RFC 5915 §3).
pub(super) fn sec1_keypair(
    der: &[u8],
    outer_curve: Option<Curve>,
    outer_public: Option<&[u8]>,
    format: KeyFormat,
) -> Result<KeypairData, KeyError> {
    let key = sec1::EcPrivateKey::from_der(der)
        .map_err(|e| KeyError::malformed(format, format!("the EC key structure does not parse ({e})")))?;
    let inner_curve = key.parameters.and_then(|p| p.named_curve()).map(Curve::from_oid).transpose()?;
    let curve = match (outer_curve, inner_curve) {
        (Some(outer), Some(inner)) if outer != inner => {
            return Err(KeyError::malformed(format, "the key names two different curves"));
        }
        (Some(curve), _) | (None, Some(curve)) => curve,
        (None, None) => {
            return Err(KeyError::malformed(format, "the EC key does not say which curve it is on"));
        }
    };
    keypair::ecdsa(curve, key.private_key, key.public_key.or(outer_public), format)
}

/// The ciphers OpenSSL's legacy PEM encryption uses in practice: ssh-keygen writes AES-128-CBC,
/// `openssl rsa|ec -aes128|-aes192|-aes256|-des3` the others. All are used in CBC mode.
#[derive(Clone, Copy)]
enum LegacyCipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
}

impl LegacyCipher {
    /// Parse `DEK-Info: NAME,IVHEX` (RFC 1421 §4.6.1.3, with OpenSSL's cipher names).
    fn parse(dek_info: &str, format: KeyFormat) -> Result<(Self, Vec<u8>), KeyError> {
        let (name, iv_hex) =
            dek_info.split_once(',').ok_or_else(|| KeyError::malformed(format, "the `DEK-Info:` header has no IV"))?;
        let cipher = match name.trim().to_ascii_uppercase().as_str() {
            "AES-128-CBC" => LegacyCipher::Aes128,
            "AES-192-CBC" => LegacyCipher::Aes192,
            "AES-256-CBC" => LegacyCipher::Aes256,
            "DES-EDE3-CBC" => LegacyCipher::DesEde3,
            other => {
                return Err(KeyError::UnsupportedEncryption {
                    format,
                    what: format!(
                        "the {other} cipher; re-encrypt it with `openssl pkey -in KEY -aes256 -out \
                         NEW` or `ssh-keygen -p -f KEY` and import the result"
                    ),
                });
            }
        };
        let iv = hex(iv_hex.trim())
            .filter(|iv| iv.len() == cipher.block_len())
            .ok_or_else(|| KeyError::malformed(format, "the IV in the `DEK-Info:` header is not valid"))?;
        Ok((cipher, iv))
    }

    fn key_len(self) -> usize {
        match self {
            LegacyCipher::Aes128 => 16,
            LegacyCipher::Aes192 | LegacyCipher::DesEde3 => 24,
            LegacyCipher::Aes256 => 32,
        }
    }

    fn block_len(self) -> usize {
        match self {
            LegacyCipher::DesEde3 => 8,
            _ => 16,
        }
    }
}

fn decrypt(
    dek_info: &str,
    ciphertext: &[u8],
    passphrase: &Passphrase,
    format: KeyFormat,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let (cipher, iv) = LegacyCipher::parse(dek_info, format)?;
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(cipher.block_len()) {
        return Err(KeyError::malformed(
            format,
            "the encrypted data is not whole cipher blocks: the file is cut short",
        ));
    }
    // The salt is the first 8 bytes of the IV (OpenSSL's PEM_do_header).
    let salt = iv.get(..8).ok_or_else(|| KeyError::malformed(format, "the IV is too short"))?;
    let key = evp_bytes_to_key(passphrase.expose().as_bytes(), salt, cipher.key_len());
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let len = match cipher {
        LegacyCipher::Aes128 => cbc_decrypt::<aes::Aes128>(&key, &iv, &mut buffer),
        LegacyCipher::Aes192 => cbc_decrypt::<aes::Aes192>(&key, &iv, &mut buffer),
        LegacyCipher::Aes256 => cbc_decrypt::<aes::Aes256>(&key, &iv, &mut buffer),
        LegacyCipher::DesEde3 => cbc_decrypt::<des::TdesEde3>(&key, &iv, &mut buffer),
    }
    .ok_or(KeyError::WrongPassphrase)?;
    buffer.truncate(len);
    Ok(buffer)
}

/// CBC with PKCS#7 padding, in place; `None` when the padding is wrong (a wrong key).
fn cbc_decrypt<C>(key: &[u8], iv: &[u8], buffer: &mut [u8]) -> Option<usize>
where
    C: cbc::cipher::BlockCipher + cbc::cipher::BlockDecryptMut + cbc::cipher::KeyInit,
{
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
    decryptor.decrypt_padded_mut::<Pkcs7>(buffer).ok().map(<[u8]>::len)
}

/// OpenSSL's `EVP_BytesToKey(cipher, EVP_md5(), salt, pass, count = 1)`:
/// D_1 = MD5(pass || salt), D_i = MD5(D_{i-1} || pass || salt), key = D_1 || D_2 || ... truncated.
fn evp_bytes_to_key(passphrase: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut previous: Option<Zeroizing<[u8; 16]>> = None;
    while key.len() < len {
        let mut md5 = Md5::new();
        if let Some(previous) = &previous {
            md5.update(previous.as_slice());
        }
        md5.update(passphrase);
        md5.update(salt);
        let block = Zeroizing::new(<[u8; 16]>::from(md5.finalize()));
        key.extend_from_slice(block.as_slice());
        previous = Some(block);
    }
    key.truncate(len);
    key
}

/// Decode hex (either case); `None` for odd lengths or other characters.
pub(super) fn hex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let high = char::from(*pair.first()?).to_digit(16)?;
            let low = char::from(*pair.get(1)?).to_digit(16)?;
            u8::try_from(high * 16 + low).ok()
        })
        .collect()
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -pass pass:fixture-pass -S 0102030405060708 -md md5 -P`
        let key = evp_bytes_to_key(b"fixture-pass", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        assert_eq!(key.len(), 32);
        let expected = hex(EXPECTED_KEY).unwrap();
        assert_eq!(key.as_slice(), expected.as_slice());
    }

    const EXPECTED_KEY: &str = "22E14106727F83AA6FB84A5CB2CE50944432E3F2F6145E604D7098C248F328CB";

    #[test]
    fn hex_rejects_odd_lengths_and_non_digits() {
        assert_eq!(hex("0aFf"), Some(vec![0x0a, 0xff]));
        assert_eq!(hex("abc"), None);
        assert_eq!(hex("zz"), None);
    }
}
