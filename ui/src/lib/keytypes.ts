// Key types as the Generate dialog offers them, key names as the store accepts them, and the
// labels for formats and origins.

import type { KdfStrength, KeyFormat, KeyKind, KeyOrigin, KeySummary } from './bindings';

export type KeyTypeValue =
  | 'ed25519'
  | 'ecdsa-256'
  | 'ecdsa-384'
  | 'ecdsa-521'
  | 'rsa-2048'
  | 'rsa-3072'
  | 'rsa-4096'
  | 'rsa-8192';

export type KeyTypeOption = { value: KeyTypeValue; label: string; kind: KeyKind; bits: number | null };

export const KEY_TYPE_OPTIONS: readonly KeyTypeOption[] = [
  { value: 'ed25519', label: 'Ed25519 (recommended)', kind: 'ed25519', bits: null },
  { value: 'ecdsa-256', label: 'ECDSA P-256', kind: 'ecdsa', bits: 256 },
  { value: 'ecdsa-384', label: 'ECDSA P-384', kind: 'ecdsa', bits: 384 },
  { value: 'ecdsa-521', label: 'ECDSA P-521', kind: 'ecdsa', bits: 521 },
  { value: 'rsa-2048', label: 'RSA 2048', kind: 'rsa', bits: 2048 },
  { value: 'rsa-3072', label: 'RSA 3072 (default RSA size)', kind: 'rsa', bits: 3072 },
  { value: 'rsa-4096', label: 'RSA 4096', kind: 'rsa', bits: 4096 },
  { value: 'rsa-8192', label: 'RSA 8192 (slow to generate)', kind: 'rsa', bits: 8192 },
];

export const DEFAULT_KEY_TYPE: KeyTypeValue = 'ed25519';

/** The select's value as the backend's `{kind, bits}`; Ed25519 has a fixed size, so `bits: null`. */
export function keyTypeSpec(value: string): { kind: KeyKind; bits: number | null } {
  const option = KEY_TYPE_OPTIONS.find((o) => o.value === value);
  if (!option) throw new Error(`unknown key type ${JSON.stringify(value)}`);
  return { kind: option.kind, bits: option.bits };
}

/** Roughly how long generation takes here, for the progress text (ssh-keygen baselines). */
export function isSlowToGenerate(value: string): boolean {
  const { kind, bits } = keyTypeSpec(value);
  return kind === 'rsa' && (bits ?? 0) >= 3072;
}

/** The Generate dialog's note on how long the chosen type takes, or null when it is quick. */
export function generateHint(value: string): string | null {
  if (!isSlowToGenerate(value)) return null;
  return keyTypeSpec(value).bits === 8192
    ? 'RSA 8192 keys take several seconds to generate (longer on a slow machine). Ed25519 is faster and smaller.'
    : 'RSA keys take a few seconds to generate. Ed25519 is faster and smaller.';
}

/** ssh-keygen's file name for a kind. */
export function defaultBaseName(kind: KeyKind): string {
  return kind === 'ed25519' ? 'id_ed25519' : kind === 'ecdsa' ? 'id_ecdsa' : 'id_rsa';
}

/** `base`, or `base_2`, `base_3`... whichever is not taken yet. */
export function uniqueName(base: string, taken: Iterable<string>): string {
  const names = new Set(taken);
  if (!names.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}_${n}`;
    if (!names.has(candidate)) return candidate;
  }
}

export const MAX_NAME_LEN = 64;

/** The store's rule for key names (src/store/name.rs), so mistakes show before submitting. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'Enter a name.';
  if (name.length > MAX_NAME_LEN) return `Use at most ${MAX_NAME_LEN} characters.`;
  if (name.startsWith('.') || name.startsWith('-')) return "A name may not start with '.' or '-'.";
  if (!/^[A-Za-z0-9._@-]+$/.test(name)) return 'Use only letters, digits and . _ - @';
  if (name.endsWith('.pub')) return 'A name may not end in .pub.';
  return null;
}

export const KDF_OPTIONS: readonly { value: KdfStrength; label: string }[] = [
  { value: 'standard', label: 'Standard — 16 rounds, like ssh-keygen' },
  { value: 'strong', label: 'Strong — about half a second per unlock in Latchkey' },
];

/** Under the strength choice: "strong" is calibrated on Latchkey's two-thread unlock. */
export const KDF_HINT =
  'Strong takes about 0.5 s per unlock in Latchkey (two threads); ssh, ssh-add and ssh-keygen use one thread and take up to twice as long (~1 s).';

/** The list's Type column: the display name without its size ("RSA 3072" → "RSA", "ECDSA P-256" → "ECDSA"). */
export function typeLabel(key: Pick<KeySummary, 'display_type' | 'bits'>): string {
  const suffix = new RegExp(`\\s+(?:P-)?${key.bits}$`);
  return key.bits > 0 ? key.display_type.replace(suffix, '') : key.display_type;
}

/** The list's Bits column ("" when the backend could not tell). */
export function bitsLabel(key: Pick<KeySummary, 'bits'>): string {
  return key.bits > 0 ? String(key.bits) : '';
}

export const FORMAT_LABELS: Record<KeyFormat, string> = {
  openssh: 'OpenSSH private key',
  'pem-pkcs1': 'PEM (PKCS#1, "BEGIN RSA PRIVATE KEY")',
  'pem-sec1': 'PEM (SEC1, "BEGIN EC PRIVATE KEY")',
  pkcs8: 'PKCS#8 ("BEGIN PRIVATE KEY")',
  'pkcs8-encrypted': 'Encrypted PKCS#8 ("BEGIN ENCRYPTED PRIVATE KEY")',
  'putty-v2': 'PuTTY private key (PPK v2)',
  'putty-v3': 'PuTTY private key (PPK v3)',
};

export const ORIGIN_LABELS: Record<KeyOrigin, string> = {
  generated: 'generated',
  imported: 'imported',
  registered: 'in place',
};

/** Whether Latchkey owns the key's files (so deleting the key deletes them). */
export function ownsFiles(key: Pick<KeySummary, 'origin'>): boolean {
  return key.origin !== 'registered';
}
