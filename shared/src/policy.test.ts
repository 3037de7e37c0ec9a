import { describe, expect, it } from 'vitest';
import { policyWidens, widenedScopes, type PolicyContent } from './policy';

const narrow: PolicyContent = {
  purpose: 'Team time, in aggregate.',
  scopes: [
    { scope: 'app_usage', purpose: 'Which application is in front.', legalBasis: 'consent' },
    { scope: 'window_titles', purpose: 'Window titles, hashed.', legalBasis: 'consent' },
  ],
  titleMode: 'hashed',
  redactionRules: [],
  idleThresholdSeconds: 300,
  retentionDays: 90,
  minGroupSize: 8,
  managersSeeIndividuals: false,
  reviewBeforeSendMinutes: 0,
  localRetentionDays: 30,
  controller: { name: 'Acme', contact: 'privacy@acme.example' },
};

const idleScope = { scope: 'idle', purpose: 'Idle time from the OS timer.', legalBasis: 'consent' } as const;

/** Each row is one change that asks more of the person; going back the other way asks less. */
const wider: { change: string; next: PolicyContent; from?: PolicyContent }[] = [
  { change: 'a longer retention', next: { ...narrow, retentionDays: 180 } },
  { change: 'a smaller minimum group', next: { ...narrow, minGroupSize: 5 } },
  { change: 'managers may see individuals', next: { ...narrow, managersSeeIndividuals: true } },
  { change: 'a scope added', next: { ...narrow, scopes: [...narrow.scopes, idleScope] } },
  { change: 'titles full instead of hashed', next: { ...narrow, titleMode: 'full' } },
  { change: 'titles redacted instead of hashed', next: { ...narrow, titleMode: 'redacted' } },
  {
    change: 'a scope moved from consent to legitimate interest',
    next: { ...narrow, scopes: narrow.scopes.map((s) => (s.scope === 'app_usage' ? { ...s, legalBasis: 'legitimate_interest' as const } : s)) },
  },
  {
    change: 'a redaction rule dropped',
    next: { ...narrow, redactionRules: [] },
    from: { ...narrow, redactionRules: [{ pattern: '\\S+@\\S+', replacement: '[email]' }] },
  },
  { change: 'a shorter review before send', next: { ...narrow, reviewBeforeSendMinutes: 0 }, from: { ...narrow, reviewBeforeSendMinutes: 60 } },
];

describe('policyWidens', () => {
  it.each(wider)('is true for $change', ({ next, from = narrow }) => {
    expect(policyWidens(from, next)).toBe(true);
  });

  it.each(wider)('is false for the reverse of $change', ({ next, from = narrow }) => {
    expect(policyWidens(next, from)).toBe(false);
  });

  it('is true for a first version and false for the same content again', () => {
    expect(policyWidens(undefined, narrow)).toBe(true);
    expect(policyWidens(narrow, { ...narrow })).toBe(false);
  });

  it('is false for changes that ask nothing more: purpose wording, a shorter retention with a larger group', () => {
    expect(policyWidens(narrow, { ...narrow, purpose: 'Team time, in aggregate, explained better.' })).toBe(false);
    expect(policyWidens(narrow, { ...narrow, retentionDays: 30, minGroupSize: 10 })).toBe(false);
  });

  it('is true when one change widens even though another narrows', () => {
    expect(policyWidens(narrow, { ...narrow, retentionDays: 30, managersSeeIndividuals: true })).toBe(true);
  });
});

describe('widenedScopes', () => {
  it('names the scope a change widens, and nothing for its reverse', () => {
    expect(widenedScopes(narrow, { ...narrow, scopes: [...narrow.scopes, idleScope] })).toEqual(['idle']);
    expect(widenedScopes(narrow, { ...narrow, titleMode: 'full' })).toEqual(['window_titles']);
    expect(widenedScopes({ ...narrow, titleMode: 'full' }, narrow)).toEqual([]);
    expect(widenedScopes({ ...narrow, scopes: [...narrow.scopes, idleScope] }, narrow)).toEqual([]);
  });

  it('does not count a title mode change when titles are not collected at all', () => {
    const noTitles: PolicyContent = { ...narrow, scopes: [narrow.scopes[0] ?? idleScope] };
    expect(widenedScopes(noTitles, { ...noTitles, titleMode: 'full' })).toEqual([]);
    expect(policyWidens(noTitles, { ...noTitles, titleMode: 'full' })).toBe(false);
  });
});
