import { describe, expect, it } from 'vitest';

import { estimateStrength, THRESHOLDS } from './strength';

describe('estimateStrength', () => {
  it('calls an empty passphrase empty', () => {
    expect(estimateStrength('')).toMatchObject({ level: 'empty', bits: 0, score: 0 });
  });

  it('rates short and common passphrases weak', () => {
    for (const p of ['a', 'abc', 'password', 'Password1', 'P@ssw0rd!', 'qwerty123', 'letmein', 'iloveyou']) {
      expect(estimateStrength(p).level, p).toBe('weak');
    }
  });

  it('penalises repeated characters', () => {
    const repeated = estimateStrength('aaaaaaaaaaaaaaaaaaaa');
    expect(repeated.level).toBe('weak');
    // The same length of varied letters is worth far more.
    expect(estimateStrength('qhzkvmrtwxjbnpdfgylc').bits).toBeGreaterThan(repeated.bits * 3);
  });

  it('penalises runs like abcd and 4321', () => {
    expect(estimateStrength('abcdefghijklmnop').level).toBe('weak');
    expect(estimateStrength('9876543210').level).toBe('weak');
    expect(estimateStrength('abcdefghijklmnop').hints.join(' ')).toMatch(/runs/);
  });

  it('penalises a repeated block', () => {
    const once = estimateStrength('Xq7#mB');
    const thrice = estimateStrength('Xq7#mBXq7#mBXq7#mB');
    expect(thrice.bits).toBeLessThan(once.bits + 5);
    expect(thrice.hints.join(' ')).toMatch(/Repeating/);
  });

  it('sees common words through l33t spellings and capitals', () => {
    const plain = estimateStrength('zq!9Kw');
    const withWord = estimateStrength('zq!9KwP4ssw0rd');
    // "P4ssw0rd" adds eight characters but only about one word's worth of bits.
    expect(withWord.bits - plain.bits).toBeLessThanOrEqual(12);
    expect(withWord.hints.join(' ')).toMatch(/common words/);
  });

  it('rates long random passphrases strong', () => {
    expect(estimateStrength('x7#Kq!9mZ&v2Lp$w').level).toBe('strong');
    expect(estimateStrength('correct-horse-battery-staple-orbit').level).toBe('strong');
  });

  it('moves through the levels as a random passphrase grows', () => {
    const levels = ['k', 'k7Rw', 'k7Rw#pQ2', 'k7Rw#pQ2vL9!', 'k7Rw#pQ2vL9!zT4$'].map((p) => estimateStrength(p).level);
    expect(levels).toEqual(['weak', 'weak', 'fair', 'good', 'strong']);
  });

  it('never rates more characters of the same kind lower', () => {
    let previous = 0;
    let p = '';
    for (const c of 'Tz8%qLm2@Rv5&Nw') {
      p += c;
      const bits = estimateStrength(p).bits;
      expect(bits).toBeGreaterThanOrEqual(previous);
      previous = bits;
    }
  });

  it('maps bits to levels with the documented thresholds', () => {
    const s = estimateStrength('k7Rw#pQ2vL9!');
    expect(s.bits).toBeGreaterThanOrEqual(THRESHOLDS.good);
    expect(s.bits).toBeLessThan(THRESHOLDS.strong);
    expect(s.score).toBe(3);
  });

  it('counts characters outside ASCII once each', () => {
    const s = estimateStrength('🔑🔑');
    expect(s.level).toBe('weak');
    expect(s.bits).toBeGreaterThan(0);
  });
});
