import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { AgentStore } from '../lib/agent.svelte';
import * as api from '../lib/api';
import type { ActivityBatch, ActivityEntry, AgentStatus } from '../lib/bindings';
import { Notices } from '../lib/notices.svelte';
import { activity, agentStatus, identity } from '../test/agentFixtures';
import { summary } from '../test/fixtures';
import AgentView from './AgentView.svelte';

vi.mock('../lib/api');

async function setup(status: AgentStatus = agentStatus(), entries: ActivityEntry[] = []) {
  let onActivity: ((b: ActivityBatch) => void) | undefined;
  vi.mocked(api.onAgentState).mockResolvedValue(() => {});
  vi.mocked(api.onAgentActivity).mockImplementation(async (h) => ((onActivity = h), () => {}));
  vi.mocked(api.onAgentPrompt).mockResolvedValue(() => {});
  vi.mocked(api.agentStatus).mockResolvedValue(status);
  vi.mocked(api.agentActivity).mockResolvedValue(entries);
  vi.mocked(api.pendingPrompts).mockResolvedValue([]);
  const agent = new AgentStore();
  await agent.start();
  const notices = new Notices();
  render(AgentView, { agent, notices });
  await screen.findByTestId('agent-state');
  return { agent, notices, user: userEvent.setup(), push: (e: ActivityEntry) => onActivity?.({ entries: [e], dropped: 0 }) };
}

const row = (name: string) => document.querySelector(`[data-testid=agent-identity][data-name="${name}"]`) as HTMLElement;

describe('AgentView status', () => {
  it('shows a running agent, its socket and the export line to copy', async () => {
    vi.mocked(api.copyText).mockResolvedValue();
    const { user } = await setup();
    expect(screen.getByTestId('agent-view')).toHaveAttribute('data-loaded', 'true');
    expect(screen.getByTestId('agent-state')).toHaveTextContent('Running');
    expect(screen.getByTestId('agent-socket')).toHaveTextContent('/run/user/1000/latchkey/agent.sock');
    expect(screen.getByTestId('agent-lock')).toBeInTheDocument();
    expect(screen.queryByTestId('agent-unlock')).toBeNull();
    await user.click(screen.getByTestId('agent-copy-export'));
    expect(api.copyText).toHaveBeenCalledWith('export SSH_AUTH_SOCK=/run/user/1000/latchkey/agent.sock');
    expect(screen.getByTestId('agent-copy-export')).toHaveTextContent('Copied');
  });

  it('says why the agent is not running', async () => {
    await setup(agentStatus({ serving: false, problem: 'another agent is serving /run/user/1000/latchkey/agent.sock' }));
    expect(screen.getByTestId('agent-state')).toHaveTextContent('Not running');
    expect(screen.getByTestId('agent-problem')).toHaveTextContent('another agent is serving');
  });

  it('says next to the Lock button that locking forgets decrypted keys and removes ssh-add keys', async () => {
    await setup();
    expect(screen.getByTestId('agent-lock-hint')).toHaveTextContent(
      'Locking forgets every decrypted key; keys added with ssh-add are removed.',
    );
    expect(screen.getByTestId('agent-settings')).toHaveTextContent('keys added with ssh-add are removed');
    expect(screen.getByTestId('agent-settings')).not.toHaveTextContent('are kept');
  });

  it('locks and unlocks', async () => {
    const { user } = await setup();
    vi.mocked(api.agentLock).mockResolvedValue(agentStatus({ locked: true }));
    await user.click(screen.getByTestId('agent-lock'));
    expect(api.agentLock).toHaveBeenCalled();
    expect(screen.getByTestId('agent-state')).toHaveTextContent('Locked');
    expect(screen.queryByTestId('agent-lock-hint')).toBeNull();
    vi.mocked(api.agentUnlock).mockResolvedValue(agentStatus({ locked: false }));
    await user.click(screen.getByTestId('agent-unlock'));
    expect(screen.getByTestId('agent-state')).toHaveTextContent('Running');
  });

  it('shows why it cannot unlock an agent locked with ssh-add -x', async () => {
    const { user, notices } = await setup(agentStatus({ locked: true }));
    vi.mocked(api.agentUnlock).mockRejectedValue({ code: 'locked_with_password', message: 'unlock it with ssh-add -X' });
    await user.click(screen.getByTestId('agent-unlock'));
    await waitFor(() => expect(screen.getByTestId('error-code')).toHaveTextContent('locked_with_password'));
    expect(notices.items).toHaveLength(1);
    expect(screen.getByTestId('agent-state')).toHaveTextContent('Locked');
  });
});

describe('AgentView identities', () => {
  it('lists the identities with where they come from, lock state, policy and lifetime', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      await setup(
        agentStatus({
          identities: [
            identity({ name: 'work', confirm: true, hosts: ['github.com', '!evil.example'], unlocked: true, expires_in_secs: 125 }),
            identity({ name: 'laptop@home', fingerprint: 'SHA256:other', from_store: false, unlocked: true }),
            identity({ name: 'deploy', fingerprint: 'SHA256:third' }),
          ],
        }),
      );
      const work = row('work');
      expect(within(work).getByTestId('identity-source')).toHaveTextContent('from store');
      expect(within(work).getByTestId('identity-unlocked')).toBeInTheDocument();
      expect(within(work).getByTestId('identity-confirm')).toHaveTextContent('asks before use');
      expect(within(work).getByTestId('identity-hosts')).toHaveTextContent('github.com');
      expect(within(work).getByTestId('identity-hosts')).toHaveTextContent('!evil.example');
      expect(within(work).getByTestId('identity-expiry')).toHaveTextContent('forgotten in 2:05');
      await vi.advanceTimersByTimeAsync(5000);
      expect(within(work).getByTestId('identity-expiry')).toHaveTextContent('forgotten in 2:00');

      expect(within(row('laptop@home')).getByTestId('identity-source')).toHaveTextContent('added by ssh-add');
      expect(within(row('deploy')).getByTestId('identity-locked')).toHaveTextContent('unlocks on first use');
      expect(within(row('deploy')).queryByTestId('identity-expiry')).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('AgentView policies', () => {
  const served = () =>
    agentStatus({
      identities: [
        identity({ name: 'work' }),
        identity({ name: 'laptop@home', fingerprint: 'SHA256:other', from_store: false, unlocked: true, confirm: true }),
      ],
    });

  it('edits a store key’s policy in a dialog, saves it with set_key_policy and refreshes the identities', async () => {
    const { user, notices } = await setup(served());
    vi.mocked(api.listKeys).mockResolvedValue([summary({ name: 'deploy' }), summary({ name: 'work' })]);
    vi.mocked(api.setKeyPolicy).mockImplementation(async (r) => summary({ name: r.name, policy: r.policy }));
    expect(screen.queryByTestId('agent-policy-dialog')).toBeNull();

    await user.click(screen.getByTestId('agent-edit-policy-work'));
    const dialog = await screen.findByTestId('agent-policy-dialog');
    expect(dialog).toHaveAccessibleName('Agent policy of “work”');
    const confirm = (await within(dialog).findByLabelText(/Ask before each use/)) as HTMLInputElement;
    expect(confirm.checked).toBe(false);
    expect(within(dialog).getByTestId('policy-save')).toBeDisabled();

    vi.mocked(api.agentStatus).mockResolvedValue(
      agentStatus({ identities: [identity({ name: 'work', confirm: true }), served().identities[1]] }),
    );
    const fetched = vi.mocked(api.agentStatus).mock.calls.length;
    await user.click(confirm);
    await user.click(within(dialog).getByTestId('policy-save'));
    expect(api.setKeyPolicy).toHaveBeenCalledWith({
      name: 'work',
      policy: { confirm: true, hosts: [], lifetime_minutes: null, forwarding: 'ask' },
    });
    await waitFor(() => expect(screen.queryByTestId('agent-policy-dialog')).toBeNull());
    expect(vi.mocked(api.agentStatus).mock.calls.length).toBeGreaterThan(fetched);
    await waitFor(() => expect(within(row('work')).getByTestId('identity-confirm')).toHaveTextContent('asks before use'));
    expect(notices.items[0]).toMatchObject({ kind: 'success' });
  });

  it('closes the policy dialog without saving', async () => {
    const { user } = await setup(served());
    vi.mocked(api.listKeys).mockResolvedValue([summary({ name: 'work' })]);
    await user.click(screen.getByTestId('agent-edit-policy-work'));
    await screen.findByTestId('policy-editor');
    await user.click(within(screen.getByTestId('agent-policy-dialog')).getByRole('button', { name: 'Close' }));
    expect(screen.queryByTestId('agent-policy-dialog')).toBeNull();
    expect(api.setKeyPolicy).not.toHaveBeenCalled();
  });

  it('says so when the key is no longer in the store', async () => {
    const { user } = await setup(served());
    vi.mocked(api.listKeys).mockResolvedValue([summary({ name: 'deploy' })]);
    await user.click(screen.getByTestId('agent-edit-policy-work'));
    expect(await screen.findByTestId('error-code')).toHaveTextContent('no_such_key');
    expect(screen.queryByTestId('policy-editor')).toBeNull();
  });

  it('shows an ssh-add key’s confirm flag read-only, with how to set it', async () => {
    await setup(served());
    const added = row('laptop@home');
    expect(screen.queryByTestId('agent-edit-policy-laptop@home')).toBeNull();
    expect(within(added).queryByRole('button')).toBeNull();
    expect(within(added).getByTestId('identity-confirm-fixed')).toHaveTextContent(
      'Asks before each use (added with ssh-add: set with ssh-add -c)',
    );
    expect(within(row('work')).getByTestId('agent-edit-policy-work')).toHaveAccessibleName('Edit policy of work');
  });
});

describe('AgentView activity', () => {
  it('lists activity newest first with outcome and forwarded marks, and takes new lines', async () => {
    const { push } = await setup(agentStatus(), [
      activity({ time: '2025-03-01T10:00:01Z', key: 'work', outcome: 'signed' }),
      activity({ time: '2025-03-01T10:00:02Z', key: 'deploy', outcome: 'denied', forwarded: true, host: null }),
    ]);
    let rows = screen.getAllByTestId('activity-row');
    expect(rows.map((r) => [r.dataset.key, r.dataset.outcome])).toEqual([
      ['deploy', 'denied'],
      ['work', 'signed'],
    ]);
    expect(within(rows[0]).getByTestId('activity-forwarded')).toBeInTheDocument();
    expect(within(rows[1]).queryByTestId('activity-forwarded')).toBeNull();
    expect(rows[1]).toHaveTextContent('github.com');
    expect(rows[1]).toHaveTextContent('ssh (pid 12) ← bash (pid 3)');

    push(activity({ time: '2025-03-01T10:00:03Z', key: 'work', outcome: 'refused: not permitted for this host' }));
    await waitFor(() => expect(screen.getAllByTestId('activity-row')).toHaveLength(3));
    rows = screen.getAllByTestId('activity-row');
    expect(rows[0].dataset.outcome).toBe('refused: not permitted for this host');
  });

  it('filters the activity', async () => {
    const { user } = await setup(agentStatus(), [
      activity({ key: 'work', outcome: 'signed' }),
      activity({ key: 'deploy', outcome: 'denied' }),
    ]);
    await user.selectOptions(document.querySelector('#activity-outcome')!, 'denied');
    expect(screen.getAllByTestId('activity-row').map((r) => r.dataset.key)).toEqual(['deploy']);
    await user.selectOptions(document.querySelector('#activity-outcome')!, 'all');
    await user.type(document.querySelector('#activity-filter')!, 'work');
    expect(screen.getAllByTestId('activity-row').map((r) => r.dataset.key)).toEqual(['work']);
  });

  it('says when there is no activity yet', async () => {
    await setup();
    expect(screen.getByTestId('activity-empty')).toBeInTheDocument();
  });
});

describe('AgentView settings', () => {
  it('saves each change', async () => {
    const { user } = await setup();
    vi.mocked(api.saveSettings).mockImplementation(async (s) => s);
    await user.selectOptions(document.querySelector('#settings-idle-lock')!, '15');
    expect(api.saveSettings).toHaveBeenLastCalledWith({ idle_lock_minutes: 15, notify_on_sign: true, start_at_login: false });
    await user.click(document.querySelector('#settings-start-at-login')!);
    expect(api.saveSettings).toHaveBeenLastCalledWith({ idle_lock_minutes: 15, notify_on_sign: true, start_at_login: true });
    await user.click(document.querySelector('#settings-notify')!);
    expect(api.saveSettings).toHaveBeenLastCalledWith({ idle_lock_minutes: 15, notify_on_sign: false, start_at_login: true });
  });

  it('saves another idle lock value once it is committed', async () => {
    const { user } = await setup();
    vi.mocked(api.saveSettings).mockImplementation(async (s) => s);
    await user.selectOptions(document.querySelector('#settings-idle-lock')!, 'custom');
    expect(api.saveSettings).not.toHaveBeenCalled();
    await user.type(document.querySelector('#settings-idle-lock-minutes')!, '45');
    await user.tab();
    expect(api.saveSettings).toHaveBeenCalledWith({ idle_lock_minutes: 45, notify_on_sign: true, start_at_login: false });
  });

  it('shows a failed start-at-login change as it is stored', async () => {
    const { user } = await setup();
    vi.mocked(api.saveSettings).mockRejectedValue({ code: 'autostart_failed', message: 'no autostart directory' });
    await user.click(document.querySelector('#settings-start-at-login')!);
    expect(await screen.findByTestId('error-code')).toHaveTextContent('autostart_failed');
    await waitFor(() => expect((document.querySelector('#settings-start-at-login') as HTMLInputElement).checked).toBe(false));
  });
});
