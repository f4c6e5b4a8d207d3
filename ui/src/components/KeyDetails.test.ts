import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import * as api from '../lib/api';
import type { KeySummary } from '../lib/bindings';
import { Notices } from '../lib/notices.svelte';
import { details, summary } from '../test/fixtures';
import KeyDetails from './KeyDetails.svelte';

vi.mock('../lib/api');

function setup(key: KeySummary = summary(), keyringAvailable = true) {
  const notices = new Notices();
  const onchanged = vi.fn();
  const ondeleted = vi.fn();
  vi.mocked(api.keyDetails).mockResolvedValue(details(key));
  render(KeyDetails, { key, keyringAvailable, notices, onchanged, ondeleted });
  return { user: userEvent.setup(), notices, onchanged, ondeleted };
}

describe('KeyDetails', () => {
  it('shows both fingerprints, the randomart with an MD5 toggle, and the public key', async () => {
    const { user } = setup();
    expect(screen.getByTestId('fingerprint-sha256')).toHaveTextContent(summary().fingerprint_sha256);
    await waitFor(() => expect(screen.getByTestId('fingerprint-md5')).toHaveTextContent('MD5:12:34'));
    expect(screen.getByTestId('randomart')).toHaveTextContent('sha art');
    await user.click(screen.getByRole('button', { name: 'MD5' }));
    expect(screen.getByTestId('randomart')).toHaveTextContent('md5 art');
    expect(screen.getByRole('button', { name: 'MD5' })).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('public-key')).toHaveTextContent(/^ssh-ed25519 AAAA/);
    await user.click(screen.getByRole('button', { name: 'RFC 4716' }));
    expect(screen.getByTestId('public-key-rfc4716')).toHaveTextContent('BEGIN SSH2 PUBLIC KEY');
  });

  it('copies the public key to the clipboard', async () => {
    vi.mocked(api.copyText).mockResolvedValue();
    const { user } = setup();
    await waitFor(() => expect(screen.getByTestId('copy-public-key')).toBeEnabled());
    await user.click(screen.getByTestId('copy-public-key'));
    expect(api.copyText).toHaveBeenCalledWith(details().public_key);
    expect(screen.getByTestId('copy-public-key')).toHaveTextContent('Copied');
  });

  it('exports a public key through the save dialog (which already confirmed any replacement)', async () => {
    vi.mocked(api.pickSavePath).mockResolvedValue('/tmp/work.pub');
    vi.mocked(api.exportKey).mockResolvedValue(null);
    const { user, notices } = setup();
    await user.click(screen.getByTestId('export-key'));
    expect(api.pickSavePath).toHaveBeenCalledWith('Export work', 'work.pub', [{ name: 'Public keys', extensions: ['pub'] }]);
    expect(api.exportKey).toHaveBeenCalledWith({ name: 'work', format: 'openssh-public', path: '/tmp/work.pub', overwrite: true });
    await waitFor(() => expect(notices.items.some((n) => n.kind === 'success')).toBe(true));
  });

  it('never asks to overwrite with a private key copy, and reports file_exists', async () => {
    vi.mocked(api.pickSavePath).mockResolvedValue('/tmp/work');
    vi.mocked(api.exportKey).mockRejectedValue({ code: 'file_exists', message: '/tmp/work exists' });
    const { user, notices } = setup();
    await user.selectOptions(screen.getByLabelText('Export format'), 'openssh-private');
    expect(screen.getByText('The copy stays protected by the same passphrase.')).toBeInTheDocument();
    await user.click(screen.getByTestId('export-key'));
    expect(api.exportKey).toHaveBeenCalledWith({ name: 'work', format: 'openssh-private', path: '/tmp/work', overwrite: false });
    await waitFor(() => expect(notices.items).toContainEqual(expect.objectContaining({ kind: 'error', error: { code: 'file_exists', message: '/tmp/work exists' } })));
  });

  it('does nothing when the save dialog is cancelled', async () => {
    vi.mocked(api.pickSavePath).mockResolvedValue(null);
    const { user } = setup();
    await user.selectOptions(screen.getByLabelText('Export format'), 'openssh-private');
    await user.click(screen.getByTestId('export-key'));
    expect(api.pickSavePath).toHaveBeenCalledWith('Export work', 'work', []);
    expect(api.exportKey).not.toHaveBeenCalled();
  });

  it('forgets a remembered passphrase', async () => {
    const key = summary({ remembered: true });
    vi.mocked(api.forgetPassphrase).mockResolvedValue({ ...key, remembered: false });
    const { user, onchanged } = setup(key);
    await user.click(screen.getByTestId('forget-passphrase'));
    expect(api.forgetPassphrase).toHaveBeenCalledWith('work');
    await waitFor(() => expect(onchanged).toHaveBeenCalledWith({ ...key, remembered: false }));
  });

  it('cannot remember without a keyring', () => {
    setup(summary(), false);
    expect(screen.getByTestId('remember-passphrase')).toBeDisabled();
  });

  it('remembers a passphrase, clearing it once sent', async () => {
    let finish!: (k: KeySummary) => void;
    vi.mocked(api.rememberPassphrase).mockReturnValue(new Promise((r) => (finish = r)));
    const { user, onchanged } = setup();
    await user.click(screen.getByTestId('remember-passphrase'));
    const input = document.querySelector('#remember-passphrase') as HTMLInputElement;
    await waitFor(() => expect(document.activeElement).toBe(input));
    await user.type(input, 'secret');
    await user.click(screen.getByTestId('remember-submit'));
    expect(api.rememberPassphrase).toHaveBeenCalledWith({ name: 'work', passphrase: 'secret' });
    expect(input.value).toBe('');
    finish(summary({ remembered: true }));
    await waitFor(() => expect(onchanged).toHaveBeenCalled());
    expect(screen.queryByTestId('remember-dialog')).toBeNull();
  });

  it('removes a passphrase only after ticking "Remove the passphrase"', async () => {
    vi.mocked(api.changePassphrase).mockResolvedValue({ key: summary({ encrypted: false }), warnings: [] });
    const { user, onchanged } = setup();
    await user.click(screen.getByTestId('change-passphrase'));
    await user.type(document.querySelector('#chg-old')!, 'old');
    const submit = screen.getByTestId('change-passphrase-submit');
    expect(submit).toBeDisabled();
    await user.click(screen.getByLabelText('Remove the passphrase'));
    expect(submit).toBeEnabled();
    expect(submit).toHaveTextContent('Remove passphrase');
    await user.click(submit);
    expect(api.changePassphrase).toHaveBeenCalledWith({ name: 'work', old_passphrase: 'old', new_passphrase: null, kdf: null });
    await waitFor(() => expect(onchanged).toHaveBeenCalled());
  });

  it('keeps the change-passphrase dialog open on a wrong old passphrase', async () => {
    vi.mocked(api.changePassphrase).mockRejectedValue({ code: 'wrong_passphrase', message: 'wrong' });
    const { user } = setup();
    await user.click(screen.getByTestId('change-passphrase'));
    await user.type(document.querySelector('#chg-old')!, 'nope');
    await user.type(document.querySelector('#chg-new')!, 'n3w-Pass!word');
    await user.type(document.querySelector('#chg-new2')!, 'n3w-Pass!word');
    await user.click(screen.getByTestId('change-passphrase-submit'));
    const error = await screen.findByTestId('error');
    expect(document.querySelector('#chg-old')!.closest('.field')).toContainElement(error);
    expect((document.querySelector('#chg-new') as HTMLInputElement).value).toBe('');
  });

  it('edits the agent policy in its own section and passes the saved summary on', async () => {
    const saved = summary({ policy: { confirm: true, hosts: [], lifetime_minutes: null, forwarding: 'ask' } });
    vi.mocked(api.setKeyPolicy).mockResolvedValue(saved);
    const { user, onchanged } = setup();
    const section = screen.getByRole('region', { name: 'Agent' });
    expect(within(section).getByTestId('policy-editor')).toBeInTheDocument();
    await user.click(within(section).getByLabelText(/Ask before each use/));
    await user.click(within(section).getByTestId('policy-save'));
    expect(api.setKeyPolicy).toHaveBeenCalledWith({
      name: 'work',
      policy: { confirm: true, hosts: [], lifetime_minutes: null, forwarding: 'ask' },
    });
    await waitFor(() => expect(onchanged).toHaveBeenCalledWith(saved));
  });

  it('shows the key’s problem', () => {
    setup(summary({ problem: 'the key file is missing' }));
    expect(screen.getByTestId('key-problem')).toHaveTextContent('the key file is missing');
  });

  it('opens the delete confirmation', async () => {
    const { user } = setup(summary({ origin: 'registered' }));
    await user.click(screen.getByTestId('delete-key'));
    expect(screen.getByTestId('confirm-delete')).toHaveTextContent('Remove from Latchkey');
  });
});

describe('KeyDetails comment', () => {
  it('changes the comment, using the remembered passphrase when none is typed', async () => {
    const key = summary({ encrypted: true, remembered: true });
    vi.mocked(api.setComment).mockResolvedValue({ ...key, comment: 'me@desktop' });
    const { user, onchanged } = setup(key);
    await user.click(screen.getByTestId('edit-comment'));
    const input = document.querySelector('#comment-text') as HTMLInputElement;
    expect(input.value).toBe('me@laptop');
    await user.clear(input);
    await user.type(input, 'me@desktop');
    expect(screen.getByLabelText('Passphrase (optional)')).toBeInTheDocument();
    await user.click(screen.getByTestId('comment-submit'));
    expect(api.setComment).toHaveBeenCalledWith({ name: 'work', comment: 'me@desktop', passphrase: null });
    await waitFor(() => expect(onchanged).toHaveBeenCalledWith({ ...key, comment: 'me@desktop' }));
  });

  it.each([
    ['remembered_passphrase_unavailable', 'the passphrase of "work" is remembered in the OS keyring, which cannot be reached (no D-Bus): enter the passphrase instead'],
    ['passphrase_required', 'the key is encrypted: a passphrase is required'],
  ])('asks for the passphrase of a remembered key when the backend answers %s', async (code, message) => {
    const key = summary({ encrypted: true, remembered: true });
    vi.mocked(api.setComment)
      .mockRejectedValueOnce({ code, message })
      .mockResolvedValueOnce({ ...key, comment: 'me@desktop' });
    const { user, onchanged } = setup(key);
    await user.click(screen.getByTestId('edit-comment'));
    const input = document.querySelector('#comment-text') as HTMLInputElement;
    await user.clear(input);
    await user.type(input, 'me@desktop');
    await user.click(screen.getByTestId('comment-submit'));
    expect(api.setComment).toHaveBeenCalledWith({ name: 'work', comment: 'me@desktop', passphrase: null });

    // The error sits at the passphrase field, which is now required and focused.
    const error = await screen.findByTestId('error');
    expect(screen.getByTestId('error-code')).toHaveTextContent(code);
    const field = screen.getByLabelText('Passphrase') as HTMLInputElement;
    expect(field.closest('.field')).toContainElement(error);
    expect(field).toHaveAttribute('aria-describedby', error.id);
    expect(field).toBeRequired();
    await waitFor(() => expect(document.activeElement).toBe(field));
    expect(screen.queryByLabelText('Passphrase (optional)')).toBeNull();
    expect(screen.getByTestId('comment-submit')).toBeDisabled();

    await user.type(field, 'secret');
    await user.click(screen.getByTestId('comment-submit'));
    expect(api.setComment).toHaveBeenLastCalledWith({ name: 'work', comment: 'me@desktop', passphrase: 'secret' });
    await waitFor(() => expect(onchanged).toHaveBeenCalledWith({ ...key, comment: 'me@desktop' }));
  });

  it('shows the keyring error in words', async () => {
    const key = summary({ encrypted: true, remembered: true });
    vi.mocked(api.setComment).mockRejectedValue({ code: 'remembered_passphrase_unavailable', message: 'no D-Bus' });
    const { user } = setup(key);
    await user.click(screen.getByTestId('edit-comment'));
    await user.click(screen.getByTestId('comment-submit'));
    expect(await screen.findByTestId('error')).toHaveTextContent(
      "The OS keyring that remembers this key's passphrase can't be reached: enter the passphrase.",
    );
  });

  it('needs the passphrase of an encrypted key that is not remembered', async () => {
    const { user } = setup(summary({ encrypted: true, remembered: false }));
    await user.click(screen.getByTestId('edit-comment'));
    expect(screen.getByTestId('comment-submit')).toBeDisabled();
    await user.type(screen.getByLabelText('Passphrase'), 'secret');
    expect(screen.getByTestId('comment-submit')).toBeEnabled();
  });
});
