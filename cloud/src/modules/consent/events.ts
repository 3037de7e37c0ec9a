import type { ConsentDecision, Scope } from '@icarus/shared';

/** What the consent service announces to listeners (notifications confirm decisions to the employee). */
export type ConsentEvent =
  | {
      type: 'consent.decided';
      orgId: string;
      deviceId: string;
      userId: string | null;
      decision: ConsentDecision['decision'];
      receiptId: string;
      policyVersion: number;
      granted: Scope[];
    }
  | { type: 'policy.published'; orgId: string; version: number; widens: boolean };
/** Awaited after the change is stored; a listener handles its own failures (they never undo the change). */
export type ConsentListener = (event: ConsentEvent) => Promise<void>;
