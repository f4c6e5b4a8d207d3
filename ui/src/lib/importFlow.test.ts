import { describe, expect, it, vi } from 'vitest';

import { probe, saved } from '../test/fixtures';
import * as api from './api';
import { ImportFlow, sourceIsEncrypted } from './importFlow.svelte';

vi.mock('./api');

const request = {
  name: 'work',
  passphrase: 'secret',
  new_passphrase: null,
  no_passphrase: false,
  kdf: 'standard' as const,
  remember: false,
};

describe('ImportFlow', () => {
  it('probes, then imports with the probed source', async () => {
    vi.mocked(api.probeImport).mockResolvedValue(probe());
    vi.mocked(api.importKey).mockResolvedValue(saved());
    const flow = new ImportFlow();
    expect(flow.step).toBe('source');

    const loading = flow.load({ type: 'path', path: '/home/me/.ssh/id_ed25519' });
    expect(flow.step).toBe('probing');
    expect(flow.busy).toBe(true);
    expect(await loading).toBe(true);
    expect(flow.step).toBe('details');
    expect(flow.probe?.encrypted).toBe(true);
    expect(flow.sourceLabel).toBe('/home/me/.ssh/id_ed25519');

    const result = await flow.submit(request);
    expect(result?.key.name).toBe('work');
    expect(flow.step).toBe('done');
    expect(api.importKey).toHaveBeenCalledWith({ ...request, source: { type: 'path', path: '/home/me/.ssh/id_ed25519' } });
  });

  it('stays on the source step with the error when probing fails', async () => {
    vi.mocked(api.probeImport).mockRejectedValue({ code: 'unrecognized_format', message: 'not a key' });
    const flow = new ImportFlow();
    expect(await flow.load({ type: 'text', text: 'hello' })).toBe(false);
    expect(flow.step).toBe('source');
    expect(flow.error).toEqual({ code: 'unrecognized_format', message: 'not a key' });
    expect(flow.probe).toBeNull();
  });

  it('keeps the details step on a wrong passphrase, pointing at the passphrase field, and succeeds on retry', async () => {
    vi.mocked(api.probeImport).mockResolvedValue(probe());
    vi.mocked(api.importKey)
      .mockRejectedValueOnce({ code: 'wrong_passphrase', message: 'the passphrase is wrong' })
      .mockResolvedValueOnce(saved());
    const flow = new ImportFlow();
    await flow.load({ type: 'text', text: '-----BEGIN OPENSSH PRIVATE KEY-----' });

    expect(await flow.submit({ ...request, passphrase: 'nope' })).toBeNull();
    expect(flow.step).toBe('details');
    expect(flow.error?.code).toBe('wrong_passphrase');
    expect(flow.errorField).toBe('passphrase');
    expect(flow.probe).not.toBeNull();

    expect(await flow.submit(request)).not.toBeNull();
    expect(flow.step).toBe('done');
    expect(flow.error).toBeNull();
    expect(vi.mocked(api.importKey).mock.calls[1][0].source).toEqual({
      type: 'text',
      text: '-----BEGIN OPENSSH PRIVATE KEY-----',
    });
  });

  it('points name errors at the name field', async () => {
    vi.mocked(api.probeImport).mockResolvedValue(probe());
    vi.mocked(api.importKey).mockRejectedValue({ code: 'name_taken', message: 'exists' });
    const flow = new ImportFlow();
    await flow.load({ type: 'path', path: '/k' });
    await flow.submit(request);
    expect(flow.errorField).toBe('name');
  });

  it.each([
    ['passphrase_required', 'the key is encrypted: a passphrase is required'],
    ['remembered_passphrase_unavailable', 'the keyring cannot be reached: enter the passphrase instead'],
    ['import_keeps_passphrase', 'the key is protected by a passphrase and stays protected in the store'],
  ])('learns from %s that the source is encrypted after all, and asks for its passphrase', async (code, message) => {
    vi.mocked(api.probeImport).mockResolvedValue(probe({ encrypted: false }));
    vi.mocked(api.importKey).mockRejectedValue({ code, message });
    const flow = new ImportFlow();
    await flow.load({ type: 'path', path: '/k' });
    expect(flow.probe?.encrypted).toBe(false);
    await flow.submit({ ...request, passphrase: null, no_passphrase: true });
    expect(flow.step).toBe('details');
    expect(flow.probe?.encrypted).toBe(true);
    expect(flow.errorField).toBe('passphrase');
  });

  it('does not take other errors for an encrypted source', async () => {
    expect(sourceIsEncrypted('name_taken')).toBe(false);
    expect(sourceIsEncrypted('import_needs_passphrase')).toBe(false);
    vi.mocked(api.probeImport).mockResolvedValue(probe({ encrypted: false }));
    vi.mocked(api.importKey).mockRejectedValue({ code: 'internal', message: 'disk full' });
    const flow = new ImportFlow();
    await flow.load({ type: 'path', path: '/k' });
    await flow.submit({ ...request, passphrase: null });
    expect(flow.probe?.encrypted).toBe(false);
  });

  it('normalises odd rejections', async () => {
    vi.mocked(api.probeImport).mockRejectedValue(new Error('ipc bridge missing'));
    const flow = new ImportFlow();
    await flow.load({ type: 'path', path: '/k' });
    expect(flow.error).toEqual({ code: 'internal', message: 'ipc bridge missing' });
  });

  it('does nothing on submit before a probe, and ignores a second load while busy', async () => {
    const flow = new ImportFlow();
    expect(await flow.submit(request)).toBeNull();
    expect(api.importKey).not.toHaveBeenCalled();

    let resolve!: (p: ReturnType<typeof probe>) => void;
    vi.mocked(api.probeImport).mockReturnValue(new Promise((r) => (resolve = r)));
    const first = flow.load({ type: 'path', path: '/a' });
    expect(await flow.load({ type: 'path', path: '/b' })).toBe(false);
    resolve(probe());
    await first;
    expect(api.probeImport).toHaveBeenCalledTimes(1);
  });

  it('goes back to the source step and forgets the source', async () => {
    vi.mocked(api.probeImport).mockResolvedValue(probe());
    const flow = new ImportFlow();
    await flow.load({ type: 'path', path: '/k' });
    flow.back();
    expect(flow.step).toBe('source');
    expect(flow.probe).toBeNull();
    expect(await flow.submit(request)).toBeNull();
    expect(api.importKey).not.toHaveBeenCalled();
  });
});
