// The agent's status in words: the state the status card and the navigation show, and the
// countdown of a key's lifetime. Pure.

import type { AgentStatus, IdentityView } from './bindings';

export type AgentState = 'running' | 'locked' | 'not-running';

export function agentState(status: AgentStatus): AgentState {
  if (!status.serving) return 'not-running';
  return status.locked ? 'locked' : 'running';
}

export const STATE_LABELS: Record<AgentState, string> = {
  running: 'Running',
  locked: 'Locked',
  'not-running': 'Not running',
};

/** Seconds left of an identity's lifetime, counted down from when the status was fetched. */
export function remainingSecs(identity: IdentityView, fetchedAt: number, now: number): number | null {
  if (identity.expires_in_secs === null) return null;
  return Math.max(0, Math.ceil(identity.expires_in_secs - (now - fetchedAt) / 1000));
}

/** "0:42", "14:05", "2:03:00". */
export function formatRemaining(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
