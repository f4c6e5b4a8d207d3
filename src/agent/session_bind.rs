//! session-bind@openssh.com (OpenSSH PROTOCOL.agent section 1) and the userauth requests that
//! sign requests carry (RFC 4252 section 7), which together tell the agent where a key is used.

use signature::Verifier;
use ssh_encoding::Decode;
use ssh_key::Signature;
use ssh_key::public::KeyData;

use super::wire::Reader;

/// OpenSSH's ssh-agent records at most this many binds per connection (AGENT_MAX_SESSION_IDS).
pub const MAX_BINDS: usize = 16;

/// One hop the connection was bound to: the server's host key and the session it signed.
#[derive(Debug, Clone)]
pub struct Bind {
    pub host_key: KeyData,
    pub session_id: Vec<u8>,
    /// The client forwards this agent connection to that host (ssh -A).
    pub forwarded: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BindError {
    #[error("malformed session-bind message")]
    Malformed,
    #[error("the host's signature over the session identifier does not verify")]
    BadSignature,
    #[error("the session identifier was already bound to a different host key")]
    Conflict,
    #[error("too many session binds on one connection")]
    TooMany,
}

/// Parse and verify `string hostkey, string session_identifier, string signature, bool
/// is_forwarding`, and record it in `binds` (an identical repeat is accepted, as OpenSSH does).
pub fn bind(contents: &[u8], binds: &mut Vec<Bind>) -> Result<(), BindError> {
    let mut r = Reader(contents);
    let key_blob = r.string().ok_or(BindError::Malformed)?;
    let session_id = r.string().ok_or(BindError::Malformed)?;
    let sig_blob = r.string().ok_or(BindError::Malformed)?;
    let forwarded = r.bool().ok_or(BindError::Malformed)?;
    if !r.is_empty() {
        return Err(BindError::Malformed);
    }
    let host_key = KeyData::decode(&mut &key_blob[..]).map_err(|_| BindError::Malformed)?;
    let signature = Signature::try_from(sig_blob).map_err(|_| BindError::Malformed)?;
    host_key.verify(session_id, &signature).map_err(|_| BindError::BadSignature)?;
    if let Some(existing) = binds.iter().find(|b| b.session_id == session_id) {
        return if existing.host_key == host_key { Ok(()) } else { Err(BindError::Conflict) };
    }
    if binds.len() >= MAX_BINDS {
        return Err(BindError::TooMany);
    }
    binds.push(Bind { host_key, session_id: session_id.to_vec(), forwarded });
    Ok(())
}

/// The parts of an SSH_MSG_USERAUTH_REQUEST "publickey" that the agent checks.
#[derive(Debug, PartialEq, Eq)]
pub struct Userauth<'a> {
    pub session_id: &'a [u8],
    pub user: &'a [u8],
    /// The server host key, in publickey-hostbound-v00@openssh.com requests.
    pub host_key: Option<&'a [u8]>,
}

/// Parse sign-request data as a publickey userauth request; `None` if it is something else (an
/// SSHSIG, a git signature, ...).
pub fn parse_userauth(data: &[u8]) -> Option<Userauth<'_>> {
    let mut r = Reader(data);
    let session_id = r.string()?;
    if r.u8()? != 50 {
        return None; // SSH2_MSG_USERAUTH_REQUEST
    }
    let user = r.string()?;
    let _service = r.string()?;
    let method = r.string()?;
    if !r.bool()? {
        return None;
    }
    let _algorithm = r.string()?;
    let _key = r.string()?;
    let host_key = match method {
        b"publickey" => None,
        b"publickey-hostbound-v00@openssh.com" => Some(r.string()?),
        _ => return None,
    };
    r.is_empty().then_some(Userauth { session_id, user, host_key })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::wire::{put_string, put_u32};

    fn userauth(method: &[u8], host_key: Option<&[u8]>) -> Vec<u8> {
        let mut m = Vec::new();
        put_string(&mut m, b"sid");
        m.push(50);
        put_string(&mut m, b"root");
        put_string(&mut m, b"ssh-connection");
        put_string(&mut m, method);
        m.push(1);
        put_string(&mut m, b"ssh-ed25519");
        put_string(&mut m, b"keyblob");
        if let Some(h) = host_key {
            put_string(&mut m, h);
        }
        m
    }

    #[test]
    fn userauth_requests_are_recognised() {
        let plain = userauth(b"publickey", None);
        assert_eq!(parse_userauth(&plain), Some(Userauth { session_id: b"sid", user: b"root", host_key: None }));
        let bound = userauth(b"publickey-hostbound-v00@openssh.com", Some(b"hk"));
        assert_eq!(parse_userauth(&bound).unwrap().host_key, Some(&b"hk"[..]));
        assert!(parse_userauth(b"SSHSIG\0\0\0\x01").is_none());
        assert!(parse_userauth(&plain[..plain.len() - 1]).is_none());
    }

    #[test]
    fn a_bind_with_a_bad_signature_is_refused() {
        let host = crate::keys::generate(&crate::keys::KeySpec::default(), "h").unwrap();
        let signer = crate::keys::Signer::new(host.key_data()).unwrap();
        let mut m = Vec::new();
        put_string(&mut m, &crate::keys::blob(host.public_key().key_data()));
        put_string(&mut m, b"session-1");
        put_string(&mut m, &signer.sign(b"session-1", 0).unwrap());
        m.push(0);
        let mut binds = Vec::new();
        bind(&m, &mut binds).unwrap();
        bind(&m, &mut binds).unwrap();
        assert_eq!(binds.len(), 1, "an identical repeat is not recorded twice");

        let mut forged = Vec::new();
        put_string(&mut forged, &crate::keys::blob(host.public_key().key_data()));
        put_string(&mut forged, b"session-2");
        put_string(&mut forged, &signer.sign(b"session-1", 0).unwrap());
        forged.push(0);
        assert_eq!(bind(&forged, &mut binds), Err(BindError::BadSignature));
        put_u32(&mut forged, 0);
        assert_eq!(bind(&forged, &mut binds), Err(BindError::Malformed));
    }
}
