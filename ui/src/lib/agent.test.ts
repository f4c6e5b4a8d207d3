import { describe, expect, it, vi } from 'vitest';

import { activity, agentStatus, approval, unlockPrompt } from '../test/agentFixtures';
import { AgentStore } from './agent.svelte';
import * as api from './api';
import { ACTIVITY_LIMIT } from './activity';
import type { ActivityBatch, ActivityEntry, AgentStatus, Prompt } from './bindings';

vi.mock('./api');

type Handlers = { state?: () => void; activity?: (b: ActivityBatch) => void; prompt?: () => void };

const batch = (entries: ActivityEntry[], dropped = 0): ActivityBatch => ({ entries, dropped });

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The shell: records the handlers; each unsubscribe is a spy. */
function backend() {
  const on: Handlers = {};
  const unsubscribed = { state: vi.fn(), activity: vi.fn(), prompt: vi.fn() };
  vi.mocked(api.onAgentState).mockImplementation(async (h) => ((on.state = h), unsubscribed.state));
  vi.mocked(api.onAgentActivity).mockImplementation(async (h) => ((on.activity = h), unsubscribed.activity));
  vi.mocked(api.onAgentPrompt).mockImplementation(async (h) => ((on.prompt = h), unsubscribed.prompt));
  vi.mocked(api.agentStatus).mockResolvedValue(agentStatus());
  vi.mocked(api.agentActivity).mockResolvedValue([]);
  vi.mocked(api.pendingPrompts).mockResolvedValue([]);
  return { on, unsubscribed };
}

const order = (fn: unknown) => vi.mocked(fn as () => void).mock.invocationCallOrder[0];

describe('AgentStore start', () => {
  it('subscribes to every event before taking any snapshot', async () => {
    backend();
    const store = new AgentStore();
    await store.start();
    const lastListen = Math.max(order(api.onAgentState), order(api.onAgentActivity), order(api.onAgentPrompt));
    expect(lastListen).toBeLessThan(order(api.agentStatus));
    expect(lastListen).toBeLessThan(order(api.agentActivity));
    expect(lastListen).toBeLessThan(order(api.pendingPrompts));
    expect(store.status).toEqual(agentStatus());
    expect(store.state).toBe('running');
  });

  it('waits for the subscriptions to be in place before the snapshot', async () => {
    backend();
    const listening = deferred<() => void>();
    vi.mocked(api.onAgentState).mockReturnValue(listening.promise);
    const store = new AgentStore();
    const started = store.start();
    await Promise.resolve();
    await Promise.resolve();
    expect(api.agentStatus).not.toHaveBeenCalled();
    listening.resolve(() => {});
    await started;
    expect(api.agentStatus).toHaveBeenCalledTimes(1);
  });

  it('still takes the snapshot when events cannot be subscribed to, and says so', async () => {
    backend();
    vi.mocked(api.onAgentPrompt).mockRejectedValue({ code: 'internal', message: 'no event plugin' });
    const store = new AgentStore();
    await store.start();
    expect(store.liveError?.message).toBe('no event plugin');
    expect(store.status).not.toBeNull();
  });

  it('unsubscribes on stop, also from subscriptions that complete afterwards', async () => {
    const { unsubscribed } = backend();
    const late = deferred<() => void>();
    const lateStop = vi.fn();
    vi.mocked(api.onAgentPrompt).mockReturnValue(late.promise);
    const store = new AgentStore();
    const started = store.start();
    await Promise.resolve();
    store.stop();
    late.resolve(lateStop);
    await started;
    expect(unsubscribed.state).toHaveBeenCalled();
    expect(unsubscribed.activity).toHaveBeenCalled();
    expect(lateStop).toHaveBeenCalled();
    expect(api.agentStatus).not.toHaveBeenCalled();
  });
});

describe('AgentStore status', () => {
  it('refetches on agent-state and ignores an answer that arrives after a newer one', async () => {
    const { on } = backend();
    const store = new AgentStore();
    await store.start();
    const slow = deferred<AgentStatus>();
    const fast = deferred<AgentStatus>();
    vi.mocked(api.agentStatus).mockReturnValueOnce(slow.promise).mockReturnValueOnce(fast.promise);
    on.state!();
    on.state!();
    fast.resolve(agentStatus({ locked: true }));
    await vi.waitFor(() => expect(store.state).toBe('locked'));
    slow.resolve(agentStatus({ locked: false }));
    await slow.promise;
    await Promise.resolve();
    expect(store.state).toBe('locked');
  });

  it('applies the status lock returns, and reports why unlock failed', async () => {
    backend();
    const store = new AgentStore();
    await store.start();
    vi.mocked(api.agentLock).mockResolvedValue(agentStatus({ locked: true }));
    expect(await store.lock()).toBeNull();
    expect(store.state).toBe('locked');
    vi.mocked(api.agentUnlock).mockRejectedValue({ code: 'locked_with_password', message: 'use ssh-add -X' });
    vi.mocked(api.agentStatus).mockResolvedValue(agentStatus({ locked: true }));
    expect(await store.unlock()).toEqual({ code: 'locked_with_password', message: 'use ssh-add -X' });
    expect(store.state).toBe('locked');
  });

  it('says "not running" when the agent does not serve', async () => {
    backend();
    vi.mocked(api.agentStatus).mockResolvedValue(agentStatus({ serving: false, problem: 'another agent is running' }));
    const store = new AgentStore();
    await store.start();
    expect(store.state).toBe('not-running');
  });
});

describe('AgentStore activity', () => {
  it('merges events that arrived while the snapshot was on its way, once each, newest first', async () => {
    const { on } = backend();
    const snapshot = deferred<ActivityEntry[]>();
    vi.mocked(api.agentActivity).mockReturnValue(snapshot.promise);
    const a = activity({ time: '2025-03-01T10:00:01Z' });
    const b = activity({ time: '2025-03-01T10:00:02Z', outcome: 'denied' });
    const c = activity({ time: '2025-03-01T10:00:03Z' });
    const store = new AgentStore();
    const started = store.start();
    await vi.waitFor(() => expect(api.agentActivity).toHaveBeenCalled());
    on.activity!(batch([b])); // already in the snapshot
    on.activity!(batch([c])); // not yet
    snapshot.resolve([a, b]);
    await started;
    expect(store.activity).toEqual([c, b, a]);
    const d = activity({ time: '2025-03-01T10:00:04Z' });
    on.activity!(batch([d]));
    expect(store.activity.map((e) => e.time)).toEqual([d.time, c.time, b.time, a.time]);
    const e = activity({ time: '2025-03-01T10:00:05Z' });
    on.activity!(batch([d, e]));
    expect(store.activity.map((x) => x.time)).toEqual([e.time, d.time, d.time, c.time, b.time, a.time]);
  });

  it('counts once the lines of a burst the snapshot holds and the batch after it brings again', async () => {
    const { on } = backend();
    const at = (n: number) => activity({ time: `2025-03-01T10:00:${String(n).padStart(2, '0')}Z` });
    // The shell recorded 1..4 but had sent only 1 when the snapshot was taken; 2..4 come later.
    vi.mocked(api.agentActivity).mockResolvedValue([at(1), at(2), at(3), at(4)]);
    const store = new AgentStore();
    await store.start();
    on.activity!(batch([at(3), at(4), at(5)], 1));
    expect(store.activity).toEqual([at(5), at(4), at(3), at(2), at(1)]);
    // Later batches are new lines, even if they look the same.
    on.activity!(batch([at(5)]));
    expect(store.activity).toEqual([at(5), at(5), at(4), at(3), at(2), at(1)]);
  });

  it('keeps the list bounded through a burst', async () => {
    const { on } = backend();
    const store = new AgentStore();
    await store.start();
    for (let round = 0; round < 5; round++) {
      const entries = Array.from({ length: ACTIVITY_LIMIT }, (_, i) => activity({ time: `${round}:${i}` }));
      on.activity!(batch(entries, 20_000));
    }
    expect(store.activity).toHaveLength(ACTIVITY_LIMIT);
    expect(store.activity[0].time).toBe(`4:${ACTIVITY_LIMIT - 1}`);
    expect(store.activity[ACTIVITY_LIMIT - 1].time).toBe('4:0');
  });
});

describe('AgentStore prompts', () => {
  it('refetches on agent-prompt; a prompt leaves when it is no longer pending', async () => {
    const { on } = backend();
    vi.mocked(api.pendingPrompts).mockResolvedValue([approval(1), unlockPrompt(2)]);
    const store = new AgentStore(() => 5000);
    await store.start();
    expect(store.current).toEqual({ prompt: approval(1), seenAt: 5000 });
    expect(store.queue).toHaveLength(2);
    vi.mocked(api.pendingPrompts).mockResolvedValue([unlockPrompt(2)]);
    on.prompt!();
    await vi.waitFor(() => expect(store.current?.prompt.id).toBe(2));
    vi.mocked(api.pendingPrompts).mockResolvedValue([]);
    on.prompt!();
    await vi.waitFor(() => expect(store.current).toBeNull());
  });

  it('takes an answered prompt off the queue at once, even if a stale snapshot lists it', async () => {
    const { on } = backend();
    vi.mocked(api.pendingPrompts).mockResolvedValue([approval(1)]);
    const store = new AgentStore();
    await store.start();
    const stale = deferred<Prompt[]>();
    vi.mocked(api.pendingPrompts).mockReturnValue(stale.promise);
    on.prompt!();
    vi.mocked(api.answerApproval).mockResolvedValue(true);
    const answered = store.answerApproval(1, { kind: 'allow-once' });
    expect(store.current).toBeNull();
    expect(await answered).toEqual({ delivered: true, error: null });
    expect(api.answerApproval).toHaveBeenCalledWith({ id: 1, decision: { kind: 'allow-once' } });
    stale.resolve([approval(1)]);
    await stale.promise;
    await Promise.resolve();
    expect(store.current).toBeNull();
  });

  it('shows a prompt again when its answer could not be delivered', async () => {
    backend();
    vi.mocked(api.pendingPrompts).mockResolvedValue([unlockPrompt(2)]);
    const store = new AgentStore();
    await store.start();
    vi.mocked(api.answerUnlock).mockRejectedValue({ code: 'internal', message: 'ipc down' });
    const answered = await store.answerUnlock(2, 'secret');
    expect(answered.error?.message).toBe('ipc down');
    await vi.waitFor(() => expect(store.current?.prompt.id).toBe(2));
  });

  it('passes the passphrase on without keeping it', async () => {
    backend();
    vi.mocked(api.pendingPrompts).mockResolvedValue([unlockPrompt(2)]);
    const store = new AgentStore();
    await store.start();
    vi.mocked(api.answerUnlock).mockResolvedValue(false);
    expect(await store.answerUnlock(2, 'hunter2-secret')).toEqual({ delivered: false, error: null });
    expect(api.answerUnlock).toHaveBeenCalledWith({ id: 2, passphrase: 'hunter2-secret' });
    const kept = JSON.stringify({ s: store.status, q: store.queue, a: store.activity });
    expect(kept).not.toContain('hunter2-secret');
  });

  it('stops showing a prompt whose countdown ran out and checks with the backend', async () => {
    backend();
    vi.mocked(api.pendingPrompts).mockResolvedValue([approval(1)]);
    const store = new AgentStore();
    await store.start();
    store.expire(1);
    expect(store.current).toBeNull();
    expect(api.pendingPrompts).toHaveBeenCalledTimes(2);
  });
});

describe('AgentStore settings', () => {
  it('saves and shows the saved settings in the status', async () => {
    backend();
    const store = new AgentStore();
    await store.start();
    const settings = { idle_lock_minutes: 15, notify_on_sign: false, start_at_login: true };
    vi.mocked(api.saveSettings).mockResolvedValue(settings);
    await store.saveSettings(settings);
    expect(api.saveSettings).toHaveBeenCalledWith(settings);
    expect(store.status?.settings).toEqual(settings);
  });
});
