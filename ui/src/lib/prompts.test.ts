import { describe, expect, it } from 'vitest';

import { approval, unlockPrompt } from '../test/agentFixtures';
import {
  appName,
  buildDecision,
  currentPrompt,
  grantScope,
  secondsLeft,
  shortExe,
  syncPrompts,
  withoutPrompt,
  type QueuedPrompt,
} from './prompts';

describe('syncPrompts', () => {
  it('queues new prompts oldest first, seen now', () => {
    const q = syncPrompts([], [unlockPrompt(7), approval(3)], 1000);
    expect(q.map((p) => p.prompt.id)).toEqual([3, 7]);
    expect(q.map((p) => p.seenAt)).toEqual([1000, 1000]);
    expect(currentPrompt(q)?.prompt.id).toBe(3);
  });

  it('keeps the time a prompt was first seen across snapshots', () => {
    const first = syncPrompts([], [approval(1)], 1000);
    const second = syncPrompts(first, [approval(1), approval(2)], 9000);
    expect(second).toEqual([
      { prompt: approval(1), seenAt: 1000 },
      { prompt: approval(2), seenAt: 9000 },
    ]);
  });

  it('drops prompts that are no longer pending, and the next one becomes current', () => {
    const q = syncPrompts([], [approval(1), approval(2)], 0);
    const after = syncPrompts(q, [approval(2)], 5000);
    expect(after.map((p) => p.prompt.id)).toEqual([2]);
    expect(currentPrompt(after)?.seenAt).toBe(0);
    expect(currentPrompt(syncPrompts(after, [], 6000))).toBeNull();
  });

  it('leaves out prompts answered here even if a stale snapshot still lists them', () => {
    const q = syncPrompts([], [approval(1), approval(2)], 0);
    const answered = withoutPrompt(q, 1);
    expect(answered.map((p) => p.prompt.id)).toEqual([2]);
    const stale = syncPrompts(answered, [approval(1), approval(2)], 100, new Set([1]));
    expect(stale.map((p) => p.prompt.id)).toEqual([2]);
  });
});

describe('secondsLeft', () => {
  const seen = 10_000;
  it('counts down the 30 s from when the prompt was first seen', () => {
    expect(secondsLeft(seen, seen)).toBe(30);
    expect(secondsLeft(seen, seen + 1)).toBe(30);
    expect(secondsLeft(seen, seen + 1000)).toBe(29);
    expect(secondsLeft(seen, seen + 29_001)).toBe(1);
    expect(secondsLeft(seen, seen + 30_000)).toBe(0);
  });

  it('never goes below 0 or above the timeout', () => {
    expect(secondsLeft(seen, seen + 90_000)).toBe(0);
    expect(secondsLeft(seen, seen - 5000)).toBe(30);
    expect(secondsLeft(seen, seen + 2000, 10)).toBe(8);
  });
});

describe('buildDecision', () => {
  it('maps each button to its decision', () => {
    expect(buildDecision('allow-once')).toEqual({ kind: 'allow-once' });
    expect(buildDecision('allow-until-lock')).toEqual({ kind: 'allow-until-lock' });
    expect(buildDecision('deny')).toEqual({ kind: 'deny' });
  });

  it('turns the selected minutes (a select value) into allow-application', () => {
    expect(buildDecision('allow-application', '60')).toEqual({ kind: 'allow-application', minutes: 60 });
    expect(buildDecision('allow-application', 5)).toEqual({ kind: 'allow-application', minutes: 5 });
    expect(buildDecision('allow-application')).toEqual({ kind: 'allow-application', minutes: 15 });
  });

  it('refuses a number of minutes that is not one', () => {
    expect(() => buildDecision('allow-application', '')).toThrow();
    expect(() => buildDecision('allow-application', '0')).toThrow();
    expect(() => buildDecision('allow-application', 'abc')).toThrow();
  });
});

describe('who asked', () => {
  it('names the application after the first process of the chain', () => {
    const p = approval(1) as Extract<QueuedPrompt['prompt'], { kind: 'approval' }>;
    expect(appName(p.request.process)).toBe('ssh');
    expect(appName({ processes: [] })).toBe('this program');
    expect(shortExe('/usr/lib/git-core/git-remote-http')).toBe('git-remote-http');
    expect(shortExe('ssh')).toBe('ssh');
  });

  it('scopes a standing grant to the client under the last process of the chain (the session leader)', () => {
    const p = approval(1) as Extract<QueuedPrompt['prompt'], { kind: 'approval' }>;
    // ssh ← git ← bash: the session leader is a shell, so this is a terminal.
    expect(grantScope(p.request.process)).toBe('ssh in this terminal (bash, pid 3100)');
    expect(
      grantScope({
        processes: [
          { pid: 77, exe: '/usr/bin/git', command: 'git fetch' },
          { pid: 50, exe: '/usr/share/code/code', command: 'code' },
        ],
      }),
    ).toBe('git in code (pid 50)');
    expect(grantScope({ processes: [{ pid: 9, exe: '/usr/bin/ssh', command: 'ssh host' }] })).toBe('ssh');
    expect(grantScope({ processes: [] })).toBe('this program');
  });
});
