//! restrict-destination-v00@openssh.com: keys added with `ssh-add -h` may only be used along the
//! hops the user listed (OpenSSH PROTOCOL.agent section 2, and ssh-agent.c's
//! identity_permitted / permitted_by_dest_constraints, whose rules this follows).

use ssh_agent_lib::proto::extension::{DestinationConstraint, HostTuple};
use ssh_key::public::KeyData;

use super::hosts::glob;
use super::session_bind::Bind;

/// Whether `key` is one of the hop's keys (certificate authorities are not supported: a hop
/// given only by a CA matches nothing, the safe direction).
fn key_in_hop(key: &KeyData, hop: &HostTuple) -> bool {
    hop.keys.iter().any(|spec| !spec.is_ca && spec.keyblob == *key)
}

/// permitted_by_dest_constraints: may the key be used from `from` (None: this machine) to `to`
/// (None: any next hop) by `user`?
fn permitted_hop(
    constraints: &[DestinationConstraint],
    from: Option<&KeyData>,
    to: Option<&KeyData>,
    user: Option<&str>,
) -> bool {
    constraints.iter().any(|c| {
        let from_ok = match from {
            None => c.from.hostname.is_empty() && c.from.keys.is_empty(),
            Some(key) => key_in_hop(key, &c.from),
        };
        let to_ok = to.is_none_or(|key| key_in_hop(key, &c.to));
        let user_ok = match user {
            Some(u) if !c.to.username.is_empty() => glob(&c.to.username, u),
            _ => true,
        };
        from_ok && to_ok && user_ok
    })
}

/// identity_permitted: may a key with these constraints be listed (`user` = None) or used to sign
/// for `user` on a connection with these binds?
pub fn permitted(constraints: &[DestinationConstraint], binds: &[Bind], user: Option<&str>) -> bool {
    if constraints.is_empty() {
        return true;
    }
    if binds.is_empty() {
        // Local use (ssh-add -l, a client that does not bind): permitted, as in OpenSSH.
        return true;
    }
    let mut from: Option<&KeyData> = None;
    for (i, hop) in binds.iter().enumerate() {
        let last = i + 1 == binds.len();
        // A key may not authenticate *over* a host the connection is being forwarded through.
        if hop.forwarded && user.is_some() && last {
            return false;
        }
        if !permitted_hop(constraints, from, Some(&hop.host_key), if last { user } else { None }) {
            return false;
        }
        from = Some(&hop.host_key);
    }
    // Listing over a forwarded connection: only keys usable beyond the forwarding host.
    if let Some(last) = binds.last()
        && last.forwarded
        && user.is_none()
        && !permitted_hop(constraints, Some(&last.host_key), None, None)
    {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssh_agent_lib::proto::extension::KeySpec as HopKey;

    fn key() -> KeyData {
        crate::keys::generate(&crate::keys::KeySpec::default(), "").unwrap().public_key().key_data().clone()
    }

    fn hop(name: &str, keys: &[&KeyData], user: &str) -> HostTuple {
        HostTuple {
            username: user.into(),
            hostname: name.into(),
            keys: keys.iter().map(|k| HopKey { keyblob: (*k).clone(), is_ca: false }).collect(),
        }
    }

    fn bind(key: &KeyData, forwarded: bool) -> Bind {
        Bind { host_key: key.clone(), session_id: vec![1], forwarded }
    }

    #[test]
    fn a_key_for_host_a_is_usable_at_a_and_not_at_b() {
        let (a, b) = (key(), key());
        let only_a = vec![DestinationConstraint { from: hop("", &[], ""), to: hop("a", &[&a], "") }];
        assert!(permitted(&only_a, &[], None), "local listing");
        assert!(permitted(&only_a, &[bind(&a, false)], Some("root")));
        assert!(!permitted(&only_a, &[bind(&b, false)], Some("root")));
        assert!(!permitted(&only_a, &[bind(&b, false)], None));
        // Through A to B needs a second constraint.
        assert!(!permitted(&only_a, &[bind(&a, true), bind(&b, false)], Some("root")));
        let mut a_then_b = only_a.clone();
        a_then_b.push(DestinationConstraint { from: hop("a", &[&a], ""), to: hop("b", &[&b], "") });
        assert!(permitted(&a_then_b, &[bind(&a, true), bind(&b, false)], Some("root")));
    }

    #[test]
    fn usernames_are_matched_on_the_last_hop() {
        let a = key();
        let c = vec![DestinationConstraint { from: hop("", &[], ""), to: hop("a", &[&a], "git") }];
        assert!(permitted(&c, &[bind(&a, false)], Some("git")));
        assert!(!permitted(&c, &[bind(&a, false)], Some("root")));
    }
}
