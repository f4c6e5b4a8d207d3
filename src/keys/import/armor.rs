//! The PEM text armour around PKCS#1, SEC1, PKCS#8 and OpenSSH keys.
//!
//! RFC 7468 describes the `-----BEGIN LABEL-----` / base64 / `-----END LABEL-----` layout; its
//! §3 asks parsers to be lenient, and so is this one: CRLF or LF, whitespace around and inside
//! lines, text before the first block and after the last. OpenSSL's legacy encryption adds
//! RFC 1421 §4.6 header lines (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`) before the base64,
//! separated by a blank line; those are returned as name/value pairs for `pem` to interpret.

use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

use super::{KeyError, KeyFormat};

/// One `BEGIN`...`END` block as found in the text, not yet decoded.
pub(super) struct RawBlock<'a> {
    pub label: &'a str,
    lines: Vec<&'a str>,
    end: End<'a>,
}

enum End<'a> {
    Found,
    Missing,
    Mismatched(&'a str),
}

/// A decoded block: its RFC 1421 headers and the binary (DER or openssh-key-v1) payload.
pub(super) struct Block<'a> {
    headers: Vec<(&'a str, &'a str)>,
    pub data: Zeroizing<Vec<u8>>,
}

impl Block<'static> {
    /// A payload that came without armour (a binary DER file).
    pub fn binary(data: Zeroizing<Vec<u8>>) -> Self {
        Block { headers: Vec::new(), data }
    }
}

impl Block<'_> {
    /// The value of header `name` (header names are case-insensitive, RFC 1421 §4.6).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }
}

/// Every PEM block in `text`, in order. A block whose `END` line is missing ends the list.
pub(super) fn blocks(text: &str) -> Vec<RawBlock<'_>> {
    let mut found = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = begin_label(line) else {
            continue;
        };
        let mut body = Vec::new();
        let mut end = End::Missing;
        for line in lines.by_ref() {
            if let Some(end_label) = end_label(line) {
                end = if end_label == label { End::Found } else { End::Mismatched(end_label) };
                break;
            }
            if begin_label(line).is_some() {
                // A new block before this one ended: this one was cut short.
                break;
            }
            body.push(line);
        }
        let complete = matches!(end, End::Found);
        found.push(RawBlock { label, lines: body, end });
        if !complete {
            break;
        }
    }
    found
}

fn begin_label(line: &str) -> Option<&str> {
    line.strip_prefix("-----BEGIN ")?.strip_suffix("-----").map(str::trim)
}

fn end_label(line: &str) -> Option<&str> {
    line.strip_prefix("-----END ")?.strip_suffix("-----").map(str::trim)
}

impl<'a> RawBlock<'a> {
    /// Split off the headers and decode the base64 payload.
    pub fn decode(self, format: KeyFormat) -> Result<Block<'a>, KeyError> {
        match self.end {
            End::Found => {}
            End::Missing => {
                return Err(KeyError::malformed(
                    format,
                    format!("the `-----END {}-----` line is missing, so the file is cut short", self.label),
                ));
            }
            End::Mismatched(other) => {
                return Err(KeyError::malformed(
                    format,
                    format!("the `BEGIN {}` block ends with `END {other}`", self.label),
                ));
            }
        }
        let mut headers = Vec::new();
        let mut text = Zeroizing::new(String::new());
        for line in self.lines {
            // Base64 has no ':', so a line with one is an RFC 1421 header (`Name: value`).
            if text.is_empty()
                && let Some((name, value)) = line.split_once(':')
            {
                headers.push((name.trim(), value.trim()));
                continue;
            }
            text.extend(line.chars().filter(|c| !c.is_ascii_whitespace()));
        }
        if text.is_empty() {
            return Err(KeyError::malformed(format, "the PEM block holds no data"));
        }
        let data = base64(&text).map_err(|e| {
            KeyError::malformed(format, format!("the base64 text is damaged ({e}); was the file edited?"))
        })?;
        Ok(Block { headers, data })
    }
}

/// Decode standard padded base64 (RFC 4648 §4) into a buffer that is wiped when dropped.
pub(super) fn base64(text: &str) -> Result<Zeroizing<Vec<u8>>, base64ct::Error> {
    let mut out = Zeroizing::new(vec![0u8; text.len() / 4 * 3 + 3]);
    let len = Base64::decode(text.as_bytes(), &mut out)?.len();
    out.truncate(len);
    Ok(out)
}
