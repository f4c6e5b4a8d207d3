import { describe, expect, it } from 'vitest';

import type { KeySummary } from './bindings';
import { deletePlan } from './deletion';

const key = (origin: KeySummary['origin'], remembered = false) => ({
  name: 'work',
  path: '/home/me/.ssh/work',
  origin,
  remembered,
});

describe('deletePlan', () => {
  it('says a generated key’s files are deleted, irreversibly', () => {
    const plan = deletePlan(key('generated'), false);
    expect(plan.danger).toBe(true);
    expect(plan.files).toEqual(['/home/me/.ssh/work', '/home/me/.ssh/work.pub']);
    expect(plan.lines.join(' ')).toMatch(/deletes its files/);
    expect(plan.lines.join(' ')).toMatch(/cannot be undone/);
    expect(plan.offersFileDeletion).toBe(false);
    expect(plan.confirmLabel).toBe('Delete key');
  });

  it('treats imported keys like generated ones (Latchkey owns the copy)', () => {
    const plan = deletePlan(key('imported'), false);
    expect(plan.files).toHaveLength(2);
    expect(plan.danger).toBe(true);
  });

  it('says a registered key only leaves Latchkey and its files stay', () => {
    const plan = deletePlan(key('registered'), false);
    expect(plan.danger).toBe(false);
    expect(plan.files).toEqual([]);
    expect(plan.title).toMatch(/Remove/);
    expect(plan.lines.join(' ')).toMatch(/files stay where they are, at \/home\/me\/\.ssh\/work/);
    expect(plan.lines.join(' ')).not.toMatch(/cannot be undone/);
    expect(plan.offersFileDeletion).toBe(true);
    expect(plan.confirmLabel).toBe('Remove from Latchkey');
  });

  it('turns dangerous when a registered key’s files are to be deleted too', () => {
    const plan = deletePlan(key('registered'), true);
    expect(plan.danger).toBe(true);
    expect(plan.files).toEqual(['/home/me/.ssh/work', '/home/me/.ssh/work.pub']);
    expect(plan.lines.join(' ')).toMatch(/deletes its files from disk/);
    expect(plan.confirmLabel).toBe('Delete key and files');
  });

  it('ignores the files box for keys Latchkey owns', () => {
    expect(deletePlan(key('generated'), true)).toEqual(deletePlan(key('generated'), false));
  });

  it('mentions the keyring when the passphrase is remembered', () => {
    expect(deletePlan(key('generated', true), false).lines.join(' ')).toMatch(/OS keyring/);
    expect(deletePlan(key('generated', false), false).lines.join(' ')).not.toMatch(/keyring/);
  });
});
