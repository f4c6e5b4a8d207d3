// The Change passphrase dialog's form. An empty new passphrase removes the passphrase, which must
// be confirmed explicitly.

import type { ChangePassphraseRequest, KdfStrength, KeySummary } from './bindings';
import { checkNewPassphrase, MISMATCH, REPEAT } from './passphrase';

export type ChangeForm = {
  oldPassphrase: string;
  newPassphrase: string;
  newPassphrase2: string;
  /** '' keeps the key's current KDF rounds. */
  kdf: KdfStrength | '';
  confirmRemove: boolean;
};

export type ChangeErrors = { old?: string; newPassphrase2?: string; remove?: string; nothing?: string };

export type ChangeValidation = {
  errors: ChangeErrors;
  /** The new passphrase is empty on an encrypted key: this removes the passphrase. */
  removing: boolean;
  request: ChangePassphraseRequest | null;
};

export function validateChange(
  form: ChangeForm,
  key: Pick<KeySummary, 'name' | 'encrypted'>,
): ChangeValidation {
  const errors: ChangeErrors = {};
  const check = checkNewPassphrase(form.newPassphrase, form.newPassphrase2);
  const removing = key.encrypted && form.newPassphrase.length === 0;

  if (key.encrypted && form.oldPassphrase.length === 0) {
    errors.old = 'Enter the current passphrase.';
  }
  if (form.newPassphrase.length > 0) {
    if (check.mismatch) errors.newPassphrase2 = MISMATCH;
    else if (!check.confirmed) errors.newPassphrase2 = REPEAT;
  } else if (form.newPassphrase2.length > 0) {
    errors.newPassphrase2 = MISMATCH;
  } else if (removing && !form.confirmRemove) {
    errors.remove = 'Tick “Remove the passphrase” to store this key without one.';
  } else if (!key.encrypted) {
    errors.nothing = 'Enter a passphrase to protect this key.';
  }

  if (Object.keys(errors).length > 0) return { errors, removing, request: null };
  return {
    errors,
    removing,
    request: {
      name: key.name,
      old_passphrase: key.encrypted ? form.oldPassphrase : null,
      new_passphrase: removing ? null : form.newPassphrase,
      kdf: removing || form.kdf === '' ? null : form.kdf,
    },
  };
}
