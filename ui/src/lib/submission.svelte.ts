// One request at a time from a dialog or form: `busy` while it runs (the form disables itself and
// Escape does not close the dialog), and the error it failed with, normalised for an ErrorBox.
//
// The callback sends the request and does whatever follows success (tell the parent, close), so
// an error from either is shown the same way. The caller clears typed secrets before calling run.

import type { IpcError } from './bindings';
import { toIpcError } from './errors';

export class Submission {
  busy = $state(false);
  error: IpcError | null = $state.raw(null);

  /** Run `send`, clearing the last error first. Resolves to the error it failed with, or null. */
  async run(send: () => Promise<unknown>): Promise<IpcError | null> {
    this.busy = true;
    this.error = null;
    try {
      await send();
      return null;
    } catch (e) {
      const error = toIpcError(e);
      this.error = error;
      return error;
    } finally {
      this.busy = false;
    }
  }
}
