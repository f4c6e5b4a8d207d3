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
