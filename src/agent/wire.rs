//! The agent protocol's framing and the byte-level parts Latchkey handles itself
//! (draft-miller-ssh-agent, OpenSSH PROTOCOL.agent).
//!
//! Messages are `uint32 length, byte type, contents`. The hot path (REQUEST_IDENTITIES, SIGN) is
//! parsed and answered here directly, without decoding keys; the rest goes through
//! ssh-agent-lib's typed messages.

use std::io::{self, Read};

/// Messages longer than this close the connection (OpenSSH's ssh-agent uses the same 256 KiB).
pub const MAX_MESSAGE: usize = 256 * 1024;

// Message numbers, draft-miller-ssh-agent section 6.1.
pub const SSH_AGENT_FAILURE: u8 = 5;
pub const SSH_AGENT_SUCCESS: u8 = 6;
pub const SSH2_AGENTC_REQUEST_IDENTITIES: u8 = 11;
pub const SSH2_AGENT_IDENTITIES_ANSWER: u8 = 12;
pub const SSH2_AGENTC_SIGN_REQUEST: u8 = 13;
pub const SSH2_AGENT_SIGN_RESPONSE: u8 = 14;
pub const SSH2_AGENTC_ADD_IDENTITY: u8 = 17;
pub const SSH2_AGENTC_REMOVE_IDENTITY: u8 = 18;
pub const SSH2_AGENTC_REMOVE_ALL_IDENTITIES: u8 = 19;
pub const SSH_AGENTC_LOCK: u8 = 22;
pub const SSH_AGENTC_UNLOCK: u8 = 23;
pub const SSH2_AGENTC_ADD_ID_CONSTRAINED: u8 = 25;
pub const SSH_AGENTC_EXTENSION: u8 = 27;

/// Why a connection ends.
#[derive(Debug)]
pub enum FrameError {
    /// The peer closed the connection between messages: a normal end.
    Closed,
    /// The length prefix is zero or above [`MAX_MESSAGE`].
    BadLength(usize),
    /// The connection ended inside a message, or failed.
    Io(#[allow(dead_code)] io::Error),
}

/// A message's buffer starts this large and doubles as its bytes arrive: memory follows what a
/// peer sent, not what its length prefix announced (500 half-open connections announcing 256 KiB
/// each would otherwise pin 125 MiB).
const FIRST_CHUNK: usize = 4 * 1024;

/// Read one message body (type byte and contents) into `buf`, from a blocking stream.
pub fn read_frame<R: Read>(reader: &mut R, buf: &mut Vec<u8>) -> Result<(), FrameError> {
    let mut len = [0u8; 4];
    match reader.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(FrameError::Closed),
        Err(e) => return Err(FrameError::Io(e)),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 || len > MAX_MESSAGE {
        return Err(FrameError::BadLength(len));
    }
    buf.clear();
    let mut filled = 0;
    while filled < len {
        let target = len.min(FIRST_CHUNK.max(filled * 2));
        reserve_wiping(buf, target);
        buf.resize(target, 0);
        reader.read_exact(&mut buf[filled..]).map_err(FrameError::Io)?;
        filled = target;
    }
    Ok(())
}

/// Grow `buf` to hold `capacity` bytes without leaving a copy behind: a message can be an
/// ADD_IDENTITY carrying a private key, and `Vec`'s own reallocation frees the old block unwiped.
fn reserve_wiping(buf: &mut Vec<u8>, capacity: usize) {
    use zeroize::Zeroize;
    if buf.capacity() >= capacity {
        return;
    }
    let mut bigger = Vec::with_capacity(capacity);
    bigger.extend_from_slice(buf);
    buf.zeroize();
    *buf = bigger;
}

/// Append `uint32 length` + `payload` as a complete message.
pub fn frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
}

/// A cursor over message contents (RFC 4251 section 5 types).
pub struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    pub fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    pub fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_at_checked(4)?;
        self.0 = rest;
        Some(u32::from_be_bytes([head[0], head[1], head[2], head[3]]))
    }
    pub fn string(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        let (s, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(s)
    }
    pub fn bool(&mut self) -> Option<bool> {
        self.u8().map(|b| b != 0)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s);
}

/// A parsed SSH2_AGENTC_SIGN_REQUEST: `string key_blob, string data, uint32 flags`.
pub struct SignRequest<'a> {
    pub key_blob: &'a [u8],
    pub data: &'a [u8],
    pub flags: u32,
}

pub fn parse_sign(contents: &[u8]) -> Option<SignRequest<'_>> {
    let mut r = Reader(contents);
    let key_blob = r.string()?;
    let data = r.string()?;
    let flags = r.u32()?;
    r.is_empty().then_some(SignRequest { key_blob, data, flags })
}

/// OpenSSH writes ECDSA scalars as minimal mpints, so a scalar with a zero top byte arrives one
/// byte short, which ssh-key 0.6 (and so ssh-agent-lib) rejects. Rewrites an ADD_IDENTITY body
/// (`string type, string curve, string Q, mpint d, string comment, constraints...`) with the
/// scalar at full width; `None` if it is not such a key.
pub fn widen_ecdsa_scalar(contents: &[u8]) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let mut r = Reader(contents);
    let key_type = r.string()?;
    let width = match key_type {
        b"ecdsa-sha2-nistp256" => 32,
        b"ecdsa-sha2-nistp384" => 48,
        b"ecdsa-sha2-nistp521" => 66,
        _ => return None,
    };
    let curve = r.string()?;
    let point = r.string()?;
    let scalar = r.string()?;
    let digits = &scalar[scalar.iter().position(|&b| b != 0).unwrap_or(scalar.len())..];
    if scalar.len() >= width || digits.len() > width {
        return None;
    }
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(contents.len() + width));
    put_string(&mut out, key_type);
    put_string(&mut out, curve);
    put_string(&mut out, point);
    put_u32(&mut out, width as u32);
    let padded = out.len() + width - digits.len();
    out.resize(padded, 0);
    out.extend_from_slice(digits);
    out.extend_from_slice(r.0);
    Some(out)
}

/// OpenSSH writes "valid forever" as `valid_before = 2^64 - 1` (PROTOCOL.certkeys), which is what
/// `ssh-keygen -s` gives without `-V`; ssh-key 0.6 stops at `i64::MAX` and so refuses the whole
/// add. For a certificate ADD_IDENTITY body (`string cert-type, string certificate, private
/// fields, string comment, constraints...`) with such a time, returns the body with its times
/// clamped to `i64::MAX`, for decoding only, and the certificate as sent: that is what servers
/// must see, since the CA signed it. `None` if it is not such a body.
pub fn clamp_cert_validity(contents: &[u8]) -> Option<(zeroize::Zeroizing<Vec<u8>>, &[u8])> {
    let mut r = Reader(contents);
    let cert_type = r.string()?;
    let cert = r.string()?;
    // The certificate: `string type, string nonce, public key fields, uint64 serial, uint32 type,
    // string key id, string principals, uint64 valid after, uint64 valid before, ...`.
    let mut c = Reader(cert);
    if c.string()? != cert_type {
        return None;
    }
    c.string()?;
    let public_fields = match cert_type {
        b"ssh-ed25519-cert-v01@openssh.com" => 1,
        b"ssh-rsa-cert-v01@openssh.com"
        | b"ecdsa-sha2-nistp256-cert-v01@openssh.com"
        | b"ecdsa-sha2-nistp384-cert-v01@openssh.com"
        | b"ecdsa-sha2-nistp521-cert-v01@openssh.com"
        | b"sk-ssh-ed25519-cert-v01@openssh.com" => 2,
        b"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com" => 3,
        b"ssh-dss-cert-v01@openssh.com" => 4,
        _ => return None,
    };
    for _ in 0..public_fields {
        c.string()?;
    }
    c.u32()?;
    c.u32()?; // uint64 serial
    c.u32()?;
    c.string()?;
    c.string()?;
    let times = 4 + cert_type.len() + 4 + (cert.len() - c.0.len());
    let mut clamped = zeroize::Zeroizing::new(contents.to_vec());
    let mut changed = false;
    for at in [times, times + 8] {
        let field = clamped.get_mut(at..at + 8)?;
        let value = u64::from_be_bytes(field.try_into().ok()?);
        if value > i64::MAX as u64 {
            field.copy_from_slice(&(i64::MAX as u64).to_be_bytes());
            changed = true;
        }
    }
    changed.then_some((clamped, cert))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_over_the_limit_or_empty_are_refused() {
        let mut buf = Vec::new();
        let big = ((MAX_MESSAGE + 1) as u32).to_be_bytes();
        assert!(matches!(read_frame(&mut &big[..], &mut buf), Err(FrameError::BadLength(_))));
        assert!(matches!(read_frame(&mut &[0u8, 0, 0, 0][..], &mut buf), Err(FrameError::BadLength(0))));
        assert!(matches!(read_frame(&mut &[0u8, 0][..], &mut buf), Err(FrameError::Closed)));
        assert!(matches!(read_frame(&mut &[0u8, 0, 0, 5, 11][..], &mut buf), Err(FrameError::Io(_))));
        read_frame(&mut &[0u8, 0, 0, 1, 11][..], &mut buf).unwrap();
        assert_eq!(buf, [11]);
    }

    #[test]
    fn buffers_grow_with_what_arrived_not_with_what_was_announced() {
        // 256 KiB announced, 10 bytes sent, then end-of-file.
        let mut input = (MAX_MESSAGE as u32).to_be_bytes().to_vec();
        input.extend_from_slice(&[7; 10]);
        let mut buf = Vec::new();
        assert!(matches!(read_frame(&mut &input[..], &mut buf), Err(FrameError::Io(_))));
        assert!(buf.capacity() <= FIRST_CHUNK, "reserved {} bytes for 10", buf.capacity());

        // Whole messages of every size around the chunk boundaries arrive intact.
        for len in [1, FIRST_CHUNK - 1, FIRST_CHUNK, FIRST_CHUNK + 1, 3 * FIRST_CHUNK, MAX_MESSAGE] {
            let body: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut framed = Vec::new();
            frame(&body, &mut framed);
            framed.extend_from_slice(&[0, 0, 0, 1, 11]);
            let mut reader = &framed[..];
            read_frame(&mut reader, &mut buf).unwrap();
            assert_eq!(buf, body, "a {len}-byte message");
            read_frame(&mut reader, &mut buf).unwrap();
            assert_eq!(buf, [11], "the message after a {len}-byte one");
        }
    }

    #[test]
    fn sign_requests_parse_exactly() {
        let mut m = Vec::new();
        put_string(&mut m, b"blob");
        put_string(&mut m, b"data");
        put_u32(&mut m, 4);
        let req = parse_sign(&m).unwrap();
        assert_eq!((req.key_blob, req.data, req.flags), (&b"blob"[..], &b"data"[..], 4));
        assert!(parse_sign(&m[..m.len() - 1]).is_none());
        m.push(0);
        assert!(parse_sign(&m).is_none(), "trailing bytes");
    }

    #[test]
    fn forever_certificates_are_clamped_for_decoding_only() {
        let cert_type = b"ssh-ed25519-cert-v01@openssh.com";
        let cert = |valid_before: u64| {
            let mut c = Vec::new();
            put_string(&mut c, cert_type);
            put_string(&mut c, b"nonce");
            put_string(&mut c, &[1; 32]);
            c.extend_from_slice(&7u64.to_be_bytes());
            put_u32(&mut c, 1);
            put_string(&mut c, b"key id");
            put_string(&mut c, b"\0\0\0\x04user");
            c.extend_from_slice(&0u64.to_be_bytes());
            c.extend_from_slice(&valid_before.to_be_bytes());
            put_string(&mut c, b"");
            put_string(&mut c, b"");
            put_string(&mut c, b"");
            put_string(&mut c, b"ca key");
            put_string(&mut c, b"signature");
            c
        };
        let body = |cert: &[u8]| {
            let mut m = Vec::new();
            put_string(&mut m, cert_type);
            put_string(&mut m, cert);
            put_string(&mut m, &[1; 32]);
            put_string(&mut m, &[2; 64]);
            put_string(&mut m, b"comment");
            m
        };
        let forever = cert(u64::MAX);
        let added = body(&forever);
        let (clamped, sent) = clamp_cert_validity(&added).unwrap();
        assert_eq!(sent, forever, "the certificate as sent is kept");
        assert_eq!(*clamped, body(&cert(i64::MAX as u64)));
        assert!(clamp_cert_validity(&body(&cert(i64::MAX as u64))).is_none(), "nothing to clamp");
        assert!(clamp_cert_validity(&added[..40 + cert_type.len() + 60]).is_none(), "cut short");
        let mut plain = Vec::new();
        put_string(&mut plain, b"ssh-ed25519");
        put_string(&mut plain, &[1; 32]);
        assert!(clamp_cert_validity(&plain).is_none(), "not a certificate");
    }
}
