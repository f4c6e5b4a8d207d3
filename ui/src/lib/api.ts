// The one module that talks to Tauri. Everything else calls these typed functions, and tests mock
// this module alone. Each command rejects with an `IpcError {code, message}`; anything else that
// comes back (a plugin's string error, a missing IPC bridge) is normalised to one. The shell's
// events (agent state, activity, prompts) are subscribed to here too.
//
// Arguments are passed through untouched and never logged: several of them carry passphrases or
// private key text.

import { invoke, isTauri } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { homeDir, join } from '@tauri-apps/api/path';
import { getCurrentWebview } from '@tauri-apps/api/webview';
import { writeText } from '@tauri-apps/plugin-clipboard-manager';
import { open, save } from '@tauri-apps/plugin-dialog';

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
  UnlockAnswer, IntegrationStatus } from './bindings';
import { toIpcError } from './errors';

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

export const appInfo = () => call<AppInfo>('app_info');
export const keyringStatus = () => call<KeyringStatus>('keyring_status');
export const listKeys = () => call<KeySummary[]>('list_keys');
export const keyDetails = (name: string) => call<KeyDetails>('key_details', { name });
export const generateKey = (request: GenerateRequest) => call<Saved>('generate_key', { request });
export const probeImport = (source: ImportSource) => call<ImportProbe>('probe_import', { source });
export const importKey = (request: ImportRequest) => call<Saved>('import_key', { request });
export const changePassphrase = (request: ChangePassphraseRequest) =>
  call<Saved>('change_passphrase', { request });
export const setComment = (request: SetCommentRequest) => call<KeySummary>('set_comment', { request });
export const rememberPassphrase = (request: RememberRequest) =>
  call<KeySummary>('remember_passphrase', { request });
export const forgetPassphrase = (name: string) => call<KeySummary>('forget_passphrase', { name });
export const exportKey = (request: ExportRequest) => call<null>('export_key', { request });
export const deleteKey = (request: DeleteRequest) => call<Removed>('delete_key', { request });

export const agentStatus = () => call<AgentStatus>('agent_status');
export const agentActivity = () => call<ActivityEntry[]>('agent_activity');
export const agentLock = () => call<AgentStatus>('agent_lock');
/** Rejects with `locked_with_password` when a client locked the agent (ssh-add -x). */
export const agentUnlock = () => call<AgentStatus>('agent_unlock');
export const setKeyPolicy = (request: SetPolicyRequest) => call<KeySummary>('set_key_policy', { request });
export const pendingPrompts = () => call<Prompt[]>('pending_prompts');
/** Resolves false when the prompt is no longer pending (answered elsewhere, or timed out). */
export const answerApproval = (request: ApprovalAnswer) => call<boolean>('answer_approval', { request });
/** Carries a passphrase: the caller drops its own reference before awaiting this. */
export const answerUnlock = (request: UnlockAnswer) => call<boolean>('answer_unlock', { request });
export const saveSettings = (settings: Settings) => call<Settings>('save_settings', { settings });
export const integrationStatus = () => call<IntegrationStatus>('integration_status');
/** "Use Latchkey for all apps": the ~/.ssh/config block and the session's SSH_AUTH_SOCK. */
export const setIntegration = (enabled: boolean) => call<IntegrationStatus>('set_integration', { enabled });

/**
 * Subscribe to one of the shell's events. Resolves to the unsubscribe function once the
 * subscription is in place, so callers can take their snapshot after it; outside Tauri (a plain
 * browser) there is nothing to subscribe to.
 */
async function subscribe<T>(event: string, handler: (payload: T) => void): Promise<() => void> {
  if (!isTauri()) return () => {};
  try {
    return await listen<T>(event, (e) => handler(e.payload));
  } catch (e) {
    throw toIpcError(e);
  }
}

/** The agent's state changed (lock, identities, serving): fetch `agentStatus` again. */
export const onAgentState = (handler: () => void) => subscribe<null>('agent-state', () => handler());
/**
 * New lines for the activity log, oldest first: the first after a quiet moment at once, a burst
 * in batches of at most ACTIVITY_LIMIT, four a second at most (older lines of a batch are counted
 * in `dropped`, and stay in the `agentActivity` snapshot).
 */
export const onAgentActivity = (handler: (batch: ActivityBatch) => void) =>
  subscribe<ActivityBatch>('agent-activity', handler);
/** A prompt was added or went away: fetch `pendingPrompts` again. */
export const onAgentPrompt = (handler: () => void) => subscribe<null>('agent-prompt', () => handler());

async function sshDir(): Promise<string | undefined> {
  try {
    return await join(await homeDir(), '.ssh');
  } catch {
    return undefined;
  }
}

/** The native open dialog, starting in ~/.ssh. Resolves to null when cancelled. */
export async function pickKeyFile(): Promise<string | null> {
  try {
    const picked = await open({
      title: 'Import an SSH private key',
      multiple: false,
      directory: false,
      defaultPath: await sshDir(),
    });
    return typeof picked === 'string' ? picked : null;
  } catch (e) {
    throw toIpcError(e);
  }
}

export type SaveFilter = { name: string; extensions: string[] };

/** The native save dialog. Resolves to null when cancelled. */
export async function pickSavePath(
  title: string,
  defaultName: string,
  filters: SaveFilter[] = [],
): Promise<string | null> {
  try {
    const dir = await sshDir();
    const defaultPath = dir ? await join(dir, defaultName) : defaultName;
    return (await save({ title, defaultPath, filters: filters.length > 0 ? filters : undefined })) ?? null;
  } catch (e) {
    throw toIpcError(e);
  }
}

/** Copy text (a public key; never a secret) to the system clipboard. */
export async function copyText(text: string): Promise<void> {
  try {
    await writeText(text);
  } catch (e) {
    throw toIpcError(e);
  }
}

export type FileDrop = { type: 'enter'; paths: string[] } | { type: 'drop'; paths: string[] } | { type: 'leave' };

/**
 * Files dragged onto the window. Tauri intercepts native drag and drop (dragDropEnabled), so the
 * DOM never sees the drop; the webview event delivers the paths. Resolves to the unsubscribe
 * function; outside Tauri (a plain browser) there is nothing to subscribe to.
 */
export async function onFileDrop(handler: (event: FileDrop) => void): Promise<() => void> {
  if (!isTauri()) return () => {};
  return getCurrentWebview().onDragDropEvent((event) => {
    const p = event.payload;
    if (p.type === 'enter' || p.type === 'drop') handler({ type: p.type, paths: p.paths });
    else if (p.type === 'leave') handler({ type: 'leave' });
  });
}
