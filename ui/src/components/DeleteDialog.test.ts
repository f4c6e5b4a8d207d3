import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import * as api from '../lib/api';
import type { KeySummary } from '../lib/bindings';
import { summary } from '../test/fixtures';
import DeleteDialog from './DeleteDialog.svelte';

vi.mock('../lib/api');

function setup(key: KeySummary) {
  const onclose = vi.fn();
  const ondeleted = vi.fn();
  render(DeleteDialog, { key, onclose, ondeleted });
  return { user: userEvent.setup(), onclose, ondeleted };
}

describe('DeleteDialog', () => {
  it('warns that a generated key’s files are deleted, with a danger button', async () => {
    vi.mocked(api.deleteKey).mockResolvedValue({ name: 'work', deleted_files: ['/data/keys/work'], warnings: [] });
    const { user, ondeleted } = setup(summary({ origin: 'generated', path: '/data/keys/work' }));
    const text = screen.getByTestId('delete-explanation');
    expect(text).toHaveTextContent('deletes its files');
    expect(text).toHaveTextContent('/data/keys/work.pub');
    expect(text).toHaveTextContent('cannot be undone');
    expect(document.querySelector('#delete-files')).toBeNull();
    const confirm = screen.getByTestId('confirm-delete');
    expect(confirm).toHaveClass('danger');
    expect(confirm).toHaveTextContent('Delete key');
    // Focus starts on Cancel, not on the destructive button.
    await waitFor(() => expect(document.activeElement).toHaveTextContent('Cancel'));

    await user.click(confirm);
    expect(api.deleteKey).toHaveBeenCalledWith({ name: 'work', delete_registered_files: false });
    await waitFor(() => expect(ondeleted).toHaveBeenCalled());
  });

  it('says a registered key’s files stay, unless "also delete the files" is ticked', async () => {
    vi.mocked(api.deleteKey).mockResolvedValue({ name: 'gh', deleted_files: [], warnings: [] });
    const { user } = setup(summary({ name: 'gh', origin: 'registered', path: '/home/me/.ssh/id_gh' }));
    const text = screen.getByTestId('delete-explanation');
    expect(screen.getByRole('dialog')).toHaveAccessibleName('Remove “gh” from Latchkey?');
    expect(text).toHaveTextContent('Its files stay where they are, at /home/me/.ssh/id_gh');
    expect(text).not.toHaveTextContent('cannot be undone');
    const confirm = screen.getByTestId('confirm-delete');
    expect(confirm).not.toHaveClass('danger');
    expect(confirm).toHaveTextContent('Remove from Latchkey');

    await user.click(screen.getByLabelText('Also delete the files from disk'));
    expect(text).toHaveTextContent('deletes its files from disk');
    expect(text).toHaveTextContent('/home/me/.ssh/id_gh.pub');
    expect(confirm).toHaveClass('danger');
    expect(confirm).toHaveTextContent('Delete key and files');

    await user.click(confirm);
    expect(api.deleteKey).toHaveBeenCalledWith({ name: 'gh', delete_registered_files: true });
  });

  it('shows a failure and stays open', async () => {
    vi.mocked(api.deleteKey).mockRejectedValue({ code: 'permission_denied', message: 'cannot remove /data/keys/work' });
    const { user, ondeleted } = setup(summary());
    await user.click(screen.getByTestId('confirm-delete'));
    expect(await screen.findByTestId('error-code')).toHaveTextContent('permission_denied');
    expect(ondeleted).not.toHaveBeenCalled();
  });
});
