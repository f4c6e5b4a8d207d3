//! Unit tests of the agent service.

use super::*;

mod observer {
    use super::*;
    use crate::agent::approval::Refuse;

    /// Reads the agent back when told of a change, as the desktop's tray does.
    struct ReadsBack(std::sync::OnceLock<Agent>, std::sync::mpsc::SyncSender<bool>);

    impl Observer for ReadsBack {
        fn state_changed(&self) {
            if let Some(agent) = self.0.get() {
                let _ = self.1.try_send(agent.is_locked());
            }
        }
    }

    #[test]
    fn the_observer_may_read_the_agent_when_housekeeping_changes_it() {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        let observer = Arc::new(ReadsBack(std::sync::OnceLock::new(), tx));
        let options = AgentOptions {
            idle_lock: Some(Duration::from_millis(1)),
            idle_action: IdleAction::Lock,
            ..AgentOptions::default()
        };
        let agent = Agent::new(None, Arc::new(Refuse), Arc::new(Refuse), observer.clone(), options);
        assert!(observer.0.set(agent.clone()).is_ok());
        std::thread::sleep(Duration::from_millis(5));
        // On a thread of its own: a deadlock fails the test instead of hanging it.
        std::thread::spawn(move || agent.tick());
        let locked = rx.recv_timeout(Duration::from_secs(10));
        assert_eq!(locked, Ok(true), "the idle lock did not notify, or deadlocked notifying");
    }
}

mod timing {
    use super::*;
    use crate::agent::NoObserver;
    use crate::agent::approval::Refuse;
    use crate::keys::{KeyKind, KeySpec, generate};

    /// Prints what one SIGN costs inside the agent beyond the signature, for profiling (no timing
    /// assertions). `cargo test --release --lib handle_cost -- --ignored --nocapture`
    #[test]
    #[ignore = "prints timings; run by hand"]
    fn handle_cost() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        for spec in [KeySpec::default(), KeySpec::new(KeyKind::Ecdsa, Some(256)).unwrap()] {
            let agent =
                Agent::new(None, Arc::new(Refuse), Arc::new(Refuse), Arc::new(NoObserver), AgentOptions::default());
            let key = generate(&spec, "t").unwrap();
            let mut add = vec![wire::SSH2_AGENTC_ADD_IDENTITY];
            let request = Request::AddIdentity(ssh_agent_lib::proto::AddIdentity {
                credential: PrivateCredential::Key { privkey: key.key_data().clone(), comment: "t".into() },
            });
            add.clear();
            request.encode(&mut add).unwrap();
            let mut conn = Connection::new(Some(std::process::id()));
            assert_eq!(rt.block_on(agent.handle(&mut conn, &add)), [wire::SSH_AGENT_SUCCESS]);
            let mut sign = vec![wire::SSH2_AGENTC_SIGN_REQUEST];
            wire::put_string(&mut sign, &keys::blob(key.public_key().key_data()));
            wire::put_string(&mut sign, &[0x5a; 160]);
            wire::put_u32(&mut sign, 0);
            let n = 5000;
            let start = Instant::now();
            for _ in 0..n {
                let reply = rt.block_on(agent.handle(&mut conn, &sign));
                assert_eq!(reply[0], wire::SSH2_AGENT_SIGN_RESPONSE);
            }
            let handled = start.elapsed() / n;
            let signer = Signer::new(key.key_data()).unwrap();
            let start = Instant::now();
            for _ in 0..n {
                signer.sign(&[0x5a; 160], 0).unwrap();
            }
            let bare = start.elapsed() / n;
            println!(
                "{spec}: handle {handled:?}, bare signature {bare:?}, agent overhead {:?}",
                handled.saturating_sub(bare)
            );
        }
    }
}

/// Policy and lock behaviour through `Agent::handle`, with a scripted approver and, where time
/// matters (the 30 s prompt timeout, the unlock back-off), Tokio's paused clock.
mod policy {
    use std::collections::VecDeque;
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::agent::NoObserver;
    use crate::agent::approval::{BoxFuture, Refuse};
    use crate::keys::{KeySpec, generate};

    /// Answers prompts from a script; with the script empty, never answers.
    #[derive(Default)]
    struct Scripted {
        answers: Mutex<VecDeque<Decision>>,
        asked: AtomicUsize,
        last: Mutex<Option<ApprovalRequest>>,
    }

    impl Scripted {
        fn answering(answers: &[Decision]) -> Arc<Self> {
            Arc::new(Self { answers: Mutex::new(answers.iter().copied().collect()), ..Self::default() })
        }
        fn asked(&self) -> usize {
            self.asked.load(Ordering::SeqCst)
        }
    }

    impl Approver for Scripted {
        fn approve(&self, request: ApprovalRequest) -> BoxFuture<Decision> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            *self.last.lock().unwrap() = Some(request);
            match self.answers.lock().unwrap().pop_front() {
                Some(d) => Box::pin(async move { d }),
                None => Box::pin(std::future::pending()),
            }
        }
    }

    struct Fixture {
        agent: Agent,
        key: ssh_key::PrivateKey,
    }

    fn agent_with(approver: Arc<dyn Approver>) -> Agent {
        Agent::new(None, approver, Arc::new(Refuse), Arc::new(NoObserver), AgentOptions::default())
    }

    fn add_request(key: &ssh_key::PrivateKey, confirm: bool) -> Vec<u8> {
        let identity = ssh_agent_lib::proto::AddIdentity {
            credential: PrivateCredential::Key { privkey: key.key_data().clone(), comment: "test key".into() },
        };
        let request = if confirm {
            Request::AddIdConstrained(ssh_agent_lib::proto::AddIdentityConstrained {
                identity,
                constraints: vec![KeyConstraint::Confirm],
            })
        } else {
            Request::AddIdentity(identity)
        };
        let mut out = Vec::new();
        request.encode(&mut out).unwrap();
        out
    }

    async fn fixture(approver: Arc<dyn Approver>, confirm: bool) -> Fixture {
        let agent = agent_with(approver);
        let key = generate(&KeySpec::default(), "t").unwrap();
        let mut conn = Connection::new(Some(std::process::id()));
        assert_eq!(agent.handle(&mut conn, &add_request(&key, confirm)).await, success());
        Fixture { agent, key }
    }

    fn sign_request(key: &ssh_key::PrivateKey) -> Vec<u8> {
        let mut sign = vec![wire::SSH2_AGENTC_SIGN_REQUEST];
        wire::put_string(&mut sign, &keys::blob(key.public_key().key_data()));
        wire::put_string(&mut sign, b"data");
        wire::put_u32(&mut sign, 0);
        sign
    }

    fn password_message(kind: u8, password: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        wire::put_string(&mut m, password);
        m
    }

    async fn signs(f: &Fixture, conn: &mut Connection) -> bool {
        f.agent.handle(conn, &sign_request(&f.key)).await[0] == wire::SSH2_AGENT_SIGN_RESPONSE
    }

    fn last_outcome(agent: &Agent) -> String {
        agent.activity().last().map(|e| e.outcome.clone()).unwrap_or_default()
    }

    #[tokio::test]
    async fn allow_once_asks_again_next_time_and_deny_refuses() {
        let approver = Scripted::answering(&[Decision::AllowOnce, Decision::Deny]);
        let f = fixture(approver.clone(), true).await;
        let mut conn = Connection::new(Some(std::process::id()));
        assert!(signs(&f, &mut conn).await);
        assert_eq!(last_outcome(&f.agent), "signed");
        assert!(!signs(&f, &mut conn).await, "the second request was asked again and denied");
        assert_eq!(approver.asked(), 2);
        assert_eq!(last_outcome(&f.agent), "denied");
        let asked = approver.last.lock().unwrap().clone().unwrap();
        assert_eq!(asked.reason, ApprovalReason::Confirm);
        assert_eq!(asked.process.client().unwrap().pid, std::process::id());
        assert!(asked.fingerprint.starts_with("SHA256:"));
    }

    #[tokio::test]
    async fn allow_application_covers_the_same_program_in_the_same_session_only() {
        let approver = Scripted::answering(&[Decision::AllowApplication { minutes: 5 }]);
        let f = fixture(approver.clone(), true).await;
        let mut conn = Connection::new(Some(std::process::id()));
        assert!(signs(&f, &mut conn).await);
        // A new connection from the same process: covered by the grant, not asked.
        let mut again = Connection::new(Some(std::process::id()));
        assert!(signs(&f, &mut again).await);
        assert_eq!(approver.asked(), 1);

        // Another program (a child of this one) is asked; the script is empty: nobody answers.
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let mut other = Connection::new(Some(child.id()));
        let asked = tokio::time::timeout(Duration::from_secs(5), signs(&f, &mut other)).await;
        let _ = child.kill();
        let _ = child.wait();
        assert!(asked.is_err(), "another program's request was not put to the user");
        assert_eq!(approver.asked(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_grant_for_some_minutes_ends_then_asks_again() {
        let approver = Scripted::answering(&[Decision::AllowApplication { minutes: 1 }, Decision::Deny]);
        let f = fixture(approver.clone(), true).await;
        let mut conn = Connection::new(Some(std::process::id()));
        assert!(signs(&f, &mut conn).await);
        assert!(signs(&f, &mut conn).await);
        assert_eq!(approver.asked(), 1);
        // Grants are measured on the real clock (std Instant): shorten this one to the past.
        f.agent.state().grants.iter_mut().for_each(|g| g.until = Some(Instant::now()));
        assert!(!signs(&f, &mut conn).await);
        assert_eq!(approver.asked(), 2);
    }

    #[tokio::test]
    async fn allow_until_lock_lasts_until_the_agent_locks() {
        let approver = Scripted::answering(&[Decision::AllowUntilLock, Decision::Deny]);
        let f = fixture(approver.clone(), true).await;
        let mut conn = Connection::new(Some(std::process::id()));
        for _ in 0..3 {
            assert!(signs(&f, &mut conn).await);
        }
        assert_eq!(approver.asked(), 1);
        assert_eq!(f.agent.handle(&mut conn, &password_message(wire::SSH_AGENTC_LOCK, b"pw")).await, success());
        assert_eq!(f.agent.handle(&mut conn, &password_message(wire::SSH_AGENTC_UNLOCK, b"pw")).await, success());
        assert!(!signs(&f, &mut conn).await, "the grant survived the lock");
        assert_eq!(approver.asked(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn no_answer_in_30_seconds_is_a_denial() {
        let approver = Scripted::answering(&[]);
        let f = fixture(approver.clone(), true).await;
        let mut conn = Connection::new(Some(std::process::id()));
        let start = tokio::time::Instant::now();
        assert!(!signs(&f, &mut conn).await);
        assert_eq!(start.elapsed(), PROMPT_TIMEOUT, "denied at the timeout, not before or after");
        assert_eq!(last_outcome(&f.agent), "denied: no answer in time");
    }

    #[tokio::test]
    async fn forwarded_requests_ask_even_for_a_key_that_does_not_and_a_grant_does_not_cover_them() {
        let approver = Scripted::answering(&[Decision::AllowUntilLock, Decision::AllowOnce]);
        let f = fixture(approver.clone(), false).await;
        let mut local = Connection::new(Some(std::process::id()));
        assert!(signs(&f, &mut local).await);
        assert_eq!(approver.asked(), 0, "a local request for a key without confirm is not asked");

        let host = generate(&KeySpec::default(), "host").unwrap();
        let mut forwarded = Connection::new(Some(std::process::id()));
        forwarded.binds.push(Bind {
            host_key: host.public_key().key_data().clone(),
            session_id: vec![7; 32],
            forwarded: true,
        });
        assert!(signs(&f, &mut forwarded).await);
        assert!(signs(&f, &mut forwarded).await);
        assert_eq!(approver.asked(), 2, "each forwarded request asks, the standing grant notwithstanding");
        let asked = approver.last.lock().unwrap().clone().unwrap();
        assert!(asked.forwarded);
        assert_eq!(asked.reason, ApprovalReason::Forwarded);
        assert!(f.agent.activity().last().unwrap().forwarded);
    }

    #[tokio::test(start_paused = true)]
    async fn wrong_unlock_passwords_are_slowed_down_one_after_the_other() {
        let f = fixture(Arc::new(Refuse), false).await;
        let mut conn = Connection::new(Some(std::process::id()));
        assert_eq!(f.agent.handle(&mut conn, &password_message(wire::SSH_AGENTC_LOCK, b"right")).await, success());
        let mut waits = Vec::new();
        for _ in 0..3 {
            let start = tokio::time::Instant::now();
            let reply = f.agent.handle(&mut conn, &password_message(wire::SSH_AGENTC_UNLOCK, b"wrong")).await;
            assert_eq!(reply, failure());
            waits.push(start.elapsed());
        }
        assert_eq!(waits, [Duration::ZERO, lock::unlock_delay(1), lock::unlock_delay(2)]);
        assert!(lock::unlock_delay(2) > lock::unlock_delay(1));
        let start = tokio::time::Instant::now();
        let reply = f.agent.handle(&mut conn, &password_message(wire::SSH_AGENTC_UNLOCK, b"right")).await;
        assert_eq!(reply, success());
        assert_eq!(start.elapsed(), lock::unlock_delay(3), "the right password waits its turn too");
        assert!(signs(&f, &mut conn).await, "the sealed key is back after unlocking");
    }

    #[tokio::test]
    async fn a_locked_agent_answers_no_extension_and_records_refused_signatures() {
        let f = fixture(Arc::new(Refuse), false).await;
        let mut conn = Connection::new(Some(std::process::id()));
        let mut query = vec![wire::SSH_AGENTC_EXTENSION];
        wire::put_string(&mut query, b"query");
        assert_ne!(f.agent.handle(&mut conn, &query).await, failure());
        assert_eq!(f.agent.handle(&mut conn, &password_message(wire::SSH_AGENTC_LOCK, b"pw")).await, success());
        assert_eq!(f.agent.handle(&mut conn, &query).await, failure());
        assert!(!signs(&f, &mut conn).await);
        let entry = f.agent.activity().last().cloned().unwrap();
        assert_eq!(entry.outcome, "refused: the agent is locked");
        assert_eq!(entry.key, "test key");
    }

    #[tokio::test]
    async fn a_request_for_a_key_the_agent_does_not_hold_is_recorded_by_fingerprint() {
        let agent = agent_with(Arc::new(Refuse));
        let stranger = generate(&KeySpec::default(), "t").unwrap();
        let mut conn = Connection::new(Some(std::process::id()));
        assert_eq!(agent.handle(&mut conn, &sign_request(&stranger)).await, failure());
        let entry = agent.activity().last().cloned().unwrap();
        assert_eq!(entry.outcome, "refused: the agent does not hold this key");
        assert_eq!(entry.fingerprint, keys::fingerprint(stranger.public_key().key_data(), FingerprintHash::Sha256));
    }

    #[tokio::test]
    async fn locking_from_the_app_removes_added_keys_and_unlocking_does_not_bring_them_back() {
        let f = fixture(Arc::new(Refuse), false).await;
        let mut conn = Connection::new(Some(std::process::id()));
        assert!(signs(&f, &mut conn).await);
        assert!(f.agent.lock_app());
        assert!(f.agent.identities().is_empty(), "an added key outlived the lock");
        assert!(f.agent.unlock_app());
        assert!(f.agent.identities().is_empty());
        assert!(!signs(&f, &mut conn).await);
    }

    #[tokio::test]
    async fn a_store_key_unlocked_on_demand_is_forgotten_when_its_lifetime_ends() {
        use crate::secrets::MemorySecrets;
        use crate::store::{KeyName, NewKey};
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(KeyStore::open(dir.path().join("home"), Arc::new(MemorySecrets::default())));
        let saved = store
            .generate(NewKey {
                name: KeyName::parse("brief").unwrap(),
                spec: KeySpec::default(),
                comment: None,
                passphrase: None,
                rounds: 2,
                remember: false,
            })
            .unwrap();
        store.set_policy("brief", KeyPolicy { lifetime_minutes: Some(1), ..KeyPolicy::default() }).unwrap();
        let agent = Agent::new(
            Some(store.clone()),
            Arc::new(Refuse),
            Arc::new(Refuse),
            Arc::new(NoObserver),
            AgentOptions::default(),
        );
        let view = |agent: &Agent| agent.identities().into_iter().find(|i| i.name == "brief").unwrap();
        assert!(!view(&agent).unlocked, "store keys are offered, not decrypted, until used");

        let key = store.unlock("brief", None).unwrap();
        assert_eq!(key.fingerprint(ssh_key::HashAlg::Sha256).to_string(), saved.key.fingerprint_sha256);
        let mut conn = Connection::new(Some(std::process::id()));
        assert_eq!(agent.handle(&mut conn, &sign_request(&key)).await[0], wire::SSH2_AGENT_SIGN_RESPONSE);
        let unlocked = view(&agent);
        assert!(unlocked.unlocked);
        assert!(unlocked.expires_in_secs.is_some_and(|s| s > 0 && s <= 60), "{unlocked:?}");

        // The minute is up (moved to now rather than waited for).
        agent.state().identities.iter_mut().for_each(|i| i.expires = i.expires.map(|_| Instant::now()));
        agent.tick();
        let expired = view(&agent);
        assert!(!expired.unlocked && expired.expires_in_secs.is_none(), "{expired:?}");
        // Still offered, and unlocks again on the next use.
        assert_eq!(agent.handle(&mut conn, &sign_request(&key)).await[0], wire::SSH2_AGENT_SIGN_RESPONSE);
        assert!(view(&agent).unlocked);
    }
}
