import { describe, expect, it } from 'vitest';

import { Submission } from './submission.svelte';

describe('Submission', () => {
  it('is busy while the request runs, then resolves to null', async () => {
    const submission = new Submission();
    let finish!: () => void;
    const running = submission.run(() => new Promise<void>((r) => (finish = r)));
    expect(submission.busy).toBe(true);
    finish();
    expect(await running).toBeNull();
    expect(submission.busy).toBe(false);
    expect(submission.error).toBeNull();
  });

  it('keeps the failure as an IpcError and resolves to it', async () => {
    const submission = new Submission();
    const failed = await submission.run(async () => {
      throw { code: 'wrong_passphrase', message: 'nope', extra: true };
    });
    expect(failed).toEqual({ code: 'wrong_passphrase', message: 'nope' });
    expect(submission.error).toEqual(failed);
    expect(submission.busy).toBe(false);
  });

  it('normalises other rejections, including one from what follows the request', async () => {
    const submission = new Submission();
    await submission.run(async () => {
      await Promise.resolve('saved');
      throw new Error('the parent could not take it');
    });
    expect(submission.error).toEqual({ code: 'internal', message: 'the parent could not take it' });
  });

  it('clears the last error when it runs again', async () => {
    const submission = new Submission();
    await submission.run(() => Promise.reject({ code: 'internal', message: 'boom' }));
    let finish!: () => void;
    const again = submission.run(() => new Promise<void>((r) => (finish = r)));
    expect(submission.error).toBeNull();
    finish();
    await again;
    expect(submission.error).toBeNull();
  });
});
