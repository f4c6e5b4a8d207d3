// A passphrase strength estimate: rough bits of entropy from length and character classes, with
// the usual human patterns (repeats, runs like "abcd"/"4321", repeated blocks, common words and
// keyboard walks, including l33t spellings) counted for what they are worth to an attacker.
// It is a guide for the meter, not a guarantee: it never sees the passphrase leave this function.

export type StrengthLevel = 'empty' | 'weak' | 'fair' | 'good' | 'strong';

export type Strength = {
  /** Estimated bits of entropy, rounded down. */
  bits: number;
  level: StrengthLevel;
  /** 0..4 for the meter's filled segments. */
  score: number;
  /** Short advice, most useful first. */
  hints: string[];
};

/** Lower bounds (in bits) of each level. */
export const THRESHOLDS = { fair: 36, good: 60, strong: 80 } as const;

/**
 * Words and keyboard walks attackers try first. Matched case-insensitively, after undoing l33t
 * substitutions. Each match is worth ~10 bits (a guess from a list of about a thousand), however
 * long it is.
 */
const COMMON = [
  'password', 'passwort', 'passphrase', 'qwerty', 'qwertz', 'azerty', 'asdf', 'zxcv', 'letmein',
  'welcome', 'admin', 'login', 'master', 'secret', 'dragon', 'monkey', 'shadow', 'sunshine',
  'princess', 'football', 'baseball', 'iloveyou', 'trustno1', 'superman', 'batman', 'starwars',
  'hello', 'freedom', 'whatever', 'michael', 'jordan', 'charlie', 'computer', 'internet',
  'changeme', 'default', 'root', 'toor', 'test', 'guest', 'user', 'ssh', 'key', 'keys', 'private',
  'github', 'gitlab', 'server', 'linux', 'ubuntu', 'debian', 'latchkey', 'summer', 'winter',
  'spring', 'autumn', 'love', 'god', 'money', 'abc', 'qazwsx', 'zaq12wsx', '1q2w3e', 'pass',
];
const COMMON_WORD_BITS = 10;
/** A year (1900-2099) is one of two hundred guesses. */
const YEAR = /(?:19|20)\d\d/g;
const YEAR_BITS = 8;

const LEET: Record<string, string> = {
  '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g', '@': 'a',
  '$': 's', '!': 'i', '|': 'l', '+': 't',
};

type CharClass = 'lower' | 'upper' | 'digit' | 'space' | 'symbol' | 'other';

/** Alphabet sizes an attacker has to cover for one character of each class. */
const CLASS_SIZE: Record<CharClass, number> = { lower: 26, upper: 26, digit: 10, space: 2, symbol: 33, other: 100 };
const CLASS_LETTER: Record<CharClass, string> = { lower: 'l', upper: 'u', digit: 'd', space: 's', symbol: 's', other: 'o' };

function classOf(c: string): CharClass {
  if (/[a-z]/.test(c)) return 'lower';
  if (/[A-Z]/.test(c)) return 'upper';
  if (/[0-9]/.test(c)) return 'digit';
  if (c === ' ') return 'space';
  if (/[!-/:-@[-`{-~]/.test(c)) return 'symbol';
  return 'other';
}

/**
 * How much each character is worth, 0..1: a repeat of the previous character or the next step of
 * a run (a->b->c, 1->2->3, or backwards) is worth a fraction of a fresh one.
 */
function weights(chars: string[]): number[] {
  let step = 0; // the direction of the current run (+1/-1), 0 when not in a run
  return chars.map((c, i) => {
    if (i === 0) return 1;
    const d = (c.codePointAt(0) ?? 0) - (chars[i - 1].codePointAt(0) ?? 0);
    if (d === 0) {
      step = 0;
      return 0.2;
    }
    if ((d === 1 || d === -1) && classOf(c) === classOf(chars[i - 1])) {
      const w = step === d ? 0.2 : 0.5;
      step = d;
      return w;
    }
    step = 0;
    return 1;
  });
}

/** log2 of n! (n is small). */
function log2Factorial(n: number): number {
  let sum = 0;
  for (let i = 2; i <= n; i++) sum += Math.log2(i);
  return sum;
}

/**
 * Bits for where the classes sit: log2 of the number of ways to arrange these class counts
 * (a multinomial), except for the layout everybody uses (a capital first, then letters, then
 * digits and symbols at the end), which an attacker tries first.
 */
function arrangementBits(classes: CharClass[]): number {
  const pattern = classes.map((c) => CLASS_LETTER[c]).join('');
  if (/^u?l*[ds]*$/.test(pattern) || /^l*u?[ds]*$/.test(pattern)) return Math.min(2, classes.length);
  const counts = new Map<string, number>();
  for (const c of classes) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = log2Factorial(classes.length);
  for (const n of counts.values()) bits -= log2Factorial(n);
  return bits;
}

/** If `s` is one block repeated (abcabcabc), the block; else `s`. */
function collapseRepeatedBlock(s: string): { core: string; repeated: boolean } {
  for (let size = 1; size <= s.length / 2; size++) {
    if (s.length % size !== 0) continue;
    const block = s.slice(0, size);
    if (block.repeat(s.length / size) === s) return { core: block, repeated: true };
  }
  return { core: s, repeated: false };
}

/** Lower-case and undo l33t one UTF-16 unit at a time, so offsets match the original. */
function normalise(units: string[]): string {
  return units
    .map((c) => {
      const lower = c.toLowerCase();
      const n = LEET[lower] ?? lower;
      return n.length === 1 ? n : c;
    })
    .join('');
}

/**
 * Cut out common words (longest first) and return what is left, with how many words were found.
 * Matching runs on the normalised text; cutting happens at the same offsets in the original so
 * the remaining characters keep their real classes.
 */
function removeCommonWords(s: string): { rest: string[]; words: number } {
  const original = s.split('');
  const text = normalise(original);
  const keep = original.map(() => true);
  let words = 0;
  const byLength = [...COMMON].sort((a, b) => b.length - a.length);
  for (const word of byLength) {
    for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) {
      if (keep.slice(at, at + word.length).every(Boolean)) {
        for (let i = at; i < at + word.length; i++) keep[i] = false;
        words++;
      }
    }
  }
  // Back to code points so a character outside the BMP counts once.
  return { rest: Array.from(original.filter((_, i) => keep[i]).join('')), words };
}

export function estimateStrength(passphrase: string): Strength {
  if (passphrase.length === 0) return { bits: 0, level: 'empty', score: 0, hints: [] };

  const hints: string[] = [];
  const { core, repeated } = collapseRepeatedBlock(passphrase);
  if (repeated) hints.push('Repeating the same part adds almost nothing.');

  const { rest, words } = removeCommonWords(core);
  if (words > 0) hints.push('Avoid common words and keyboard patterns.');
  const years = (rest.join('').match(YEAR) ?? []).length;
  const chars = Array.from(rest.join('').replace(YEAR, ''));

  const w = weights(chars);
  const weighted = w.reduce((a, b) => a + b, 0);
  if (chars.length >= 4 && weighted < chars.length * 0.75) {
    hints.push('Avoid repeated characters and runs like "abcd" or "1234".');
  }
  const classes = chars.map(classOf);
  let bits = chars.reduce((sum, _, i) => sum + w[i] * Math.log2(CLASS_SIZE[classes[i]]), 0);
  bits += arrangementBits(classes) * (chars.length > 0 ? weighted / chars.length : 0);
  bits += words * COMMON_WORD_BITS + years * YEAR_BITS;
  if (repeated) bits += 2; // knowing the block, the attacker still has to guess the count
  bits = Math.floor(bits);

  const length = Array.from(passphrase).length;
  if (length < 12) hints.push('Use at least 12 characters; several random words work well.');
  const kinds = new Set(Array.from(passphrase, classOf)).size;
  if (kinds <= 1 && length >= 12 && bits < THRESHOLDS.good) {
    hints.push('Mix in capitals, digits or symbols, or make it longer.');
  }

  const level: StrengthLevel =
    bits >= THRESHOLDS.strong
      ? 'strong'
      : bits >= THRESHOLDS.good
        ? 'good'
        : bits >= THRESHOLDS.fair
          ? 'fair'
          : 'weak';
  const score = { empty: 0, weak: 1, fair: 2, good: 3, strong: 4 }[level];
  return { bits, level, score, hints };
}

export const LEVEL_LABELS: Record<StrengthLevel, string> = {
  empty: '',
  weak: 'Weak',
  fair: 'Fair',
  good: 'Good',
  strong: 'Strong',
};
