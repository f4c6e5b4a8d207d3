import { describe, expect, it } from 'vitest';

import { validateGenerate, type GenerateForm } from './generate';

const form = (over: Partial<GenerateForm> = {}): GenerateForm => ({
  name: 'id_ed25519',
  type: 'ed25519',
  comment: '',
  passphrase: 'k7Rw#pQ2vL9!',
  passphrase2: 'k7Rw#pQ2vL9!',
  noPassphrase: false,
  kdf: 'standard',
  remember: false,
  ...over,
});
const ctx = { keyringAvailable: true, takenNames: ['taken'] };

describe('validateGenerate', () => {
  it('builds the request from a valid form', () => {
    const v = validateGenerate(form({ comment: '  me@laptop ', remember: true, kdf: 'strong' }), ctx);
    expect(v.errors).toEqual({});
    expect(v.request).toEqual({
      name: 'id_ed25519',
      kind: 'ed25519',
      bits: null,
      comment: 'me@laptop',
      passphrase: 'k7Rw#pQ2vL9!',
      no_passphrase: false,
      kdf: 'strong',
      remember: true,
    });
  });

  it('refuses mismatched passphrases', () => {
    const v = validateGenerate(form({ passphrase2: 'k7Rw#pQ2vL9?' }), ctx);
    expect(v.request).toBeNull();
    expect(v.errors.passphrase2).toMatch(/do not match/);
  });

  it('waits for the passphrase to be repeated', () => {
    const v = validateGenerate(form({ passphrase2: '' }), ctx);
    expect(v.request).toBeNull();
    expect(v.errors.passphrase2).toMatch(/again/);
  });

  it('refuses an empty passphrase unless "No passphrase" is ticked', () => {
    const empty = validateGenerate(form({ passphrase: '', passphrase2: '' }), ctx);
    expect(empty.request).toBeNull();
    expect(empty.errors.passphrase).toMatch(/No passphrase/);

    const none = validateGenerate(form({ passphrase: '', passphrase2: '', noPassphrase: true, remember: true }), ctx);
    expect(none.errors).toEqual({});
    expect(none.request).toMatchObject({ passphrase: null, no_passphrase: true, remember: false });
    expect(none.canRemember).toBe(false);
  });

  it('sends no passphrase when "No passphrase" is ticked, even if one was typed', () => {
    const v = validateGenerate(form({ noPassphrase: true }), ctx);
    expect(v.request?.passphrase).toBeNull();
  });

  it('maps the RSA and ECDSA sizes to kind and bits', () => {
    const bits = (type: GenerateForm['type']) => validateGenerate(form({ type }), ctx).request;
    expect(bits('rsa-2048')).toMatchObject({ kind: 'rsa', bits: 2048 });
    expect(bits('rsa-3072')).toMatchObject({ kind: 'rsa', bits: 3072 });
    expect(bits('rsa-4096')).toMatchObject({ kind: 'rsa', bits: 4096 });
    expect(bits('ecdsa-384')).toMatchObject({ kind: 'ecdsa', bits: 384 });
  });

  it('checks the name', () => {
    expect(validateGenerate(form({ name: 'taken' }), ctx).errors.name).toMatch(/already exists/);
    expect(validateGenerate(form({ name: 'bad name' }), ctx).errors.name).toMatch(/letters/);
    expect(validateGenerate(form({ name: '' }), ctx).request).toBeNull();
    expect(validateGenerate(form({ name: ' spaced ' }), ctx).request?.name).toBe('spaced');
  });

  it('never remembers without a keyring', () => {
    const v = validateGenerate(form({ remember: true }), { ...ctx, keyringAvailable: false });
    expect(v.canRemember).toBe(false);
    expect(v.request?.remember).toBe(false);
  });

  it('sends an empty comment as null so the backend uses user@hostname', () => {
    expect(validateGenerate(form({ comment: '   ' }), ctx).request?.comment).toBeNull();
  });
});
