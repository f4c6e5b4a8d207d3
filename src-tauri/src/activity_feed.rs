//! The agent's activity as the window and the desktop get it: coalesced. The agent reports every
//! request on its hot path, up to ~100k signatures a second in a burst (a CI job, a script signing
//! commits); an event and a notification for each would flood the WebView and the desktop.
//!
//! - The window gets `agent-activity` events, each an [`ActivityBatch`] (oldest first): the first
//!   entry after a quiet period at once, later ones at most every [`FLUSH_INTERVAL`], at most
//!   [`BATCH_LIMIT`] in a batch: the newest, with a count of the older ones left out (the agent's
//!   log keeps them).
//! - The desktop gets at most one notification per [`NOTIFY_INTERVAL`], summing up the signatures
//!   since the last one ([`crate::notify::Signatures`]).
//!
//! When to deliver and what ([`Throttle`], [`EntryBatch`]) is pure and tested with made-up
//! `Instant`s; [`ActivityFeed`] runs it with timers on the Tauri async runtime. A push takes one
//! short lock and clones the entry (past the batch limit it reuses the strings of the entry it
//! drops); the clock is read at most once per interval, and a timer task is spawned at most once
//! per interval.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};
use ts_rs::TS;

use latchkey::agent::ActivityEntry;

use crate::notify::{self, Notice, Signatures};

/// At most one `agent-activity` event per this long, but the first after a quiet period at once.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(250);
/// Entries in one event at most: the lines the window keeps (`ACTIVITY_LIMIT` in ui/src/lib/activity.ts).
pub const BATCH_LIMIT: usize = 500;
/// At most one signature notification per this long.
pub const NOTIFY_INTERVAL: Duration = Duration::from_secs(3);

/// The payload of the `agent-activity` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ActivityBatch {
    /// Oldest first.
    pub entries: Vec<ActivityEntry>,
    /// How many entries came just before `entries` and are left out of the batch (the agent's log,
    /// `agent_activity`, keeps them).
    #[ts(type = "number")]
    pub dropped: u64,
}

/// What to do after handing an entry to a [`Throttle`].
#[derive(Debug, PartialEq, Eq)]
pub enum Next<T> {
    /// Deliver this now: the first entry after a quiet period.
    Deliver(T),
    /// Call [`Throttle::flush`] after this long.
    FlushIn(Duration),
    /// Nothing: the entry goes out with a flush already asked for.
    Wait,
}

/// What a [`Throttle`] collects between deliveries.
pub trait Accumulate {
    type Out;
    fn add(&mut self, entry: &ActivityEntry);
    fn is_empty(&self) -> bool;
    fn take(&mut self) -> Self::Out;
}

/// Deliveries at most once per `interval`: the first entry after a quiet period at once (leading
/// edge), the ones that follow collected and delivered together when the interval is up (trailing
/// edge). The caller keeps the time: it passes the clock in and runs the timers.
#[derive(Debug)]
pub struct Throttle<A> {
    interval: Duration,
    pending: A,
    /// When the last delivery went out.
    last: Option<Instant>,
    /// A flush has been asked for and not yet run; `pending` holds what it will deliver.
    armed: bool,
}

impl<A: Accumulate> Throttle<A> {
    pub fn new(interval: Duration, pending: A) -> Self {
        Self { interval, pending, last: None, armed: false }
    }

    /// Take an entry. `now` is only called when no flush is due yet, so in a burst the clock is
    /// read once per interval, not once per entry.
    pub fn push(&mut self, entry: &ActivityEntry, now: impl FnOnce() -> Instant) -> Next<A::Out> {
        self.pending.add(entry);
        if self.armed {
            return Next::Wait;
        }
        let now = now();
        match self.last.map(|last| now.saturating_duration_since(last)) {
            Some(since) if since < self.interval => {
                self.armed = true;
                Next::FlushIn(self.interval - since)
            }
            _ => {
                self.last = Some(now);
                Next::Deliver(self.pending.take())
            }
        }
    }

    /// The flush asked for with [`Next::FlushIn`] is due: what it delivers.
    pub fn flush(&mut self, now: Instant) -> Option<A::Out> {
        self.armed = false;
        if self.pending.is_empty() {
            return None;
        }
        self.last = Some(now);
        Some(self.pending.take())
    }
}

/// The entries of the next [`ActivityBatch`]: the newest `limit`, and how many older ones went.
#[derive(Debug)]
pub struct EntryBatch {
    limit: usize,
    entries: VecDeque<ActivityEntry>,
    dropped: u64,
}

impl EntryBatch {
    pub fn new(limit: usize) -> Self {
        Self { limit, entries: VecDeque::new(), dropped: 0 }
    }
}

impl Accumulate for EntryBatch {
    type Out = ActivityBatch;

    fn add(&mut self, entry: &ActivityEntry) {
        if self.entries.len() < self.limit {
            self.entries.push_back(entry.clone());
            return;
        }
        self.dropped += 1;
        // Full: the oldest makes room, and its strings are reused for the copy.
        if let Some(mut oldest) = self.entries.pop_front() {
            copy_into(&mut oldest, entry);
            self.entries.push_back(oldest);
        }
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.dropped == 0
    }

    fn take(&mut self) -> ActivityBatch {
        ActivityBatch { entries: std::mem::take(&mut self.entries).into(), dropped: std::mem::take(&mut self.dropped) }
    }
}

impl Accumulate for Signatures {
    type Out = Signatures;

    fn add(&mut self, entry: &ActivityEntry) {
        Signatures::add(self, entry);
    }

    fn is_empty(&self) -> bool {
        Signatures::is_empty(self)
    }

    fn take(&mut self) -> Signatures {
        std::mem::take(self)
    }
}

/// `*to = from.clone()`, reusing the allocations of `to` (a derived `Clone` does not). The
/// destructuring makes a new field a compile error here rather than a field left stale.
fn copy_into(to: &mut ActivityEntry, from: &ActivityEntry) {
    let ActivityEntry { time, key, fingerprint, process, host, forwarded, outcome } = to;
    time.clone_from(&from.time);
    key.clone_from(&from.key);
    fingerprint.clone_from(&from.fingerprint);
    process.clone_from(&from.process);
    host.clone_from(&from.host);
    *forwarded = from.forwarded;
    outcome.clone_from(&from.outcome);
}

/// Where an [`ActivityFeed`] delivers: the window and the desktop ([`Desktop`]), or a test.
pub trait Outlet: Send + Sync + 'static {
    fn batch(&self, batch: ActivityBatch);
    fn notice(&self, notice: Notice);
}

/// The app's window (the `agent-activity` event) and the desktop's notifications.
pub struct Desktop<R: Runtime>(pub AppHandle<R>);

impl<R: Runtime> Outlet for Desktop<R> {
    fn batch(&self, batch: ActivityBatch) {
        let _ = self.0.emit("agent-activity", batch);
    }

    fn notice(&self, notice: Notice) {
        notify::show(&self.0, notice);
    }
}

#[derive(Debug, Clone, Copy)]
struct Timing {
    flush: Duration,
    limit: usize,
    notify: Duration,
}

const TIMING: Timing = Timing { flush: FLUSH_INTERVAL, limit: BATCH_LIMIT, notify: NOTIFY_INTERVAL };

/// Takes the agent's activity ([`latchkey::agent::Observer::activity`]) and delivers it to an
/// [`Outlet`], coalesced (see the module's doc). Timers run on the Tauri async runtime.
pub struct ActivityFeed<O: Outlet>(Arc<Shared<O>>);

struct Shared<O> {
    outlet: O,
    /// The "notify on each signature" setting, changed by `save_settings`.
    notify_on_sign: Arc<AtomicBool>,
    state: Mutex<State>,
}

struct State {
    events: Throttle<EntryBatch>,
    notices: Throttle<Signatures>,
}

impl<O: Outlet> ActivityFeed<O> {
    pub fn new(outlet: O, notify_on_sign: Arc<AtomicBool>) -> Self {
        Self::with_timing(outlet, notify_on_sign, TIMING)
    }

    fn with_timing(outlet: O, notify_on_sign: Arc<AtomicBool>, timing: Timing) -> Self {
        let state = State {
            events: Throttle::new(timing.flush, EntryBatch::new(timing.limit)),
            notices: Throttle::new(timing.notify, Signatures::default()),
        };
        Self(Arc::new(Shared { outlet, notify_on_sign, state: Mutex::new(state) }))
    }

    /// One more entry. Called on the agent's hot path: delivers at once only after a quiet period.
    pub fn push(&self, entry: &ActivityEntry) {
        let notify = notify::counts(entry) && self.0.notify_on_sign.load(Ordering::Relaxed);
        let mut clock = None;
        let mut now = || *clock.get_or_insert_with(Instant::now);
        let (event, notice) = {
            let mut state = self.0.lock();
            let event = state.events.push(entry, &mut now);
            let notice = if notify { state.notices.push(entry, &mut now) } else { Next::Wait };
            (event, notice)
        };
        match event {
            Next::Deliver(batch) => self.0.outlet.batch(batch),
            Next::FlushIn(delay) => self.later(delay, Shared::flush_events),
            Next::Wait => {}
        }
        match notice {
            Next::Deliver(signatures) => self.0.notify(&signatures),
            Next::FlushIn(delay) => self.later(delay, Shared::flush_notices),
            Next::Wait => {}
        }
    }

    fn later(&self, delay: Duration, flush: fn(&Shared<O>)) {
        let shared = self.0.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(delay).await;
            flush(&shared);
        });
    }
}

impl<O: Outlet> Shared<O> {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves counts at worst; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn flush_events(&self) {
        let batch = self.lock().events.flush(Instant::now());
        if let Some(batch) = batch {
            self.outlet.batch(batch);
        }
    }

    fn flush_notices(&self) {
        let signatures = self.lock().notices.flush(Instant::now());
        if let Some(signatures) = signatures {
            self.notify(&signatures);
        }
    }

    fn notify(&self, signatures: &Signatures) {
        // The setting may have been turned off since these were counted.
        if self.notify_on_sign.load(Ordering::Relaxed)
            && let Some(notice) = signatures.notice()
        {
            self.outlet.notice(notice);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: usize) -> ActivityEntry {
        ActivityEntry {
            time: format!("2025-03-01T10:00:00.{n:06}Z"),
            key: if n.is_multiple_of(4) { "deploy".to_owned() } else { "work".to_owned() },
            fingerprint: "SHA256:abc".to_owned(),
            process: format!("ssh (pid {n}) ← bash (pid 3)"),
            host: n.is_multiple_of(3).then(|| "github.com".to_owned()),
            forwarded: n.is_multiple_of(5),
            outcome: "signed".to_owned(),
        }
    }

    /// Runs a throttle against a made-up clock, firing its timer when due, and records what it
    /// delivers and when.
    struct Sim<A: Accumulate> {
        throttle: Throttle<A>,
        due: Option<Instant>,
        delivered: Vec<(Instant, A::Out)>,
    }

    impl<A: Accumulate> Sim<A> {
        fn new(interval: Duration, pending: A) -> Self {
            Self { throttle: Throttle::new(interval, pending), due: None, delivered: Vec::new() }
        }

        fn advance(&mut self, now: Instant) {
            if let Some(due) = self.due.filter(|due| *due <= now) {
                self.due = None;
                if let Some(out) = self.throttle.flush(due) {
                    self.delivered.push((due, out));
                }
            }
        }

        fn push(&mut self, now: Instant, entry: &ActivityEntry) -> bool {
            self.advance(now);
            let mut read = false;
            match self.throttle.push(entry, || {
                read = true;
                now
            }) {
                Next::Deliver(out) => self.delivered.push((now, out)),
                Next::FlushIn(delay) => {
                    assert!(self.due.is_none(), "one timer at a time");
                    self.due = Some(now + delay);
                }
                Next::Wait => assert!(self.due.is_some(), "waits only for a flush asked for"),
            }
            read
        }

        fn finish(&mut self) {
            if let Some(due) = self.due {
                self.advance(due);
            }
        }
    }

    fn events() -> Sim<EntryBatch> {
        Sim::new(FLUSH_INTERVAL, EntryBatch::new(BATCH_LIMIT))
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_lone_entry_goes_out_at_once() {
        let t0 = Instant::now();
        let mut sim = events();
        sim.push(t0, &entry(1));
        assert_eq!(sim.delivered.len(), 1);
        assert_eq!(sim.delivered[0], (t0, ActivityBatch { entries: vec![entry(1)], dropped: 0 }));
        assert_eq!(sim.due, None, "no timer for a lone entry");
    }

    #[test]
    fn entries_soon_after_wait_for_the_interval_and_go_out_together() {
        let t0 = Instant::now();
        let mut sim = events();
        sim.push(t0, &entry(1));
        sim.push(t0 + 10 * MS, &entry(2));
        assert_eq!(sim.due, Some(t0 + FLUSH_INTERVAL), "the interval counts from the last delivery");
        sim.push(t0 + 100 * MS, &entry(3));
        sim.finish();
        assert_eq!(sim.delivered.len(), 2);
        assert_eq!(
            sim.delivered[1],
            (t0 + FLUSH_INTERVAL, ActivityBatch { entries: vec![entry(2), entry(3)], dropped: 0 })
        );
    }

    #[test]
    fn a_burst_gives_few_bounded_batches_and_counts_what_it_leaves_out() {
        let t0 = Instant::now();
        let mut sim = events();
        let mut clock_reads = 0;
        // 10_000 entries in 100 ms (100k a second).
        for n in 0..10_000 {
            clock_reads += usize::from(sim.push(t0 + Duration::from_micros(10 * n as u64), &entry(n)));
        }
        sim.finish();
        let batches: Vec<&ActivityBatch> = sim.delivered.iter().map(|(_, b)| b).collect();
        assert_eq!(batches.len(), 2, "the first at once, the rest in one batch");
        assert_eq!(clock_reads, 2, "the clock is read once per delivery, not per entry");
        assert_eq!(batches[0].entries, vec![entry(0)]);
        assert_eq!(batches[1].entries.len(), BATCH_LIMIT);
        assert_eq!(batches[1].dropped, 10_000 - 1 - BATCH_LIMIT as u64);
        // The newest are kept, oldest first.
        let kept: Vec<ActivityEntry> = (10_000 - BATCH_LIMIT..10_000).map(entry).collect();
        assert_eq!(batches[1].entries, kept);
    }

    #[test]
    fn a_long_burst_is_delivered_once_per_interval() {
        let t0 = Instant::now();
        let mut sim = events();
        // 10_000 entries over 2.5 s.
        for n in 0..10_000 {
            sim.push(t0 + Duration::from_micros(250 * n as u64), &entry(n));
        }
        sim.finish();
        let times: Vec<Instant> = sim.delivered.iter().map(|(t, _)| *t).collect();
        assert!(times.len() <= 2 + 2500 / 250, "{} deliveries", times.len());
        assert!(times.windows(2).all(|w| w[1] - w[0] >= FLUSH_INTERVAL), "at most one per interval");
        let mut total = 0;
        for (_, batch) in &sim.delivered {
            assert!(batch.entries.len() <= BATCH_LIMIT);
            total += batch.entries.len() as u64 + batch.dropped;
        }
        assert_eq!(total, 10_000, "every entry is delivered or counted");
        let last = &sim.delivered.last().unwrap().1;
        assert_eq!(last.entries.last(), Some(&entry(9_999)));
    }

    #[test]
    fn after_a_quiet_period_the_next_entry_goes_out_at_once_again() {
        let t0 = Instant::now();
        let mut sim = events();
        sim.push(t0, &entry(1));
        sim.push(t0 + MS, &entry(2));
        sim.finish();
        assert_eq!(sim.delivered.len(), 2);
        // Quiet for an interval after the last delivery (at t0 + 250 ms).
        let later = t0 + FLUSH_INTERVAL + FLUSH_INTERVAL;
        sim.push(later, &entry(3));
        assert_eq!(sim.delivered.len(), 3);
        assert_eq!(sim.delivered[2], (later, ActivityBatch { entries: vec![entry(3)], dropped: 0 }));
        // Less than an interval after a delivery: it waits.
        sim.push(later + FLUSH_INTERVAL - MS, &entry(4));
        assert_eq!(sim.delivered.len(), 3);
        assert_eq!(sim.due, Some(later + FLUSH_INTERVAL));
    }

    #[test]
    fn a_full_batch_reuses_the_oldest_entry_for_the_newest() {
        let mut batch = EntryBatch::new(2);
        for n in 0..5 {
            batch.add(&entry(n));
        }
        assert!(!batch.is_empty());
        assert_eq!(batch.take(), ActivityBatch { entries: vec![entry(3), entry(4)], dropped: 3 });
        assert!(batch.is_empty(), "taking starts a new batch");
        let mut none = EntryBatch::new(0);
        none.add(&entry(1));
        assert_eq!(none.take(), ActivityBatch { entries: vec![], dropped: 1 });
    }

    #[test]
    fn notifications_at_most_every_three_seconds_each_summing_up_since_the_last() {
        let t0 = Instant::now();
        let mut sim = Sim::new(NOTIFY_INTERVAL, Signatures::default());
        // A signature every 10 ms for 5 s.
        for n in 0..500 {
            sim.push(t0 + Duration::from_millis(10 * n as u64), &entry(n));
        }
        sim.finish();
        let notices: Vec<Notice> = sim.delivered.iter().map(|(_, s)| s.notice().unwrap()).collect();
        assert_eq!(notices.len(), 3, "{notices:?}");
        assert_eq!(notices[0].title, "Latchkey signed with a key");
        // The second sums up 10 ms to 2.99 s, the third 3 s to 4.99 s.
        assert_eq!(notices[1].title, "Latchkey signed 299 times");
        assert_eq!(notices[1].body, "work ×225, deploy ×74");
        assert_eq!(notices[2].title, "Latchkey signed 200 times");
    }

    #[test]
    fn the_payload_keeps_its_wire_shape() {
        let json = serde_json::to_value(ActivityBatch { entries: vec![entry(1)], dropped: 7 }).unwrap();
        assert_eq!(json["dropped"], 7);
        assert_eq!(json["entries"][0]["key"], "work");
        assert_eq!(json.as_object().unwrap().len(), 2);
    }

    /// Records what the feed delivers.
    #[derive(Default)]
    struct Recorder(Mutex<(Vec<ActivityBatch>, Vec<Notice>)>);

    impl Outlet for Arc<Recorder> {
        fn batch(&self, batch: ActivityBatch) {
            self.0.lock().unwrap().0.push(batch);
        }

        fn notice(&self, notice: Notice) {
            self.0.lock().unwrap().1.push(notice);
        }
    }

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(10 * MS);
        }
    }

    #[test]
    fn the_feed_delivers_a_burst_with_timers_on_the_async_runtime() {
        let recorder = Arc::new(Recorder::default());
        let notify_on_sign = Arc::new(AtomicBool::new(true));
        // The notification interval outlasts the pushes, even on a slow machine.
        let timing = Timing { flush: 50 * MS, limit: 100, notify: Duration::from_secs(1) };
        let feed = ActivityFeed::with_timing(recorder.clone(), notify_on_sign.clone(), timing);
        let started = Instant::now();
        for n in 0..10_000 {
            feed.push(&entry(n));
        }
        feed.push(&ActivityEntry { outcome: "denied".to_owned(), ..entry(10_000) });
        let total =
            |r: &Recorder| r.0.lock().unwrap().0.iter().map(|b| b.entries.len() as u64 + b.dropped).sum::<u64>();
        wait_for("every entry", || total(&recorder) == 10_001);
        wait_for("the summary", || recorder.0.lock().unwrap().1.len() == 2);
        let elapsed = started.elapsed();
        let (batches, notices) = std::mem::take(&mut *recorder.0.lock().unwrap());
        assert!(batches.len() as u128 <= 2 + elapsed.as_millis() / 50, "{} batches in {elapsed:?}", batches.len());
        assert!(batches.iter().all(|b| b.entries.len() <= 100));
        assert_eq!(batches[0].entries, vec![entry(0)]);
        assert_eq!(batches.last().unwrap().entries.last().unwrap().outcome, "denied");
        assert_eq!(notices[0].title, "Latchkey signed with a key");
        assert_eq!(notices[1].title, "Latchkey signed 9999 times", "the denied one does not count");

        // With the setting off, signatures are not counted or told.
        notify_on_sign.store(false, Ordering::Relaxed);
        std::thread::sleep(100 * MS);
        feed.push(&entry(1));
        // Quiet for longer than the interval: delivered at once, by the push itself.
        assert_eq!(recorder.0.lock().unwrap().0, vec![ActivityBatch { entries: vec![entry(1)], dropped: 0 }]);
        assert!(recorder.0.lock().unwrap().1.is_empty());
    }
}
