//! PKCS#8 keys: `PRIVATE KEY` (`PrivateKeyInfo`, RFC 5208; `OneAsymmetricKey`, RFC 5958) and
//! `ENCRYPTED PRIVATE KEY` (`EncryptedPrivateKeyInfo`, RFC 5208 §6) protected with PBES2
//! (RFC 8018 §6.2): PBKDF2 (HMAC-SHA1/SHA-2) or scrypt (RFC 7914), then AES-CBC or 3DES-CBC.
//!
//! Inside, RSA is a PKCS#1 `RSAPrivateKey`, EC a SEC1 `ECPrivateKey` with the curve named in the
//! algorithm parameters (RFC 5915 §3), and Ed25519 a `CurvePrivateKey` OCTET STRING holding the
//! 32-byte seed (RFC 8410 §7). The older PBES1 and PKCS#12 schemes (single DES, RC2, MD5) are
//! refused with a way to convert.

use pkcs8::der::asn1::OctetStringRef;
use pkcs8::der::{self, Decode, DecodeValue, FixedTag, Header, Reader, Tag};
use pkcs8::pkcs5::{self, pbes2};
use pkcs8::spki::AlgorithmIdentifierRef;
use pkcs8::{ObjectIdentifier, PrivateKeyInfo};
use ssh_key::private::KeypairData;
use zeroize::Zeroizing;

use super::keypair::{self, Curve};
use super::{Imported, KeyError, KeyFormat, Passphrase, dsa_unsupported, finish, pem};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
const X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");
const X448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.111");

/// A file may ask for any KDF cost; these bounds keep a hostile one from exhausting memory (an
/// allocation failure aborts the process) or stalling the app for hours. OpenSSL writes 2048
/// PBKDF2 iterations and scrypt with N = 2^14, r = 8 (16 MiB); RFC 8018 §4.2 calls 10,000,000
/// iterations appropriate only for very powerful systems.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
const MAX_SCRYPT_MEMORY: u128 = 1 << 30;
const MAX_SCRYPT_PARALLELISM: u16 = 16;

/// `EncryptedPrivateKeyInfo` with the algorithm left undecoded, so that schemes the `pkcs5`
/// crate does not know can still be named in the error.
struct EncryptedInfo<'a> {
    algorithm: AlgorithmIdentifierRef<'a>,
    data: &'a [u8],
}

impl<'a> DecodeValue<'a> for EncryptedInfo<'a> {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        reader.read_nested(header.length, |reader| {
            Ok(Self { algorithm: reader.decode()?, data: OctetStringRef::decode(reader)?.as_bytes() })
        })
    }
}

impl FixedTag for EncryptedInfo<'_> {
    const TAG: Tag = Tag::Sequence;
}

/// Whether `der` is an `EncryptedPrivateKeyInfo` (for binary files without a PEM label).
pub(super) fn is_encrypted_info(der: &[u8]) -> bool {
    EncryptedInfo::from_der(der).is_ok()
}

pub(super) fn import_plain(der: &[u8], format: KeyFormat, was_encrypted: bool) -> Result<Imported, KeyError> {
    let info = PrivateKeyInfo::from_der(der)
        .map_err(|e| KeyError::malformed(format, format!("the PKCS#8 structure does not parse ({e})")))?;
    let data = keypair_from_info(&info, format)?;
    // PKCS#8 has attributes but no comment.
    finish(data, String::new(), format, was_encrypted)
}

/// The parts of an `EncryptedPrivateKeyInfo` that can be checked without the passphrase: the
/// structure, a scheme Latchkey reads, and bounded KDF costs.
fn encrypted_parts(der: &[u8]) -> Result<(EncryptedInfo<'_>, pbes2::Parameters<'_>), KeyError> {
    let info = EncryptedInfo::from_der(der).map_err(|e| {
        KeyError::malformed(KeyFormat::Pkcs8Encrypted, format!("the PKCS#8 structure does not parse ({e})"))
    })?;
    let params = pbes2_params(&info.algorithm)?;
    check_cost(&params)?;
    Ok((info, params))
}

/// For probing: is this encrypted file one Latchkey can open, given the passphrase?
pub(super) fn check_encrypted(der: &[u8]) -> Result<(), KeyError> {
    encrypted_parts(der).map(|_| ())
}

pub(super) fn import_encrypted(der: &[u8], passphrase: Option<&Passphrase>) -> Result<Imported, KeyError> {
    const FORMAT: KeyFormat = KeyFormat::Pkcs8Encrypted;
    let (info, params) = encrypted_parts(der)?;
    let passphrase = passphrase.ok_or(KeyError::PassphraseRequired)?;

    let mut buffer = Zeroizing::new(info.data.to_vec());
    let plain = params.decrypt_in_place(passphrase.expose().as_bytes(), &mut buffer).map_err(|e| match e {
        // CBC padding that does not check out: the derived key was wrong. (pkcs5 0.7 reports
        // bad padding as `EncryptFailed`.)
        pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed => KeyError::WrongPassphrase,
        pkcs5::Error::UnsupportedAlgorithm { oid } => {
            KeyError::UnsupportedEncryption { format: FORMAT, what: format!("the algorithm {oid}") }
        }
        other => KeyError::malformed(FORMAT, other),
    })?;
    // There is no MAC: with a wrong key the padding is valid by chance about once in 256 tries,
    // and what comes out is then not DER.
    if PrivateKeyInfo::from_der(plain).is_err() {
        return Err(KeyError::WrongPassphrase);
    }
    import_plain(plain, FORMAT, true)
}

/// The PBES2 parameters, or an error naming the older scheme the file uses.
fn pbes2_params<'a>(algorithm: &AlgorithmIdentifierRef<'a>) -> Result<pbes2::Parameters<'a>, KeyError> {
    const FORMAT: KeyFormat = KeyFormat::Pkcs8Encrypted;
    if algorithm.oid != pbes2::PBES2_OID {
        let what = match legacy_scheme_name(algorithm.oid) {
            Some(name) => format!(
                "the obsolete {name} encryption; re-encrypt it with `openssl pkcs8 -topk8 -v2 \
                 aes-256-cbc -in KEY -out NEW` and import the result"
            ),
            None => format!("the encryption scheme {}", algorithm.oid),
        };
        return Err(KeyError::UnsupportedEncryption { format: FORMAT, what });
    }
    let params = algorithm.parameters.ok_or_else(|| KeyError::malformed(FORMAT, "the PBES2 parameters are missing"))?;
    pbes2::Parameters::try_from(params).map_err(|e| match e.kind() {
        der::ErrorKind::OidUnknown { oid } => KeyError::UnsupportedEncryption {
            format: FORMAT,
            what: format!(
                "PBES2 with the algorithm {oid} (Latchkey reads PBKDF2 or scrypt with AES-CBC or \
                 3DES)"
            ),
        },
        _ => KeyError::malformed(FORMAT, format!("the PBES2 parameters do not parse ({e})")),
    })
}

fn legacy_scheme_name(oid: ObjectIdentifier) -> Option<&'static str> {
    Some(match oid.to_string().as_str() {
        "1.2.840.113549.1.5.1" => "PBES1 pbeWithMD2AndDES-CBC",
        "1.2.840.113549.1.5.3" => "PBES1 pbeWithMD5AndDES-CBC",
        "1.2.840.113549.1.5.4" => "PBES1 pbeWithMD2AndRC2-CBC",
        "1.2.840.113549.1.5.6" => "PBES1 pbeWithMD5AndRC2-CBC",
        "1.2.840.113549.1.5.10" => "PBES1 pbeWithSHA1AndDES-CBC",
        "1.2.840.113549.1.5.11" => "PBES1 pbeWithSHA1AndRC2-CBC",
        "1.2.840.113549.1.12.1.1" => "PKCS#12 pbeWithSHAAnd128BitRC4",
        "1.2.840.113549.1.12.1.2" => "PKCS#12 pbeWithSHAAnd40BitRC4",
        "1.2.840.113549.1.12.1.3" => "PKCS#12 pbeWithSHAAnd3-KeyTripleDES-CBC",
        "1.2.840.113549.1.12.1.4" => "PKCS#12 pbeWithSHAAnd2-KeyTripleDES-CBC",
        "1.2.840.113549.1.12.1.5" => "PKCS#12 pbeWithSHAAnd128BitRC2-CBC",
        "1.2.840.113549.1.12.1.6" => "PKCS#12 pbeWithSHAAnd40BitRC2-CBC",
        _ => return None,
    })
}

fn check_cost(params: &pbes2::Parameters<'_>) -> Result<(), KeyError> {
    let too_costly = |what: String| KeyError::UnsupportedEncryption {
        format: KeyFormat::Pkcs8Encrypted,
        what: format!("{what}, more than Latchkey allows so that a hostile file cannot exhaust this machine"),
    };
    match &params.kdf {
        pbes2::Kdf::Pbkdf2(pbkdf2) if pbkdf2.iteration_count > MAX_PBKDF2_ITERATIONS => {
            Err(too_costly(format!("PBKDF2 with {} iterations", pbkdf2.iteration_count)))
        }
        pbes2::Kdf::Scrypt(scrypt) => {
            // scrypt's working memory is 128 * r * N bytes (RFC 7914 §6, ROMix).
            let memory = 128 * u128::from(scrypt.block_size) * u128::from(scrypt.cost_parameter);
            if memory > MAX_SCRYPT_MEMORY || scrypt.parallelization > MAX_SCRYPT_PARALLELISM {
                Err(too_costly(format!(
                    "scrypt with N = {}, r = {}, p = {}",
                    scrypt.cost_parameter, scrypt.block_size, scrypt.parallelization
                )))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

fn keypair_from_info(info: &PrivateKeyInfo<'_>, format: KeyFormat) -> Result<KeypairData, KeyError> {
    let oid = info.algorithm.oid;
    if oid == RSA_ENCRYPTION {
        keypair::rsa_from_pkcs1_der(info.private_key, format)
    } else if oid == EC_PUBLIC_KEY {
        let curve_oid = info.algorithm.parameters_oid().map_err(|_| {
            KeyError::malformed(
                format,
                "the EC key does not name its curve (explicit curve parameters are not supported)",
            )
        })?;
        pem::sec1_keypair(info.private_key, Some(Curve::from_oid(curve_oid)?), info.public_key, format)
    } else if oid == ED25519 {
        let seed = OctetStringRef::from_der(info.private_key)
            .map_err(|e| KeyError::malformed(format, format!("the Ed25519 key does not parse ({e})")))?;
        keypair::ed25519(seed.as_bytes(), info.public_key, format)
    } else if oid == DSA {
        Err(dsa_unsupported())
    } else if oid == ED448 {
        Err(KeyError::UnsupportedKeyType { what: "Ed448".into(), why: "OpenSSH has no Ed448 keys" })
    } else if oid == X25519 || oid == X448 {
        Err(KeyError::UnsupportedKeyType {
            what: if oid == X25519 { "X25519".into() } else { "X448".into() },
            why: "these keys are for key agreement, not signatures; SSH keys are Ed25519, ECDSA or \
                RSA",
        })
    } else if oid == RSA_PSS {
        Err(KeyError::UnsupportedKeyType {
            what: "RSA-PSS".into(),
            why: "the key is restricted to RSA-PSS signatures, which SSH does not use",
        })
    } else {
        Err(KeyError::UnsupportedKeyType {
            what: format!("algorithm {oid}"),
            why: "Latchkey handles Ed25519, ECDSA (NIST P-256/384/521) and RSA keys",
        })
    }
}
