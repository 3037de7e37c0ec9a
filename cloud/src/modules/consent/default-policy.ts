import { ALL_SCOPES, scopeInfo, type PolicyContent } from '@icarus/shared';

/** The policy a new org starts with: the narrowest useful one, titles hashed. */
export function defaultPolicy(orgName: string): PolicyContent {
  return {
    // Who sees what is not restated here: the dialog writes it from the settings (shared visibility).
    purpose:
      `${orgName} uses Icarus Nova to understand how working time is spent across teams, ` +
      'to plan staffing and tooling. No screenshots, keystrokes or webcam, ever.',
    // The registry says which scopes a new org asks for, with what purpose and basis.
    scopes: ALL_SCOPES.flatMap((scope) => {
      const { defaultPurpose, defaultLegalBasis } = scopeInfo(scope);
      return defaultPurpose === null ? [] : [{ scope, purpose: defaultPurpose, legalBasis: defaultLegalBasis }];
    }),
    titleMode: 'hashed',
    redactionRules: [],
    idleThresholdSeconds: 300,
    retentionDays: 90,
    minGroupSize: 5,
    managersSeeIndividuals: false,
    reviewBeforeSendMinutes: 0,
    localRetentionDays: 30,
    controller: { name: orgName, contact: 'privacy@example.com' },
  };
}
