// A stand-in for src/lib/api.ts with an in-memory store, so the UI can be looked at in a plain
// browser (screenshots, design work) without Tauri: `npm run preview:fake`. Never part of the
// app build. Query string: ?empty (no keys), ?nokeyring (keyring unavailable), ?locked,
// ?notrunning (another agent holds the socket), ?prompt=approval|forwarded|unlock|retry (a prompt
// waits; add &more for a queue).

import type {
  ActivityBatch,
  ActivityEntry,
  AgentStatus,
  AppInfo,
  ApprovalAnswer,
  ChangePassphraseRequest,
  DeleteRequest,
  ExportRequest,
  GenerateRequest,
  ImportProbe,
  ImportRequest,
  ImportSource,
  KeyDetails,
  KeyringStatus,
  KeySummary,
  Prompt,
  RememberRequest,
  Removed,
  Saved,
  SetCommentRequest,
  SetPolicyRequest,
  Settings,
  UnlockAnswer,
} from '../src/lib/bindings';
import type { FileDrop, SaveFilter } from '../src/lib/api';
import { identity } from '../src/test/agentFixtures';
import { probe, summary } from '../src/test/fixtures';

const params = new URLSearchParams(location.search);
const keyring = !params.has('nokeyring');
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fakeFingerprint(seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let h = 2166136261;
  let out = '';
  for (let i = 0; i < 43; i++) {
    h = Math.imul(h ^ seed.charCodeAt(i % seed.length) ^ i, 16777619) >>> 0;
    out += alphabet[h % 64];
  }
  return `SHA256:${out}`;
}

// The tests' fixtures, with Alice's names and paths: a generated, encrypted Ed25519 key.
function key(name: string, over: Partial<KeySummary> = {}): KeySummary {
  return summary({
    name,
    fingerprint_sha256: fakeFingerprint(name),
    comment: 'alice@workstation',
    path: `/home/alice/.local/share/latchkey/keys/${name}`,
    ...over,
  });
}

let keys: KeySummary[] = params.has('empty')
  ? []
  : [
      key('id_ed25519', { remembered: keyring }),
      key('github-deploy', {
        comment: 'deploy@ci',
        encrypted: false,
        kdf_rounds: null,
        policy: { confirm: true, hosts: ['github.com'], lifetime_minutes: 60, forwarding: 'deny' },
      }),
      key('legacy-rsa', {
        key_type: 'RSA',
        display_type: 'RSA 3072',
        bits: 3072,
        origin: 'registered',
        path: '/home/alice/.ssh/id_rsa',
        comment: 'alice@old-laptop',
      }),
      key('work-ecdsa', {
        key_type: 'ECDSA',
        display_type: 'ECDSA P-256',
        origin: 'imported',
        problem: 'the .pub file does not match the private key',
      }),
    ];

const ART =
  '+--[ED25519 256]--+\n|        .o+=*B=o.|\n|       . o.*+o*+.|\n|      . . =.o=o=.|\n|       o + ..oo+ |\n|        S   .oE..|\n|           . o+. |\n|            .=.o.|\n|            o.+.o|\n|           .o=.. |\n+----[SHA256]-----+';

function find(name: string): KeySummary {
  const k = keys.find((k) => k.name === name);
  if (!k) throw { code: 'no_such_key', message: `no key named ${name}` };
  return k;
}

function update(name: string, over: Partial<KeySummary>): KeySummary {
  const k = { ...find(name), ...over };
  keys = keys.map((x) => (x.name === name ? k : x));
  return k;
}

const warnings = () => (keyring ? [] : [{ code: 'keyring_unavailable', message: 'the passphrase was not remembered: no Secret Service' }]);

export const appInfo = async (): Promise<AppInfo> => ({ version: '0.1.0', data_dir: '/home/alice/.local/share/latchkey' });
export const keyringStatus = async (): Promise<KeyringStatus> =>
  keyring ? { available: true, detail: null } : { available: false, detail: 'org.freedesktop.secrets is not provided by any service' };
export const listKeys = async (): Promise<KeySummary[]> => [...keys];
export const keyDetails = async (name: string): Promise<KeyDetails> => {
  const k = find(name);
  return {
    summary: k,
    fingerprint_md5: 'MD5:3c:7e:1a:90:22:4f:b5:6d:e1:08:aa:cd:5e:71:2b:9f',
    randomart_sha256: ART,
    randomart_md5: ART.replace('[SHA256]-', '--[MD5]--'),
    public_key: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ${k.comment}`,
    public_key_rfc4716:
      '---- BEGIN SSH2 PUBLIC KEY ----\nComment: "256-bit ED25519, converted by alice@workstation"\nAAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n---- END SSH2 PUBLIC KEY ----\n',
  };
};
export const generateKey = async (r: GenerateRequest): Promise<Saved> => {
  await delay(r.kind === 'rsa' ? 2500 : 300);
  if (keys.some((k) => k.name === r.name)) throw { code: 'name_taken', message: `a key named ${r.name} already exists` };
  const display = r.kind === 'ed25519' ? 'Ed25519' : r.kind === 'ecdsa' ? `ECDSA P-${r.bits}` : `RSA ${r.bits}`;
  const k = key(r.name, {
    key_type: r.kind.toUpperCase(),
    display_type: display,
    bits: r.bits ?? 256,
    comment: r.comment ?? 'alice@workstation',
    encrypted: !r.no_passphrase,
    kdf_rounds: r.no_passphrase ? null : r.kdf === 'strong' ? 98 : 16,
    remembered: r.remember && keyring,
  });
  keys = [...keys, k];
  return { key: k, warnings: r.remember ? warnings() : [] };
};
export const probeImport = async (source: ImportSource): Promise<ImportProbe> => {
  await delay(200);
  if (source.type === 'text' && !source.text.includes('PRIVATE KEY')) {
    throw { code: 'unrecognized_format', message: 'no private key found in the pasted text' };
  }
  return probe({
    fingerprint_sha256: fakeFingerprint('imported'),
    comment: 'alice@old-laptop',
    suggested_name: source.type === 'path' ? source.path.split('/').pop() || 'imported' : 'pasted-key',
  });
};
export const importKey = async (r: ImportRequest): Promise<Saved> => {
  await delay(300);
  if (r.passphrase !== 'secret') throw { code: 'wrong_passphrase', message: 'the passphrase does not decrypt the key (try "secret")' };
  // The fake's sources are all encrypted, and the store keeps an encrypted key protected.
  if (r.no_passphrase && !r.new_passphrase) {
    throw {
      code: 'import_keeps_passphrase',
      message: 'the key is protected by a passphrase and stays protected in the store: keep its passphrase or choose a new one',
    };
  }
  const k = key(r.name, { origin: 'imported', encrypted: true, remembered: r.remember && keyring });
  keys = [...keys, k];
  return { key: k, warnings: r.remember ? warnings() : [] };
};
export const changePassphrase = async (r: ChangePassphraseRequest): Promise<Saved> => {
  await delay(200);
  return { key: update(r.name, { encrypted: r.new_passphrase !== null, kdf_rounds: r.new_passphrase ? 16 : null }), warnings: [] };
};
export const setComment = async (r: SetCommentRequest): Promise<KeySummary> => update(r.name, { comment: r.comment });
export const rememberPassphrase = async (r: RememberRequest): Promise<KeySummary> => update(r.name, { remembered: true });
export const forgetPassphrase = async (name: string): Promise<KeySummary> => update(name, { remembered: false });
export const exportKey = async (_r: ExportRequest): Promise<null> => null;
export const deleteKey = async (r: DeleteRequest): Promise<Removed> => {
  const k = find(r.name);
  keys = keys.filter((x) => x.name !== r.name);
  const files = k.origin !== 'registered' || r.delete_registered_files ? [k.path, `${k.path}.pub`] : [];
  return { name: r.name, deleted_files: files, warnings: [] };
};
export const pickKeyFile = async (): Promise<string | null> => '/home/alice/.ssh/id_ed25519_old';
export const pickSavePath = async (_t: string, name: string, _f: SaveFilter[] = []): Promise<string | null> =>
  `/home/alice/${name}`;
export const copyText = async (_text: string): Promise<void> => {};
export const onFileDrop = async (_handler: (e: FileDrop) => void): Promise<() => void> => () => {};

// The agent.

type Handler = () => void;
const listeners = { state: new Set<Handler>(), prompt: new Set<Handler>(), activity: new Set<(b: ActivityBatch) => void>() };
const emit = (kind: 'state' | 'prompt') => setTimeout(() => listeners[kind].forEach((h) => h()), 0);

let locked = params.has('locked');
// Locking from the app removes the keys added with ssh-add (store keys unlock again on demand).
let sshAdded = !locked;
let settings: Settings = { idle_lock_minutes: 15, notify_on_sign: true, start_at_login: false };
const socket = '/run/user/1000/latchkey/agent.sock';
const chain = {
  processes: [
    { pid: 48213, exe: '/usr/bin/ssh', command: 'ssh -o SendEnv=GIT_PROTOCOL git@github.com git-receive-pack \'alice/latchkey.git\'' },
    { pid: 48210, exe: '/usr/bin/git', command: 'git push origin main --force-with-lease' },
    { pid: 40017, exe: '/usr/bin/zsh', command: '-zsh' },
  ],
};

let prompts: Prompt[] = [];
const which = params.get('prompt');
if (which) {
  const fp = fakeFingerprint('id_ed25519');
  if (which === 'unlock' || which === 'retry') {
    prompts.push({ kind: 'unlock', id: 1, request: { key_name: 'id_ed25519', fingerprint: fp, process: chain, destination: 'github.com', retry: which === 'retry' } });
  } else {
    const forwarded = which === 'forwarded';
    prompts.push({
      kind: 'approval',
      id: 1,
      request: { key_name: 'id_ed25519', fingerprint: fp, process: chain, destination: forwarded ? null : 'github.com', forwarded, reason: forwarded ? 'forwarded' : 'confirm' },
    });
  }
  if (params.has('more')) {
    prompts.push({ kind: 'unlock', id: 2, request: { key_name: 'legacy-rsa', fingerprint: fakeFingerprint('legacy-rsa'), process: chain, destination: null, retry: false } });
  }
}

const log: ActivityEntry[] = Array.from({ length: 14 }, (_, i) => ({
  time: new Date(Date.now() - (14 - i) * 7 * 60_000).toISOString(),
  key: i % 3 === 0 ? 'github-deploy' : 'id_ed25519',
  fingerprint: fakeFingerprint(i % 3 === 0 ? 'github-deploy' : 'id_ed25519'),
  process: i % 4 === 1 ? 'ssh (pid 3310) ← bash (pid 3001)' : 'ssh (pid 48213) ← git (pid 48210) ← zsh (pid 40017)',
  host: i % 5 === 4 ? null : i % 2 ? 'github.com' : 'build.corp.example',
  forwarded: i === 9,
  outcome: i === 9 ? 'denied' : i === 12 ? 'refused: not permitted for this host' : 'signed',
}));

function status(): AgentStatus {
  const serving = !params.has('notrunning');
  return {
    serving,
    socket,
    problem: serving ? null : `another agent is already serving ${socket} (pid 2211)`,
    locked,
    identities: keys
      .filter((k) => !k.problem)
      .map((k, i) => ({
        name: k.name,
        fingerprint: k.fingerprint_sha256,
        comment: k.comment,
        key_type: k.key_type === 'RSA' ? 'ssh-rsa' : k.key_type === 'ECDSA' ? 'ecdsa-sha2-nistp256' : 'ssh-ed25519',
        from_store: true,
        unlocked: !locked && i < 2,
        confirm: k.policy.confirm,
        hosts: k.policy.hosts ?? [],
        expires_in_secs: !locked && i === 1 ? 3412 : null,
      }))
      .concat(
        sshAdded
          ? [
              identity({
                name: 'alice@old-laptop',
                fingerprint: fakeFingerprint('ssh-add'),
                comment: 'alice@old-laptop',
                from_store: false,
                unlocked: true,
              }),
            ]
          : [],
      ),
    export_line: `export SSH_AUTH_SOCK=${socket}`,
    settings,
  };
}

export const agentStatus = async (): Promise<AgentStatus> => status();
export const agentActivity = async (): Promise<ActivityEntry[]> => [...log];
export const agentLock = async (): Promise<AgentStatus> => {
  locked = true;
  sshAdded = false;
  emit('state');
  return status();
};
export const agentUnlock = async (): Promise<AgentStatus> => {
  locked = false;
  emit('state');
  return status();
};
export const setKeyPolicy = async (r: SetPolicyRequest): Promise<KeySummary> => {
  await delay(150);
  return update(r.name, { policy: r.policy });
};
export const pendingPrompts = async (): Promise<Prompt[]> => [...prompts];
function answered(id: number, outcome: string): boolean {
  const p = prompts.find((x) => x.id === id);
  if (!p) return false;
  prompts = prompts.filter((x) => x.id !== id);
  const entry: ActivityEntry = {
    time: new Date().toISOString(),
    key: p.request.key_name,
    fingerprint: p.request.fingerprint,
    process: 'ssh (pid 48213) ← git (pid 48210) ← zsh (pid 40017)',
    host: p.request.destination,
    forwarded: p.kind === 'approval' && p.request.forwarded,
    outcome,
  };
  log.push(entry);
  setTimeout(() => listeners.activity.forEach((h) => h({ entries: [entry], dropped: 0 })), 0);
  emit('prompt');
  return true;
}
export const answerApproval = async (r: ApprovalAnswer): Promise<boolean> =>
  answered(r.id, r.decision.kind === 'deny' ? 'denied' : 'signed');
export const answerUnlock = async (r: UnlockAnswer): Promise<boolean> =>
  answered(r.id, r.passphrase ? 'signed' : 'refused: no passphrase');
export const saveSettings = async (s: Settings): Promise<Settings> => {
  await delay(100);
  settings = { ...s };
  return settings;
};
export const onAgentState = async (h: () => void): Promise<() => void> => {
  listeners.state.add(h);
  return () => listeners.state.delete(h);
};
export const onAgentPrompt = async (h: () => void): Promise<() => void> => {
  listeners.prompt.add(h);
  return () => listeners.prompt.delete(h);
};
export const onAgentActivity = async (h: (b: ActivityBatch) => void): Promise<() => void> => {
  listeners.activity.add(h);
  return () => listeners.activity.delete(h);
};
