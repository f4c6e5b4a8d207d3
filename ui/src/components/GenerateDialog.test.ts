import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import * as api from '../lib/api';
import type { Saved } from '../lib/bindings';
import { saved } from '../test/fixtures';
import GenerateDialog from './GenerateDialog.svelte';

vi.mock('../lib/api');

function setup(props: Partial<{ keyringAvailable: boolean; takenNames: string[] }> = {}) {
  const onclose = vi.fn();
  const ongenerated = vi.fn();
  const user = userEvent.setup();
  const result = render(GenerateDialog, {
    keyringAvailable: true,
    takenNames: [],
    onclose,
    ongenerated,
    ...props,
  });
  const el = <T extends HTMLElement>(sel: string) => result.container.ownerDocument.querySelector(sel) as T;
  return { user, onclose, ongenerated, el, ...result };
}

const submitButton = () => screen.getByTestId('generate-submit') as HTMLButtonElement;

describe('GenerateDialog', () => {
  it('is an accessible modal dialog that focuses the name, suggesting a free name', async () => {
    const { el } = setup({ takenNames: ['id_ed25519'] });
    const dialog = screen.getByTestId('generate-dialog');
    expect(dialog).toHaveAttribute('role', 'dialog');
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    expect(screen.getByRole('dialog', { name: 'Generate a key' })).toBe(dialog);
    expect(el<HTMLInputElement>('#gen-name').value).toBe('id_ed25519_2');
    await waitFor(() => expect(document.activeElement).toBe(el('#gen-name')));
    expect(screen.getByLabelText('Comment')).toHaveAttribute('placeholder', 'user@hostname (default)');
  });

  it('keeps submit disabled until the passphrase is typed twice, and says when they differ', async () => {
    const { user, el } = setup();
    expect(submitButton()).toBeDisabled();
    await user.type(el('#gen-passphrase'), 'k7Rw#pQ2vL9!');
    expect(submitButton()).toBeDisabled();
    await user.type(el('#gen-passphrase2'), 'k7Rw#pQ2vL9?');
    expect(screen.getByRole('alert')).toHaveTextContent('The passphrases do not match.');
    expect(submitButton()).toBeDisabled();
    await user.clear(el('#gen-passphrase2'));
    await user.type(el('#gen-passphrase2'), 'k7Rw#pQ2vL9!');
    expect(screen.queryByText('The passphrases do not match.')).toBeNull();
    expect(submitButton()).toBeEnabled();
  });

  it('shows the strength of the passphrase', async () => {
    const { user, el } = setup();
    const meter = screen.getByRole('meter', { name: 'Passphrase strength' });
    await user.type(el('#gen-passphrase'), 'password');
    expect(meter).toHaveAttribute('aria-valuetext', 'Weak');
    await user.clear(el('#gen-passphrase'));
    await user.type(el('#gen-passphrase'), 'x7#Kq!9mZ&v2Lp$w');
    expect(meter).toHaveAttribute('aria-valuetext', 'Strong');
  });

  it('"No passphrase" disables the passphrase fields and Remember, and warns', async () => {
    const { user, el } = setup();
    await user.type(el('#gen-passphrase'), 'typed');
    await user.click(el('#gen-no-passphrase'));
    expect(el('#gen-passphrase')).toBeDisabled();
    expect(el('#gen-passphrase2')).toBeDisabled();
    expect(el<HTMLInputElement>('#gen-passphrase').value).toBe('');
    expect(el('#gen-remember')).toBeDisabled();
    expect(el('#gen-kdf')).toBeDisabled();
    expect(screen.getByRole('note')).toHaveTextContent(/anyone who gets a copy of the key file can use the key/i);
    expect(submitButton()).toBeEnabled();
  });

  it('disables Remember when the keyring is unavailable', () => {
    const { el } = setup({ keyringAvailable: false });
    expect(el('#gen-remember')).toBeDisabled();
    expect(screen.getByText(/keyring is unavailable/)).toBeInTheDocument();
  });

  it('sends the request, clears the passphrases at once, shows progress, then reports success', async () => {
    let finish!: (s: Saved) => void;
    vi.mocked(api.generateKey).mockReturnValue(new Promise((r) => (finish = r)));
    const { user, el, ongenerated } = setup();

    await user.selectOptions(el('#gen-type'), 'rsa-4096');
    expect(el<HTMLInputElement>('#gen-name').value).toBe('id_rsa');
    await user.type(el('#gen-comment'), 'me@laptop');
    await user.type(el('#gen-passphrase'), 'k7Rw#pQ2vL9!');
    await user.type(el('#gen-passphrase2'), 'k7Rw#pQ2vL9!');
    await user.selectOptions(el('#gen-kdf'), 'strong');
    await user.click(el('#gen-remember'));
    await user.click(submitButton());

    expect(api.generateKey).toHaveBeenCalledWith({
      name: 'id_rsa',
      kind: 'rsa',
      bits: 4096,
      comment: 'me@laptop',
      passphrase: 'k7Rw#pQ2vL9!',
      no_passphrase: false,
      kdf: 'strong',
      remember: true,
    });
    // The form let go of the passphrase as soon as the request was sent.
    expect(el<HTMLInputElement>('#gen-passphrase').value).toBe('');
    expect(el<HTMLInputElement>('#gen-passphrase2').value).toBe('');
    expect(screen.getByTestId('generate-progress')).toHaveTextContent('Generating RSA 4096 key');
    expect(el('#gen-name')).toBeDisabled();
    expect(submitButton()).toBeDisabled();

    const result = saved({ name: 'id_rsa' }, [{ code: 'keyring_unavailable', message: 'no keyring' }]);
    finish(result);
    await waitFor(() => expect(ongenerated).toHaveBeenCalledWith(result));
  });

  it('offers RSA 8192, noting that it takes several seconds, and sends 8192 bits', async () => {
    vi.mocked(api.generateKey).mockReturnValue(new Promise(() => {}));
    const { user, el } = setup();
    expect(screen.queryByTestId('generate-hint')).toBeNull();
    const option = Array.from(el<HTMLSelectElement>('#gen-type').options).find((o) => o.value === 'rsa-8192');
    expect(option?.textContent).toMatch(/^RSA 8192/);
    await user.selectOptions(el('#gen-type'), 'rsa-8192');
    expect(screen.getByTestId('generate-hint')).toHaveTextContent(/RSA 8192 keys take several seconds to generate/);
    await user.click(el('#gen-no-passphrase'));
    await user.click(submitButton());
    expect(api.generateKey).toHaveBeenCalledWith(expect.objectContaining({ kind: 'rsa', bits: 8192 }));
    expect(screen.getByTestId('generate-progress')).toHaveTextContent('Generating RSA 8192 key…');
  });

  it('says under the key derivation choice how long "strong" takes in Latchkey and in OpenSSH', () => {
    const { el } = setup();
    const hint = document.getElementById(el('#gen-kdf').getAttribute('aria-describedby')!);
    expect(hint).toHaveTextContent(
      'Strong takes about 0.5 s per unlock in Latchkey (two threads); ssh, ssh-add and ssh-keygen use one thread and take up to twice as long (~1 s).',
    );
  });

  it('shows the sizes the backend offers when a size is refused', async () => {
    vi.mocked(api.generateKey).mockRejectedValue({
      code: 'unsupported_bits',
      message: 'RSA keys cannot have 2560 bits: choose one of 2048, 3072 (the default), 4096 or 8192',
    });
    const { user, el } = setup();
    await user.click(el('#gen-no-passphrase'));
    await user.click(submitButton());
    const error = await screen.findByTestId('error');
    expect(error).toHaveTextContent('That key size is not supported.');
    expect(error).toHaveTextContent('choose one of 2048, 3072 (the default), 4096 or 8192');
  });

  it('shows a backend error in words with its code and stays open', async () => {
    vi.mocked(api.generateKey).mockRejectedValue({ code: 'internal', message: 'the disk is full' });
    const { user, el, ongenerated } = setup();
    await user.click(el('#gen-no-passphrase'));
    await user.click(submitButton());
    const error = await screen.findByTestId('error');
    expect(error).toHaveAttribute('role', 'alert');
    expect(error).toHaveTextContent('the disk is full');
    expect(screen.getByTestId('error-code')).toHaveTextContent('internal');
    expect(ongenerated).not.toHaveBeenCalled();
    expect(screen.getByTestId('generate-dialog')).toBeInTheDocument();
    expect(screen.queryByTestId('generate-progress')).toBeNull();
  });

  it('shows a name error next to the name', async () => {
    vi.mocked(api.generateKey).mockRejectedValue({ code: 'name_taken', message: 'id_ed25519 exists' });
    const { user, el } = setup();
    await user.click(el('#gen-no-passphrase'));
    await user.click(submitButton());
    const error = await screen.findByTestId('error');
    expect(el('#gen-name').closest('.field')).toContainElement(error);
  });

  it('closes on Escape and clears the passphrases', async () => {
    const { user, el, onclose } = setup();
    await user.type(el('#gen-passphrase'), 'secret');
    await user.keyboard('{Escape}');
    expect(onclose).toHaveBeenCalledTimes(1);
    expect(el<HTMLInputElement>('#gen-passphrase').value).toBe('');
  });

  it('does not close on Escape while generating', async () => {
    vi.mocked(api.generateKey).mockReturnValue(new Promise(() => {}));
    const { user, el, onclose } = setup();
    await user.click(el('#gen-no-passphrase'));
    await user.click(submitButton());
    await user.keyboard('{Escape}');
    expect(onclose).not.toHaveBeenCalled();
  });
});
