//! RSA through aws-lc-rs.
//!
//! The RustCrypto `rsa` crate has a timing side channel on private-key operations
//! (RUSTSEC-2023-0071) and ssh-key 0.6's own RSA signing is broken, so every RSA private-key
//! operation in Latchkey goes through aws-lc-rs, which is constant-time. ssh-key is only used to
//! hold and encode the numbers.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use pkcs8::der::Decode;
use ssh_key::Mpint;
use ssh_key::private::{RsaKeypair, RsaPrivateKey};
use ssh_key::public::RsaPublicKey;

use super::{KeyError, KeyFormat};

/// Generate an RSA key of `bits` bits (one of 2048, 3072, 4096, 8192; [`super::KeySpec`] checks).
pub(crate) fn generate(bits: u32) -> Result<RsaKeypair, KeyError> {
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        8192 => KeySize::Rsa8192,
        other => {
            return Err(KeyError::UnsupportedBits {
                key_type: "RSA",
                bits: other,
                allowed: "2048, 3072, 4096 or 8192",
            });
        }
    };
    let pair = KeyPair::generate(size).map_err(|e| KeyError::Crypto(format!("RSA key generation: {e}")))?;
    let pkcs8 = pair.as_der().map_err(|e| KeyError::Crypto(format!("RSA key export: {e}")))?;
    let info = pkcs8::PrivateKeyInfo::from_der(pkcs8.as_ref())
        .map_err(|e| KeyError::Crypto(format!("RSA key export: {e}")))?;
    let pkcs1 = pkcs1::RsaPrivateKey::from_der(info.private_key)
        .map_err(|e| KeyError::Crypto(format!("RSA key export: {e}")))?;
    keypair_from_pkcs1(&pkcs1, KeyFormat::Pkcs8)
}

/// The OpenSSH representation of a PKCS#1 RSA private key.
///
/// OpenSSH stores n, e, d, iqmp, p, q; its `iqmp` (q⁻¹ mod p) is PKCS#1's `coefficient`.
pub(crate) fn keypair_from_pkcs1(key: &pkcs1::RsaPrivateKey<'_>, format: KeyFormat) -> Result<RsaKeypair, KeyError> {
    if key.other_prime_infos.is_some() {
        return Err(KeyError::UnsupportedKeyType {
            what: "multi-prime RSA".into(),
            why: "OpenSSH keys have exactly two primes",
        });
    }
    let mpint = |bytes: &[u8]| {
        Mpint::from_positive_bytes(bytes).map_err(|e| KeyError::malformed(format, format!("RSA number: {e}")))
    };
    let public = RsaPublicKey { e: mpint(key.public_exponent.as_bytes())?, n: mpint(key.modulus.as_bytes())? };
    let private = RsaPrivateKey {
        d: mpint(key.private_exponent.as_bytes())?,
        iqmp: mpint(key.coefficient.as_bytes())?,
        p: mpint(key.prime1.as_bytes())?,
        q: mpint(key.prime2.as_bytes())?,
    };
    Ok(RsaKeypair { public, private })
}

/// The bit length of an RSA modulus, as `ssh-keygen -l` prints it.
pub(crate) fn modulus_bits(n: &Mpint) -> u32 {
    let bytes = n.as_positive_bytes().unwrap_or(&[]);
    match bytes.iter().position(|&b| b != 0) {
        None => 0,
        Some(first) => {
            let significant = &bytes[first..];
            (significant.len() as u32) * 8 - significant[0].leading_zeros()
        }
    }
}

/// An RSA private key loaded into aws-lc for signing.
///
/// Built with `RSA_new_private_key` from the OpenSSH numbers plus the CRT exponents, which
/// OpenSSH files and ssh-add messages do not carry: dP = d mod (p-1) and dQ = d mod (q-1) are
/// computed with crypto-bigint's `rem`, which is constant-time in the dividend (d) and varies
/// only with the bit length of the divisor (public: half the modulus size).
pub struct RsaSigner {
    rsa: std::ptr::NonNull<aws_lc_sys::RSA>,
    len: usize,
}

// SAFETY: aws-lc RSA objects are safe to use from several threads for signing: `RSA_sign` only
// reads the key and takes aws-lc's internal lock for the blinding cache.
#[allow(unsafe_code)]
unsafe impl Send for RsaSigner {}
#[allow(unsafe_code)]
unsafe impl Sync for RsaSigner {}

/// The largest RSA key Latchkey loads (as aws-lc-rs generates).
const MAX_RSA_BITS: usize = 8192;
type Wide = crypto_bigint::U8192;

fn wide(bytes: &[u8]) -> Result<Wide, KeyError> {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let digits = &bytes[first..];
    if digits.len() * 8 > MAX_RSA_BITS {
        return Err(KeyError::UnsupportedKeyType {
            what: "RSA above 8192 bits".into(),
            why: "aws-lc signs up to 8192 bits",
        });
    }
    let mut buf = zeroize::Zeroizing::new([0u8; MAX_RSA_BITS / 8]);
    buf[MAX_RSA_BITS / 8 - digits.len()..].copy_from_slice(digits);
    Ok(Wide::from_be_slice(&buf[..]))
}

/// d mod (prime - 1), as big-endian bytes without leading zeros.
fn crt_exponent(d: &[u8], prime: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, KeyError> {
    use crypto_bigint::{Encoding, NonZero};
    let d = zeroize::Zeroizing::new(wide(d)?);
    // Every intermediate is secret (p - 1 gives the key away) and wiped, except the NonZero
    // wrapper crypto-bigint requires for the division, which implements no Zeroize: this
    // function runs once per key load, never per signature.
    let prime = zeroize::Zeroizing::new(wide(prime)?);
    let prime_minus_one = zeroize::Zeroizing::new(prime.wrapping_sub(&Wide::ONE));
    let divisor = Option::<NonZero<Wide>>::from(NonZero::new(*prime_minus_one))
        .ok_or_else(|| KeyError::Crypto("RSA prime is 1".into()))?;
    let rem = zeroize::Zeroizing::new(d.rem(&divisor));
    let bytes = zeroize::Zeroizing::new(rem.to_be_bytes());
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    Ok(zeroize::Zeroizing::new(bytes[first..].to_vec()))
}

struct Bignum(*mut aws_lc_sys::BIGNUM);

impl Bignum {
    #[allow(unsafe_code)]
    fn new(bytes: &[u8]) -> Result<Self, KeyError> {
        // SAFETY: BN_bin2bn reads `len` bytes from a valid slice and returns a new BIGNUM or null.
        let bn = unsafe { aws_lc_sys::BN_bin2bn(bytes.as_ptr(), bytes.len(), std::ptr::null_mut()) };
        if bn.is_null() { Err(KeyError::Crypto("out of memory loading an RSA number".into())) } else { Ok(Self(bn)) }
    }
}

impl Drop for Bignum {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: we own the BIGNUM; BN_clear_free wipes it before freeing.
        unsafe { aws_lc_sys::BN_clear_free(self.0) }
    }
}

impl RsaSigner {
    pub fn new(pair: &RsaKeypair) -> Result<Self, KeyError> {
        let positive = |m: &Mpint| m.as_positive_bytes().map(<[u8]>::to_vec).unwrap_or_default();
        let n = positive(&pair.public.n);
        let e = positive(&pair.public.e);
        let d = zeroize::Zeroizing::new(positive(&pair.private.d));
        let p = zeroize::Zeroizing::new(positive(&pair.private.p));
        let q = zeroize::Zeroizing::new(positive(&pair.private.q));
        let iqmp = zeroize::Zeroizing::new(positive(&pair.private.iqmp));
        let dmp1 = crt_exponent(&d, &p)?;
        let dmq1 = crt_exponent(&d, &q)?;
        let numbers = [&n[..], &e[..], &d[..], &p[..], &q[..], &dmp1[..], &dmq1[..], &iqmp[..]]
            .into_iter()
            .map(Bignum::new)
            .collect::<Result<Vec<_>, _>>()?;
        #[allow(unsafe_code)]
        // SAFETY: all eight BIGNUMs are valid; RSA_new_private_key copies them and checks the key
        // (returns null when the numbers are inconsistent).
        let rsa = unsafe {
            aws_lc_sys::RSA_new_private_key(
                numbers[0].0,
                numbers[1].0,
                numbers[2].0,
                numbers[3].0,
                numbers[4].0,
                numbers[5].0,
                numbers[6].0,
                numbers[7].0,
            )
        };
        let rsa = std::ptr::NonNull::new(rsa)
            .ok_or_else(|| KeyError::Crypto("aws-lc rejected the RSA key: its numbers are inconsistent".into()))?;
        #[allow(unsafe_code)]
        // SAFETY: `rsa` is a valid key we own.
        let len = unsafe { aws_lc_sys::RSA_size(rsa.as_ptr()) } as usize;
        Ok(Self { rsa, len })
    }

    fn sign_digest(&self, nid: i32, digest: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut out = vec![0u8; self.len];
        let mut out_len: std::os::raw::c_uint = 0;
        #[allow(unsafe_code)]
        // SAFETY: `out` has RSA_size bytes, as RSA_sign requires; the digest slice is valid.
        let ok = unsafe {
            aws_lc_sys::RSA_sign(nid, digest.as_ptr(), digest.len(), out.as_mut_ptr(), &mut out_len, self.rsa.as_ptr())
        };
        if ok != 1 {
            return Err(KeyError::Crypto("RSA signing failed".into()));
        }
        out.truncate(out_len as usize);
        Ok(out)
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 (rsa-sha2-256, RFC 8332).
    pub fn sign_sha256(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        use sha2::Digest;
        self.sign_digest(aws_lc_sys::NID_sha256, &sha2::Sha256::digest(data))
    }

    /// RSASSA-PKCS1-v1_5 with SHA-512 (rsa-sha2-512, RFC 8332).
    pub fn sign_sha512(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        use sha2::Digest;
        self.sign_digest(aws_lc_sys::NID_sha512, &sha2::Sha512::digest(data))
    }

    /// RSASSA-PKCS1-v1_5 with SHA-1 (legacy ssh-rsa, RFC 4253), for clients that ask for it.
    pub fn sign_sha1(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        use sha1::Digest;
        self.sign_digest(aws_lc_sys::NID_sha1, &sha1::Sha1::digest(data))
    }
}

impl Drop for RsaSigner {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: we own the key; RSA_free wipes the private numbers (BN_clear_free) when freeing.
        unsafe { aws_lc_sys::RSA_free(self.rsa.as_ptr()) }
    }
}
