import { index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Who acknowledged the employee notice of which policy version, and when: written once per
 * person and version (acknowledging again changes nothing), never updated or deleted by the app.
 */
export const noticeAcknowledgments = pgTable(
  'notice_acknowledgments',
  {
    orgId: uuid('org_id').notNull(),
    userId: uuid('user_id').notNull(),
    policyVersion: integer('policy_version').notNull(),
    /** The hash of the policy version the notice was written from, as shown to the person. */
    policyHash: text('policy_hash').notNull(),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.policyVersion] }), index('notice_acknowledgments_org_version').on(t.orgId, t.policyVersion)],
);
