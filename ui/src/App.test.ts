import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import App from './App.svelte';
import * as api from './lib/api';
import { agentStatus, approval, unlockPrompt } from './test/agentFixtures';

vi.mock('./lib/api');

function mockBackend(keyring: { available: boolean; detail: string | null }) {
  vi.mocked(api.appInfo).mockResolvedValue({ version: '0.1.0', data_dir: '/home/me/.local/share/latchkey' });
  vi.mocked(api.keyringStatus).mockResolvedValue(keyring);
  vi.mocked(api.listKeys).mockResolvedValue([]);
  vi.mocked(api.onFileDrop).mockResolvedValue(() => {});
  const events: { prompt?: () => void; state?: () => void } = {};
  vi.mocked(api.onAgentState).mockImplementation(async (h) => ((events.state = h), () => {}));
  vi.mocked(api.onAgentActivity).mockResolvedValue(() => {});
  vi.mocked(api.onAgentPrompt).mockImplementation(async (h) => ((events.prompt = h), () => {}));
  vi.mocked(api.agentStatus).mockResolvedValue(agentStatus());
  vi.mocked(api.agentActivity).mockResolvedValue([]);
  vi.mocked(api.pendingPrompts).mockResolvedValue([]);
  return events;
}

describe('App', () => {
  it('shows the Keys view in the navigation and the data directory in the about line', async () => {
    mockBackend({ available: true, detail: null });
    render(App);
    const nav = screen.getByRole('navigation', { name: 'Sections' });
    expect(within(nav).getByRole('button', { name: 'Keys' })).toHaveAttribute('aria-current', 'page');
    const about = screen.getByTestId('about');
    expect(await within(about).findByText('/home/me/.local/share/latchkey')).toBeInTheDocument();
    expect(about).toHaveTextContent('Latchkey 0.1.0');
    await screen.findByTestId('empty-state');
    expect(screen.queryByTestId('keyring-banner')).toBeNull();
  });

  it('shows a quiet banner with the detail when the OS keyring is unavailable', async () => {
    mockBackend({ available: false, detail: 'no Secret Service on the session bus' });
    render(App);
    const banner = await screen.findByTestId('keyring-banner');
    expect(banner).toHaveTextContent("OS keyring unavailable — passphrases can't be remembered");
    expect(banner).toHaveTextContent('no Secret Service on the session bus');
  });
});

describe('App and the agent', () => {
  it('switches to the Agent view and back', async () => {
    mockBackend({ available: true, detail: null });
    render(App);
    const user = userEvent.setup();
    await user.click(screen.getByTestId('nav-agent'));
    expect(screen.getByTestId('nav-agent')).toHaveAttribute('aria-current', 'page');
    expect(await screen.findByTestId('agent-state')).toHaveTextContent('Running');
    expect(screen.getByTestId('agent-view')).toBeInTheDocument();
    await user.click(screen.getByTestId('nav-keys'));
    expect(await screen.findByTestId('empty-state')).toBeInTheDocument();
    expect(screen.queryByTestId('agent-view')).toBeNull();
  });

  it('shows the agent state next to Agent in the navigation', async () => {
    const events = mockBackend({ available: true, detail: null });
    render(App);
    await waitFor(() => expect(screen.getByTestId('nav-agent')).toHaveTextContent('(Running)'));
    vi.mocked(api.agentStatus).mockResolvedValue(agentStatus({ locked: true }));
    events.state!();
    await waitFor(() => expect(screen.getByTestId('nav-agent')).toHaveTextContent('(Locked)'));
  });

  it('shows a prompt over the open view, one at a time, and closes it when it is no longer pending', async () => {
    const events = mockBackend({ available: true, detail: null });
    render(App);
    await screen.findByTestId('empty-state');
    expect(screen.queryByTestId('prompt-dialog')).toBeNull();

    vi.mocked(api.pendingPrompts).mockResolvedValue([approval(1), unlockPrompt(2)]);
    events.prompt!();
    const dialog = await screen.findByTestId('prompt-dialog');
    expect(dialog).toHaveAttribute('data-kind', 'approval');
    expect(screen.getByTestId('prompt-queue')).toHaveTextContent('1 more request waiting');
    expect(screen.getByTestId('empty-state')).toBeInTheDocument();

    // The approval timed out in the backend: the unlock prompt is next.
    vi.mocked(api.pendingPrompts).mockResolvedValue([unlockPrompt(2)]);
    events.prompt!();
    await waitFor(() => expect(screen.getByTestId('prompt-dialog')).toHaveAttribute('data-kind', 'unlock'));
    await waitFor(() => expect(document.activeElement).toBe(document.querySelector('#prompt-passphrase')));

    vi.mocked(api.pendingPrompts).mockResolvedValue([]);
    events.prompt!();
    await waitFor(() => expect(screen.queryByTestId('prompt-dialog')).toBeNull());
  });
});
