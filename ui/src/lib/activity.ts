// The activity log as the Agent view shows it: newest first, at most ACTIVITY_LIMIT lines, with
// the events that arrived while the first snapshot was on its way merged in without duplicates.
// Pure.

import type { ActivityEntry } from './bindings';

/** Lines kept in the window (the backend keeps more, and a file). */
export const ACTIVITY_LIMIT = 500;

/** The backend's snapshot (oldest first) as the view's list (newest first), bounded. */
export function fromSnapshot(entries: readonly ActivityEntry[], limit = ACTIVITY_LIMIT): ActivityEntry[] {
  return entries.slice(Math.max(0, entries.length - limit)).reverse();
}

/** One more line (an `agent-activity` event) on top of a newest-first list, bounded. */
export function addActivity(list: readonly ActivityEntry[], entry: ActivityEntry, limit = ACTIVITY_LIMIT): ActivityEntry[] {
  return [entry, ...list.slice(0, Math.max(0, limit - 1))];
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
 * The snapshot (oldest first) followed by the events received since subscribing (oldest first),
 * oldest first. The subscription starts before the snapshot is taken, so the snapshot may already
 * end with the first few of those events: the longest such overlap is counted once.
 */
export function mergeSnapshot(snapshot: readonly ActivityEntry[], received: readonly ActivityEntry[]): ActivityEntry[] {
  const max = Math.min(snapshot.length, received.length);
  let overlap = 0;
  for (let n = max; n > 0; n--) {
    const tail = snapshot.length - n;
    let match = true;
    for (let i = 0; i < n; i++) {
      if (!same(snapshot[tail + i], received[i])) {
        match = false;
        break;
      }
    }
    if (match) {
      overlap = n;
      break;
    }
  }
  return [...snapshot, ...received.slice(overlap)];
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
