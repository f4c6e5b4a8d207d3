//! Raw bytes into the agent's request path, shared by the cargo-fuzz target
//! (`fuzz_targets/agent_request.rs`) and the seed regression test (`tests/agent_fuzz_seeds.rs`),
//! which both include this file with `#[path]`, so latchkey needs no public test API for it.
//!
//! An input is a stream of agent messages framed as on the wire (draft-miller-ssh-agent
//! section 3: `uint32 length, byte type, contents`), so traffic captured from ssh-add is a seed as
//! it is. A length beyond what is left takes the rest; a tail shorter than a length prefix is a
//! message of its own. The messages go in order to one [`Connection`], as from one client.
//! Framing limits (256 KiB, zero length) belong to the socket layer and are tested against the
//! real agent in `tests/agent_bad_input.rs`.

use std::sync::Arc;

use latchkey::agent::approval::Refuse;
use latchkey::agent::{Agent, AgentOptions, Connection, NoObserver};

/// At most this many messages of one input are handled, so no input runs for long.
pub const MAX_MESSAGES: usize = 64;

/// The replies an agent may send (draft-miller-ssh-agent section 6.1): FAILURE, SUCCESS,
/// IDENTITIES_ANSWER, SIGN_RESPONSE, EXTENSION_RESPONSE.
pub const REPLY_TYPES: [u8; 5] = [5, 6, 12, 14, 29];

/// An agent without a store that refuses every prompt, as a headless agent without askpass.
pub fn agent() -> Agent {
    Agent::new(None, Arc::new(Refuse), Arc::new(Refuse), Arc::new(NoObserver), AgentOptions::default())
}

/// Split `input` into messages (see the module docs).
pub fn split(mut input: &[u8]) -> Vec<&[u8]> {
    let mut messages = Vec::new();
    while !input.is_empty() && messages.len() < MAX_MESSAGES {
        let Some((len, rest)) = input.split_first_chunk::<4>() else {
            messages.push(input);
            break;
        };
        let len = (u32::from_be_bytes(*len) as usize).min(rest.len());
        let (message, rest) = rest.split_at(len);
        messages.push(message);
        input = rest;
    }
    messages
}

/// Feed every message of `input` to `agent` on one connection and return the replies, checking
/// that each is a reply the protocol allows. Then return the agent to how it started (added keys
/// removed; a locked agent replaced), so one input never changes how the next one is treated.
pub fn feed(agent: &mut Agent, runtime: &tokio::runtime::Runtime, input: &[u8]) -> Vec<Vec<u8>> {
    let mut conn = Connection::new(None);
    let replies = runtime.block_on(async {
        let mut replies = Vec::new();
        for message in split(input) {
            replies.push(agent.handle(&mut conn, message).await);
        }
        replies
    });
    for reply in &replies {
        assert!(
            reply.first().is_some_and(|t| REPLY_TYPES.contains(t)),
            "the agent sent a reply of no known type: {:?}",
            &reply[..reply.len().min(16)]
        );
    }
    if agent.is_locked() {
        *agent = self::agent();
    } else {
        // SSH2_AGENTC_REMOVE_ALL_IDENTITIES.
        let reply = runtime.block_on(agent.handle(&mut Connection::new(None), &[19]));
        assert_eq!(reply, [6], "an unlocked agent refused to remove all identities");
    }
    replies
}
