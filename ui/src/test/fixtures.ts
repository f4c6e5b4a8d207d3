// Test data shaped like the backend's answers. preview/fake-api.ts builds on it too.

import type { ImportProbe, KeyDetails, KeySummary, Saved } from '../lib/bindings';

export function summary(over: Partial<KeySummary> = {}): KeySummary {
  return {
    name: 'work',
    key_type: 'ED25519',
    display_type: 'Ed25519',
    bits: 256,
    fingerprint_sha256: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
    comment: 'me@laptop',
    path: '/data/keys/work',
    origin: 'generated',
    encrypted: true,
    kdf_rounds: 16,
    remembered: false,
    problem: null,
    policy: { confirm: false, hosts: [], lifetime_minutes: null, forwarding: 'ask' },
    ...over,
  };
}

export function details(over: Partial<KeySummary> = {}): KeyDetails {
  const s = summary(over);
  return {
    summary: s,
    fingerprint_md5: 'MD5:12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0',
    randomart_sha256: '+--[ED25519 256]--+\n|    sha art      |\n+----[SHA256]-----+',
    randomart_md5: '+--[ED25519 256]--+\n|    md5 art      |\n+------[MD5]------+',
    public_key: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ${s.comment}`,
    public_key_rfc4716: '---- BEGIN SSH2 PUBLIC KEY ----\nAAAAC3NzaC1lZDI1NTE5\n---- END SSH2 PUBLIC KEY ----',
  };
}

export function saved(over: Partial<KeySummary> = {}, warnings: Saved['warnings'] = []): Saved {
  return { key: summary(over), warnings };
}

export function probe(over: Partial<ImportProbe> = {}): ImportProbe {
  return {
    format: 'openssh',
    encrypted: true,
    key_type: 'Ed25519',
    fingerprint_sha256: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
    comment: 'me@old-laptop',
    suggested_name: 'id_ed25519',
    ...over,
  };
}
