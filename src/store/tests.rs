use std::sync::Arc;

use super::*;
use crate::secrets::MemorySecrets;

fn store(secrets: MemorySecrets) -> (tempfile::TempDir, KeyStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::open(dir.path().join("home"), Arc::new(secrets));
    (dir, store)
}

fn new_key(name: &str, passphrase: Option<&str>, remember: bool) -> NewKey {
    NewKey {
        name: KeyName::parse(name).unwrap(),
        spec: KeySpec::default(),
        comment: Some("test@example".into()),
        passphrase: passphrase.map(Passphrase::new),
        rounds: 2,
        remember,
    }
}

#[test]
fn generated_key_is_listed_and_opens_only_with_its_passphrase() {
    let (_dir, store) = store(MemorySecrets::default());
    let saved = store.generate(new_key("work", Some("pw"), false)).unwrap();
    assert!(saved.warnings.is_empty());
    let list = store.list().unwrap();
    assert_eq!(list.len(), 1);
    let key = &list[0];
    assert_eq!((key.name.as_str(), key.key_type.as_str(), key.bits), ("work", "ED25519", 256));
    assert!(key.encrypted && !key.remembered && key.problem.is_none());
    assert_eq!(key.kdf_rounds, Some(2));
    assert_eq!(key.comment, "test@example");
    assert!(key.fingerprint_sha256.starts_with("SHA256:"));
    assert_eq!(store.unlock("work", None).unwrap_err().code(), "passphrase_required");
    assert_eq!(store.unlock("work", Some(&Passphrase::new("no"))).unwrap_err().code(), "wrong_passphrase");
    store.unlock("work", Some(&Passphrase::new("pw"))).unwrap();
}

#[test]
fn names_are_unique_and_nothing_is_left_behind_by_a_refusal() {
    let (_dir, store) = store(MemorySecrets::default());
    store.generate(new_key("a", None, false)).unwrap();
    let err = store.generate(new_key("a", None, false)).unwrap_err();
    assert_eq!(err.code(), "name_taken");
    assert_eq!(store.list().unwrap().len(), 1);
    let files = std::fs::read_dir(store.root().join("keys")).unwrap().count();
    assert_eq!(files, 2);
}

#[test]
fn remembered_passphrase_unlocks_and_follows_passphrase_changes() {
    let (_dir, store) = store(MemorySecrets::default());
    let saved = store.generate(new_key("k", Some("one"), true)).unwrap();
    assert!(saved.key.remembered);
    store.unlock("k", None).unwrap();
    store.change_passphrase("k", Some(&Passphrase::new("one")), Some(&Passphrase::new("two")), None).unwrap();
    store.unlock("k", None).unwrap();
    assert_eq!(store.unlock("k", Some(&Passphrase::new("one"))).unwrap_err().code(), "wrong_passphrase");
    let saved = store.change_passphrase("k", Some(&Passphrase::new("two")), None, None).unwrap();
    assert!(!saved.key.encrypted && !saved.key.remembered);
}

#[test]
fn without_a_keyring_the_key_is_still_saved_with_a_warning() {
    let (_dir, store) = store(MemorySecrets::unavailable());
    let saved = store.generate(new_key("k", Some("pw"), true)).unwrap();
    assert_eq!(saved.warnings.len(), 1);
    assert_eq!(saved.warnings[0].code, "keyring_unavailable");
    assert!(!saved.key.remembered);
    store.unlock("k", Some(&Passphrase::new("pw"))).unwrap();
}

#[test]
fn comment_change_keeps_passphrase_and_rounds() {
    let (_dir, store) = store(MemorySecrets::default());
    store.generate(new_key("k", Some("pw"), false)).unwrap();
    let summary = store.set_comment("k", "new comment", Some(&Passphrase::new("pw"))).unwrap();
    assert_eq!(summary.comment, "new comment");
    assert_eq!(summary.kdf_rounds, Some(2));
    let key = store.unlock("k", Some(&Passphrase::new("pw"))).unwrap();
    assert_eq!(key.comment(), "new comment");
    let pub_line = std::fs::read_to_string(store.root().join("keys/k.pub")).unwrap();
    assert!(pub_line.trim_end().ends_with(" new comment"));
    assert_eq!(store.set_comment("k", "a\nb", None).unwrap_err().code(), "multiline_comment");
}

#[test]
fn registered_keys_are_never_deleted_unless_asked() {
    let (dir, store) = store(MemorySecrets::default());
    let outside = dir.path().join("id_ed25519");
    let key = keys::generate(&KeySpec::default(), "outside").unwrap();
    std::fs::write(&outside, keys::to_openssh(&key).unwrap().as_bytes()).unwrap();
    let summary = store.register(&outside, KeyName::parse("mine").unwrap()).unwrap();
    assert_eq!(summary.origin, KeyOrigin::Registered);
    assert_eq!(store.register(&outside, KeyName::parse("again").unwrap()).unwrap_err().code(), "already_registered");
    let removed = store.remove("mine", false).unwrap();
    assert!(removed.deleted_files.is_empty());
    assert!(outside.exists());
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn removing_a_generated_key_deletes_its_files_and_secret() {
    let secrets = Arc::new(MemorySecrets::default());
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::open(dir.path(), secrets.clone());
    store.generate(new_key("k", Some("pw"), true)).unwrap();
    let id = secret_id(&store.record_of("k").unwrap());
    assert!(secrets.get(&id).unwrap().is_some());
    let removed = store.remove("k", false).unwrap();
    assert_eq!(removed.deleted_files.len(), 2);
    assert!(secrets.get(&id).unwrap().is_none());
    assert!(!dir.path().join("keys/k").exists());
}

#[test]
fn import_keeps_source_passphrase_or_requires_a_choice() {
    let (_dir, store) = store(MemorySecrets::default());
    let key = keys::generate(&KeySpec::default(), "src").unwrap();
    let plain = keys::to_openssh(&key).unwrap();
    let req = |name: &str| ImportKey {
        name: KeyName::parse(name).unwrap(),
        source: plain.as_bytes(),
        source_label: "test".into(),
        source_passphrase: None,
        new_passphrase: None,
        allow_unencrypted: false,
        comment: None,
        rounds: 2,
        remember: false,
    };
    assert_eq!(store.import(req("a")).unwrap_err().code(), "import_needs_passphrase");
    let saved = store.import(ImportKey { new_passphrase: Some(Passphrase::new("new")), ..req("a") }).unwrap();
    assert!(saved.key.encrypted);
    assert_eq!(saved.key.origin, KeyOrigin::Imported);
    let saved = store.import(ImportKey { allow_unencrypted: true, ..req("b") }).unwrap();
    assert!(!saved.key.encrypted);

    // An encrypted source keeps its passphrase unless the user explicitly chose none.
    let locked = keys::encrypt(&key, &Passphrase::new("src"), 2).unwrap();
    let locked = keys::to_openssh(&locked).unwrap();
    let enc = |name: &str, allow_unencrypted| ImportKey {
        source: locked.as_bytes(),
        source_passphrase: Some(Passphrase::new("src")),
        allow_unencrypted,
        ..req(name)
    };
    assert!(store.import(enc("c", false)).unwrap().key.encrypted);
    store.unlock("c", Some(&Passphrase::new("src"))).unwrap();
    // Asking for no passphrase does not strip the source's: the key stays protected.
    let refused = store.import(enc("d", true)).unwrap_err();
    assert_eq!(refused.code(), "import_keeps_passphrase");
    assert!(refused.to_string().contains("keep its passphrase or choose a new one"), "{refused}");
    assert!(store.list().unwrap().iter().all(|k| k.name != "d"));
    assert!(!store.root().join("keys/d").exists());
    let new = ImportKey { new_passphrase: Some(Passphrase::new("other")), ..enc("e", true) };
    assert!(store.import(new).unwrap().key.encrypted);
    store.unlock("e", Some(&Passphrase::new("other"))).unwrap();
}

#[test]
fn a_remembered_key_still_opens_with_its_passphrase_when_the_keyring_is_gone() {
    let (dir, store) = store(MemorySecrets::default());
    store.generate(new_key("k", Some("pw"), true)).unwrap();
    store.unlock("k", None).unwrap();
    // The same store on a session where the keyring cannot be reached.
    let offline = KeyStore::open(dir.path().join("home"), Arc::new(MemorySecrets::unavailable()));
    let err = offline.unlock("k", None).unwrap_err();
    assert_eq!(err.code(), "remembered_passphrase_unavailable");
    assert!(err.asks_for_passphrase());
    assert!(err.to_string().contains("enter the passphrase instead"), "{err}");
    offline.unlock("k", Some(&Passphrase::new("pw"))).unwrap();
    let err = offline.set_comment("k", "new comment", None).unwrap_err();
    assert!(err.asks_for_passphrase(), "{err}");
    offline.set_comment("k", "new comment", Some(&Passphrase::new("pw"))).unwrap();
    // Nothing was lost: still remembered, and back on a keyring it opens without asking.
    let list = offline.list().unwrap();
    assert!(list[0].remembered && list[0].comment == "new comment");
    store.unlock("k", None).unwrap();
}

#[test]
fn a_corrupt_metadata_file_is_never_replaced() {
    let (_dir, store) = store(MemorySecrets::default());
    std::fs::create_dir_all(store.root()).unwrap();
    std::fs::write(store.root().join("keys.toml"), "this is [ not toml").unwrap();
    assert_eq!(store.generate(new_key("k", None, false)).unwrap_err().code(), "corrupt_metadata");
    assert_eq!(std::fs::read_to_string(store.root().join("keys.toml")).unwrap(), "this is [ not toml");
    assert!(!store.root().join("keys/k").exists());
}
