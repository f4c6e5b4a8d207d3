// The prompt queue, as the window shows it: one prompt at a time, oldest first, each with the
// time the window first saw it (the backend counts 30 s from when it asked, and treats silence as
// "deny"; the prompt carries no timestamp, so the countdown starts when the window learns of it).
//
// Pure: the agent store feeds it snapshots of `pending_prompts` and the clock.

import type { Decision, ProcessChain, ProcessInfo, Prompt } from './bindings';

/** The core's PROMPT_TIMEOUT (src/agent/approval.rs). */
export const PROMPT_TIMEOUT_SECS = 30;

/** The choices "Allow <app> (in this terminal) for N minutes" offers. */
export const APP_MINUTES = [5, 15, 60] as const;
export const DEFAULT_APP_MINUTES = 15;

export type QueuedPrompt = { prompt: Prompt; seenAt: number };

/**
 * The queue after a snapshot of the pending prompts: those no longer pending leave, new ones join
 * with `now` as the time they were first seen, known ones keep theirs. Prompts already answered
 * here are left out even if a snapshot taken before the answer still lists them.
 */
export function syncPrompts(
  queue: readonly QueuedPrompt[],
  pending: readonly Prompt[],
  now: number,
  answered: ReadonlySet<number> = new Set(),
): QueuedPrompt[] {
  const seen = new Map(queue.map((q) => [q.prompt.id, q.seenAt]));
  return pending
    .filter((p) => !answered.has(p.id))
    .map((prompt) => ({ prompt, seenAt: seen.get(prompt.id) ?? now }))
    .sort((a, b) => a.prompt.id - b.prompt.id);
}

/** The queue once a prompt was answered here. */
export function withoutPrompt(queue: readonly QueuedPrompt[], id: number): QueuedPrompt[] {
  return queue.filter((q) => q.prompt.id !== id);
}

/** The prompt to show: the oldest. */
export function currentPrompt(queue: readonly QueuedPrompt[]): QueuedPrompt | null {
  return queue[0] ?? null;
}

/** Whole seconds left before the backend gives up on a prompt first seen at `seenAt`. */
export function secondsLeft(seenAt: number, now: number, timeoutSecs = PROMPT_TIMEOUT_SECS): number {
  const left = timeoutSecs - (now - seenAt) / 1000;
  return Math.min(timeoutSecs, Math.max(0, Math.ceil(left)));
}

/** The last path component of an executable: "/usr/bin/ssh" -> "ssh". */
export function shortExe(exe: string): string {
  const trimmed = exe.replace(/\/+$/, '');
  const name = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return name || exe;
}

/** The program that asked: the first process of the chain (the socket's peer). */
export function client(chain: ProcessChain): ProcessInfo | null {
  return chain.processes[0] ?? null;
}

/** What "Allow <app>" calls the program that asked. */
export function appName(chain: ProcessChain): string {
  const first = client(chain);
  return first ? shortExe(first.exe) : 'this program';
}

/** Session leaders that mean a terminal (its shell); any other leader is an app. */
const SHELLS = new Set([
  'sh', 'bash', 'zsh', 'fish', 'dash', 'ksh', 'mksh', 'oksh', 'tcsh', 'csh', 'yash', 'nu', 'elvish', 'xonsh', 'pwsh', 'ion',
]);

/**
 * Who a standing grant ("Allow … for N minutes", "until the agent locks") covers, in words: the
 * client (the first process) started again under the same session leader (the last process: the
 * terminal's shell, or the app). "ssh in this terminal (bash, pid 100)", "ssh in code (pid 100)";
 * just "ssh" when the chain is a single process.
 */
export function grantScope(chain: ProcessChain): string {
  const app = appName(chain);
  const processes = chain.processes;
  if (processes.length < 2) return app;
  const leader = processes[processes.length - 1];
  const name = shortExe(leader.exe);
  return SHELLS.has(name)
    ? `${app} in this terminal (${name}, pid ${leader.pid})`
    : `${app} in ${name} (pid ${leader.pid})`;
}

export type ApprovalChoice = 'allow-once' | 'allow-application' | 'allow-until-lock' | 'deny';

/** The decision a button stands for; `minutes` is the select next to "Allow <app>". */
export function buildDecision(choice: ApprovalChoice, minutes: number | string = DEFAULT_APP_MINUTES): Decision {
  switch (choice) {
    case 'allow-once':
      return { kind: 'allow-once' };
    case 'allow-application': {
      const m = typeof minutes === 'string' ? Number.parseInt(minutes, 10) : minutes;
      if (!Number.isInteger(m) || m <= 0) throw new Error(`not a number of minutes: ${String(minutes)}`);
      return { kind: 'allow-application', minutes: m };
    }
    case 'allow-until-lock':
      return { kind: 'allow-until-lock' };
    case 'deny':
      return { kind: 'deny' };
  }
}
