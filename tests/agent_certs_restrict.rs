//! Certificates (added with their key, listed with the certificate blob, used to log in to an
//! sshd that trusts the CA) and `ssh-add -h` destination constraints
//! (restrict-destination-v00@openssh.com), against real ssh, ssh-add and sshd.
#![allow(clippy::unwrap_used)]

mod support;

use support::clients::ssh_keygen_key;
use support::sshd::Sshd;
use support::{AgentProcess, Sandbox};

#[test]
fn a_certificate_is_added_with_its_key_listed_as_a_certificate_and_logs_in() {
    let sb = Sandbox::new();
    let agent = AgentProcess::start(&sb, &[]);
    let (ca, ca_pub) = ssh_keygen_key(&sb, "ca", "ed25519", None);
    let (user, user_pub) = ssh_keygen_key(&sb, "user", "ed25519", None);
    // "Valid forever" (no -V): OpenSSH encodes it as 2^64-1, which ssh-key 0.6 alone refuses.
    sb.tool(
        "ssh-keygen",
        &["-q", "-s", ca.to_str().unwrap(), "-I", "test-user", "-n", "root", user_pub.to_str().unwrap()],
    )
    .success();
    // ssh-keygen writes the certificate beside the .pub; ssh-add looks for it beside the key.
    let cert = sb.path("private/user-cert.pub");
    std::fs::rename(sb.path("pubs/user-cert.pub"), &cert).unwrap();
    // ssh-add picks up user-cert.pub beside the key and adds both.
    let added = sb.tool_agent(&agent, "ssh-add", &[user.to_str().unwrap()], "").success();
    assert!(added.stderr.contains("Certificate added"), "{}", added.stderr);
    let listed = sb.tool_agent(&agent, "ssh-add", &["-L"], "").success();
    let cert_line = std::fs::read_to_string(&cert).unwrap();
    let cert_blob = cert_line.split_whitespace().nth(1).unwrap();
    assert!(
        listed.stdout.lines().any(|l| l.split_whitespace().nth(1) == Some(cert_blob)),
        "the certificate blob is listed as sent: {}",
        listed.stdout
    );
    let fingerprints = sb.tool_agent(&agent, "ssh-add", &["-l"], "").success();
    assert!(fingerprints.stdout.contains("ED25519-CERT"), "{}", fingerprints.stdout);

    // sshd trusts the CA, not the key: only the certificate can log in. The private key file is
    // gone, so the signature comes from the agent.
    let sshd = Sshd::start(&sb, "sshd", &[&format!("TrustedUserCAKeys {}", ca_pub.display())]);
    std::fs::remove_file(&user).unwrap();
    let login = sshd.ssh_as(&sb, &agent.socket, &cert, &[], "true");
    assert!(login.ok(), "certificate login failed:\n{}\nsshd:\n{}", login.stderr, sshd.log());
    assert!(sshd.log().contains("Accepted publickey") && sshd.log().contains("ID test-user"), "{}", sshd.log());
}

/// `ssh-add -h` restricts a key to the listed hosts: usable at A, refused at B (another sshd
/// with another host key), withheld from listings bound to B.
#[test]
fn ssh_add_destination_constraints_are_enforced_per_host() {
    let sb = Sandbox::new();
    let agent = AgentProcess::start(&sb, &[]);
    let a = Sshd::start(&sb, "host-a", &[]);
    let b = Sshd::start(&sb, "host-b", &[]);
    let known_hosts = sb.path("known_hosts_both");
    std::fs::write(&known_hosts, format!("{}\n{}\n", a.known_hosts_line(), b.known_hosts_line())).unwrap();
    let (key, key_pub) = ssh_keygen_key(&sb, "restricted", "ed25519", None);
    let line = std::fs::read_to_string(&key_pub).unwrap();
    a.authorize(&[&line]);
    b.authorize(&[&line]);
    // ssh-add looks the host's keys up in the known_hosts file given with -H.
    let host_a = format!("[127.0.0.1]:{}", a.port);
    sb.tool_agent(&agent, "ssh-add", &["-H", known_hosts.to_str().unwrap(), "-h", &host_a, key.to_str().unwrap()], "")
        .success();
    std::fs::remove_file(&key).unwrap();

    let at_a = a.ssh_with_known_hosts(&sb, &agent.socket, &known_hosts, &["-o", "IdentitiesOnly=no"], "true");
    assert!(at_a.ok(), "the key must work at A:\n{}\n{}", at_a.stderr, a.log());
    let at_b = b.ssh_with_known_hosts(&sb, &agent.socket, &known_hosts, &["-o", "IdentitiesOnly=no"], "true");
    assert!(!at_b.ok(), "the key must not work at B:\n{}", at_b.stderr);
    assert!(!b.log().contains("Accepted publickey"), "{}", b.log());
    // Bound to B, the agent does not even offer it.
    assert!(!at_b.stderr.contains("Offering public key"), "{}", at_b.stderr);
}
