//! The messages that change the agent: ADD_IDENTITY (and constrained), REMOVE, REMOVE_ALL,
//! LOCK, UNLOCK and EXTENSION (query, session-bind).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;

impl Agent {
    pub(super) fn add(&self, message: &[u8]) -> Vec<u8> {
        // A certificate valid forever, decoded with clamped times: the one to list is as sent.
        let mut sent_certificate = None;
        let request = match Request::decode(&mut &message[..]) {
            Ok(r) => r,
            Err(first) => {
                // ssh-add sends short ECDSA scalars, and OpenSSH certificates "valid forever",
                // both of which ssh-key 0.6 rejects: rewrite and retry.
                let (kind, contents) = (message[0], &message[1..]);
                let retry = |body: &[u8]| {
                    let mut again = Zeroizing::new(vec![kind]);
                    again.extend_from_slice(body);
                    Request::decode(&mut &again[..]).ok()
                };
                let widened = wire::widen_ecdsa_scalar(contents).and_then(|w| retry(&w));
                let clamped = || {
                    let (body, certificate) = wire::clamp_cert_validity(contents)?;
                    let request = retry(&body)?;
                    sent_certificate = Some(certificate.to_vec());
                    Some(request)
                };
                match widened.or_else(clamped) {
                    Some(r) => r,
                    None => {
                        log(format_args!("malformed add-identity request: {first}"));
                        return failure();
                    }
                }
            }
        };
        let (identity, constraints) = match request {
            Request::AddIdentity(add) => (add, Vec::new()),
            Request::AddIdConstrained(add) => (add.identity, add.constraints),
            _ => return failure(),
        };
        let mut confirm = false;
        let mut lifetime = self.shared.options.default_lifetime;
        let mut destinations = Vec::new();
        for c in constraints {
            match c {
                KeyConstraint::Lifetime(secs) => lifetime = Some(Duration::from_secs(u64::from(secs))),
                KeyConstraint::Confirm => confirm = true,
                KeyConstraint::Extension(ext) => match ext.parse_key_constraint::<RestrictDestination>() {
                    Ok(Some(restrict)) => destinations.extend(restrict.constraints),
                    _ => {
                        log(format_args!("refused a key with the unknown constraint {:?}", ext.name));
                        return failure();
                    }
                },
            }
        }
        let (keypair, blob, comment) = match identity.credential {
            PrivateCredential::Key { privkey, comment } => {
                let Ok(public) = KeyData::try_from(&privkey) else { return failure() };
                (privkey, keys::blob(&public), comment)
            }
            PrivateCredential::Cert { certificate, privkey, comment, .. } => {
                let Some(pair) = keypair_from_cert(certificate.public_key(), privkey) else {
                    log(format_args!("refused a certificate whose key does not match its private half"));
                    return failure();
                };
                let blob = match sent_certificate {
                    Some(sent) => sent,
                    None => {
                        let mut blob = Vec::new();
                        if certificate.encode(&mut blob).is_err() {
                            return failure();
                        }
                        blob
                    }
                };
                (pair, blob, comment)
            }
        };
        let signer = match Signer::new(&keypair) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                log(format_args!("refused to add a key: {e}"));
                return failure();
            }
        };
        let Ok(public) = KeyData::try_from(&keypair) else { return failure() };
        let mut private = Zeroizing::new(Vec::new());
        if keypair.encode(&mut *private).is_err() {
            return failure();
        }
        let stamp = self.look_at_store(StoreLook::Now);
        let mut state = self.state();
        if !matches!(state.lock, LockState::Unlocked) {
            return failure();
        }
        let _ = self.refresh_store(&mut state, stamp);
        let expires = lifetime.map(|l| Instant::now() + l);
        if let Some(id) =
            state.identities.iter_mut().find(|i| i.blob == blob && matches!(i.origin, Origin::Store { .. }))
        {
            // `latchkey key unlock NAME` (or ssh-add of the same file): the store key is now
            // unlocked, keeping its policy.
            id.signer = Some(signer);
            id.expires = expires.or_else(|| {
                id.policy.lifetime_minutes.map(|m| Instant::now() + Duration::from_secs(u64::from(m) * 60))
            });
            id.confirm |= confirm;
        } else {
            state.identities.retain(|i| i.blob != blob);
            state.identities.push(Identity {
                fingerprint: keys::fingerprint(&public, FingerprintHash::Sha256),
                blob,
                public,
                comment,
                origin: Origin::Added,
                signer: Some(signer),
                private: Some(private),
                sealed: None,
                expires,
                confirm,
                destinations,
                policy: KeyPolicy::default(),
            });
        }
        drop(state);
        self.shared.observer.state_changed();
        success()
    }

    pub(super) fn remove(&self, contents: &[u8]) -> Vec<u8> {
        let mut r = Reader(contents);
        let Some(blob) = r.string().filter(|_| r.is_empty()) else { return failure() };
        let mut state = self.state();
        if !matches!(state.lock, LockState::Unlocked) {
            return failure();
        }
        let Some(index) = state.identities.iter().position(|i| i.blob == blob) else { return failure() };
        match state.identities[index].origin {
            Origin::Added => {
                state.identities.remove(index);
            }
            // A store key stays in the store; removing it from the agent wipes its decrypted form.
            Origin::Store { .. } => state.identities[index].forget(),
        }
        drop(state);
        self.shared.observer.state_changed();
        success()
    }

    pub(super) fn remove_all(&self) -> Vec<u8> {
        let mut state = self.state();
        if !matches!(state.lock, LockState::Unlocked) {
            return failure();
        }
        state.identities.retain(|i| matches!(i.origin, Origin::Store { .. }));
        for id in &mut state.identities {
            id.forget();
        }
        drop(state);
        self.shared.observer.state_changed();
        success()
    }

    fn password(contents: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let mut r = Reader(contents);
        let password = r.string()?;
        r.is_empty().then(|| Zeroizing::new(password.to_vec()))
    }

    pub(super) fn lock(&self, contents: &[u8]) -> Vec<u8> {
        let Some(password) = Self::password(contents) else { return failure() };
        // Argon2 (tens of milliseconds) runs before the state lock is taken: other clients are
        // served meanwhile.
        let Some((locked, seal)) = Locked::new(&password) else { return failure() };
        let mut state = self.state();
        if !matches!(state.lock, LockState::Unlocked) {
            return failure();
        }
        for id in &mut state.identities {
            id.forget();
            if let Some(private) = id.private.take() {
                id.sealed = seal.seal(&private);
            }
        }
        state.grants.clear();
        state.lock = LockState::Password(locked);
        drop(state);
        log(format_args!("locked"));
        self.shared.observer.state_changed();
        success()
    }

    pub(super) async fn unlock(&self, contents: &[u8]) -> Vec<u8> {
        let Some(password) = Self::password(contents) else { return failure() };
        // One attempt at a time, each after the back-off its predecessors earned: guesses on
        // many connections at once are no faster than one after the other.
        let _attempt = self.shared.unlock_attempt.lock().await;
        let failures = self.state().unlock_failures;
        if failures > 0 {
            tokio::time::sleep(lock::unlock_delay(failures)).await;
        }
        let locked = match &self.state().lock {
            LockState::Password(locked) => locked.clone(),
            _ => return failure(),
        };
        // Argon2 outside the state lock.
        let Some(seal) = locked.open(&password) else {
            self.state().unlock_failures += 1;
            log(format_args!("wrong unlock password"));
            return failure();
        };
        let mut state = self.state();
        if !matches!(&state.lock, LockState::Password(current) if current.is(&locked)) {
            return failure();
        }
        for id in &mut state.identities {
            let Some(sealed) = id.sealed.take() else { continue };
            let Some(private) = seal.open(&sealed) else { continue };
            if let Ok(pair) = KeypairData::decode(&mut &private[..]) {
                id.signer = Signer::new(&pair).ok().map(Arc::new);
            }
            id.private = Some(private);
        }
        state.lock = LockState::Unlocked;
        state.unlock_failures = 0;
        drop(state);
        log(format_args!("unlocked"));
        self.shared.observer.state_changed();
        success()
    }

    pub(super) fn extension(&self, conn: &mut Connection, contents: &[u8]) -> Vec<u8> {
        if !matches!(self.state().lock, LockState::Unlocked) {
            // A locked agent answers UNLOCK only (ssh goes on without binding its session).
            return failure();
        }
        let mut r = Reader(contents);
        let Some(name) = r.string() else { return failure() };
        match name {
            b"query" => {
                let reply = QueryResponse { extensions: vec!["query".into(), "session-bind@openssh.com".into()] };
                let mut out = Vec::new();
                match Extension::new_message(reply).map(Response::ExtensionResponse) {
                    Ok(response) if response.encode(&mut out).is_ok() => out,
                    _ => failure(),
                }
            }
            b"session-bind@openssh.com" => match session_bind::bind(r.0, &mut conn.binds) {
                Ok(()) => success(),
                Err(e) => {
                    conn.bind_failed = true;
                    log(format_args!("session-bind refused: {e}"));
                    failure()
                }
            },
            other => {
                log(format_args!("refused the unknown extension {:?}", String::from_utf8_lossy(other)));
                failure()
            }
        }
    }
}

/// The keypair of a certificate identity from the certificate's public key and the private half.
fn keypair_from_cert(public: &KeyData, private: PrivateKeyData) -> Option<KeypairData> {
    match (public, private) {
        (KeyData::Ed25519(_), PrivateKeyData::Ed25519(pair)) => {
            Some(KeypairData::Ed25519(Ed25519Keypair { public: pair.public, private: pair.private }))
        }
        (KeyData::Ecdsa(public), PrivateKeyData::Ecdsa(private)) => {
            use ssh_agent_lib::proto::EcdsaPrivateKey as Private;
            use ssh_key::public::EcdsaPublicKey as Public;
            let pair = match (public, private) {
                (Public::NistP256(p), Private::NistP256(k)) => EcdsaKeypair::NistP256 { public: *p, private: k },
                (Public::NistP384(p), Private::NistP384(k)) => EcdsaKeypair::NistP384 { public: *p, private: k },
                (Public::NistP521(p), Private::NistP521(k)) => EcdsaKeypair::NistP521 { public: *p, private: k },
                _ => return None,
            };
            Some(KeypairData::Ecdsa(pair))
        }
        (KeyData::Rsa(public), PrivateKeyData::Rsa(private)) => {
            Some(KeypairData::Rsa(RsaKeypair { public: public.clone(), private }))
        }
        _ => None,
    }
}
