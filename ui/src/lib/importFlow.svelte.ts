// The Import dialog's state machine:
//
//   source --load--> probing --ok--> details --submit--> importing --ok--> done
//                       \--error--> source        \--error (wrong_passphrase, name_taken...)--> details
//
// An import that fails because the source needs a passphrase (or would lose one) marks the probe
// as encrypted, whatever the probe said, so the dialog asks for the source's passphrase.
//
// `details --back--> source` starts over. The source (which may be pasted private key text) is
// held outside reactive state and dropped as soon as the import succeeds or the flow is disposed.
// Passphrases never enter this object: the dialog passes them in the request and forgets them.

import * as api from './api';
import type { ImportProbe, ImportRequest, ImportSource, IpcError, Saved } from './bindings';
import { asksForPassphrase, fieldOf, toIpcError, type ErrorField } from './errors';
import { describeSource } from './importing';

export type ImportStep = 'source' | 'probing' | 'details' | 'importing' | 'done';

export class ImportFlow {
  step: ImportStep = $state('source');
  probe: ImportProbe | null = $state.raw(null);
  error: IpcError | null = $state.raw(null);
  saved: Saved | null = $state.raw(null);
  sourceLabel = $state('');
  #source: ImportSource | null = null;

  get busy(): boolean {
    return this.step === 'probing' || this.step === 'importing';
  }

  /** Which field the current error is about (null: the dialog as a whole). */
  get errorField(): ErrorField {
    return this.error ? fieldOf(this.error.code) : null;
  }

  /** Probe a source. Resolves true when it moved on to the details step. */
  async load(source: ImportSource): Promise<boolean> {
    if (this.busy) return false;
    this.step = 'probing';
    this.error = null;
    try {
      const probe = await api.probeImport(source);
      this.#source = source;
      this.sourceLabel = describeSource(source);
      this.probe = probe;
      this.step = 'details';
      return true;
    } catch (e) {
      this.error = toIpcError(e);
      this.step = 'source';
      return false;
    }
  }

  /** Import with the details the user chose. Resolves to the saved key, or null on an error. */
  async submit(request: Omit<ImportRequest, 'source'>): Promise<Saved | null> {
    if (this.step !== 'details' || this.#source === null) return null;
    this.step = 'importing';
    this.error = null;
    try {
      const saved = await api.importKey({ ...request, source: this.#source });
      this.#source = null;
      this.saved = saved;
      this.step = 'done';
      return saved;
    } catch (e) {
      const error = toIpcError(e);
      this.error = error;
      if (this.probe && !this.probe.encrypted && sourceIsEncrypted(error.code)) {
        this.probe = { ...this.probe, encrypted: true };
      }
      this.step = 'details';
      return null;
    }
  }

  /** Back to choosing a source. */
  back(): void {
    if (this.busy) return;
    this.#source = null;
    this.probe = null;
    this.error = null;
    this.sourceLabel = '';
    this.step = 'source';
  }

  dismissError(): void {
    this.error = null;
  }

  /** Forget the source (the dialog is closing). */
  dispose(): void {
    this.#source = null;
  }
}

/** The codes that say an import's source is encrypted: it asked for a passphrase, or refused to drop one. */
export function sourceIsEncrypted(code: string): boolean {
  return asksForPassphrase(code) || code === 'import_keeps_passphrase';
}
