//! REQUEST_IDENTITIES and SIGN: the hot path, with policy checks, prompts and unlocking on demand.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;

impl Agent {
    pub(super) fn identities_answer(&self, conn: &mut Connection) -> Vec<u8> {
        let destination = self.destination(conn);
        let state = self.housekept_state(StoreLook::Now);
        let mut out = vec![wire::SSH2_AGENT_IDENTITIES_ANSWER];
        if !matches!(state.lock, LockState::Unlocked) {
            wire::put_u32(&mut out, 0);
            return out;
        }
        let mut listed = Vec::new();
        let mut withheld = 0;
        for id in &state.identities {
            if self.permitted(id, conn, destination.as_ref(), None) {
                listed.push(id);
            } else {
                withheld += 1;
            }
        }
        wire::put_u32(&mut out, listed.len() as u32);
        for id in listed {
            wire::put_string(&mut out, &id.blob);
            wire::put_string(&mut out, id.comment.as_bytes());
        }
        if withheld > 0 && conn.binds.is_empty() && !conn.warned_unbound {
            conn.warned_unbound = true;
            log(format_args!(
                "a client listed keys without binding its session (old OpenSSH or another client): {withheld} host-restricted key(s) withheld"
            ));
        }
        out
    }

    pub(super) async fn sign(&self, conn: &mut Connection, contents: &[u8]) -> Vec<u8> {
        let Some(request) = wire::parse_sign(contents) else {
            log(format_args!("malformed sign request"));
            return failure();
        };
        let destination = self.destination(conn);
        let host_label = destination.as_ref().map(KnownHost::label);
        let userauth = session_bind::parse_userauth(request.data);

        // Find the identity and decide, under the lock; sign outside it.
        let (signer, name, fingerprint, needs_approval, store_name, lifetime) = {
            let mut state = self.housekept_state(StoreLook::IfStale);
            if !state.identities.iter().any(|i| i.blob == request.key_blob) {
                // Perhaps a key added to the store since the last look.
                drop(state);
                state = self.housekept_state(StoreLook::Now);
            }
            let found = state.identities.iter().position(|i| i.blob == request.key_blob);
            if !matches!(state.lock, LockState::Unlocked) {
                let (name, fingerprint) = found
                    .map(|i| &state.identities[i])
                    .map_or_else(|| unknown_key(request.key_blob), |i| (i.name(), i.fingerprint.clone()));
                drop(state);
                log(format_args!("sign request refused: the agent is locked"));
                self.record(&name, &fingerprint, conn, host_label, "refused: the agent is locked");
                return failure();
            }
            state.last_use = Instant::now();
            let Some(id) = found.map(|i| &state.identities[i]) else {
                drop(state);
                let (name, fingerprint) = unknown_key(request.key_blob);
                log(format_args!("sign request for a key the agent does not hold ({fingerprint})"));
                self.record(&name, &fingerprint, conn, host_label, "refused: the agent does not hold this key");
                return failure();
            };
            let name = id.name();
            let fingerprint = id.fingerprint.clone();
            let user = userauth.as_ref().map(|u| String::from_utf8_lossy(u.user).into_owned());
            let restricted = !id.destinations.is_empty() || !id.policy.hosts.is_empty();
            let mut refusal = None;
            if restricted {
                // A restricted key signs only userauth requests for the session it was bound to.
                match (&userauth, conn.binds.last()) {
                    (Some(ua), Some(last)) if ua.session_id == last.session_id.as_slice() => {
                        if let Some(hk) = ua.host_key
                            && hk != keys::blob(&last.host_key).as_slice()
                        {
                            refusal = Some("the request's host key differs from the bound one");
                        }
                    }
                    (_, None) => refusal = Some("the client did not bind the session to a host"),
                    _ => refusal = Some("not a login to the bound host"),
                }
            }
            if refusal.is_none() && !self.permitted(id, conn, destination.as_ref(), user.as_deref()) {
                refusal = Some("not permitted for this host");
            }
            if let Some(why) = refusal {
                drop(state);
                log(format_args!("refused to sign with {name}: {why}"));
                self.record(&name, &fingerprint, conn, host_label, &format!("refused: {why}"));
                return failure();
            }
            let forwarded = conn.forwarded();
            let reason = if id.confirm {
                Some(ApprovalReason::Confirm)
            } else if forwarded && id.policy.forwarding == ForwardingPolicy::Ask {
                Some(ApprovalReason::Forwarded)
            } else {
                None
            };
            let origin = conn.process().origin();
            let granted = origin
                .as_ref()
                .is_some_and(|o| state.grants.iter().any(|g| g.fingerprint == fingerprint && g.origin == *o));
            // A standing grant covers local requests only: forwarded ones always ask.
            let needs = reason.filter(|_| !granted || forwarded);
            let store_name = match &id.origin {
                Origin::Store { name } => Some(name.clone()),
                Origin::Added => None,
            };
            let lifetime = id.policy.lifetime_minutes.map(|m| Duration::from_secs(u64::from(m) * 60));
            (id.signer.clone(), name, fingerprint, needs, store_name, lifetime)
        };

        if let Some(reason) = needs_approval {
            let process = conn.process().clone();
            let origin = process.origin();
            let request = ApprovalRequest {
                key_name: name.clone(),
                fingerprint: fingerprint.clone(),
                process,
                destination: host_label.clone(),
                forwarded: conn.forwarded(),
                reason,
            };
            let Ok(decision) = tokio::time::timeout(PROMPT_TIMEOUT, self.shared.approver.approve(request)).await else {
                log(format_args!("nobody answered the prompt for {name} in {} s: denied", PROMPT_TIMEOUT.as_secs()));
                self.record(&name, &fingerprint, conn, host_label, "denied: no answer in time");
                return failure();
            };
            let until = match decision {
                Decision::Deny => {
                    log(format_args!("the user denied a signature with {name}"));
                    self.record(&name, &fingerprint, conn, host_label, "denied");
                    return failure();
                }
                Decision::AllowOnce => None,
                Decision::AllowApplication { minutes } => {
                    Some(Some(Instant::now() + Duration::from_secs(u64::from(minutes.clamp(1, 24 * 60)) * 60)))
                }
                Decision::AllowUntilLock => Some(None),
            };
            if let (Some(until), Some(origin)) = (until, origin) {
                self.state().grants.push(Grant { fingerprint: fingerprint.clone(), origin, until });
            }
        }

        let signer = match signer {
            Some(s) => s,
            None => match store_name {
                Some(store_name) => match self.unlock_store_key(conn, &store_name, &fingerprint, &host_label).await {
                    Some(s) => {
                        let mut state = self.state();
                        if let Some(id) = state.identities.iter_mut().find(|i| i.blob == request.key_blob) {
                            id.signer = Some(s.clone());
                            id.expires = lifetime.or(self.shared.options.default_lifetime).map(|l| Instant::now() + l);
                        }
                        drop(state);
                        self.shared.observer.state_changed();
                        s
                    }
                    None => {
                        self.record(
                            &name,
                            &fingerprint,
                            conn,
                            host_label,
                            "refused: the key is encrypted and was not unlocked",
                        );
                        return failure();
                    }
                },
                None => return failure(),
            },
        };
        match signer.sign(request.data, request.flags) {
            Ok(signature) => {
                self.record(&name, &fingerprint, conn, host_label, "signed");
                let mut out = Vec::with_capacity(signature.len() + 5);
                out.push(wire::SSH2_AGENT_SIGN_RESPONSE);
                wire::put_string(&mut out, &signature);
                out
            }
            Err(e) => {
                log(format_args!("signing with {name} failed: {e}"));
                self.record(&name, &fingerprint, conn, host_label, "failed: the signature could not be made");
                failure()
            }
        }
    }

    /// Decrypt a store key: the remembered passphrase, else ask (three tries), else refuse.
    async fn unlock_store_key(
        &self,
        conn: &mut Connection,
        name: &str,
        fingerprint: &str,
        destination: &Option<String>,
    ) -> Option<Arc<Signer>> {
        let store = self.shared.store.clone()?;
        let from_keyring = {
            let (store, name) = (store.clone(), name.to_owned());
            tokio::task::spawn_blocking(move || store.unlock(&name, None)).await.ok()?
        };
        let key = match from_keyring {
            Ok(key) => Some(key),
            Err(e) if e.asks_for_passphrase() => {
                if e.code() == "remembered_passphrase_unavailable" {
                    log(format_args!("{e}"));
                }
                let mut key = None;
                for attempt in 0..3 {
                    let request = UnlockRequest {
                        key_name: name.to_owned(),
                        fingerprint: fingerprint.to_owned(),
                        process: conn.process().clone(),
                        destination: destination.clone(),
                        retry: attempt > 0,
                    };
                    let Some(passphrase) =
                        tokio::time::timeout(PROMPT_TIMEOUT, self.shared.unlocker.passphrase(request))
                            .await
                            .ok()
                            .flatten()
                    else {
                        log(format_args!(
                            "key {name} is encrypted and nobody could be asked for its passphrase: run `latchkey key unlock {name}`"
                        ));
                        break;
                    };
                    let (store, owned) = (store.clone(), name.to_owned());
                    match tokio::task::spawn_blocking(move || store.unlock(&owned, Some(&passphrase))).await {
                        Ok(Ok(k)) => {
                            key = Some(k);
                            break;
                        }
                        Ok(Err(e)) if e.code() == "wrong_passphrase" => continue,
                        Ok(Err(e)) => {
                            log(format_args!("cannot unlock {name}: {e}"));
                            break;
                        }
                        Err(_) => break,
                    }
                }
                key
            }
            Err(e) => {
                log(format_args!("cannot unlock {name}: {e}"));
                None
            }
        }?;
        match Signer::new(key.key_data()) {
            Ok(s) => Some(Arc::new(s)),
            Err(e) => {
                log(format_args!("cannot load {name} for signing: {e}"));
                None
            }
        }
    }
}

/// How the activity log names a key the agent does not hold: its fingerprint, if the blob is a key.
fn unknown_key(blob: &[u8]) -> (String, String) {
    match KeyData::decode(&mut &blob[..]) {
        Ok(key) => ("an unknown key".into(), keys::fingerprint(&key, FingerprintHash::Sha256)),
        Err(_) => ("an unknown key".into(), String::new()),
    }
}
