import { describe, expect, it } from 'vitest';

import { minutesLabel } from './minutes';
import { formToSettings, settingsForm } from './settings';

describe('settings form', () => {
  it('round-trips the idle lock through presets, "off" and other values', () => {
    for (const idle of [null, 5, 60, 45]) {
      const settings = { idle_lock_minutes: idle, notify_on_sign: false, start_at_login: true };
      expect(formToSettings(settingsForm(settings)).settings).toEqual(settings);
    }
    expect(settingsForm({ idle_lock_minutes: 45, notify_on_sign: true, start_at_login: false }).idleLock).toEqual({
      choice: 'custom',
      custom: '45',
    });
  });

  it('refuses an empty other value', () => {
    const v = formToSettings({ idleLock: { choice: 'custom', custom: '' }, notifyOnSign: true, startAtLogin: false });
    expect(v.settings).toBeNull();
    expect(v.errors.idleLock).toMatch(/minutes/);
  });

  it('labels durations', () => {
    expect(minutesLabel(1)).toBe('1 minute');
    expect(minutesLabel(15)).toBe('15 minutes');
    expect(minutesLabel(60)).toBe('1 hour');
    expect(minutesLabel(90)).toBe('90 minutes');
    expect(minutesLabel(480)).toBe('8 hours');
  });
});
