// Checks on a new passphrase typed twice. Shared by Generate, Import and Change passphrase.

import { estimateStrength, type Strength } from './strength';

export type NewPassphraseCheck = {
  /** Both fields empty. */
  empty: boolean;
  /** The second field is filled in and differs from the first. */
  mismatch: boolean;
  /** Both filled in and equal. */
  confirmed: boolean;
  strength: Strength;
};

export function checkNewPassphrase(first: string, second: string): NewPassphraseCheck {
  return {
    empty: first.length === 0 && second.length === 0,
    mismatch: second.length > 0 && first !== second,
    confirmed: first.length > 0 && first === second,
    strength: estimateStrength(first),
  };
}

export const MISMATCH = 'The passphrases do not match.';
export const REPEAT = 'Type the passphrase again to confirm it.';
export const NO_PASSPHRASE_WARNING =
  'Without a passphrase, anyone who gets a copy of the key file can use the key.';
