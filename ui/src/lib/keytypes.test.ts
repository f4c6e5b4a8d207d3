import { describe, expect, it } from 'vitest';

import { summary } from '../test/fixtures';
import {
  bitsLabel,
  defaultBaseName,
  generateHint,
  isSlowToGenerate,
  KDF_HINT,
  KDF_OPTIONS,
  KEY_TYPE_OPTIONS,
  keyTypeSpec,
  nameProblem,
  typeLabel,
  uniqueName,
} from './keytypes';

describe('keyTypeSpec', () => {
  it('maps every select value to the backend kind and bits', () => {
    expect(keyTypeSpec('ed25519')).toEqual({ kind: 'ed25519', bits: null });
    expect(keyTypeSpec('ecdsa-256')).toEqual({ kind: 'ecdsa', bits: 256 });
    expect(keyTypeSpec('ecdsa-384')).toEqual({ kind: 'ecdsa', bits: 384 });
    expect(keyTypeSpec('ecdsa-521')).toEqual({ kind: 'ecdsa', bits: 521 });
    expect(keyTypeSpec('rsa-2048')).toEqual({ kind: 'rsa', bits: 2048 });
    expect(keyTypeSpec('rsa-3072')).toEqual({ kind: 'rsa', bits: 3072 });
    expect(keyTypeSpec('rsa-4096')).toEqual({ kind: 'rsa', bits: 4096 });
    expect(keyTypeSpec('rsa-8192')).toEqual({ kind: 'rsa', bits: 8192 });
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
      'rsa-8192',
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

  it('says that RSA 8192 takes several seconds to generate, and nothing for quick types', () => {
    expect(generateHint('rsa-8192')).toMatch(/RSA 8192 .*several seconds/);
    expect(generateHint('rsa-4096')).toMatch(/few seconds/);
    expect(generateHint('rsa-2048')).toBeNull();
    expect(generateHint('ed25519')).toBeNull();
  });
});

describe('key list columns', () => {
  it('splits the display type into a type and a size', () => {
    const rsa = summary({ display_type: 'RSA 3072', bits: 3072 });
    expect([typeLabel(rsa), bitsLabel(rsa)]).toEqual(['RSA', '3072']);
    const ec = summary({ display_type: 'ECDSA P-384', bits: 384 });
    expect([typeLabel(ec), bitsLabel(ec)]).toEqual(['ECDSA', '384']);
    const ed = summary({ display_type: 'Ed25519', bits: 256 });
    expect([typeLabel(ed), bitsLabel(ed)]).toEqual(['Ed25519', '256']);
    const odd = summary({ display_type: 'ED25519-SK', bits: 0 });
    expect([typeLabel(odd), bitsLabel(odd)]).toEqual(['ED25519-SK', '']);
  });
});

describe('KDF strength', () => {
  it('says strong is about half a second in Latchkey and up to about twice that in OpenSSH', () => {
    expect(KDF_OPTIONS.map((o) => o.value)).toEqual(['standard', 'strong']);
    expect(KDF_HINT).toMatch(/0\.5 s .*Latchkey/);
    expect(KDF_HINT).toMatch(/ssh, ssh-add and ssh-keygen/);
    expect(KDF_HINT).toMatch(/one thread/);
    expect(KDF_HINT).toMatch(/~1 s/);
    // One short sentence.
    expect(KDF_HINT.split(/[.!?](\s|$)/).filter((x) => x && x.trim()).length).toBe(1);
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
