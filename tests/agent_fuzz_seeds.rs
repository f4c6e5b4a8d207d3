//! Every seed of the `agent_request` fuzz target, and every crash it found (kept once fixed), run
//! in-process through the very function the fuzzer calls (`fuzz/feed.rs`), so CI exercises them
//! without libFuzzer or a nightly compiler. The captured seeds also pin what the agent answers
//! the real clients they were recorded from (fuzz/seeds/capture.sh).

// Test helpers outside #[test] functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../fuzz/feed.rs"]
mod feed;

use std::path::{Path, PathBuf};

const FAILURE: u8 = 5;
const SUCCESS: u8 = 6;
const IDENTITIES: u8 = 12;
const SIGNATURE: u8 = 14;
const EXTENSION: u8 = 29;

/// The reply types each scenario gets, message by message.
const EXPECTED: &[(&str, &[u8])] = &[
    ("list", &[IDENTITIES, IDENTITIES]),
    // add, -l, -Y sign (lists, then signs), -T, -d
    ("ed25519", &[SUCCESS, IDENTITIES, IDENTITIES, SIGNATURE, SIGNATURE, SUCCESS]),
    // add, -Y sign, -d
    ("ecdsa-p256", &[SUCCESS, IDENTITIES, SIGNATURE, SUCCESS]),
    ("ecdsa-p384", &[SUCCESS, IDENTITIES, SIGNATURE, SUCCESS]),
    ("ecdsa-p521", &[SUCCESS, IDENTITIES, SIGNATURE, SUCCESS]),
    // ...; ssh-add -D ends with the SSH-1 "remove all", which is refused.
    ("rsa", &[SUCCESS, IDENTITIES, IDENTITIES, SIGNATURE, SIGNATURE, SUCCESS, FAILURE]),
    ("certificate", &[SUCCESS, SUCCESS, IDENTITIES, IDENTITIES, SIGNATURE, SUCCESS, FAILURE]),
    // ssh-add -c: the Refuse approver says no.
    ("constrained", &[SUCCESS, IDENTITIES, IDENTITIES, FAILURE]),
    // ssh-add -h: without a session-bind the key is neither listed nor used.
    ("restricted", &[SUCCESS, IDENTITIES, IDENTITIES, FAILURE]),
    ("lock", &[SUCCESS, SUCCESS, IDENTITIES, SUCCESS, IDENTITIES]),
    ("lock-wrong-password", &[SUCCESS, FAILURE, SUCCESS]),
    // bind, the identical bind again, list, a sign for a key the agent does not hold.
    ("session-bind", &[SUCCESS, SUCCESS, IDENTITIES, FAILURE]),
    ("session-bind-forwarded", &[SUCCESS, IDENTITIES]),
    ("session-bind-bad-signature", &[FAILURE, IDENTITIES]),
    ("extension-query", &[EXTENSION, FAILURE]),
    // Twelve SSH-1, smartcard and unknown messages, then a REQUEST_IDENTITIES.
    (
        "unknown-and-ssh1",
        &[
            FAILURE, FAILURE, FAILURE, FAILURE, FAILURE, FAILURE, FAILURE, FAILURE, FAILURE, FAILURE, FAILURE, FAILURE,
            IDENTITIES,
        ],
    ),
    ("empty-and-truncated", &[FAILURE, IDENTITIES, FAILURE]),
];

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
}

#[test]
fn every_seed_and_fixed_crash_runs_and_gets_only_protocol_replies() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let seeds = files(&root.join("agent_request"));
    let crashes = files(&root.join("crashes"));
    assert!(seeds.len() >= EXPECTED.len(), "seeds missing from {}", root.display());
    let runtime = runtime();
    let mut agent = feed::agent();
    let mut mismatches = Vec::new();
    for path in seeds.iter().chain(&crashes) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // A panic in `feed` fails the test; say which input it was on.
        eprintln!("feeding {name}");
        let replies = feed::feed(&mut agent, &runtime, &std::fs::read(path).unwrap());
        let kinds: Vec<u8> = replies.iter().map(|r| r[0]).collect();
        if let Some((_, expected)) = EXPECTED.iter().find(|(n, _)| *n == name)
            && kinds != *expected
        {
            mismatches.push(format!("{name}: got {kinds:?}, expected {expected:?}"));
        }
    }
    assert!(mismatches.is_empty(), "seeds answered differently:\n{}", mismatches.join("\n"));
}

#[test]
fn the_same_input_twice_gets_the_same_answers() {
    // `feed` returns the agent to its starting state after each input: the fuzzer relies on it.
    let runtime = runtime();
    let mut agent = feed::agent();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/agent_request");
    for name in ["ed25519", "lock", "constrained"] {
        let input = std::fs::read(root.join(name)).unwrap();
        let kinds = |replies: Vec<Vec<u8>>| replies.iter().map(|r| r[0]).collect::<Vec<_>>();
        let first = kinds(feed::feed(&mut agent, &runtime, &input));
        let second = kinds(feed::feed(&mut agent, &runtime, &input));
        assert_eq!(first, second, "{name}");
    }
}

#[test]
fn inputs_split_as_wire_frames() {
    let mut input = Vec::new();
    for body in [&[11u8][..], &[], &[27, 0, 0, 0, 1, b'x']] {
        input.extend_from_slice(&(body.len() as u32).to_be_bytes());
        input.extend_from_slice(body);
    }
    // A length beyond the end takes the rest; a tail shorter than a prefix is a message.
    input.extend_from_slice(&[0, 0, 0, 50, 13, 1, 2]);
    assert_eq!(feed::split(&input), [&[11u8][..], &[], &[27, 0, 0, 0, 1, b'x'], &[13, 1, 2]]);
    assert_eq!(feed::split(&[0, 0]), [&[0u8, 0][..]]);
    assert_eq!(feed::split(&[0u8; 4 * 100]).len(), feed::MAX_MESSAGES);
}
