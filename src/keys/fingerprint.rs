//! Fingerprints and randomart, byte for byte as `ssh-keygen -l [-v] [-E sha256|md5]` prints them.

use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use ssh_key::public::KeyData;

use super::describe;

/// The hash behind a fingerprint (`ssh-keygen -E`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FingerprintHash {
    #[default]
    Sha256,
    Md5,
}

impl FingerprintHash {
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "sha256" => Some(Self::Sha256),
            "md5" => Some(Self::Md5),
            _ => None,
        }
    }

    /// The label in the randomart's lower border and before the digest.
    fn label(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA256",
            Self::Md5 => "MD5",
        }
    }

    fn digest(self, blob: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(blob).to_vec(),
            Self::Md5 => Md5::digest(blob).to_vec(),
        }
    }
}

/// `SHA256:<unpadded base64>` or `MD5:aa:bb:...`, as ssh-keygen prints them.
pub fn fingerprint(key: &KeyData, hash: FingerprintHash) -> String {
    let digest = hash.digest(&describe::blob(key));
    match hash {
        FingerprintHash::Sha256 => {
            let b64 = <base64ct::Base64Unpadded as base64ct::Encoding>::encode_string(&digest);
            format!("SHA256:{b64}")
        }
        FingerprintHash::Md5 => {
            let hex: Vec<String> = digest.iter().map(|b| format!("{b:02x}")).collect();
            format!("MD5:{}", hex.join(":"))
        }
    }
}

/// The "drunken bishop" picture of a key's fingerprint (OpenSSH sshkey.c, fingerprint_randomart),
/// without a trailing newline.
pub fn randomart(key: &KeyData, hash: FingerprintHash) -> String {
    const WIDTH: usize = 17; // FLDSIZE_X = FLDBASE * 2 + 1
    const HEIGHT: usize = 9; // FLDSIZE_Y = FLDBASE + 1
    const SYMBOLS: &[u8] = b" .o+=*BOX@%&#/^SE";
    let start_mark = SYMBOLS.len() - 2;
    let end_mark = SYMBOLS.len() - 1;

    let mut field = [[0usize; HEIGHT]; WIDTH];
    let (mut x, mut y) = (WIDTH / 2, HEIGHT / 2);
    for byte in hash.digest(&describe::blob(key)) {
        let mut input = byte;
        for _ in 0..4 {
            x = if input & 1 != 0 { (x + 1).min(WIDTH - 1) } else { x.saturating_sub(1) };
            y = if input & 2 != 0 { (y + 1).min(HEIGHT - 1) } else { y.saturating_sub(1) };
            // Counts stop below the S and E marks, which only the start and end cells get.
            if field[x][y] < start_mark - 1 {
                field[x][y] += 1;
            }
            input >>= 2;
        }
    }
    field[WIDTH / 2][HEIGHT / 2] = start_mark;
    field[x][y] = end_mark;

    let mut title = format!("[{} {}]", describe::type_label(key), describe::bits(key));
    if title.len() > WIDTH {
        title = format!("[{}]", describe::type_label(key));
    }
    let footer = format!("[{}]", hash.label());

    let border = |label: &str| {
        // ssh-keygen formats into a WIDTH-byte buffer, so at most WIDTH - 1 characters survive.
        let label = &label[..label.len().min(WIDTH - 1)];
        let left = (WIDTH - label.len()) / 2;
        format!("+{}{}{}+", "-".repeat(left), label, "-".repeat(WIDTH - left - label.len()))
    };
    let mut out = border(&title);
    out.push('\n');
    for row in 0..HEIGHT {
        out.push('|');
        for column in field.iter() {
            out.push(SYMBOLS[column[row].min(end_mark)] as char);
        }
        out.push_str("|\n");
    }
    out.push_str(&border(&footer));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // A fixed key and what OpenSSH 9.2's ssh-keygen prints for it (the interop tests compare
    // freshly generated keys against the real ssh-keygen too).
    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFMbJCwRYx0FDj6nVOZiEuiLt1GG8ZrLiJtRaCLYK0BY";

    #[test]
    fn sha256_and_md5_fingerprints_have_ssh_keygen_shape() {
        let key = ssh_key::PublicKey::from_openssh(KEY).unwrap();
        let sha = fingerprint(key.key_data(), FingerprintHash::Sha256);
        assert_eq!(sha, key.fingerprint(ssh_key::HashAlg::Sha256).to_string());
        let md5 = fingerprint(key.key_data(), FingerprintHash::Md5);
        assert!(md5.starts_with("MD5:") && md5.len() == 4 + 16 * 3 - 1, "{md5}");
    }

    #[test]
    fn randomart_agrees_with_ssh_key_crate_for_sha256() {
        let key = ssh_key::PublicKey::from_openssh(KEY).unwrap();
        let ours = randomart(key.key_data(), FingerprintHash::Sha256);
        let theirs = key.fingerprint(ssh_key::HashAlg::Sha256).to_randomart("[ED25519 256]");
        assert_eq!(ours, theirs.trim_end());
        assert_eq!(ours.lines().count(), 11);
        assert!(ours.lines().all(|l| l.len() == 19));
    }
}
