import { describe, expect, it } from 'vitest';
import type { PolicyContent } from './policy';
import { managerPreview, managersSentence, purposeConflicts, visibilityOf } from './visibility';

const policy: PolicyContent = {
  purpose: 'Acme uses Icarus Nova to see how working time is spent across teams. Reports show team aggregates.',
  scopes: [
    { scope: 'app_usage', purpose: 'Which application is in front.', legalBasis: 'consent' },
    { scope: 'idle', purpose: 'Idle time from the OS timer.', legalBasis: 'consent' },
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

describe('who sees what', () => {
  it('the purpose "team aggregates" with individuals on is a conflict; with individuals off it is not', () => {
    expect(purposeConflicts(policy)).toEqual([]);
    const individuals = { ...policy, managersSeeIndividuals: true };
    expect(purposeConflicts(individuals)).toEqual([{ field: 'purpose', problem: expect.stringContaining('only team totals') }]);
    // The dialog's sentence comes from the same setting, so it says what the editor warned about.
    expect(managersSentence(individuals)).toMatch(/individual records/);
    expect(managersSentence(policy)).toMatch(/team totals of at least 8 people only/);
  });

  it('a scope purpose announcing individual records while managers see totals only is a conflict', () => {
    const text = { ...policy, scopes: [{ scope: 'app_usage' as const, purpose: 'Individual records per app for managers.', legalBasis: 'consent' as const }] };
    expect(purposeConflicts(text).map((c) => c.field)).toEqual(['scopes.app_usage.purpose']);
  });

  it('"no window titles" while the policy asks for titles is a conflict', () => {
    const titled: PolicyContent = {
      ...policy,
      purpose: 'Time per app; no window titles.',
      scopes: [...policy.scopes, { scope: 'window_titles', purpose: 'Titles, hashed.', legalBasis: 'consent' }],
    };
    expect(purposeConflicts(titled)).toEqual([{ field: 'purpose', problem: expect.stringContaining('window titles') }]);
  });

  it("the manager preview follows the settings: totals only, or the person's own days after agreeing", () => {
    expect(managerPreview(visibilityOf(policy)).join(' ')).toMatch(/team's totals only.*at least 8 people/);
    const open = managerPreview(
      visibilityOf({
        ...policy,
        managersSeeIndividuals: true,
        titleMode: 'full',
        scopes: [...policy.scopes, { scope: 'window_titles', purpose: 'x', legalBasis: 'consent' }],
      }),
    );
    expect(open[0]).toMatch(/If you agree: your own days .*window titles as typed/);
    expect(open[1]).toMatch(/If you do not agree: only your team's totals/);
  });
});
