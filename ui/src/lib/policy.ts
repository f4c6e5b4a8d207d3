// A key's agent policy as the Keys view edits it: the form, the host pattern rules, and the
// `KeyPolicy` it becomes. The pattern rules mirror src/store/policy.rs (one pattern per entry, no
// spaces or commas) and src/agent/hosts.rs (what a pattern matches). Pure.

import type { ForwardingPolicy, KeyPolicy } from './bindings';
import { fromChoice, toChoice, type MinutesChoice } from './minutes';

/** "Unlocked for" presets, in minutes. */
export const LIFETIME_PRESETS = [5, 15, 30, 60, 240, 480] as const;

export type PolicyForm = {
  confirm: boolean;
  hosts: string[];
  lifetime: MinutesChoice;
  forwarding: ForwardingPolicy;
};

export function policyForm(policy: KeyPolicy): PolicyForm {
  return {
    confirm: policy.confirm,
    hosts: [...(policy.hosts ?? [])],
    lifetime: toChoice(policy.lifetime_minutes, LIFETIME_PRESETS),
    forwarding: policy.forwarding,
  };
}

export type PolicyValidation = { policy: KeyPolicy | null; errors: { lifetime?: string } };

/** The policy to send, or null with the reason while the form is not acceptable. */
export function formToPolicy(form: PolicyForm): PolicyValidation {
  const lifetime = fromChoice(form.lifetime);
  if (!lifetime.ok) return { policy: null, errors: { lifetime: lifetime.error } };
  return {
    policy: {
      confirm: form.confirm,
      hosts: [...form.hosts],
      lifetime_minutes: lifetime.minutes,
      forwarding: form.forwarding,
    },
    errors: {},
  };
}

/** Whether two policies say the same (the wire leaves out empty hosts and a null lifetime). */
export function samePolicy(a: KeyPolicy, b: KeyPolicy): boolean {
  const ha = a.hosts ?? [];
  const hb = b.hosts ?? [];
  return (
    a.confirm === b.confirm &&
    a.forwarding === b.forwarding &&
    (a.lifetime_minutes ?? null) === (b.lifetime_minutes ?? null) &&
    ha.length === hb.length &&
    ha.every((h, i) => h === hb[i])
  );
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const WITH_PORT = /^\[[^\][]+\]:\d{1,5}$/;

/** Why `input` cannot be added to `existing`, or null when it can (after trimming). */
export function hostPatternProblem(input: string, existing: readonly string[] = []): string | null {
  const pattern = input.trim();
  if (pattern === '') return 'Enter a host name or pattern.';
  if (/\s/.test(pattern)) return 'One pattern per entry: no spaces.';
  if (pattern.includes(',')) return 'One pattern per entry: no commas.';
  const bare = pattern.startsWith('!') ? pattern.slice(1) : pattern;
  if (bare === '') return 'Put a host after “!”.';
  if (bare.startsWith('!')) return 'One “!” is enough.';
  if (bare.toUpperCase().startsWith('SHA256:') && !FINGERPRINT.test(bare)) {
    return 'A host key fingerprint is SHA256: and 43 characters, as ssh-keygen -lf shows it.';
  }
  if ((bare.startsWith('[') || bare.includes(']')) && !WITH_PORT.test(bare)) {
    return 'Write a host with a port as [host]:2222.';
  }
  if (existing.includes(pattern)) return 'Already in the list.';
  return null;
}

/** What a pattern matches, in words (src/agent/hosts.rs). */
export function describePattern(pattern: string): string {
  if (pattern.startsWith('!')) return `never for ${describePattern(pattern.slice(1))}`;
  if (pattern === '*') return 'every host';
  if (pattern.startsWith('SHA256:')) return 'the host with this host key';
  const port = WITH_PORT.exec(pattern) ? pattern.slice(1).split(']:') : null;
  if (port) return `${port[0]} on port ${port[1]}`;
  if (/[*?]/.test(pattern)) return `hosts matching ${pattern}, any port`;
  return `${pattern}, any port`;
}

/**
 * A warning about the list as a whole: only exclusions permit nothing, since a host must match a
 * pattern without "!" to be allowed.
 */
export function hostListWarning(hosts: readonly string[]): string | null {
  if (hosts.length > 0 && hosts.every((h) => h.startsWith('!'))) {
    return 'Only exclusions: the key would be refused for every host. Add * to allow all the others.';
  }
  return null;
}

export const FORWARDING_OPTIONS: readonly { value: ForwardingPolicy; label: string }[] = [
  { value: 'ask', label: 'Ask each time (recommended)' },
  { value: 'allow', label: 'Allow without asking — dangerous' },
  { value: 'deny', label: 'Deny' },
];
