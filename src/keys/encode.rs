//! Public key encodings: the OpenSSH `.pub` line and RFC 4716 (`ssh-keygen -e`).

use ssh_key::PublicKey;
use ssh_key::public::KeyData;

use super::describe;

/// `ssh-ed25519 AAAA... comment` (no comment part when the comment is empty), no newline.
pub fn public_line(key: &KeyData, comment: &str) -> String {
    let mut line = PublicKey::new(key.clone(), "").to_openssh().unwrap_or_default();
    if !comment.is_empty() {
        line.push(' ');
        line.push_str(comment);
    }
    line
}

/// The RFC 4716 ("SSH2", SECSH) public key file that `ssh-keygen -e` prints, including its
/// `Comment: "256-bit ED25519, converted by user@host from OpenSSH"` header.
pub fn rfc4716(key: &KeyData, user_at_host: &str) -> String {
    // ssh-keygen formats the comment into a 61-byte buffer (RFC 4716 section 3.3 limits header
    // lines to 72 characters), so a long user@host is cut at 60 bytes.
    let mut comment = format!(
        "{}-bit {}, converted by {} from OpenSSH",
        describe::bits(key),
        describe::type_label(key),
        user_at_host
    );
    if comment.len() > 60 {
        let mut cut = 60;
        while !comment.is_char_boundary(cut) {
            cut -= 1;
        }
        comment.truncate(cut);
    }
    let b64 = <base64ct::Base64 as base64ct::Encoding>::encode_string(&describe::blob(key));
    let mut out = String::from("---- BEGIN SSH2 PUBLIC KEY ----\n");
    out.push_str(&format!("Comment: \"{comment}\"\n"));
    // RFC 4716 section 3: lines of at most 72 bytes; ssh-keygen wraps the base64 at 70.
    for chunk in b64.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("---- END SSH2 PUBLIC KEY ----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_line_round_trips_and_omits_empty_comment() {
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFMbJCwRYx0FDj6nVOZiEuiLt1GG8ZrLiJtRaCLYK0BY";
        let key = PublicKey::from_openssh(line).unwrap();
        assert_eq!(public_line(key.key_data(), ""), line);
        assert_eq!(public_line(key.key_data(), "a b"), format!("{line} a b"));
    }

    #[test]
    fn rfc4716_wraps_at_70_and_quotes_the_comment() {
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFMbJCwRYx0FDj6nVOZiEuiLt1GG8ZrLiJtRaCLYK0BY";
        let key = PublicKey::from_openssh(line).unwrap();
        let text = rfc4716(key.key_data(), "me@box");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "---- BEGIN SSH2 PUBLIC KEY ----");
        assert_eq!(lines[1], "Comment: \"256-bit ED25519, converted by me@box from OpenSSH\"");
        assert_eq!(lines[2], "AAAAC3NzaC1lZDI1NTE5AAAAIFMbJCwRYx0FDj6nVOZiEuiLt1GG8ZrLiJtRaCLYK0BY");
        assert_eq!(*lines.last().unwrap(), "---- END SSH2 PUBLIC KEY ----");
    }
}
