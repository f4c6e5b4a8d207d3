//! Signature notifications, when the user wants them (setting "notify on sign"): what one says and
//! showing it. A burst of signatures is summed up in one notification ([`Signatures`]); how often
//! one is shown is decided by `activity_feed`.

use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;

use latchkey::agent::ActivityEntry;

/// Keys named in a summary; more are "…".
const KEYS_SHOWN: usize = 3;
/// Keys counted by name in a summary. The agent holds a handful of keys, so this bounds the list
/// (and the work per signature) without ever being reached in practice.
const KEYS_TRACKED: usize = 32;

/// Whether an entry is one a notification is about: a signature made, not a refusal.
pub fn counts(entry: &ActivityEntry) -> bool {
    entry.outcome == "signed"
}

/// The signatures made since the last notification.
#[derive(Debug, Default)]
pub struct Signatures {
    /// Told in full when it is the only one.
    first: Option<ActivityEntry>,
    count: u64,
    /// Signatures per key name, in the order the keys were first seen.
    keys: Vec<(String, u64)>,
}

/// A notification's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

impl Signatures {
    /// Count a signature (see [`counts`]). Allocates only for the first one and for a key not seen
    /// since the last notification.
    pub fn add(&mut self, entry: &ActivityEntry) {
        if self.first.is_none() {
            self.first = Some(entry.clone());
        }
        self.count += 1;
        if let Some((_, n)) = self.keys.iter_mut().find(|(key, _)| *key == entry.key) {
            *n += 1;
        } else if self.keys.len() < KEYS_TRACKED {
            self.keys.push((entry.key.clone(), 1));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// One signature as it always was told; several as "Latchkey signed 37 times" with the keys
    /// used most: "work ×30, deploy ×7".
    pub fn notice(&self) -> Option<Notice> {
        let first = self.first.as_ref()?;
        if self.count == 1 {
            let host = first.host.as_deref().map(|h| format!(" for {h}")).unwrap_or_default();
            return Some(Notice {
                title: "Latchkey signed with a key".to_owned(),
                body: format!("{}{host}, asked by {}", first.key, first.process),
            });
        }
        let mut keys: Vec<&(String, u64)> = self.keys.iter().collect();
        // Stable: keys used as often stay in the order they were first used.
        keys.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let mut body =
            keys.iter().take(KEYS_SHOWN).map(|(key, n)| format!("{key} ×{n}")).collect::<Vec<_>>().join(", ");
        let named: u64 = keys.iter().take(KEYS_SHOWN).map(|(_, n)| n).sum();
        if named < self.count {
            body.push_str(", …");
        }
        Some(Notice { title: format!("Latchkey signed {} times", self.count), body })
    }
}

pub fn show<R: Runtime>(app: &AppHandle<R>, notice: Notice) {
    // No notification daemon (a bare X session) is not worth an error.
    let _ = app.notification().builder().title(notice.title).body(notice.body).show();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(key: &str) -> ActivityEntry {
        ActivityEntry {
            time: "2025-03-01T10:00:00Z".to_owned(),
            key: key.to_owned(),
            fingerprint: "SHA256:abc".to_owned(),
            process: "ssh (pid 12) ← bash (pid 3)".to_owned(),
            host: Some("github.com".to_owned()),
            forwarded: false,
            outcome: "signed".to_owned(),
        }
    }

    fn tally<'a>(keys: impl IntoIterator<Item = &'a str>) -> Signatures {
        let mut s = Signatures::default();
        for key in keys {
            s.add(&signed(key));
        }
        s
    }

    #[test]
    fn only_signatures_count() {
        assert!(counts(&signed("work")));
        for outcome in ["denied", "denied: no answer in time", "refused: the agent is locked"] {
            assert!(!counts(&ActivityEntry { outcome: outcome.to_owned(), ..signed("work") }));
        }
    }

    #[test]
    fn nothing_to_say_without_signatures() {
        assert!(Signatures::default().is_empty());
        assert_eq!(Signatures::default().notice(), None);
    }

    #[test]
    fn a_single_signature_says_which_key_for_which_host_and_who_asked() {
        let notice = tally(["work"]).notice().unwrap();
        assert_eq!(notice.title, "Latchkey signed with a key");
        assert_eq!(notice.body, "work for github.com, asked by ssh (pid 12) ← bash (pid 3)");
        let mut s = Signatures::default();
        s.add(&ActivityEntry { host: None, ..signed("deploy") });
        assert_eq!(s.notice().unwrap().body, "deploy, asked by ssh (pid 12) ← bash (pid 3)");
    }

    #[test]
    fn a_burst_says_how_many_and_with_which_keys_most_used_first() {
        let keys = std::iter::repeat_n("deploy", 7).chain(std::iter::repeat_n("work", 30));
        let notice = tally(keys).notice().unwrap();
        assert_eq!(notice.title, "Latchkey signed 37 times");
        assert_eq!(notice.body, "work ×30, deploy ×7");
        assert_eq!(tally(["a", "b"]).notice().unwrap().body, "a ×1, b ×1", "ties keep the order of first use");
    }

    #[test]
    fn a_summary_names_three_keys_at_most() {
        let notice = tally(["a", "b", "b", "c", "c", "c", "d", "d", "d", "d"]).notice().unwrap();
        assert_eq!(notice.title, "Latchkey signed 10 times");
        assert_eq!(notice.body, "d ×4, c ×3, b ×2, …");
    }

    #[test]
    fn keys_beyond_the_tracked_ones_still_count() {
        let names: Vec<String> = (0..KEYS_TRACKED + 5).map(|i| format!("k{i}")).collect();
        let s = tally(names.iter().map(String::as_str));
        assert_eq!(s.keys.len(), KEYS_TRACKED);
        let notice = s.notice().unwrap();
        assert_eq!(notice.title, format!("Latchkey signed {} times", KEYS_TRACKED + 5));
        assert!(notice.body.ends_with(", …"), "{}", notice.body);
    }
}
