//! A small blocking agent client: what `latchkey key unlock` needs to hand a decrypted key to
//! the running agent (as ssh-add does).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use ssh_agent_lib::proto::{AddIdentity, PrivateCredential, Request};
use ssh_encoding::Encode;
use ssh_key::private::KeypairData;
use zeroize::Zeroizing;

use super::wire::{self, MAX_MESSAGE};

/// Send one message (type byte + contents) and return the reply (type byte + contents).
pub fn request(socket: &Path, message: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut framed = Zeroizing::new(Vec::with_capacity(message.len() + 4));
    wire::frame(message, &mut framed);
    stream.write_all(&framed)?;
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 || len > MAX_MESSAGE {
        return Err(std::io::Error::other("the agent sent a malformed reply"));
    }
    let mut reply = vec![0u8; len];
    stream.read_exact(&mut reply)?;
    Ok(reply)
}

/// Add a decrypted key to the agent at `socket` (SSH2_AGENTC_ADD_IDENTITY).
pub fn add_identity(socket: &Path, key: &KeypairData, comment: &str) -> Result<(), String> {
    let request = Request::AddIdentity(AddIdentity {
        credential: PrivateCredential::Key { privkey: key.clone(), comment: comment.to_owned() },
    });
    let mut message = Zeroizing::new(Vec::new());
    request.encode(&mut *message).map_err(|e| format!("encoding the key: {e}"))?;
    let reply = request_checked(socket, &message)?;
    if reply.first() == Some(&wire::SSH_AGENT_SUCCESS) { Ok(()) } else { Err("the agent refused the key".into()) }
}

fn request_checked(socket: &Path, message: &[u8]) -> Result<Vec<u8>, String> {
    request(socket, message).map_err(|e| format!("cannot talk to the agent at {}: {e}", socket.display()))
}
