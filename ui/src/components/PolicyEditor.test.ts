import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import * as api from '../lib/api';
import type { KeyPolicy } from '../lib/bindings';
import { Notices } from '../lib/notices.svelte';
import { summary } from '../test/fixtures';
import PolicyEditor from './PolicyEditor.svelte';

vi.mock('../lib/api');

const $ = (sel: string) => document.querySelector(sel) as HTMLInputElement;

function setup(policy: KeyPolicy = { confirm: false, hosts: [], lifetime_minutes: null, forwarding: 'ask' }) {
  const key = summary({ policy });
  const onchanged = vi.fn();
  const notices = new Notices();
  vi.mocked(api.setKeyPolicy).mockImplementation(async (r) => summary({ name: r.name, policy: r.policy }));
  const view = render(PolicyEditor, { key, notices, onchanged });
  return { user: userEvent.setup(), onchanged, notices, key, view };
}

const hosts = () => screen.queryAllByTestId('policy-host').map((c) => c.dataset.host);

describe('PolicyEditor', () => {
  it('shows the current policy', () => {
    setup({ confirm: true, hosts: ['github.com', '!evil.example'], lifetime_minutes: 45, forwarding: 'deny' });
    expect($('#policy-confirm').checked).toBe(true);
    expect(hosts()).toEqual(['github.com', '!evil.example']);
    expect($('#policy-lifetime').value).toBe('custom');
    expect($('#policy-lifetime-minutes').value).toBe('45');
    expect($('#policy-forwarding').value).toBe('deny');
    expect(screen.getByTestId('policy-save')).toBeDisabled();
  });

  it('adds host patterns with Enter or Add, refuses bad ones, and removes them', async () => {
    const { user } = setup();
    expect(screen.getByTestId('policy-hosts-any')).toBeInTheDocument();
    await user.type($('#policy-host-input'), 'github.com{Enter}');
    await user.type($('#policy-host-input'), '*.corp.example');
    await user.click(screen.getByTestId('policy-host-add'));
    expect(hosts()).toEqual(['github.com', '*.corp.example']);
    expect($('#policy-host-input').value).toBe('');

    await user.type($('#policy-host-input'), 'a.com, b.com');
    await user.click(screen.getByTestId('policy-host-add'));
    expect(screen.getByTestId('policy-host-error')).toHaveTextContent('no spaces');
    expect($('#policy-host-input')).toHaveAttribute('aria-invalid', 'true');
    expect(hosts()).toHaveLength(2);

    await user.clear($('#policy-host-input'));
    expect(screen.queryByTestId('policy-host-error')).toBeNull();
    await user.click(screen.getByTestId('policy-host-add'));
    expect(screen.getByTestId('policy-host-error')).toHaveTextContent('Enter a host');

    const chip = document.querySelector('[data-testid=policy-host][data-host="github.com"]') as HTMLElement;
    await user.click(within(chip).getByRole('button', { name: 'Remove github.com' }));
    expect(hosts()).toEqual(['*.corp.example']);
  });

  it('marks allowing forwarded requests as dangerous', async () => {
    const { user } = setup();
    expect(screen.queryByTestId('policy-forwarding-danger')).toBeNull();
    await user.selectOptions($('#policy-forwarding'), 'allow');
    expect(screen.getByTestId('policy-forwarding-danger')).toHaveTextContent('DANGEROUS');
    expect(screen.getByTestId('policy-forwarding-danger')).toHaveTextContent('root on the remote host');
  });

  it('saves the form as a KeyPolicy and reports it', async () => {
    const { user, onchanged, notices } = setup();
    await user.click($('#policy-confirm'));
    await user.type($('#policy-host-input'), 'github.com{Enter}');
    await user.selectOptions($('#policy-lifetime'), '60');
    await user.selectOptions($('#policy-forwarding'), 'deny');
    await user.click(screen.getByTestId('policy-save'));
    const policy: KeyPolicy = { confirm: true, hosts: ['github.com'], lifetime_minutes: 60, forwarding: 'deny' };
    expect(api.setKeyPolicy).toHaveBeenCalledWith({ name: 'work', policy });
    await waitFor(() => expect(onchanged).toHaveBeenCalledWith(summary({ policy })));
    expect(notices.items[0]).toMatchObject({ kind: 'success' });
  });

  it('includes a pattern typed but not added yet, and a custom lifetime', async () => {
    const { user } = setup();
    await user.type($('#policy-host-input'), '[[git.example]:2222'); // '[[' types one '['
    await user.selectOptions($('#policy-lifetime'), 'custom');
    await user.type($('#policy-lifetime-minutes'), '90');
    await user.click(screen.getByTestId('policy-save'));
    expect(api.setKeyPolicy).toHaveBeenCalledWith({
      name: 'work',
      policy: { confirm: false, hosts: ['[git.example]:2222'], lifetime_minutes: 90, forwarding: 'ask' },
    });
  });

  it('does not save an invalid lifetime or a bad pending pattern', async () => {
    const { user } = setup();
    await user.selectOptions($('#policy-lifetime'), 'custom');
    await user.type($('#policy-lifetime-minutes'), '0');
    expect(screen.getByText('At least 1 minute.')).toBeInTheDocument();
    await user.click(screen.getByTestId('policy-save'));
    expect(api.setKeyPolicy).not.toHaveBeenCalled();
    await user.selectOptions($('#policy-lifetime'), '');
    await user.type($('#policy-host-input'), 'bad host');
    await user.click(screen.getByTestId('policy-save'));
    expect(api.setKeyPolicy).not.toHaveBeenCalled();
    expect(screen.getByTestId('policy-host-error')).toBeInTheDocument();
  });

  it('shows invalid_policy from the backend', async () => {
    const { user } = setup();
    vi.mocked(api.setKeyPolicy).mockRejectedValue({ code: 'invalid_policy', message: 'a host pattern is empty' });
    await user.click($('#policy-confirm'));
    await user.click(screen.getByTestId('policy-save'));
    expect(await screen.findByTestId('error-code')).toHaveTextContent('invalid_policy');
    expect(screen.getByTestId('error')).toHaveTextContent('a host pattern is empty');
  });

  it('takes a policy saved elsewhere unless there are unsaved edits', async () => {
    const { user, view, key, notices, onchanged } = setup();
    const other = { confirm: true, hosts: ['x.example'], lifetime_minutes: null, forwarding: 'ask' } as const;
    await view.rerender({ key: { ...key, policy: { ...other, hosts: [...other.hosts] } }, notices, onchanged });
    expect(hosts()).toEqual(['x.example']);
    await user.click($('#policy-confirm'));
    await view.rerender({ key: { ...key, policy: { ...other, hosts: ['y.example'] } }, notices, onchanged });
    expect(hosts()).toEqual(['x.example']);
    expect($('#policy-confirm').checked).toBe(false);
  });
});
