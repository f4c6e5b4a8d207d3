import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import * as api from '../lib/api';
import { probe, saved } from '../test/fixtures';
import ImportDialog from './ImportDialog.svelte';

vi.mock('../lib/api');

function setup(props: Partial<{ keyringAvailable: boolean; takenNames: string[]; initialPath: string | null }> = {}) {
  const onclose = vi.fn();
  const onimported = vi.fn();
  const user = userEvent.setup();
  render(ImportDialog, { keyringAvailable: true, takenNames: [], onclose, onimported, ...props });
  const el = <T extends HTMLElement = HTMLInputElement>(sel: string) => document.querySelector(sel) as T | null;
  return { user, onclose, onimported, el };
}

const submit = () => screen.getByTestId('import-submit') as HTMLButtonElement;

describe('ImportDialog', () => {
  it('probes a typed path, asks for the passphrase, keeps the dialog open on a wrong one, then imports', async () => {
    vi.mocked(api.probeImport).mockResolvedValue(probe({ encrypted: true, suggested_name: 'id_ed25519' }));
    vi.mocked(api.importKey)
      .mockRejectedValueOnce({ code: 'wrong_passphrase', message: 'the passphrase does not decrypt the key' })
      .mockResolvedValueOnce(saved({ name: 'laptop' }));
    const { user, el, onimported } = setup({ takenNames: ['id_ed25519'] });

    expect(el('#import-passphrase')).toBeNull();
    await user.type(el('#import-path')!, '/home/me/.ssh/id_ed25519');
    await user.click(screen.getByTestId('import-path-load'));

    expect(api.probeImport).toHaveBeenCalledWith({ type: 'path', path: '/home/me/.ssh/id_ed25519' });
    await screen.findByTestId('import-probe');
    expect(screen.getByTestId('import-format')).toHaveTextContent('OpenSSH private key');
    expect(screen.getByText('SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s')).toBeInTheDocument();
    // The suggestion is taken already, so it is made unique.
    expect(el('#import-name')!.value).toBe('id_ed25519_2');
    expect(el('#import-passphrase')).not.toBeNull();
    expect(el('#import-keep')!.checked).toBe(true);
    expect(submit()).toBeDisabled();

    await user.clear(el('#import-name')!);
    await user.type(el('#import-name')!, 'laptop');
    await user.type(el('#import-passphrase')!, 'wrong');
    await user.click(submit());

    const error = await screen.findByTestId('error');
    expect(error).toHaveTextContent('That passphrase does not open the key.');
    expect(screen.getByTestId('error-code')).toHaveTextContent('wrong_passphrase');
    // The message sits at the passphrase field, which is described by it and focused again.
    expect(el('#import-passphrase')!.closest('.field')).toContainElement(error);
    expect(el('#import-passphrase')).toHaveAttribute('aria-describedby', error.id);
    await waitFor(() => expect(document.activeElement).toBe(el('#import-passphrase')));
    expect(el('#import-passphrase')!.value).toBe('');
    expect(screen.getByTestId('import-dialog')).toBeInTheDocument();
    expect(onimported).not.toHaveBeenCalled();

    await user.type(el('#import-passphrase')!, 'right');
    await user.click(submit());
    await waitFor(() => expect(onimported).toHaveBeenCalledTimes(1));
    expect(api.importKey).toHaveBeenLastCalledWith({
      source: { type: 'path', path: '/home/me/.ssh/id_ed25519' },
      name: 'laptop',
      passphrase: 'right',
      new_passphrase: null,
      no_passphrase: false,
      kdf: 'standard',
      remember: false,
    });
  });

  it('makes an unencrypted source choose a new passphrase or none', async () => {
    vi.mocked(api.probeImport).mockResolvedValue(probe({ encrypted: false, format: 'pem-pkcs1' }));
    vi.mocked(api.importKey).mockResolvedValue(saved());
    const { user, el } = setup();
    await user.type(el('#import-text')!, '-----BEGIN RSA PRIVATE KEY-----');
    await user.click(screen.getByTestId('import-text-load'));
    await screen.findByTestId('import-probe');

    expect(api.probeImport).toHaveBeenCalledWith({ type: 'text', text: '-----BEGIN RSA PRIVATE KEY-----' });
    expect(el('#import-passphrase')).toBeNull();
    // Nothing to keep; storing it plain is offered, and named as dangerous.
    expect(el('#import-keep')).toBeNull();
    expect(el('#import-new')!.checked).toBe(true);
    expect(el('#import-none')).not.toBeNull();
    expect(screen.getByLabelText(/^Store without a passphrase \(dangerous: anyone who can read the file can use the key\)$/)).toBe(
      el('#import-none'),
    );
    expect(submit()).toBeDisabled();

    await user.type(el('#import-new-passphrase')!, 'n3w-Pass!word');
    await user.type(el('#import-new-passphrase2')!, 'n3w-Pass!word');
    expect(submit()).toBeEnabled();

    await user.click(el('#import-none')!);
    expect(el('#import-new-passphrase')).toBeNull();
    expect(screen.getByRole('note')).toHaveTextContent(/anyone who gets a copy/i);
    expect(el('#import-remember')).toBeDisabled();
    await user.click(submit());
    await waitFor(() => expect(api.importKey).toHaveBeenCalled());
    expect(vi.mocked(api.importKey).mock.calls[0][0]).toMatchObject({
      source: { type: 'text', text: '-----BEGIN RSA PRIVATE KEY-----' },
      passphrase: null,
      new_passphrase: null,
      no_passphrase: true,
      remember: false,
    });
  });

  it('offers an encrypted source only its own passphrase or a new one', async () => {
    vi.mocked(api.probeImport).mockResolvedValue(probe({ encrypted: true }));
    const { user, el } = setup();
    await user.type(el('#import-path')!, '/k');
    await user.click(screen.getByTestId('import-path-load'));
    const choices = await screen.findByTestId('import-protection');
    const radios = Array.from(choices.querySelectorAll<HTMLInputElement>('input[type=radio]'));
    expect(radios.map((r) => r.value)).toEqual(['keep', 'new']);
    expect(el('#import-none')).toBeNull();
    expect(el('#import-keep')!.checked).toBe(true);
    expect(screen.getByLabelText('Keep its passphrase')).toBe(el('#import-keep'));
  });

  it('asks for the passphrase and drops "no passphrase" when the backend says the source is encrypted', async () => {
    vi.mocked(api.probeImport).mockResolvedValue(probe({ encrypted: false, format: 'pkcs8' }));
    vi.mocked(api.importKey)
      .mockRejectedValueOnce({
        code: 'import_keeps_passphrase',
        message: 'the key is protected by a passphrase and stays protected in the store: keep its passphrase or choose a new one',
      })
      .mockResolvedValueOnce(saved());
    const { user, el } = setup();
    await user.type(el('#import-path')!, '/k');
    await user.click(screen.getByTestId('import-path-load'));
    await screen.findByTestId('import-probe');
    await user.click(el('#import-none')!);
    await user.click(submit());

    const error = await screen.findByTestId('error');
    expect(screen.getByTestId('error-code')).toHaveTextContent('import_keeps_passphrase');
    expect(error).toHaveTextContent(/keep its passphrase or choose a new one/);
    expect(el('#import-passphrase')!.closest('.field')).toContainElement(error);
    await waitFor(() => expect(document.activeElement).toBe(el('#import-passphrase')));
    expect(el('#import-none')).toBeNull();
    expect(el('#import-keep')!.checked).toBe(true);

    await user.type(el('#import-passphrase')!, 'old');
    await user.click(submit());
    await waitFor(() => expect(api.importKey).toHaveBeenCalledTimes(2));
    expect(vi.mocked(api.importKey).mock.calls[1][0]).toMatchObject({ passphrase: 'old', new_passphrase: null, no_passphrase: false });
  });

  it('explains the strong key derivation under the choice', async () => {
    vi.mocked(api.probeImport).mockResolvedValue(probe());
    const { user, el } = setup();
    await user.type(el('#import-path')!, '/k');
    await user.click(screen.getByTestId('import-path-load'));
    await screen.findByTestId('import-probe');
    const kdf = el<HTMLSelectElement>('#import-kdf')!;
    expect(kdf).toHaveAccessibleDescription(/about 0\.5 s per unlock in Latchkey.*ssh-keygen.*one thread.*~1 s/);
  });

  it('clears the new passphrase fields after sending', async () => {
    vi.mocked(api.probeImport).mockResolvedValue(probe({ encrypted: true }));
    vi.mocked(api.importKey).mockReturnValue(new Promise(() => {}));
    const { user, el } = setup();
    await user.type(el('#import-path')!, '/k');
    await user.click(screen.getByTestId('import-path-load'));
    await screen.findByTestId('import-probe');
    await user.type(el('#import-passphrase')!, 'old-secret');
    await user.click(el('#import-new')!);
    await user.type(el('#import-new-passphrase')!, 'n3w-Pass!word');
    await user.type(el('#import-new-passphrase2')!, 'n3w-Pass!word');
    await user.click(submit());

    expect(vi.mocked(api.importKey).mock.calls[0][0]).toMatchObject({
      passphrase: 'old-secret',
      new_passphrase: 'n3w-Pass!word',
    });
    expect(el('#import-passphrase')!.value).toBe('');
    expect(el('#import-new-passphrase')!.value).toBe('');
    expect(el('#import-new-passphrase2')!.value).toBe('');
    expect(screen.getByTestId('import-progress')).toBeInTheDocument();
  });

  it('shows a probe error on the source step', async () => {
    vi.mocked(api.probeImport).mockRejectedValue({ code: 'unrecognized_format', message: 'no key found' });
    const { user, el } = setup();
    await user.type(el('#import-text')!, 'hello');
    await user.click(screen.getByTestId('import-text-load'));
    expect(await screen.findByTestId('error-code')).toHaveTextContent('unrecognized_format');
    expect(el('#import-text')).not.toBeNull();
  });

  it('probes a dropped file right away', async () => {
    vi.mocked(api.probeImport).mockResolvedValue(probe());
    setup({ initialPath: '/drop/id_ecdsa' });
    await screen.findByTestId('import-probe');
    expect(api.probeImport).toHaveBeenCalledWith({ type: 'path', path: '/drop/id_ecdsa' });
  });

  it('imports from the file picker', async () => {
    vi.mocked(api.pickKeyFile).mockResolvedValue('/picked/key.ppk');
    vi.mocked(api.probeImport).mockResolvedValue(probe({ format: 'putty-v3' }));
    const { user } = setup();
    await user.click(screen.getByTestId('import-pick-file'));
    await screen.findByTestId('import-probe');
    expect(api.probeImport).toHaveBeenCalledWith({ type: 'path', path: '/picked/key.ppk' });
    expect(screen.getByTestId('import-format')).toHaveTextContent('PPK v3');
  });

  it('goes back to choose another key, and closes on Escape', async () => {
    vi.mocked(api.probeImport).mockResolvedValue(probe());
    const { user, el, onclose } = setup();
    await user.type(el('#import-path')!, '/k');
    await user.click(screen.getByTestId('import-path-load'));
    await screen.findByTestId('import-probe');
    await user.click(screen.getByRole('button', { name: 'Choose another key' }));
    expect(el('#import-path')).not.toBeNull();
    await user.keyboard('{Escape}');
    expect(onclose).toHaveBeenCalled();
  });
});
