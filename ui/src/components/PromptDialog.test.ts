import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { AgentStore } from '../lib/agent.svelte';
import * as api from '../lib/api';
import type { Prompt } from '../lib/bindings';
import { Notices } from '../lib/notices.svelte';
import { agentStatus, approval, unlockPrompt } from '../test/agentFixtures';
import PromptDialog from './PromptDialog.svelte';

vi.mock('../lib/api');

async function setup(pending: Prompt[]) {
  vi.mocked(api.onAgentState).mockResolvedValue(() => {});
  vi.mocked(api.onAgentActivity).mockResolvedValue(() => {});
  vi.mocked(api.onAgentPrompt).mockResolvedValue(() => {});
  vi.mocked(api.agentStatus).mockResolvedValue(agentStatus());
  vi.mocked(api.agentActivity).mockResolvedValue([]);
  vi.mocked(api.pendingPrompts).mockResolvedValue(pending);
  vi.mocked(api.answerApproval).mockResolvedValue(true);
  vi.mocked(api.answerUnlock).mockResolvedValue(true);
  const agent = new AgentStore();
  await agent.start();
  const notices = new Notices();
  render(PromptDialog, { agent, queued: agent.current!, notices });
  return { agent, notices };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('approval prompt', () => {
  it('shows the key, the process chain, the destination and the reason; Allow once has focus', async () => {
    await setup([approval(1)]);
    const dialog = screen.getByTestId('prompt-dialog');
    expect(dialog).toHaveAttribute('data-kind', 'approval');
    expect(dialog).toHaveAttribute('role', 'dialog');
    expect(screen.getByTestId('prompt-key')).toHaveTextContent('work');
    expect(screen.getByTestId('prompt-key')).toHaveTextContent('SHA256:uNiVzt');
    const chain = screen.getByTestId('prompt-process');
    const items = within(chain).getAllByRole('listitem');
    expect(items).toHaveLength(3);
    expect(items[0]).toHaveTextContent('ssh');
    expect(items[0]).toHaveTextContent('pid 4242');
    expect(within(items[0]).getByTitle('ssh -T git@github.com')).toHaveTextContent('ssh -T git@github.com');
    expect(items[1]).toHaveTextContent('git');
    expect(screen.getByTestId('prompt-destination')).toHaveTextContent('github.com');
    expect(screen.getByTestId('prompt-reason')).toHaveTextContent('asks before each use');
    expect(screen.queryByTestId('prompt-forwarded')).toBeNull();
    expect(screen.queryByTestId('prompt-queue')).toBeNull();
    // A standing grant covers ssh started again from the same terminal session (bash, the last of the chain).
    expect(screen.getByTestId('prompt-allow-app')).toHaveTextContent(/^Allow ssh in this terminal \(bash, pid 3100\) for$/);
    expect(screen.getByTestId('prompt-allow-until-lock')).toHaveTextContent(
      /^Allow ssh in this terminal \(bash, pid 3100\) until the agent locks$/,
    );
    expect(document.querySelector('#prompt-minutes')).toHaveAccessibleName(
      'How long to allow ssh in this terminal (bash, pid 3100)',
    );
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('prompt-allow-once')));
  });

  it('names the app a standing grant covers, or only the client when the chain is one process', async () => {
    await setup([
      approval(1, {
        process: {
          processes: [
            { pid: 610, exe: '/usr/bin/git', command: 'git fetch' },
            { pid: 600, exe: '/opt/editor/bin/editor', command: 'editor .' },
          ],
        },
      }),
    ]);
    expect(screen.getByTestId('prompt-allow-app')).toHaveTextContent(/^Allow git in editor \(pid 600\) for$/);
    expect(screen.getByTestId('prompt-allow-until-lock')).toHaveTextContent(/^Allow git in editor \(pid 600\) until the agent locks$/);
  });

  it('keeps "Allow ssh for" when the chain is the client alone', async () => {
    await setup([approval(1, { process: { processes: [{ pid: 9, exe: '/usr/bin/ssh', command: 'ssh host' }] } })]);
    expect(screen.getByTestId('prompt-allow-app')).toHaveTextContent(/^Allow ssh for$/);
    expect(screen.getByTestId('prompt-allow-until-lock')).toHaveTextContent(/^Allow ssh until the agent locks$/);
  });

  it('warns about a forwarded request and says when no host is bound', async () => {
    await setup([approval(1, { forwarded: true, reason: 'forwarded', destination: null })]);
    expect(screen.getByTestId('prompt-forwarded')).toHaveTextContent('Forwarded from a remote host');
    expect(screen.getByTestId('prompt-destination')).toHaveTextContent('not bound to a host');
    expect(screen.getByRole('dialog')).toHaveAccessibleName('Forwarded request for “work”');
  });

  it('shows how many more prompts wait', async () => {
    await setup([approval(1), unlockPrompt(2), approval(3)]);
    expect(screen.getByTestId('prompt-queue')).toHaveTextContent('2 more requests waiting');
  });

  it('allows once', async () => {
    const { agent } = await setup([approval(1)]);
    await userEvent.setup().click(screen.getByTestId('prompt-allow-once'));
    expect(api.answerApproval).toHaveBeenCalledWith({ id: 1, decision: { kind: 'allow-once' } });
    expect(agent.current).toBeNull();
  });

  it('allows the application for the selected minutes', async () => {
    await setup([approval(4)]);
    const user = userEvent.setup();
    await user.selectOptions(document.querySelector('#prompt-minutes')!, '60');
    await user.click(screen.getByTestId('prompt-allow-app'));
    expect(api.answerApproval).toHaveBeenCalledWith({ id: 4, decision: { kind: 'allow-application', minutes: 60 } });
  });

  it('allows until the agent locks, and denies', async () => {
    await setup([approval(1)]);
    const user = userEvent.setup();
    await user.click(screen.getByTestId('prompt-allow-until-lock'));
    expect(api.answerApproval).toHaveBeenLastCalledWith({ id: 1, decision: { kind: 'allow-until-lock' } });
    await user.click(screen.getByTestId('prompt-deny'));
    expect(api.answerApproval).toHaveBeenLastCalledWith({ id: 1, decision: { kind: 'deny' } });
  });

  it('denies on Escape', async () => {
    await setup([approval(1)]);
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(api.answerApproval).toHaveBeenCalledWith({ id: 1, decision: { kind: 'deny' } });
  });

  it('says so when the answer came too late', async () => {
    const { notices } = await setup([approval(1)]);
    vi.mocked(api.answerApproval).mockResolvedValue(false);
    await userEvent.setup().click(screen.getByTestId('prompt-allow-once'));
    await waitFor(() => expect(notices.items[0]).toMatchObject({ kind: 'info', text: expect.stringMatching(/timed out/) }));
  });

  it('counts the 30 s down and gives up at 0', async () => {
    vi.useFakeTimers();
    const { agent } = await setup([approval(1)]);
    const countdown = screen.getByTestId('prompt-countdown');
    expect(countdown).toHaveTextContent('in 30 s');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(countdown).toHaveTextContent('in 20 s');
    expect(countdown).toHaveAttribute('data-seconds', '20');
    expect(api.pendingPrompts).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(agent.current).toBeNull();
    expect(api.pendingPrompts).toHaveBeenCalledTimes(2);
    expect(api.answerApproval).not.toHaveBeenCalled();
  });
});

describe('unlock prompt', () => {
  it('asks for the passphrase, sends it, and clears it at once', async () => {
    const { agent } = await setup([unlockPrompt(2)]);
    let delivered!: (ok: boolean) => void;
    vi.mocked(api.answerUnlock).mockReturnValue(new Promise((r) => (delivered = r)));
    const dialog = screen.getByTestId('prompt-dialog');
    expect(dialog).toHaveAttribute('data-kind', 'unlock');
    expect(screen.getByTestId('prompt-destination')).toHaveTextContent('not bound to a host');
    expect(screen.getByTestId('prompt-process')).toHaveTextContent('ssh');
    const input = document.querySelector('#prompt-passphrase') as HTMLInputElement;
    expect(input.type).toBe('password');
    await waitFor(() => expect(document.activeElement).toBe(input));
    expect(screen.getByTestId('prompt-unlock')).toBeDisabled();
    const user = userEvent.setup();
    await user.type(input, 'correct horse');
    await user.click(screen.getByTestId('prompt-unlock'));
    expect(api.answerUnlock).toHaveBeenCalledWith({ id: 2, passphrase: 'correct horse' });
    // Cleared before the answer is even acknowledged.
    expect(input.value).toBe('');
    expect(agent.current).toBeNull();
    delivered(true);
  });

  it('submits with Enter', async () => {
    await setup([unlockPrompt(2)]);
    const input = document.querySelector('#prompt-passphrase') as HTMLInputElement;
    await userEvent.setup().type(input, 's3cret{Enter}');
    expect(api.answerUnlock).toHaveBeenCalledWith({ id: 2, passphrase: 's3cret' });
    expect(input.value).toBe('');
  });

  it('says the previous passphrase was wrong', async () => {
    await setup([unlockPrompt(3, { retry: true })]);
    expect(screen.getByTestId('prompt-retry')).toHaveTextContent('Wrong passphrase, try again');
    expect(document.querySelector('#prompt-passphrase')).toHaveAttribute('aria-invalid', 'true');
  });

  it('cancels with no passphrase, clearing what was typed', async () => {
    await setup([unlockPrompt(2)]);
    const input = document.querySelector('#prompt-passphrase') as HTMLInputElement;
    const user = userEvent.setup();
    await user.type(input, 'half');
    await user.click(screen.getByTestId('prompt-cancel'));
    expect(api.answerUnlock).toHaveBeenCalledWith({ id: 2, passphrase: null });
    expect(input.value).toBe('');
  });
});
