import { describe, expect, it } from 'vitest';

import {
  allowedProtection,
  defaultProtection,
  PROTECTION_LABELS,
  protectionChoices,
  validateImport,
  type ImportForm,
} from './importing';

const form = (over: Partial<ImportForm> = {}): ImportForm => ({
  name: 'work',
  passphrase: '',
  protection: 'keep',
  newPassphrase: '',
  newPassphrase2: '',
  kdf: 'standard',
  remember: false,
  ...over,
});
const ctx = { keyringAvailable: true, takenNames: [] as string[] };
const encrypted = { encrypted: true };
const plain = { encrypted: false };

describe('import protection', () => {
  it('keeps the source passphrase by default, and an unencrypted source must get a new one or none', () => {
    expect(defaultProtection(encrypted)).toBe('keep');
    expect(defaultProtection(plain)).toBe('new');
    expect(protectionChoices(plain)).toEqual(['new', 'none']);
  });

  it('offers an encrypted source only its own passphrase or a new one (the store keeps it protected)', () => {
    expect(protectionChoices(encrypted)).toEqual(['keep', 'new']);
    expect(allowedProtection('none', encrypted)).toBe('keep');
    expect(allowedProtection('new', encrypted)).toBe('new');
    expect(allowedProtection('keep', plain)).toBe('new');
    expect(allowedProtection('none', plain)).toBe('none');
  });

  it('names storing without a passphrase as dangerous', () => {
    expect(PROTECTION_LABELS.none).toMatch(/^Store without a passphrase \(dangerous: anyone who can read the file can use the key\)$/);
    expect(PROTECTION_LABELS.keep).toMatch(/keep its passphrase/i);
    expect(PROTECTION_LABELS.new).toMatch(/new/i);
  });

  it('never sends "no passphrase" for an encrypted source', () => {
    const v = validateImport(form({ passphrase: 'old', protection: 'none', remember: true }), encrypted, ctx);
    expect(v.canRemember).toBe(true);
    expect(v.request).toMatchObject({ passphrase: 'old', new_passphrase: null, no_passphrase: false, remember: true });
  });

  it('asks for the source passphrase of an encrypted key', () => {
    const v = validateImport(form(), encrypted, ctx);
    expect(v.request).toBeNull();
    expect(v.errors.passphrase).toMatch(/passphrase/);
  });

  it('keeps the source passphrase', () => {
    const v = validateImport(form({ passphrase: 'old', remember: true }), encrypted, ctx);
    expect(v.request).toEqual({
      name: 'work',
      passphrase: 'old',
      new_passphrase: null,
      no_passphrase: false,
      kdf: 'standard',
      remember: true,
    });
  });

  it('sets a new passphrase, typed twice', () => {
    const f = form({ passphrase: 'old', protection: 'new', newPassphrase: 'n3w-Pass!', newPassphrase2: 'n3w-Pass?' });
    expect(validateImport(f, encrypted, ctx).errors.newPassphrase2).toMatch(/do not match/);
    const ok = validateImport({ ...f, newPassphrase2: 'n3w-Pass!', kdf: 'strong' }, encrypted, ctx);
    expect(ok.request).toMatchObject({ passphrase: 'old', new_passphrase: 'n3w-Pass!', no_passphrase: false, kdf: 'strong' });
  });

  it('stores a plain source without a passphrase only when chosen, and then cannot remember one', () => {
    const v = validateImport(form({ protection: 'none', remember: true, kdf: 'strong' }), plain, ctx);
    expect(v.canRemember).toBe(false);
    expect(v.request).toMatchObject({ passphrase: null, new_passphrase: null, no_passphrase: true, kdf: 'standard', remember: false });
  });

  it('does not let an unencrypted source "keep" its (missing) passphrase', () => {
    const v = validateImport(form({ protection: 'keep' }), plain, ctx);
    expect(v.request).toBeNull();
    expect(v.errors.newPassphrase).toMatch(/new passphrase/);
    const none = validateImport(form({ protection: 'none' }), plain, ctx);
    expect(none.request).toMatchObject({ passphrase: null, no_passphrase: true });
  });

  it('checks the name', () => {
    expect(validateImport(form({ name: 'a b', passphrase: 'x' }), encrypted, ctx).errors.name).toBeTruthy();
    expect(
      validateImport(form({ name: 'work', passphrase: 'x' }), encrypted, { ...ctx, takenNames: ['work'] }).errors.name,
    ).toMatch(/already exists/);
  });
});
