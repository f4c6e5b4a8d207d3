import { describe, expect, it } from 'vitest';

import { validateChange, type ChangeForm } from './changePassphrase';

const form = (over: Partial<ChangeForm> = {}): ChangeForm => ({
  oldPassphrase: 'old',
  newPassphrase: '',
  newPassphrase2: '',
  kdf: '',
  confirmRemove: false,
  ...over,
});
const encrypted = { name: 'work', encrypted: true };
const plain = { name: 'work', encrypted: false };

describe('validateChange', () => {
  it('changes the passphrase, keeping the KDF setting unless chosen', () => {
    const v = validateChange(form({ newPassphrase: 'n3w!pass', newPassphrase2: 'n3w!pass' }), encrypted);
    expect(v.request).toEqual({ name: 'work', old_passphrase: 'old', new_passphrase: 'n3w!pass', kdf: null });
    const strong = validateChange(form({ newPassphrase: 'n3w!pass', newPassphrase2: 'n3w!pass', kdf: 'strong' }), encrypted);
    expect(strong.request?.kdf).toBe('strong');
  });

  it('requires the current passphrase of an encrypted key', () => {
    const v = validateChange(form({ oldPassphrase: '', newPassphrase: 'a', newPassphrase2: 'a' }), encrypted);
    expect(v.request).toBeNull();
    expect(v.errors.old).toBeTruthy();
  });

  it('removes the passphrase only after explicit confirmation', () => {
    const unconfirmed = validateChange(form(), encrypted);
    expect(unconfirmed.removing).toBe(true);
    expect(unconfirmed.request).toBeNull();
    expect(unconfirmed.errors.remove).toMatch(/Remove the passphrase/);

    const confirmed = validateChange(form({ confirmRemove: true, kdf: 'strong' }), encrypted);
    expect(confirmed.request).toEqual({ name: 'work', old_passphrase: 'old', new_passphrase: null, kdf: null });
  });

  it('refuses a mismatch', () => {
    expect(validateChange(form({ newPassphrase: 'abc', newPassphrase2: 'abd' }), encrypted).errors.newPassphrase2).toMatch(
      /do not match/,
    );
    // Only the second field filled in is a mismatch too, not a removal.
    const v = validateChange(form({ newPassphrase2: 'abc', confirmRemove: true }), encrypted);
    expect(v.request).toBeNull();
  });

  it('adds a passphrase to an unencrypted key without asking for an old one', () => {
    expect(validateChange(form({ oldPassphrase: '' }), plain).request).toBeNull();
    const v = validateChange(form({ oldPassphrase: 'ignored', newPassphrase: 'n3w', newPassphrase2: 'n3w' }), plain);
    expect(v.removing).toBe(false);
    expect(v.request).toEqual({ name: 'work', old_passphrase: null, new_passphrase: 'n3w', kdf: null });
  });
});
