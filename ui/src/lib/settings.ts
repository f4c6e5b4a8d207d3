// The Agent view's settings form and the `Settings` it saves. Pure.

import type { Settings } from './bindings';
import { fromChoice, toChoice, type MinutesChoice } from './minutes';

/** Idle lock presets, in minutes (the select also has "Off" and "Other…"). */
export const IDLE_LOCK_PRESETS = [5, 15, 30, 60] as const;

export type SettingsForm = { idleLock: MinutesChoice; notifyOnSign: boolean; startAtLogin: boolean };

export function settingsForm(settings: Settings): SettingsForm {
  return {
    idleLock: toChoice(settings.idle_lock_minutes, IDLE_LOCK_PRESETS),
    notifyOnSign: settings.notify_on_sign,
    startAtLogin: settings.start_at_login,
  };
}

export type SettingsValidation = { settings: Settings | null; errors: { idleLock?: string } };

export function formToSettings(form: SettingsForm): SettingsValidation {
  const idle = fromChoice(form.idleLock);
  if (!idle.ok) return { settings: null, errors: { idleLock: idle.error } };
  return {
    settings: {
      idle_lock_minutes: idle.minutes,
      notify_on_sign: form.notifyOnSign,
      start_at_login: form.startAtLogin,
    },
    errors: {},
  };
}

export function sameSettings(a: Settings, b: Settings): boolean {
  return (
    a.idle_lock_minutes === b.idle_lock_minutes &&
    a.notify_on_sign === b.notify_on_sign &&
    a.start_at_login === b.start_at_login
  );
}
