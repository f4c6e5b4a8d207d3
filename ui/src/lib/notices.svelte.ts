// Messages shown above the Keys view after something happened: successes, the warnings a command
// returned (for example "keyring unavailable" after a key was saved), and errors of actions that
// have no dialog of their own.

import type { IpcError, Warning } from './bindings';

export type Notice =
  | { id: number; kind: 'success' | 'info'; text: string }
  | { id: number; kind: 'warning'; text: string; code: string }
  | { id: number; kind: 'error'; error: IpcError };

type NewNotice =
  | { kind: 'success' | 'info'; text: string }
  | { kind: 'warning'; text: string; code: string }
  | { kind: 'error'; error: IpcError };

export class Notices {
  items: Notice[] = $state([]);
  #next = 1;
  #timers = new Map<number, ReturnType<typeof setTimeout>>();

  /** Add a notice. Successes fade after a while; warnings and errors stay until dismissed. */
  push(notice: NewNotice): number {
    const id = this.#next++;
    this.items.push({ ...notice, id } as Notice);
    if (notice.kind === 'success' || notice.kind === 'info') {
      this.#timers.set(
        id,
        setTimeout(() => this.dismiss(id), 6000),
      );
    }
    return id;
  }

  /** A success line followed by the command's warnings, if any. */
  done(text: string, warnings: readonly Warning[] = []): void {
    this.push({ kind: 'success', text });
    for (const w of warnings) this.push({ kind: 'warning', text: w.message, code: w.code });
  }

  dismiss(id: number): void {
    const timer = this.#timers.get(id);
    if (timer) clearTimeout(timer);
    this.#timers.delete(id);
    this.items = this.items.filter((n) => n.id !== id);
  }

  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.items = [];
  }
}
