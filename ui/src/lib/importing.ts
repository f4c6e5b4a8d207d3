// The Import dialog's second step: how the stored copy is protected, and the request it becomes.

import type { ImportProbe, ImportRequest, ImportSource, KdfStrength } from './bindings';
import { nameProblem } from './keytypes';
import { checkNewPassphrase, MISMATCH, REPEAT } from './passphrase';

/**
 * keep: the source's passphrase; new: a new one; none: store it unencrypted (explicit, and only
 * for a source that has no passphrase: the store refuses to drop one, `import_keeps_passphrase`).
 */
export type Protection = 'keep' | 'new' | 'none';

export type ImportForm = {
  name: string;
  /** Opens the source (only asked when the source is encrypted). */
  passphrase: string;
  protection: Protection;
  newPassphrase: string;
  newPassphrase2: string;
  kdf: KdfStrength;
  remember: boolean;
};

export type ImportErrors = { name?: string; passphrase?: string; newPassphrase2?: string; newPassphrase?: string };

export type ImportValidation = {
  errors: ImportErrors;
  canRemember: boolean;
  request: Omit<ImportRequest, 'source'> | null;
};

/** Keep the source's passphrase when it has one; an unencrypted source must get a new one or none. */
export function defaultProtection(probe: Pick<ImportProbe, 'encrypted'>): Protection {
  return probe.encrypted ? 'keep' : 'new';
}

/** An encrypted source stays protected (its passphrase or a new one); only a plain one may stay plain. */
export function protectionChoices(probe: Pick<ImportProbe, 'encrypted'>): Protection[] {
  return probe.encrypted ? ['keep', 'new'] : ['new', 'none'];
}

/** `protection` if the source allows it, else the default for the source. */
export function allowedProtection(protection: Protection, probe: Pick<ImportProbe, 'encrypted'>): Protection {
  return protectionChoices(probe).includes(protection) ? protection : defaultProtection(probe);
}

export const PROTECTION_LABELS: Record<Protection, string> = {
  keep: 'Keep its passphrase',
  new: 'Choose a new passphrase',
  none: 'Store without a passphrase (dangerous: anyone who can read the file can use the key)',
};

export function validateImport(
  form: ImportForm,
  probe: Pick<ImportProbe, 'encrypted'>,
  ctx: { keyringAvailable: boolean; takenNames: readonly string[] },
): ImportValidation {
  const errors: ImportErrors = {};
  const name = form.name.trim();
  const problem = nameProblem(name);
  if (problem) errors.name = problem;
  else if (ctx.takenNames.includes(name)) errors.name = 'A key with that name already exists.';

  const protection = allowedProtection(form.protection, probe);
  if (probe.encrypted && form.passphrase.length === 0) {
    errors.passphrase = 'Enter the passphrase that opens this key.';
  }
  if (protection === 'new') {
    const check = checkNewPassphrase(form.newPassphrase, form.newPassphrase2);
    if (form.newPassphrase.length === 0) errors.newPassphrase = 'Enter a new passphrase.';
    else if (check.mismatch) errors.newPassphrase2 = MISMATCH;
    else if (!check.confirmed) errors.newPassphrase2 = REPEAT;
  }

  const canRemember = ctx.keyringAvailable && protection !== 'none';
  if (Object.keys(errors).length > 0) return { errors, canRemember, request: null };
  return {
    errors,
    canRemember,
    request: {
      name,
      passphrase: probe.encrypted ? form.passphrase : null,
      new_passphrase: protection === 'new' ? form.newPassphrase : null,
      no_passphrase: protection === 'none',
      kdf: protection === 'none' ? 'standard' : form.kdf,
      remember: canRemember && form.remember,
    },
  };
}

/** How a source is named in the dialog. Pasted text is never echoed back. */
export function describeSource(source: ImportSource): string {
  return source.type === 'path' ? source.path : 'pasted text';
}
