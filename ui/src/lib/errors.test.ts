import { describe, expect, it } from 'vitest';

import { asksForPassphrase, errorLine, fieldOf, formatError, toIpcError } from './errors';

describe('toIpcError', () => {
  it('keeps an IpcError as it is', () => {
    expect(toIpcError({ code: 'name_taken', message: 'a key named "x" exists', extra: 1 })).toEqual({
      code: 'name_taken',
      message: 'a key named "x" exists',
    });
  });

  it('turns strings and Errors into internal errors', () => {
    expect(toIpcError('dialog failed')).toEqual({ code: 'internal', message: 'dialog failed' });
    expect(toIpcError(new Error('boom'))).toEqual({ code: 'internal', message: 'boom' });
    expect(toIpcError(undefined)).toEqual({ code: 'internal', message: 'unknown error' });
    expect(toIpcError({ code: 3, message: 'x' }).code).toBe('internal');
  });
});

describe('formatError', () => {
  it('puts a headline in words before the backend’s message and keeps the code', () => {
    const t = formatError({ code: 'wrong_passphrase', message: 'the passphrase does not decrypt work' });
    expect(t.headline).toBe('That passphrase does not open the key.');
    expect(t.detail).toBe('the passphrase does not decrypt work');
    expect(t.code).toBe('wrong_passphrase');
  });

  it('uses the message itself for codes it has no words for', () => {
    const t = formatError({ code: 'agent_locked', message: 'the agent is locked' });
    expect(t).toEqual({ headline: 'the agent is locked', detail: '', code: 'agent_locked' });
  });

  it('does not repeat a message that says the same as the headline', () => {
    const t = formatError({ code: 'file_not_found', message: 'No such file' });
    expect(t.detail).toBe('');
  });

  it('formats one line with the code', () => {
    expect(errorLine({ code: 'name_taken', message: 'work exists' })).toBe(
      'A key with that name already exists. — work exists (name_taken)',
    );
  });

  it('leaves the backend’s message as it is (it may start with a file name)', () => {
    expect(formatError({ code: 'corrupt_metadata', message: 'keys.toml line 3: bad' }).detail).toBe(
      'keys.toml line 3: bad',
    );
  });
});

describe('fieldOf', () => {
  it('places passphrase and name errors at their fields', () => {
    expect(fieldOf('wrong_passphrase')).toBe('passphrase');
    expect(fieldOf('import_needs_passphrase')).toBe('passphrase');
    expect(fieldOf('name_taken')).toBe('name');
    expect(fieldOf('invalid_name')).toBe('name');
    expect(fieldOf('internal')).toBeNull();
  });

  it('places the keyring and keep-the-passphrase errors at the passphrase field', () => {
    expect(fieldOf('remembered_passphrase_unavailable')).toBe('passphrase');
    expect(fieldOf('import_keeps_passphrase')).toBe('passphrase');
    expect(fieldOf('passphrase_missing')).toBe('new_passphrase');
  });
});

describe('asksForPassphrase', () => {
  it('treats an unreachable keyring like a missing passphrase', () => {
    expect(asksForPassphrase('passphrase_required')).toBe(true);
    expect(asksForPassphrase('wrong_passphrase')).toBe(true);
    expect(asksForPassphrase('remembered_passphrase_unavailable')).toBe(true);
    expect(asksForPassphrase('keyring_unavailable')).toBe(false);
    expect(asksForPassphrase('internal')).toBe(false);
  });
});

describe('messages for the newer codes', () => {
  it('says the keyring cannot be reached and asks for the passphrase', () => {
    const t = formatError({
      code: 'remembered_passphrase_unavailable',
      message: 'the passphrase of "work" is remembered in the OS keyring, which cannot be reached (no D-Bus): enter the passphrase instead',
    });
    expect(t.headline).toBe("The OS keyring that remembers this key's passphrase can't be reached: enter the passphrase.");
    expect(t.detail).toMatch(/no D-Bus/);
  });

  it('says an encrypted key stays protected on import', () => {
    const t = formatError({
      code: 'import_keeps_passphrase',
      message:
        'the key is protected by a passphrase and stays protected in the store: keep its passphrase or choose a new one (removing it later is `latchkey key passwd`, named as dangerous there)',
    });
    expect(t.headline).toMatch(/keep its passphrase or choose a new one/);
    expect(t.detail).toMatch(/latchkey key passwd/);
  });

  it('shows which key sizes are available for unsupported_bits', () => {
    const message = 'RSA keys cannot have 2560 bits: choose one of 2048, 3072 (the default), 4096 or 8192';
    const t = formatError({ code: 'unsupported_bits', message });
    expect(t.headline).toBe('That key size is not supported.');
    expect(t.detail).toBe(message);
    expect(errorLine({ code: 'unsupported_bits', message })).toContain('4096 or 8192');
  });
});
