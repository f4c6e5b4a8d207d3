//! The key store through the `latchkey key ...` command line, checked with real OpenSSH and
//! PuTTY tools.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use support::{Sandbox, mode};

fn json_list(sb: &Sandbox) -> Vec<serde_json::Value> {
    let out = sb.latchkey(&["key", "list", "--json"], "").success();
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn new_key_is_listed_shown_and_opens_in_ssh_keygen() {
    let sb = Sandbox::new();
    sb.latchkey(&["key", "new", "work", "-C", "me@work", "--passphrase-stdin"], "work pass\n").success();
    let list = json_list(&sb);
    assert_eq!(list.len(), 1);
    let key = &list[0];
    assert_eq!(key["name"], "work");
    assert_eq!(key["key_type"], "ED25519");
    assert_eq!(key["encrypted"], true);
    assert_eq!(key["kdf_rounds"], 16);
    assert_eq!(key["origin"], "generated");
    let path = key["path"].as_str().unwrap().to_owned();
    assert!(path.starts_with(sb.latchkey_home().to_str().unwrap()), "{path}");
    assert_eq!(mode(std::path::Path::new(&path)), 0o600);
    assert_eq!(mode(&sb.latchkey_home().join("keys")), 0o700);

    let theirs = sb.tool("ssh-keygen", &["-l", "-f", &path]).success();
    assert!(theirs.stdout.contains(key["fingerprint_sha256"].as_str().unwrap()), "{}", theirs.stdout);
    sb.tool("ssh-keygen", &["-y", "-P", "work pass", "-f", &path]).success();

    let show = sb.latchkey(&["key", "show", "work"], "").success();
    let lv = sb.tool("ssh-keygen", &["-lv", "-f", &format!("{path}.pub")]).success();
    let art: String = lv.stdout.lines().skip(1).map(|l| format!("{l}\n")).collect();
    assert!(show.stdout.contains(&art), "show:\n{}\nexpected randomart:\n{art}", show.stdout);
    let md5 = sb.tool("ssh-keygen", &["-l", "-E", "md5", "-f", &path]).success();
    let md5 = md5.stdout.split_whitespace().nth(1).unwrap().to_owned();
    assert!(show.stdout.contains(&md5));

    let rfc = sb.latchkey(&["key", "export", "work", "--format", "rfc4716"], "").success();
    let theirs = sb.tool("ssh-keygen", &["-e", "-f", &format!("{path}.pub")]).success();
    assert_eq!(rfc.stdout, theirs.stdout);
}

#[test]
fn rsa_and_strong_kdf_are_readable_by_openssh() {
    let sb = Sandbox::new();
    sb.latchkey(&["key", "new", "big", "-t", "rsa", "-b", "3072", "--strong", "--passphrase-stdin"], "strong pass\n")
        .success();
    let key = &json_list(&sb)[0];
    assert_eq!(key["bits"], 3072);
    let rounds = key["kdf_rounds"].as_u64().unwrap();
    assert!(rounds > 16, "strong means more rounds than ssh-keygen's 16, got {rounds}");
    sb.tool("ssh-keygen", &["-y", "-P", "strong pass", "-f", key["path"].as_str().unwrap()]).success();
}

#[test]
fn import_of_an_ssh_keygen_pem_key_keeps_its_passphrase_and_the_original_untouched() {
    let sb = Sandbox::new();
    sb.tool("ssh-keygen", &["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "pem pass", "-f", "legacy.pem"])
        .success();
    let original = std::fs::read(sb.path("legacy.pem")).unwrap();
    sb.latchkey(&["key", "import", "legacy.pem", "--name", "legacy", "--passphrase-stdin"], "pem pass\n").success();
    let list = json_list(&sb);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "legacy");
    assert_eq!(list[0]["origin"], "imported");
    assert_eq!(list[0]["encrypted"], true);
    sb.tool("ssh-keygen", &["-y", "-P", "pem pass", "-f", list[0]["path"].as_str().unwrap()]).success();
    assert_eq!(std::fs::read(sb.path("legacy.pem")).unwrap(), original, "import must never modify the source file");
}

/// Every key type PuTTY makes, in each .ppk flavour (v3 with Argon2, v2, unencrypted), written by
/// the real puttygen, imports and then opens in ssh-keygen as the same key. One key per type is
/// generated and converted by puttygen, so the public half must be equal across the flavours.
#[test]
fn puttygen_keys_of_every_type_and_ppk_format_import_and_open_in_ssh_keygen() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("ppk.pass"), "ppk pass\n").unwrap();
    std::fs::write(sb.path("empty.pass"), "").unwrap();
    let types: &[(&str, &[&str])] = &[("ed25519", &[]), ("ecdsa", &["-b", "256"]), ("rsa", &["-b", "2048"])];
    // (file suffix, puttygen conversion arguments, header, format Latchkey reports)
    let formats: &[(&str, &[&str], &str, &str)] = &[
        ("v3", &[], "PuTTY-User-Key-File-3:", "PuTTY .ppk v3"),
        (
            "v2",
            &["--new-passphrase", "ppk.pass", "--ppk-param", "version=2"],
            "PuTTY-User-Key-File-2:",
            "PuTTY .ppk v2",
        ),
        ("plain", &["--new-passphrase", "empty.pass"], "PuTTY-User-Key-File-3:", "PuTTY .ppk v3"),
    ];
    let mut imported = 0;
    for (t, size) in types {
        let v3 = format!("{t}-v3.ppk");
        let comment = format!("putty-{t}");
        let mut args = vec!["-q", "-t", t, "-C", &comment, "-o", &v3, "--new-passphrase", "ppk.pass"];
        args.extend(size.iter());
        sb.tool("puttygen", &args).success();
        let expected_public =
            sb.tool("puttygen", &["-O", "public-openssh", &v3, "--old-passphrase", "ppk.pass"]).success().stdout;
        let expected_public: Vec<&str> = expected_public.split_whitespace().collect();
        assert_eq!(expected_public.get(2), Some(&comment.as_str()));

        for (flavour, convert, header, reported) in formats {
            let file = format!("{t}-{flavour}.ppk");
            if !convert.is_empty() {
                // -P: change the passphrase (to the one in the file, maybe none), so that puttygen
                // sees something to do and writes the converted copy.
                let mut args = vec![&v3[..], "--old-passphrase", "ppk.pass", "-P", "-O", "private", "-o", &file];
                args.extend(convert.iter());
                sb.tool("puttygen", &args).success();
            }
            let text = std::fs::read_to_string(sb.path(&file)).unwrap();
            assert!(text.starts_with(header), "{file}: {text}");
            let encrypted = *flavour != "plain";
            assert_eq!(text.contains("Encryption: none"), !encrypted, "{file}: {text}");
            let theirs = if encrypted {
                sb.tool("puttygen", &["-l", "-E", "sha256", &file, "--old-passphrase", "ppk.pass"])
            } else {
                sb.tool("puttygen", &["-l", "-E", "sha256", &file])
            };
            let fingerprint = theirs.success().stdout.split_whitespace().nth(2).unwrap().to_owned();
            assert!(fingerprint.starts_with("SHA256:"), "{file}: {fingerprint}");

            // Encrypted files keep their passphrase; the unencrypted one gets a new one.
            let name = format!("{t}-{flavour}");
            let (stdin, passphrase) = if encrypted { ("ppk pass\n", "ppk pass") } else { ("chosen\n", "chosen") };
            let original = std::fs::read(sb.path(&file)).unwrap();
            let out = sb.latchkey(&["key", "import", &file, "--name", &name, "--passphrase-stdin"], stdin).success();
            assert!(out.stdout.contains(&format!("({reported})")), "{file}: {}", out.stdout);
            assert!(out.stdout.contains(&fingerprint), "{file}: {}", out.stdout);
            assert_eq!(std::fs::read(sb.path(&file)).unwrap(), original, "import must never modify {file}");
            imported += 1;

            let list = json_list(&sb);
            assert_eq!(list.len(), imported);
            let key = list.iter().find(|k| k["name"] == name.as_str()).unwrap();
            assert_eq!(key["origin"], "imported");
            assert_eq!(key["encrypted"], true, "{file}");
            assert_eq!(key["fingerprint_sha256"], fingerprint.as_str(), "{file}");
            assert_eq!(key["comment"], comment.as_str(), "{file}");
            let path = key["path"].as_str().unwrap();

            let opened = sb.tool("ssh-keygen", &["-y", "-P", passphrase, "-f", path]).success().stdout;
            let opened: Vec<&str> = opened.split_whitespace().collect();
            assert_eq!(opened, expected_public, "{file}: the key and its .ppk comment are kept");
            let listed = sb.tool("ssh-keygen", &["-l", "-f", path]).success().stdout;
            assert_eq!(listed.split_whitespace().nth(1), Some(fingerprint.as_str()), "{file}: {listed}");
            let wrong = sb.tool("ssh-keygen", &["-y", "-P", "not it", "-f", path]).failure();
            assert!(wrong.stderr.contains("incorrect passphrase"), "{file}: {}", wrong.stderr);
        }
    }
}

/// `--new-passphrase` replaces a .ppk's passphrase in the stored copy.
#[test]
fn a_puttygen_key_can_get_a_new_passphrase_on_import() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("ppk.pass"), "ppk pass\n").unwrap();
    sb.tool("puttygen", &["-q", "-t", "ed25519", "-C", "putty-key", "-o", "putty.ppk", "--new-passphrase", "ppk.pass"])
        .success();
    sb.latchkey(&["key", "import", "putty.ppk", "--new-passphrase", "--passphrase-stdin"], "ppk pass\nchosen pass\n")
        .success();
    let key = &json_list(&sb)[0];
    assert_eq!(key["name"], "putty");
    let path = key["path"].as_str().unwrap();
    let opened = sb.tool("ssh-keygen", &["-y", "-P", "chosen pass", "-f", path]).success();
    assert!(opened.stdout.trim_end().ends_with("putty-key"), "the .ppk comment is kept: {}", opened.stdout);
    sb.tool("ssh-keygen", &["-y", "-P", "ppk pass", "-f", path]).failure();
}

#[test]
fn an_unencrypted_import_needs_a_passphrase_or_explicit_consent() {
    let sb = Sandbox::new();
    sb.tool("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-f", "plain"]).success();
    let out = sb.latchkey(&["key", "import", "plain", "--passphrase-stdin"], "\n").failure();
    assert!(out.stderr.contains("--no-passphrase"), "{}", out.stderr);
    assert!(json_list(&sb).is_empty());
    sb.latchkey(&["key", "import", "plain", "--no-passphrase"], "").success();
    assert_eq!(json_list(&sb)[0]["encrypted"], false);
}

#[test]
fn registered_keys_stay_in_place_and_rm_never_deletes_them_unless_told() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path("home/.ssh")).unwrap();
    sb.tool("ssh-keygen", &["-q", "-t", "ed25519", "-N", "pw", "-C", "dotssh", "-f", "home/.ssh/id_ed25519"]).success();
    let out = sb.latchkey(&["key", "import", "home/.ssh/id_ed25519", "--in-place", "--name", "dotssh"], "").success();
    assert!(out.stdout.contains("in place"), "{}", out.stdout);
    let key = &json_list(&sb)[0];
    assert_eq!(key["origin"], "registered");
    assert_eq!(key["comment"], "dotssh", "the comment comes from the .pub of an encrypted key");

    let refused = sb.latchkey(&["key", "rm", "dotssh"], "").failure();
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    sb.latchkey(&["key", "rm", "dotssh", "--yes"], "").success();
    assert!(json_list(&sb).is_empty());
    assert!(sb.path("home/.ssh/id_ed25519").exists() && sb.path("home/.ssh/id_ed25519.pub").exists());

    sb.latchkey(&["key", "import", "home/.ssh/id_ed25519", "--in-place", "--name", "dotssh"], "").success();
    sb.latchkey(&["key", "rm", "dotssh", "--yes", "--delete-files"], "").success();
    assert!(!sb.path("home/.ssh/id_ed25519").exists());
}

#[test]
fn rm_deletes_the_files_of_generated_keys() {
    let sb = Sandbox::new();
    sb.latchkey(&["key", "new", "gone", "--no-passphrase"], "").success();
    let path = json_list(&sb)[0]["path"].as_str().unwrap().to_owned();
    assert!(std::path::Path::new(&path).exists());
    let out = sb.latchkey(&["key", "rm", "gone", "-y"], "").success();
    assert!(out.stdout.contains("Deleted"), "{}", out.stdout);
    assert!(!std::path::Path::new(&path).exists());
    assert!(!std::path::Path::new(&format!("{path}.pub")).exists());
}

#[test]
fn passwd_and_comment_through_the_store() {
    let sb = Sandbox::new();
    sb.latchkey(&["key", "new", "k", "-t", "ecdsa", "-b", "384", "--passphrase-stdin"], "one\n").success();
    let path = json_list(&sb)[0]["path"].as_str().unwrap().to_owned();
    sb.latchkey(&["key", "passwd", "k", "--passphrase-stdin"], "one\ntwo\n").success();
    sb.tool("ssh-keygen", &["-y", "-P", "two", "-f", &path]).success();
    sb.tool("ssh-keygen", &["-y", "-P", "one", "-f", &path]).failure();
    let wrong = sb.latchkey(&["key", "passwd", "k", "--passphrase-stdin"], "one\nthree\n").failure();
    assert!(wrong.stderr.contains("incorrect passphrase"), "{}", wrong.stderr);
    sb.tool("ssh-keygen", &["-y", "-P", "two", "-f", &path]).success();

    sb.latchkey(&["key", "comment", "k", "renamed comment", "--passphrase-stdin"], "two\n").success();
    let opened = sb.tool("ssh-keygen", &["-y", "-P", "two", "-f", &path]).success();
    assert!(opened.stdout.trim_end().ends_with("renamed comment"));
    assert_eq!(json_list(&sb)[0]["comment"], "renamed comment");

    sb.latchkey(&["key", "passwd", "k", "--remove", "--passphrase-stdin"], "two\n").success();
    sb.tool("ssh-keygen", &["-y", "-P", "", "-f", &path]).success();
    assert_eq!(json_list(&sb)[0]["encrypted"], false);
}

#[test]
fn private_export_is_a_protected_copy_and_never_overwrites() {
    let sb = Sandbox::new();
    sb.latchkey(&["key", "new", "k", "--passphrase-stdin"], "pw\n").success();
    sb.latchkey(&["key", "export", "k", "--format", "private", "-o", "copy"], "").success();
    assert_eq!(mode(&sb.path("copy")), 0o600);
    sb.tool("ssh-keygen", &["-y", "-P", "pw", "-f", "copy"]).success();
    let before = std::fs::read(sb.path("copy")).unwrap();
    sb.latchkey(&["key", "new", "other", "--no-passphrase"], "").success();
    let out = sb.latchkey(&["key", "export", "other", "--format", "private", "-o", "copy"], "").failure();
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert_eq!(std::fs::read(sb.path("copy")).unwrap(), before);
}
