import { describe, expect, it } from 'vitest';

import type { KeyPolicy } from './bindings';
import { CUSTOM } from './minutes';
import {
  describePattern,
  formToPolicy,
  hostListWarning,
  hostPatternProblem,
  policyForm,
  samePolicy,
  type PolicyForm,
} from './policy';

const FP = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';

describe('hostPatternProblem', () => {
  it('accepts the pattern forms the agent understands', () => {
    for (const p of ['github.com', '*.corp.example', 'host?.lan', '[git.example]:2222', FP, '!bastion.corp.example', '*', '10.0.0.*']) {
      expect(hostPatternProblem(p), p).toBeNull();
    }
    expect(hostPatternProblem('  github.com  ')).toBeNull();
  });

  it('refuses empty entries, spaces and commas', () => {
    expect(hostPatternProblem('')).toMatch(/Enter/);
    expect(hostPatternProblem('   ')).toMatch(/Enter/);
    expect(hostPatternProblem('a.com b.com')).toMatch(/no spaces/);
    expect(hostPatternProblem('a.com\tb.com')).toMatch(/no spaces/);
    expect(hostPatternProblem('a.com,b.com')).toMatch(/no commas/);
  });

  it('refuses malformed exclusions, ports and fingerprints, and duplicates', () => {
    expect(hostPatternProblem('!')).toMatch(/after/);
    expect(hostPatternProblem('!!a')).toMatch(/One “!”/);
    expect(hostPatternProblem('[git.example]')).toMatch(/\[host\]:2222/);
    expect(hostPatternProblem('git.example]:22')).toMatch(/\[host\]:2222/);
    expect(hostPatternProblem('SHA256:short')).toMatch(/43 characters/);
    expect(hostPatternProblem('github.com', ['github.com'])).toMatch(/Already/);
  });
});

describe('policy form', () => {
  const form = (over: Partial<PolicyForm> = {}): PolicyForm => ({
    ...policyForm({ confirm: false, forwarding: 'ask' }),
    ...over,
  });

  it('reads a policy whose empty fields the wire left out', () => {
    expect(policyForm({ confirm: true, forwarding: 'deny' })).toEqual({
      confirm: true,
      hosts: [],
      lifetime: { choice: '', custom: '' },
      forwarding: 'deny',
    });
    expect(policyForm({ confirm: false, forwarding: 'ask', hosts: ['a'], lifetime_minutes: 15 }).lifetime).toEqual({
      choice: '15',
      custom: '',
    });
    expect(policyForm({ confirm: false, forwarding: 'ask', lifetime_minutes: 45 }).lifetime).toEqual({
      choice: CUSTOM,
      custom: '45',
    });
  });

  it('maps the form to a KeyPolicy', () => {
    expect(
      formToPolicy(form({ confirm: true, hosts: ['github.com', '!x'], lifetime: { choice: '60', custom: '' }, forwarding: 'allow' })),
    ).toEqual({
      policy: { confirm: true, hosts: ['github.com', '!x'], lifetime_minutes: 60, forwarding: 'allow' },
      errors: {},
    });
    expect(formToPolicy(form()).policy).toEqual({ confirm: false, hosts: [], lifetime_minutes: null, forwarding: 'ask' });
    expect(formToPolicy(form({ lifetime: { choice: CUSTOM, custom: ' 90 ' } })).policy?.lifetime_minutes).toBe(90);
  });

  it('refuses a custom lifetime that is not a positive whole number', () => {
    for (const custom of ['', '0', '1.5', '-3', 'ten', '999999999']) {
      const v = formToPolicy(form({ lifetime: { choice: CUSTOM, custom } }));
      expect(v.policy, custom).toBeNull();
      expect(v.errors.lifetime, custom).toBeTruthy();
    }
  });

  it('compares policies the way the wire writes them', () => {
    const a: KeyPolicy = { confirm: false, forwarding: 'ask' };
    expect(samePolicy(a, { confirm: false, forwarding: 'ask', hosts: [], lifetime_minutes: null })).toBe(true);
    expect(samePolicy(a, { ...a, hosts: ['x'] })).toBe(false);
    expect(samePolicy(a, { ...a, lifetime_minutes: 5 })).toBe(false);
    expect(samePolicy({ ...a, hosts: ['a', 'b'] }, { ...a, hosts: ['b', 'a'] })).toBe(false);
  });
});

describe('patterns in words', () => {
  it('explains each kind of pattern', () => {
    expect(describePattern('github.com')).toBe('github.com, any port');
    expect(describePattern('*.corp.example')).toMatch(/matching/);
    expect(describePattern('[git.example]:2222')).toBe('git.example on port 2222');
    expect(describePattern(FP)).toMatch(/host key/);
    expect(describePattern('!bastion')).toBe('never for bastion, any port');
  });

  it('warns that a list of exclusions only permits nothing', () => {
    expect(hostListWarning(['!a', '!b'])).toMatch(/every host/);
    expect(hostListWarning(['!a', '*'])).toBeNull();
    expect(hostListWarning([])).toBeNull();
  });
});
