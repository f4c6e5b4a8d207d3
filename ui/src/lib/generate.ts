// The Generate dialog's form: what it needs before it can be sent, and the request it becomes.

import type { GenerateRequest, KdfStrength } from './bindings';
import { keyTypeSpec, nameProblem, type KeyTypeValue } from './keytypes';
import { checkNewPassphrase, MISMATCH, REPEAT } from './passphrase';

export type GenerateForm = {
  name: string;
  type: KeyTypeValue;
  comment: string;
  passphrase: string;
  passphrase2: string;
  noPassphrase: boolean;
  kdf: KdfStrength;
  remember: boolean;
};

export type GenerateContext = { keyringAvailable: boolean; takenNames: readonly string[] };

export type GenerateErrors = {
  name?: string;
  /** Blocking, but shown as a hint rather than an alert until the user types. */
  passphrase?: string;
  passphrase2?: string;
};

export type GenerateValidation = {
  errors: GenerateErrors;
  /** Whether "Remember" can be ticked: a keyring, and a passphrase to remember. */
  canRemember: boolean;
  /** The request, or null while the form is not valid. */
  request: GenerateRequest | null;
};

export function validateGenerate(form: GenerateForm, ctx: GenerateContext): GenerateValidation {
  const errors: GenerateErrors = {};
  const name = form.name.trim();
  const problem = nameProblem(name);
  if (problem) errors.name = problem;
  else if (ctx.takenNames.includes(name)) errors.name = 'A key with that name already exists.';

  if (!form.noPassphrase) {
    const check = checkNewPassphrase(form.passphrase, form.passphrase2);
    if (form.passphrase.length === 0) {
      errors.passphrase = 'Enter a passphrase, or tick "No passphrase".';
    } else if (check.mismatch) {
      errors.passphrase2 = MISMATCH;
    } else if (!check.confirmed) {
      errors.passphrase2 = REPEAT;
    }
  }

  const canRemember = ctx.keyringAvailable && !form.noPassphrase;
  const valid = Object.keys(errors).length === 0;
  if (!valid) return { errors, canRemember, request: null };

  const { kind, bits } = keyTypeSpec(form.type);
  const comment = form.comment.trim();
  return {
    errors,
    canRemember,
    request: {
      name,
      kind,
      bits,
      comment: comment.length > 0 ? comment : null,
      passphrase: form.noPassphrase ? null : form.passphrase,
      no_passphrase: form.noPassphrase,
      kdf: form.noPassphrase ? 'standard' : form.kdf,
      remember: canRemember && form.remember,
    },
  };
}
