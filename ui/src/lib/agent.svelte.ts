// The window's view of the agent: its status, the activity log and the prompts waiting for the
// user, kept current by the shell's events. One instance, created by App: the Agent view reads
// it, and the prompt dialog shows over whichever view is open.
//
// Subscribe first, then take the snapshots, so nothing that happens in between is lost:
// "agent-state" and "agent-prompt" refetch (responses to older requests are dropped), activity
// batches that arrive before the first snapshot are merged into it without duplicates, and so is
// the first one after it (the shell sends a burst's lines up to 250 ms after recording them, so
// the snapshot may hold some of them already).
//
// Passphrases pass through `answerUnlock` to the backend and are never kept here.

import * as api from './api';
import { addBatch, fromSnapshot, mergeSnapshot } from './activity';
import { agentState, type AgentState } from './agentState';
import type { ActivityBatch, ActivityEntry, AgentStatus, Decision, IpcError, Settings } from './bindings';
import { toIpcError } from './errors';
import { currentPrompt, syncPrompts, withoutPrompt, type QueuedPrompt } from './prompts';

export type Answered = { delivered: boolean; error: IpcError | null };

export class AgentStore {
  status: AgentStatus | null = $state.raw(null);
  /** When `status` was fetched (the identities' lifetimes count down from then). */
  statusAt = $state(0);
  statusError: IpcError | null = $state.raw(null);
  /** Newest first, bounded. */
  activity: ActivityEntry[] = $state.raw([]);
  activityLoaded = $state(false);
  activityError: IpcError | null = $state.raw(null);
  /** Pending prompts, oldest first. */
  queue: QueuedPrompt[] = $state.raw([]);
  /** Subscribing to the shell's events failed: the view does not update by itself. */
  liveError: IpcError | null = $state.raw(null);

  #clock: () => number;
  #statusSeq = 0;
  #promptSeq = 0;
  /** Prompts answered (or expired) here, left out of snapshots taken before the answer landed. */
  #answered = new Set<number>();
  /** Activity batches received before the first snapshot arrived (null once it has). */
  #early: ActivityBatch[] | null = [];
  /** The snapshot is in, and the next batch may overlap its end. */
  #settling = false;
  #unsubscribe: (() => void)[] = [];
  #stopped = false;

  constructor(clock: () => number = () => Date.now()) {
    this.#clock = clock;
  }

  get state(): AgentState | null {
    return this.status ? agentState(this.status) : null;
  }

  /** The prompt to show now. */
  get current(): QueuedPrompt | null {
    return currentPrompt(this.queue);
  }

  /** Subscribe to the shell's events, then take the snapshots. */
  async start(): Promise<void> {
    const subscriptions = await Promise.allSettled([
      api.onAgentState(() => void this.refreshStatus()),
      api.onAgentActivity((batch) => this.#received(batch)),
      api.onAgentPrompt(() => void this.refreshPrompts()),
    ]);
    for (const s of subscriptions) {
      if (s.status === 'rejected') this.liveError = toIpcError(s.reason);
      else if (typeof s.value !== 'function') continue;
      else if (this.#stopped) s.value();
      else this.#unsubscribe.push(s.value);
    }
    if (this.#stopped) return;
    await Promise.all([this.refreshStatus(), this.#loadActivity(), this.refreshPrompts()]);
  }

  /** Unsubscribe (also from subscriptions still being set up). */
  stop(): void {
    this.#stopped = true;
    for (const stop of this.#unsubscribe.splice(0)) stop();
  }

  async refreshStatus(): Promise<void> {
    const seq = ++this.#statusSeq;
    try {
      const status = await api.agentStatus();
      if (seq === this.#statusSeq) this.#applyStatus(status);
    } catch (e) {
      if (seq === this.#statusSeq) this.statusError = toIpcError(e);
    }
  }

  async refreshPrompts(): Promise<void> {
    const seq = ++this.#promptSeq;
    try {
      const pending = await api.pendingPrompts();
      if (seq === this.#promptSeq) this.queue = syncPrompts(this.queue, pending, this.#clock(), this.#answered);
    } catch {
      // Keep what is shown; the next "agent-prompt" event asks again.
    }
  }

  /** Lock the agent; resolves to the error, if any. */
  lock(): Promise<IpcError | null> {
    return this.#statusCall(api.agentLock);
  }

  /** Unlock the agent; `locked_with_password` when a client locked it with ssh-add -x. */
  unlock(): Promise<IpcError | null> {
    return this.#statusCall(api.agentUnlock);
  }

  /** Save the settings; rejects with the IpcError. */
  async saveSettings(settings: Settings): Promise<Settings> {
    try {
      const saved = await api.saveSettings(settings);
      if (this.status) this.status = { ...this.status, settings: saved };
      return saved;
    } catch (e) {
      // "autostart_failed" saves the rest: show what is stored now.
      void this.refreshStatus();
      throw toIpcError(e);
    }
  }

  /** Answer an approval prompt. It leaves the queue at once; `delivered` is false if it had expired. */
  answerApproval(id: number, decision: Decision): Promise<Answered> {
    return this.#answer(id, () => api.answerApproval({ id, decision }));
  }

  /** Answer an unlock prompt (null: declined). The passphrase is passed on, not kept. */
  answerUnlock(id: number, passphrase: string | null): Promise<Answered> {
    return this.#answer(id, () => api.answerUnlock({ id, passphrase }));
  }

  /**
   * The window's countdown of a prompt ran out. The backend, which started counting before the
   * window saw the prompt, has given up on it by now: stop showing it and check.
   */
  expire(id: number): void {
    this.#answered.add(id);
    this.queue = withoutPrompt(this.queue, id);
    void this.refreshPrompts();
  }

  async #answer(id: number, send: () => Promise<boolean>): Promise<Answered> {
    this.#answered.add(id);
    this.queue = withoutPrompt(this.queue, id);
    try {
      return { delivered: await send(), error: null };
    } catch (e) {
      // Not delivered: show it again if it is still pending.
      this.#answered.delete(id);
      void this.refreshPrompts();
      return { delivered: false, error: toIpcError(e) };
    }
  }

  async #statusCall(call: () => Promise<AgentStatus>): Promise<IpcError | null> {
    const seq = ++this.#statusSeq;
    try {
      const status = await call();
      if (seq === this.#statusSeq) this.#applyStatus(status);
      return null;
    } catch (e) {
      void this.refreshStatus();
      return toIpcError(e);
    }
  }

  #applyStatus(status: AgentStatus): void {
    this.status = status;
    this.statusAt = this.#clock();
    this.statusError = null;
  }

  #received(batch: ActivityBatch): void {
    if (this.#early) {
      this.#early.push(batch);
    } else if (this.#settling) {
      this.#settling = false;
      this.activity = fromSnapshot(mergeSnapshot([...this.activity].reverse(), [batch]));
    } else {
      this.activity = addBatch(this.activity, batch);
    }
  }

  async #loadActivity(): Promise<void> {
    let snapshot: ActivityEntry[] = [];
    try {
      snapshot = await api.agentActivity();
      this.activityError = null;
      this.#settling = true;
    } catch (e) {
      this.activityError = toIpcError(e);
    }
    this.activity = fromSnapshot(mergeSnapshot(snapshot, this.#early ?? []));
    this.#early = null;
    this.activityLoaded = true;
  }
}
