import type { PolicyContent } from '@icarus/shared';

/** The policy a new org starts with: the narrowest useful one, titles hashed. */
export function defaultPolicy(orgName: string): PolicyContent {
  return {
    purpose:
      `${orgName} uses Icarus Nova to understand how working time is spent across teams, ` +
      'to plan staffing and tooling. Reports show team aggregates; no screenshots, keystrokes or webcam, ever.',
    scopes: [
      {
        scope: 'app_usage',
        purpose: 'Which application is in front and for how long, to see where team time goes.',
        legalBasis: 'consent',
      },
      {
        scope: 'idle',
        purpose: 'Whether the computer is idle (from the operating system idle timer only), to separate active from away time.',
        legalBasis: 'consent',
      },
    ],
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
