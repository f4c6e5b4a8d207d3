// The activity log as the Agent view shows it: newest first, at most ACTIVITY_LIMIT lines, with
// the events that arrived while the first snapshot was on its way merged in without duplicates.
// Pure.
//
// The shell sends activity in batches (src-tauri/src/activity_feed.rs): a lone line at once, a
// burst at most every 250 ms, each batch the newest ACTIVITY_LIMIT lines of its burst plus a count
// of the older ones left out.

import type { ActivityBatch, ActivityEntry } from './bindings';

/** Lines kept in the window (the backend keeps more, and a file); also the shell's batch limit. */
export const ACTIVITY_LIMIT = 500;

/** The backend's snapshot (oldest first) as the view's list (newest first), bounded. */
export function fromSnapshot(entries: readonly ActivityEntry[], limit = ACTIVITY_LIMIT): ActivityEntry[] {
  return entries.slice(Math.max(0, entries.length - limit)).reverse();
}

/** One more line on top of a newest-first list, bounded. */
export function addActivity(list: readonly ActivityEntry[], entry: ActivityEntry, limit = ACTIVITY_LIMIT): ActivityEntry[] {
  return [entry, ...list.slice(0, Math.max(0, limit - 1))];
}

/** New lines (an `agent-activity` batch, oldest first) on top of a newest-first list, bounded. */
export function addBatch(list: readonly ActivityEntry[], batch: ActivityBatch, limit = ACTIVITY_LIMIT): ActivityEntry[] {
  const fresh = fromSnapshot(batch.entries, limit);
  return [...fresh, ...list.slice(0, Math.max(0, limit - fresh.length))];
}

function same(a: ActivityEntry, b: ActivityEntry): boolean {
  return (
    a.time === b.time &&
    a.key === b.key &&
    a.fingerprint === b.fingerprint &&
    a.process === b.process &&
    a.host === b.host &&
    a.forwarded === b.forwarded &&
    a.outcome === b.outcome
  );
}

/**
 * The snapshot (oldest first) followed by the batches received since subscribing (oldest first),
 * oldest first. The subscription starts before the snapshot is taken, and the shell sends a
 * burst's lines up to 250 ms after recording them, so the snapshot may already end with the first
 * few of those lines: the longest such overlap is counted once. The lines a batch left out are
 * holes that match any line, so an overlap is found across them too.
 */
export function mergeSnapshot(snapshot: readonly ActivityEntry[], received: readonly ActivityBatch[]): ActivityEntry[] {
  // The received lines as far as they can overlap the snapshot, null for the ones left out.
  const head: (ActivityEntry | null)[] = [];
  for (const batch of received) {
    for (let i = 0; i < batch.dropped && head.length < snapshot.length; i++) head.push(null);
    for (const entry of batch.entries) {
      if (head.length >= snapshot.length) break;
      head.push(entry);
    }
    if (head.length >= snapshot.length) break;
  }
  let overlap = 0;
  for (let n = head.length; n > 0; n--) {
    const tail = snapshot.length - n;
    let match = true;
    for (let i = 0; i < n; i++) {
      const line = head[i];
      if (line !== null && !same(snapshot[tail + i], line)) {
        match = false;
        break;
      }
    }
    if (match) {
      overlap = n;
      break;
    }
  }
  const merged = [...snapshot];
  let position = 0;
  for (const batch of received) {
    position += batch.dropped;
    for (const entry of batch.entries) {
      if (position >= overlap) merged.push(entry);
      position++;
    }
  }
  return merged;
}

export type OutcomeKind = 'signed' | 'denied' | 'refused' | 'other';

export function outcomeKind(outcome: string): OutcomeKind {
  if (outcome === 'signed') return 'signed';
  // "denied" (the user said no) and "denied: no answer in time" (the prompt timed out).
  if (outcome === 'denied' || outcome.startsWith('denied:')) return 'denied';
  if (outcome.startsWith('refused')) return 'refused';
  return 'other';
}

export type ActivityFilter = { text: string; outcome: OutcomeKind | 'all' };

/** The lines matching a free-text filter (key, process, host, outcome) and an outcome kind. */
export function filterActivity(list: readonly ActivityEntry[], filter: ActivityFilter): ActivityEntry[] {
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  return list.filter((e) => {
    if (filter.outcome !== 'all' && outcomeKind(e.outcome) !== filter.outcome) return false;
    if (words.length === 0) return true;
    const hay = [e.key, e.fingerprint, e.process, e.host ?? '', e.outcome, e.forwarded ? 'forwarded' : '']
      .join(' ')
      .toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** "14:03:22" today, "3 Mar 14:03" before; the raw text if it does not parse. */
export function formatTime(time: string, now: Date = new Date()): string {
  const d = new Date(time);
  if (Number.isNaN(d.getTime())) return time;
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}
