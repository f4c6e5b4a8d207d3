// Agent test data shaped like the backend's answers. preview/fake-api.ts builds on it too.

import type { ActivityEntry, AgentStatus, ApprovalRequest, IdentityView, Prompt, UnlockRequest } from '../lib/bindings';

export function identity(over: Partial<IdentityView> = {}): IdentityView {
  return {
    name: 'work',
    fingerprint: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
    comment: 'me@laptop',
    key_type: 'ssh-ed25519',
    from_store: true,
    unlocked: false,
    confirm: false,
    hosts: [],
    expires_in_secs: null,
    ...over,
  };
}

export function agentStatus(over: Partial<AgentStatus> = {}): AgentStatus {
  return {
    serving: true,
    socket: '/run/user/1000/latchkey/agent.sock',
    problem: null,
    locked: false,
    identities: [identity()],
    export_line: 'export SSH_AUTH_SOCK=/run/user/1000/latchkey/agent.sock',
    settings: { idle_lock_minutes: null, notify_on_sign: true, start_at_login: false },
    ...over,
  };
}

export function activity(over: Partial<ActivityEntry> = {}): ActivityEntry {
  return {
    time: '2025-03-01T10:00:00Z',
    key: 'work',
    fingerprint: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
    process: 'ssh (pid 12) ← bash (pid 3)',
    host: 'github.com',
    forwarded: false,
    outcome: 'signed',
    ...over,
  };
}

const process = {
  processes: [
    { pid: 4242, exe: '/usr/bin/ssh', command: 'ssh -T git@github.com' },
    { pid: 4200, exe: '/usr/bin/git', command: 'git push origin main' },
    { pid: 3100, exe: '/usr/bin/bash', command: '-bash' },
  ],
};

export function approval(id = 1, over: Partial<ApprovalRequest> = {}): Prompt {
  return {
    kind: 'approval',
    id,
    request: {
      key_name: 'work',
      fingerprint: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
      process,
      destination: 'github.com',
      forwarded: false,
      reason: 'confirm',
      ...over,
    },
  };
}

export function unlockPrompt(id = 2, over: Partial<UnlockRequest> = {}): Prompt {
  return {
    kind: 'unlock',
    id,
    request: {
      key_name: 'work',
      fingerprint: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
      process,
      destination: null,
      retry: false,
      ...over,
    },
  };
}
