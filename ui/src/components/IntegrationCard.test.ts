import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import * as api from '../lib/api';
import type { IntegrationStatus } from '../lib/bindings';
import IntegrationCard from './IntegrationCard.svelte';

vi.mock('../lib/api');

const status = (enabled: boolean): IntegrationStatus => ({
  enabled,
  ssh_config: '/home/u/.ssh/config',
  ssh_config_block: enabled,
  environment_file: enabled ? '/home/u/.config/environment.d/50-latchkey.conf' : null,
  session_environment: false,
  notes: enabled ? ['no systemd user manager answered'] : [],
});

describe('IntegrationCard', () => {
  it('shows the state, turns it on and off, and shows what is in place', async () => {
    vi.mocked(api.integrationStatus).mockResolvedValue(status(false));
    vi.mocked(api.setIntegration).mockImplementation(async (on) => status(on));
    render(IntegrationCard);
    const box = (await screen.findByLabelText(/Point every SSH client/)) as HTMLInputElement;
    expect(box.checked).toBe(false);
    await userEvent.setup().click(box);
    expect(api.setIntegration).toHaveBeenCalledWith(true);
    await waitFor(() => expect(screen.getByText(/50-latchkey.conf/)).toBeInTheDocument());
    expect(screen.getByText(/no systemd user manager/)).toBeInTheDocument();
    await userEvent.setup().click(box);
    expect(api.setIntegration).toHaveBeenLastCalledWith(false);
    await waitFor(() => expect(screen.queryByText(/50-latchkey.conf/)).not.toBeInTheDocument());
  });

  it('shows an error in words with its code', async () => {
    vi.mocked(api.integrationStatus).mockRejectedValue({ code: 'permission_denied', message: 'cannot write ~/.ssh/config' });
    render(IntegrationCard);
    expect(await screen.findByTestId('error-code')).toHaveTextContent('permission_denied');
  });
});
