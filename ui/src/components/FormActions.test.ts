import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { createRawSnippet, type Snippet } from 'svelte';
import { describe, expect, it, vi } from 'vitest';

import FormActions from './FormActions.svelte';

function setup(props: Partial<{ ready: boolean; busy: boolean; danger: boolean; children: Snippet }> = {}) {
  const oncancel = vi.fn();
  const result = render(FormActions, {
    testid: 'save',
    label: 'Save',
    busyLabel: 'Saving…',
    ready: true,
    busy: false,
    oncancel,
    ...props,
  });
  return { oncancel, ...result };
}

describe('FormActions', () => {
  it('offers Cancel and a primary submit button', async () => {
    const { oncancel } = setup();
    const submit = screen.getByTestId('save');
    expect(submit).toHaveAttribute('type', 'submit');
    expect(submit).toHaveClass('primary');
    expect(submit).toHaveTextContent('Save');
    expect(submit).toBeEnabled();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Cancel' }));
    expect(oncancel).toHaveBeenCalledTimes(1);
  });

  it('disables submit until ready, and both buttons while busy, saying so', async () => {
    const { rerender } = setup({ ready: false });
    expect(screen.getByTestId('save')).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeEnabled();
    await rerender({ ready: true, busy: true });
    expect(screen.getByTestId('save')).toBeDisabled();
    expect(screen.getByTestId('save')).toHaveTextContent('Saving…');
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeDisabled();
  });

  it('can be a danger button, with extra buttons first', () => {
    const extra = createRawSnippet(() => ({ render: () => '<button type="button">Back</button>' }));
    setup({ danger: true, children: extra });
    expect(screen.getByTestId('save')).toHaveClass('danger');
    expect(screen.getAllByRole('button').map((b) => b.textContent?.trim())).toEqual(['Back', 'Cancel', 'Save']);
  });
});
