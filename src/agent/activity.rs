//! The activity log: every request that used or tried to use a key, with who asked, for which
//! host, and what happened. Bounded in memory; appended to `activity.jsonl` in the data dir by a
//! background thread (the signing path only pushes to a channel), rotated at 1 MiB. Holds no
//! secrets: names, fingerprints, process and host names.

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc::{self, SyncSender};

use serde::{Deserialize, Serialize};

/// How many entries are kept in memory (and shown in the UI).
pub const MEMORY_ENTRIES: usize = 1000;
const FILE_LIMIT: u64 = 1 << 20;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActivityEntry {
    /// RFC 3339 UTC.
    pub time: String,
    pub key: String,
    pub fingerprint: String,
    /// The process chain, summarised ("ssh (pid 12) ← bash (pid 3)").
    pub process: String,
    pub host: Option<String>,
    pub forwarded: bool,
    /// "signed", "denied", "refused: ...".
    pub outcome: String,
}

pub struct ActivityLog {
    recent: Mutex<VecDeque<ActivityEntry>>,
    writer: Option<SyncSender<ActivityEntry>>,
}

impl ActivityLog {
    /// A log that also appends to `file` (None: memory only).
    pub fn new(file: Option<PathBuf>) -> Self {
        let writer = file.clone().map(|path| {
            // Bounded: if the disk is slow, entries beyond 4096 in flight are dropped from the
            // file (they stay in memory) rather than slowing signatures down.
            let (tx, rx) = mpsc::sync_channel::<ActivityEntry>(4096);
            std::thread::Builder::new()
                .name("latchkey-activity".into())
                .spawn(move || write_loop(path, rx))
                .ok()
                .map(|_| tx)
        });
        // Start with the tail of what earlier runs recorded, so the history survives restarts.
        let mut recent = VecDeque::with_capacity(64);
        if let Some(path) = &file {
            let old = read_file(path);
            recent.extend(old.into_iter().rev().take(MEMORY_ENTRIES).collect::<Vec<_>>().into_iter().rev());
        }
        Self { recent: Mutex::new(recent), writer: writer.flatten() }
    }

    pub fn record(&self, entry: ActivityEntry) {
        if let Some(tx) = &self.writer {
            let _ = tx.try_send(entry.clone());
        }
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() >= MEMORY_ENTRIES {
            recent.pop_front();
        }
        recent.push_back(entry);
    }

    /// The most recent entries, newest last.
    pub fn recent(&self) -> Vec<ActivityEntry> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }
}

fn write_loop(path: PathBuf, rx: mpsc::Receiver<ActivityEntry>) {
    let open =
        |path: &PathBuf| std::fs::OpenOptions::new().create(true).append(true).open(path).map(std::io::BufWriter::new);
    let Ok(mut out) = open(&path) else { return };
    let mut written = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    while let Ok(entry) = rx.recv() {
        // Wake at most every 50 ms: a busy agent's signatures are written in batches, so the log
        // costs the signing path a channel send, not a write and a context switch each.
        std::thread::sleep(std::time::Duration::from_millis(50));
        for e in std::iter::once(entry).chain(rx.try_iter()) {
            if let Ok(line) = serde_json::to_string(&e)
                && writeln!(out, "{line}").is_ok()
            {
                written += line.len() as u64 + 1;
            }
        }
        let _ = out.flush();
        if written > FILE_LIMIT {
            let _ = std::fs::rename(&path, path.with_extension("jsonl.1"));
            match open(&path) {
                Ok(w) => out = w,
                Err(_) => return,
            }
            written = 0;
        }
    }
}

/// Read back the persisted log (newest last), e.g. for the UI after a restart.
pub fn read_file(path: &std::path::Path) -> Vec<ActivityEntry> {
    let Ok(bytes) = crate::fsutil::read_limited(path, 2 * FILE_LIMIT) else { return Vec::new() };
    String::from_utf8_lossy(&bytes).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: usize) -> ActivityEntry {
        ActivityEntry {
            time: "t".into(),
            key: format!("k{n}"),
            fingerprint: "f".into(),
            process: "p".into(),
            host: None,
            forwarded: false,
            outcome: "signed".into(),
        }
    }

    #[test]
    fn memory_is_bounded_and_the_file_is_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("activity.jsonl");
        let log = ActivityLog::new(Some(path.clone()));
        for n in 0..MEMORY_ENTRIES + 5 {
            log.record(entry(n));
        }
        let recent = log.recent();
        assert_eq!(recent.len(), MEMORY_ENTRIES);
        assert_eq!(recent.last().unwrap().key, format!("k{}", MEMORY_ENTRIES + 4));
        for _ in 0..100 {
            if read_file(&path).len() == MEMORY_ENTRIES + 5 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the file did not receive every entry: {}", read_file(&path).len());
    }
}
