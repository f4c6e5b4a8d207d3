import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';

import App from './App.svelte';
import * as api from './lib/api';

vi.mock('./lib/api');

function mockBackend(keyring: { available: boolean; detail: string | null }) {
  vi.mocked(api.appInfo).mockResolvedValue({ version: '0.1.0', data_dir: '/home/me/.local/share/latchkey' });
  vi.mocked(api.keyringStatus).mockResolvedValue(keyring);
  vi.mocked(api.listKeys).mockResolvedValue([]);
  vi.mocked(api.onFileDrop).mockResolvedValue(() => {});
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
