// "Off / 5 / 15 / 30 / 60 minutes / Other…" choices, as used by a key's "Unlocked for" and the
// agent's idle lock: a select plus a number field for other values. Pure.

/** The select's value for "no limit" (until the agent locks, never idle-lock). */
export const NONE = '';
/** The select's value that shows the number field. */
export const CUSTOM = 'custom';
/** A year: far beyond any sensible value, well inside the backend's u32. */
export const MAX_MINUTES = 525_600;

export type MinutesChoice = { choice: string; custom: string };

/** How a stored value shows: a preset, or "Other" with the number filled in. */
export function toChoice(minutes: number | null | undefined, presets: readonly number[]): MinutesChoice {
  if (minutes === null || minutes === undefined) return { choice: NONE, custom: '' };
  if (presets.includes(minutes)) return { choice: String(minutes), custom: '' };
  return { choice: CUSTOM, custom: String(minutes) };
}

export type ParsedMinutes = { ok: true; minutes: number | null } | { ok: false; error: string };

/** The value the choice stands for, or why the number field is not acceptable. */
export function fromChoice({ choice, custom }: MinutesChoice): ParsedMinutes {
  if (choice === NONE) return { ok: true, minutes: null };
  const text = choice === CUSTOM ? custom.trim() : choice;
  if (text === '') return { ok: false, error: 'Enter a number of minutes.' };
  if (!/^\d+$/.test(text)) return { ok: false, error: 'Enter whole minutes, like 45.' };
  const minutes = Number.parseInt(text, 10);
  if (minutes < 1) return { ok: false, error: 'At least 1 minute.' };
  if (minutes > MAX_MINUTES) return { ok: false, error: 'At most a year (525600 minutes).' };
  return { ok: true, minutes };
}

/** "5 minutes", "1 hour", "90 minutes", "8 hours". */
export function minutesLabel(minutes: number): string {
  if (minutes % 60 === 0 && minutes >= 60) {
    const h = minutes / 60;
    return h === 1 ? '1 hour' : `${h} hours`;
  }
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}
