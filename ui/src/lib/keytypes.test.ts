import { describe, expect, it } from 'vitest';

import { KEY_TYPE_OPTIONS, keyTypeSpec, nameProblem, uniqueName, defaultBaseName, isSlowToGenerate } from './keytypes';

describe('keyTypeSpec', () => {
  it('maps every select value to the backend kind and bits', () => {
    expect(keyTypeSpec('ed25519')).toEqual({ kind: 'ed25519', bits: null });
    expect(keyTypeSpec('ecdsa-256')).toEqual({ kind: 'ecdsa', bits: 256 });
    expect(keyTypeSpec('ecdsa-384')).toEqual({ kind: 'ecdsa', bits: 384 });
    expect(keyTypeSpec('ecdsa-521')).toEqual({ kind: 'ecdsa', bits: 521 });
    expect(keyTypeSpec('rsa-2048')).toEqual({ kind: 'rsa', bits: 2048 });
    expect(keyTypeSpec('rsa-3072')).toEqual({ kind: 'rsa', bits: 3072 });
    expect(keyTypeSpec('rsa-4096')).toEqual({ kind: 'rsa', bits: 4096 });
  });

  it('offers exactly the values the end-to-end test selects, Ed25519 first', () => {
    expect(KEY_TYPE_OPTIONS.map((o) => o.value)).toEqual([
      'ed25519',
      'ecdsa-256',
      'ecdsa-384',
      'ecdsa-521',
      'rsa-2048',
      'rsa-3072',
      'rsa-4096',
    ]);
  });

  it('rejects values it does not know instead of guessing', () => {
    expect(() => keyTypeSpec('rsa-1024')).toThrow(/unknown key type/);
    expect(() => keyTypeSpec('')).toThrow();
  });

  it('knows RSA 3072 and up is slow', () => {
    expect(isSlowToGenerate('rsa-4096')).toBe(true);
    expect(isSlowToGenerate('rsa-2048')).toBe(false);
    expect(isSlowToGenerate('ed25519')).toBe(false);
  });
});

describe('names', () => {
  it('suggests ssh-keygen style names that are not taken', () => {
    expect(uniqueName(defaultBaseName('ed25519'), [])).toBe('id_ed25519');
    expect(uniqueName('id_ed25519', ['id_ed25519'])).toBe('id_ed25519_2');
    expect(uniqueName('id_rsa', ['id_rsa', 'id_rsa_2', 'id_rsa_3'])).toBe('id_rsa_4');
    expect(defaultBaseName('ecdsa')).toBe('id_ecdsa');
    expect(defaultBaseName('rsa')).toBe('id_rsa');
  });

  it('follows the store rule for names', () => {
    expect(nameProblem('work-laptop_2024@home.v2')).toBeNull();
    expect(nameProblem('')).toMatch(/Enter a name/);
    expect(nameProblem('.hidden')).toMatch(/start/);
    expect(nameProblem('-rf')).toMatch(/start/);
    expect(nameProblem('a/b')).toMatch(/letters, digits/);
    expect(nameProblem('with space')).toMatch(/letters, digits/);
    expect(nameProblem('id_rsa.pub')).toMatch(/\.pub/);
    expect(nameProblem('x'.repeat(64))).toBeNull();
    expect(nameProblem('x'.repeat(65))).toMatch(/64/);
  });
});
