import { describe, expect, it } from 'vitest';

import { activity } from '../test/agentFixtures';
import { ACTIVITY_LIMIT, addActivity, addBatch, filterActivity, fromSnapshot, mergeSnapshot, outcomeKind } from './activity';
import type { ActivityBatch, ActivityEntry } from './bindings';

const at = (n: number, over = {}) => activity({ time: `2025-03-01T10:00:${String(n).padStart(2, '0')}Z`, ...over });
const batch = (entries: ActivityEntry[], dropped = 0): ActivityBatch => ({ entries, dropped });
const times = (list: readonly ActivityEntry[]) => list.map((e) => e.time);

describe('activity order and bounds', () => {
  it('shows the snapshot (oldest first) newest first', () => {
    const list = fromSnapshot([at(1), at(2), at(3)]);
    expect(list.map((e) => e.time)).toEqual([at(3).time, at(2).time, at(1).time]);
  });

  it('keeps only the newest lines of a long snapshot', () => {
    const snapshot = Array.from({ length: 10 }, (_, i) => at(i));
    const list = fromSnapshot(snapshot, 4);
    expect(list.map((e) => e.time)).toEqual([at(9).time, at(8).time, at(7).time, at(6).time]);
  });

  it('puts a new line on top and drops the oldest beyond the limit', () => {
    let list = fromSnapshot([at(1), at(2)], 3);
    list = addActivity(list, at(3), 3);
    list = addActivity(list, at(4), 3);
    expect(list.map((e) => e.time)).toEqual([at(4).time, at(3).time, at(2).time]);
  });

  it('puts a batch (oldest first) on top, newest first, and drops the oldest beyond the limit', () => {
    let list = fromSnapshot([at(1), at(2)], 4);
    list = addBatch(list, batch([at(3), at(4)]), 4);
    expect(times(list)).toEqual(times([at(4), at(3), at(2), at(1)]));
    list = addBatch(list, batch([at(5)], 10), 4);
    expect(times(list)).toEqual(times([at(5), at(4), at(3), at(2)]));
    expect(addBatch(list, batch([]), 4)).toEqual(list);
  });

  it('keeps only the newest lines of a batch longer than the list', () => {
    const list = addBatch([at(1)], batch(Array.from({ length: 10 }, (_, i) => at(10 + i))), 3);
    expect(times(list)).toEqual(times([at(19), at(18), at(17)]));
    const burst = Array.from({ length: ACTIVITY_LIMIT }, (_, i) => activity({ time: `t${i}` }));
    const full = addBatch(fromSnapshot([at(1), at(2)]), batch(burst, 9000));
    expect(full).toHaveLength(ACTIVITY_LIMIT);
    expect(full[0].time).toBe(`t${ACTIVITY_LIMIT - 1}`);
  });
});

describe('mergeSnapshot', () => {
  it('appends events the snapshot does not contain yet', () => {
    expect(mergeSnapshot([at(1), at(2)], [batch([at(3)])])).toEqual([at(1), at(2), at(3)]);
    expect(mergeSnapshot([at(1)], [])).toEqual([at(1)]);
  });

  it('counts events the snapshot already ends with once', () => {
    expect(mergeSnapshot([at(1), at(2), at(3)], [batch([at(2), at(3), at(4)])])).toEqual([at(1), at(2), at(3), at(4)]);
    expect(mergeSnapshot([at(1), at(2)], [batch([at(1), at(2)])])).toEqual([at(1), at(2)]);
  });

  it('finds the overlap across batches', () => {
    const merged = mergeSnapshot([at(1), at(2), at(3)], [batch([at(2)]), batch([at(3), at(4)]), batch([at(5)])]);
    expect(merged).toEqual([at(1), at(2), at(3), at(4), at(5)]);
  });

  it('finds the overlap across the lines a batch left out', () => {
    // at(2) and at(3) were left out of the second batch; the snapshot has them, and at(4).
    const received = [batch([at(1)]), batch([at(4), at(5)], 2)];
    expect(mergeSnapshot([at(0), at(1), at(2), at(3), at(4)], received)).toEqual([at(0), at(1), at(2), at(3), at(4), at(5)]);
    // The snapshot ends among the left-out lines.
    expect(mergeSnapshot([at(0), at(1), at(2)], received)).toEqual([at(0), at(1), at(2), at(4), at(5)]);
    // A snapshot shorter than what was left out.
    expect(mergeSnapshot([at(9)], [batch([at(20)], 5000)])).toEqual([at(9), at(20)]);
  });

  it('keeps genuinely repeated lines that are not an overlap', () => {
    const same = at(5);
    // The snapshot ends with one such line, two arrived: one of them was in the snapshot.
    expect(mergeSnapshot([at(1), same], [batch([same, same])])).toEqual([at(1), same, same]);
    expect(mergeSnapshot([at(1), same], [batch([same]), batch([same])])).toEqual([at(1), same, same]);
    expect(mergeSnapshot([], [batch([same])])).toEqual([same]);
  });
});

describe('filters', () => {
  const list = [
    at(1, { key: 'work', outcome: 'signed', host: 'github.com' }),
    at(2, { key: 'deploy', outcome: 'denied', host: null, forwarded: true }),
    at(3, { key: 'work', outcome: 'refused: not permitted for this host', host: 'gitlab.com' }),
  ];

  it('tells outcomes apart', () => {
    expect(outcomeKind('signed')).toBe('signed');
    expect(outcomeKind('denied')).toBe('denied');
    expect(outcomeKind('denied: no answer in time')).toBe('denied');
    expect(outcomeKind('deniedish')).toBe('other');
    expect(outcomeKind('refused: the agent is locked')).toBe('refused');
    expect(outcomeKind('something else')).toBe('other');
  });

  it('filters by outcome kind and by every word of the text', () => {
    expect(filterActivity(list, { text: '', outcome: 'refused' }).map((e) => e.key)).toEqual(['work']);
    expect(filterActivity(list, { text: 'work github', outcome: 'all' })).toHaveLength(1);
    expect(filterActivity(list, { text: 'FORWARDED', outcome: 'all' }).map((e) => e.key)).toEqual(['deploy']);
    expect(filterActivity(list, { text: '  ', outcome: 'all' })).toHaveLength(3);
  });
});
