import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import PassphraseField from './PassphraseField.svelte';

const wrong = { code: 'wrong_passphrase', message: 'wrong' };

describe('PassphraseField', () => {
  it('is a labelled password field with its help line, and takes what is typed', async () => {
    render(PassphraseField, { id: 'pp', label: 'Passphrase', help: 'Stored nowhere.' });
    const input = screen.getByLabelText('Passphrase') as HTMLInputElement;
    expect(input).toHaveAttribute('type', 'password');
    expect(input).toHaveAttribute('autocomplete', 'current-password');
    expect(input).not.toBeRequired();
    expect(input).not.toHaveAttribute('aria-invalid');
    expect(screen.getByText('Stored nowhere.')).toHaveClass('help');
    await userEvent.setup().type(input, 'secret');
    expect(input.value).toBe('secret');
  });

  it('shows its error inside the field, marked and described only when asked', () => {
    render(PassphraseField, { id: 'pp', label: 'Passphrase', error: wrong, required: true, autocomplete: 'off' });
    const input = screen.getByLabelText('Passphrase');
    expect(input).toBeRequired();
    expect(input).toHaveAttribute('autocomplete', 'off');
    expect(input.closest('.field')).toContainElement(screen.getByTestId('error'));
    expect(input).not.toHaveAttribute('aria-invalid');
    expect(input).not.toHaveAttribute('aria-describedby');
  });

  it('with markInvalid and errorId, aria-invalid and the description follow the error', async () => {
    const { rerender } = render(PassphraseField, {
      id: 'pp',
      label: 'Passphrase',
      error: null,
      errorId: 'pp-error',
      markInvalid: true,
    });
    const input = screen.getByLabelText('Passphrase');
    expect(input).toHaveAttribute('aria-invalid', 'false');
    expect(input).not.toHaveAttribute('aria-describedby');
    await rerender({ error: wrong });
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input).toHaveAttribute('aria-describedby', 'pp-error');
    expect(screen.getByTestId('error')).toHaveAttribute('id', 'pp-error');
  });
});
