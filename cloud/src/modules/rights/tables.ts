import { boolean, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * A person's request to erase their activity data. Kept after completion (counts only,
 * never the erased content) so the person and auditors can see it was done; a row still
 * `requested` after a crash is picked up again at start.
 */
export const erasureRequests = pgTable(
  'erasure_requests',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    userId: uuid('user_id').notNull(),
    /**
     * Where the person asked: the web or their device's "My data" screen; `directory` when the
     * organisation's identity provider deprovisioned them and the org erases leavers' data.
     */
    via: text('via', { enum: ['web', 'device', 'directory'] }).notNull(),
    /** The person also asked their devices to wipe what they still hold locally. */
    eraseLocal: boolean('erase_local').notNull(),
    state: text('state', { enum: ['requested', 'completed', 'failed'] })
      .notNull()
      .default('requested'),
    requestedAt: timestamp('requested_at', { withTimezone: true, precision: 3 }).notNull(),
    completedAt: timestamp('completed_at', { withTimezone: true, precision: 3 }),
    spansRemoved: integer('spans_removed'),
    lastError: text('last_error'),
  },
  (t) => [index('erasure_requests_user').on(t.orgId, t.userId, t.requestedAt)],
);
