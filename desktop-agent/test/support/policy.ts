// Test-only: a policy's content as the agent receives it, every scope with consent as its legal
// basis, for the tests of the consent gate and of what an import may bring in.
import type { PolicyContent } from '@icarus/shared';

export const testPolicyContent = (over: Partial<PolicyContent> = {}): PolicyContent => ({
  purpose: 'p',
  scopes: [
    { scope: 'app_usage', purpose: 'apps', legalBasis: 'consent' },
    { scope: 'idle', purpose: 'idle', legalBasis: 'consent' },
    { scope: 'window_titles', purpose: 'titles', legalBasis: 'consent' },
  ],
  titleMode: 'hashed',
  redactionRules: [],
  idleThresholdSeconds: 60,
  retentionDays: 90,
  minGroupSize: 5,
  managersSeeIndividuals: false,
  reviewBeforeSendMinutes: 0,
  localRetentionDays: 30,
  controller: { name: 'Org', contact: 'privacy@org' },
  ...over,
});
