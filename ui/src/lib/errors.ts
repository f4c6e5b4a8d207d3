// Errors from the backend, in words. Every command rejects with `IpcError {code, message}`; this
// module turns whatever a rejection carries into that shape and says which form field it is about.

import type { IpcError } from './bindings';

/** Headlines for the codes a user can act on; the backend's message adds the specifics. */
const HEADLINES: Record<string, string> = {
  wrong_passphrase: 'That passphrase does not open the key.',
  passphrase_required: 'This key is encrypted: enter its passphrase.',
  passphrase_missing: 'Enter a passphrase, or choose to store the key without one.',
  import_needs_passphrase: 'This key is encrypted: enter its passphrase to import it.',
  import_keeps_passphrase:
    "This key is protected by a passphrase, and Latchkey's copy stays protected: keep its passphrase or choose a new one.",
  remembered_passphrase_unavailable:
    "The OS keyring that remembers this key's passphrase can't be reached: enter the passphrase.",
  name_taken: 'A key with that name already exists.',
  invalid_name: 'That name cannot be used.',
  rsa_too_small: 'RSA keys must have at least 2048 bits.',
  // The backend's message (shown as the detail) says which sizes are available.
  unsupported_bits: 'That key size is not supported.',
  unrecognized_format: 'This does not look like a private key Latchkey can read.',
  malformed_key: 'The key is damaged or incomplete.',
  unsupported_encryption: 'The key is encrypted with a scheme Latchkey does not support.',
  unsupported_key_type: 'This type of key is not supported.',
  file_too_large: 'That file is far larger than any key.',
  file_exists: 'A file with that name already exists.',
  permission_denied: 'Permission denied.',
  file_not_found: 'No such file.',
  keyring_unavailable: 'The OS keyring is not available.',
  corrupt_metadata: "Latchkey's key list could not be read.",
  no_such_key: 'That key is no longer in Latchkey.',
  invalid_policy: 'That policy cannot be saved.',
  locked_with_password: 'The agent was locked with a password: unlock it with ssh-add -X.',
  autostart_failed: 'Start at login could not be changed.',
  internal: 'Something went wrong inside Latchkey.',
};

/** Normalise a rejection (an IpcError object, an Error, a string) to an IpcError. */
export function toIpcError(e: unknown): IpcError {
  if (isIpcError(e)) return { code: e.code, message: e.message };
  if (e instanceof Error) return { code: 'internal', message: e.message || String(e) };
  if (typeof e === 'string' && e.length > 0) return { code: 'internal', message: e };
  return { code: 'internal', message: 'unknown error' };
}

export function isIpcError(e: unknown): e is IpcError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

export type ErrorText = { headline: string; detail: string; code: string };

/** What an error box shows: a headline in words, the backend's detail, and the code. */
export function formatError(e: IpcError): ErrorText {
  const headline = HEADLINES[e.code];
  const message = e.message.trim();
  if (!headline) {
    return { headline: message || 'Something went wrong.', detail: '', code: e.code };
  }
  // Don't repeat ourselves when the backend already said the same thing. The message is shown
  // verbatim: it may start with a file name, so its case is not touched.
  const detail = sameWords(headline, message) ? '' : message;
  return { headline, detail, code: e.code };
}

/** One line, for places without room for a box: "Headline Detail (code)". */
export function errorLine(e: IpcError): string {
  const t = formatError(e);
  return [t.headline, t.detail].filter(Boolean).join(' — ') + ` (${t.code})`;
}

/** The form field an error belongs to, so the message can sit next to it. */
export type ErrorField = 'name' | 'passphrase' | 'new_passphrase' | 'path' | null;

export function fieldOf(code: string): ErrorField {
  switch (code) {
    case 'wrong_passphrase':
    case 'passphrase_required':
    case 'remembered_passphrase_unavailable':
    case 'import_needs_passphrase':
    case 'import_keeps_passphrase':
    case 'unsupported_encryption':
      return 'passphrase';
    case 'passphrase_missing':
      return 'new_passphrase';
    case 'name_taken':
    case 'invalid_name':
      return 'name';
    case 'file_exists':
    case 'file_not_found':
    case 'permission_denied':
    case 'file_too_large':
      return 'path';
    default:
      return null;
  }
}

/**
 * The codes that are answered by asking for the key's passphrase (the backend's
 * `asks_for_passphrase`): none was given, the one given is wrong, or the remembered one is out of
 * reach because the OS keyring cannot be reached.
 */
export function asksForPassphrase(code: string): boolean {
  return code === 'passphrase_required' || code === 'wrong_passphrase' || code === 'remembered_passphrase_unavailable';
}

function sameWords(a: string, b: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
  return norm(a) === norm(b);
}
