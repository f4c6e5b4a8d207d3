import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import * as api from '../lib/api';
import type { FileDrop } from '../lib/api';
import { Notices } from '../lib/notices.svelte';
import { details, saved, summary } from '../test/fixtures';
import KeysView from './KeysView.svelte';

vi.mock('../lib/api');

function setup(keyringAvailable = true) {
  const notices = new Notices();
  let drop: ((e: FileDrop) => void) | undefined;
  vi.mocked(api.onFileDrop).mockImplementation(async (handler) => {
    drop = handler;
    return () => {};
  });
  vi.mocked(api.keyDetails).mockImplementation(async (name) => details({ name }));
  render(KeysView, { keyringAvailable, notices });
  return { user: userEvent.setup(), notices, drop: (e: FileDrop) => drop?.(e) };
}

describe('KeysView', () => {
  it('shows the empty state with Generate and Import', async () => {
    vi.mocked(api.listKeys).mockResolvedValue([]);
    const { user } = setup();
    const empty = await screen.findByTestId('empty-state');
    expect(screen.queryByTestId('key-list')).toBeNull();
    await user.click(within(empty).getByRole('button', { name: 'Import a key' }));
    expect(screen.getByTestId('import-dialog')).toBeInTheDocument();
  });

  it('lists keys with type, fingerprint, comment, location and badges, and shows the first', async () => {
    vi.mocked(api.listKeys).mockResolvedValue([
      summary({ name: 'work', encrypted: true, remembered: true }),
      summary({
        name: 'legacy',
        key_type: 'RSA',
        display_type: 'RSA 3072',
        bits: 3072,
        origin: 'registered',
        encrypted: false,
        path: '/home/me/.ssh/id_rsa',
        problem: 'the .pub file is missing',
      }),
    ]);
    setup();
    const list = await screen.findByTestId('key-list');
    const rows = within(list).getAllByTestId('key-row');
    expect(rows.map((r) => r.dataset.name)).toEqual(['work', 'legacy']);

    const work = rows[0];
    expect(within(work).getByTestId('key-type')).toHaveTextContent(/^Ed25519$/);
    expect(within(work).getByTestId('key-bits')).toHaveTextContent(/^256 bits$/);
    expect(within(work).getByTitle(summary().fingerprint_sha256)).toBeInTheDocument();
    expect(work).toHaveTextContent('me@laptop');
    expect(within(work).getByTestId('badge-passphrase')).toHaveTextContent('passphrase');
    expect(within(work).getByTestId('badge-remembered')).toBeInTheDocument();
    expect(within(work).getByTestId('badge-origin')).toHaveTextContent('generated');

    const legacy = rows[1];
    // Type and size are separate columns.
    expect(within(legacy).getByTestId('key-type')).toHaveTextContent(/^RSA$/);
    expect(within(legacy).getByTestId('key-bits')).toHaveTextContent(/^3072 bits$/);
    expect(legacy).toHaveTextContent('/home/me/.ssh/id_rsa');
    expect(within(legacy).getByTestId('badge-no-passphrase')).toHaveTextContent('no passphrase');
    expect(within(legacy).getByTestId('badge-origin')).toHaveTextContent('in place');
    expect(within(legacy).getByTestId('badge-problem')).toHaveAttribute('title', 'the .pub file is missing');

    const pane = await screen.findByTestId('key-details');
    expect(within(pane).getByRole('heading', { level: 2 })).toHaveTextContent('work');
    expect(api.keyDetails).toHaveBeenCalledWith('work');
  });

  it('marks keys whose agent policy asks, is limited to hosts, or allows forwarding', async () => {
    vi.mocked(api.listKeys).mockResolvedValue([
      summary({ name: 'a', policy: { confirm: true, hosts: ['github.com', '*.corp.example'], forwarding: 'allow' } }),
      summary({ name: 'b' }),
    ]);
    setup();
    const [a, b] = await screen.findAllByTestId('key-row');
    expect(within(a).getByTestId('badge-confirm')).toHaveTextContent('asks');
    expect(within(a).getByTestId('badge-hosts')).toHaveTextContent('2 hosts');
    expect(within(a).getByTestId('badge-hosts')).toHaveAttribute('title', 'Only for github.com, *.corp.example');
    expect(within(a).getByTestId('badge-forwarding')).toHaveTextContent('forwarding allowed');
    expect(within(b).queryByTestId('badge-confirm')).toBeNull();
    expect(within(b).queryByTestId('badge-hosts')).toBeNull();
    expect(within(b).queryByTestId('badge-forwarding')).toBeNull();
  });

  it('selects a row to show its details', async () => {
    vi.mocked(api.listKeys).mockResolvedValue([summary({ name: 'a' }), summary({ name: 'b' })]);
    const { user } = setup();
    const rows = await screen.findAllByTestId('key-row');
    await user.click(within(rows[1]).getByRole('button'));
    await waitFor(() => expect(api.keyDetails).toHaveBeenLastCalledWith('b'));
    expect(within(screen.getByTestId('key-details')).getByRole('heading', { level: 2 })).toHaveTextContent('b');
  });

  it('after generating, lists and selects the new key and shows the warnings', async () => {
    vi.mocked(api.listKeys).mockResolvedValueOnce([]).mockResolvedValue([summary({ name: 'id_ed25519' })]);
    vi.mocked(api.generateKey).mockResolvedValue(
      saved({ name: 'id_ed25519' }, [{ code: 'keyring_unavailable', message: 'the passphrase was not remembered' }]),
    );
    const { user } = setup();
    await screen.findByTestId('empty-state');
    await user.click(screen.getByTestId('open-generate'));
    await user.click(document.querySelector('#gen-no-passphrase')!);
    await user.click(screen.getByTestId('generate-submit'));

    await waitFor(() => expect(screen.queryByTestId('generate-dialog')).toBeNull());
    const row = await screen.findByTestId('key-row');
    expect(row.dataset.name).toBe('id_ed25519');
    expect(screen.getByTestId('warning')).toHaveTextContent('the passphrase was not remembered');
    expect(screen.getByTestId('warning')).toHaveTextContent('keyring_unavailable');
    await waitFor(() => expect(api.keyDetails).toHaveBeenCalledWith('id_ed25519'));
  });

  it('opens the Import dialog with a file dropped on the window', async () => {
    vi.mocked(api.listKeys).mockResolvedValue([]);
    vi.mocked(api.probeImport).mockReturnValue(new Promise(() => {}));
    const { drop } = setup();
    await screen.findByTestId('empty-state');
    await waitFor(() => expect(api.onFileDrop).toHaveBeenCalled());
    drop({ type: 'drop', paths: ['/home/me/Downloads/deploy.pem', '/other'] });
    expect(await screen.findByTestId('import-dialog')).toBeInTheDocument();
    expect(api.probeImport).toHaveBeenCalledWith({ type: 'path', path: '/home/me/Downloads/deploy.pem' });
  });

  it('shows a list failure as an error with its code', async () => {
    vi.mocked(api.listKeys).mockRejectedValue({ code: 'corrupt_metadata', message: 'keys.toml line 3: bad' });
    setup();
    expect(await screen.findByTestId('error-code')).toHaveTextContent('corrupt_metadata');
    expect(screen.getByTestId('error')).toHaveTextContent('keys.toml line 3: bad');
  });
});

describe('KeysView drops', () => {
  it('ignores a dropped file while another dialog is open', async () => {
    vi.mocked(api.listKeys).mockResolvedValue([]);
    const { user, drop } = setup();
    await screen.findByTestId('empty-state');
    await user.click(screen.getByTestId('open-generate'));
    drop({ type: 'drop', paths: ['/some/key'] });
    await Promise.resolve();
    expect(screen.queryByTestId('import-dialog')).toBeNull();
    expect(api.probeImport).not.toHaveBeenCalled();
  });
});
