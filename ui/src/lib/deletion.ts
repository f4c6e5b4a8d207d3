// What deleting a key will do, in words, for the confirmation dialog.

import type { KeySummary } from './bindings';
import { ownsFiles } from './keytypes';

export type DeletePlan = {
  title: string;
  /** Paragraphs, in order. */
  lines: string[];
  /** The files that will be deleted (empty when the files stay). */
  files: string[];
  /** Something irreversible happens: style the confirm button as dangerous. */
  danger: boolean;
  confirmLabel: string;
  /** Whether the "also delete the files" box applies to this key. */
  offersFileDeletion: boolean;
};

export function deletePlan(
  key: Pick<KeySummary, 'name' | 'path' | 'origin' | 'remembered'>,
  alsoDeleteFiles: boolean,
): DeletePlan {
  const files = [key.path, `${key.path}.pub`];
  const keyring = key.remembered ? ['Its remembered passphrase is removed from the OS keyring.'] : [];
  const irreversible =
    'This cannot be undone. Servers that only trust this key will stop letting you in.';

  if (ownsFiles(key)) {
    return {
      title: `Delete “${key.name}”?`,
      lines: [
        'Latchkey keeps this key in its own store, so deleting it deletes its files:',
        ...keyring,
        irreversible,
      ],
      files,
      danger: true,
      confirmLabel: 'Delete key',
      offersFileDeletion: false,
    };
  }
  if (alsoDeleteFiles) {
    return {
      title: `Delete “${key.name}” and its files?`,
      lines: [
        'Latchkey stops managing this key and deletes its files from disk:',
        ...keyring,
        irreversible,
      ],
      files,
      danger: true,
      confirmLabel: 'Delete key and files',
      offersFileDeletion: true,
    };
  }
  return {
    title: `Remove “${key.name}” from Latchkey?`,
    lines: [
      `Latchkey stops managing this key. Its files stay where they are, at ${key.path}, and ssh can still use them.`,
      ...keyring,
    ],
    files: [],
    danger: false,
    confirmLabel: 'Remove from Latchkey',
    offersFileDeletion: true,
  };
}
