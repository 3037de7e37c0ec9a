import { index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * An export too large to answer inside the request (see `exportRunsInline`): asked for by one
 * person, written by a worker to the object store, downloadable by that person until it expires.
 * A worker holds the row by `lease_until`; a row whose lease ran out is claimed again.
 */
export const exportJobs = pgTable(
  'export_jobs',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    requestedBy: uuid('requested_by').notNull(),
    /** The requester as they were signed in (role, managed teams): the export reads as they could. */
    requester: jsonb('requester').notNull(),
    /** The export query: teamId, from, to, level. */
    query: jsonb('query').notNull(),
    state: text('state', { enum: ['queued', 'running', 'done', 'failed', 'expired'] })
      .notNull()
      .default('queued'),
    attempts: integer('attempts').notNull().default(0),
    leaseUntil: timestamp('lease_until', { withTimezone: true, precision: 3 }),
    /** Bytes written so far (progress while running; the file's size when done). */
    bytes: integer('bytes').notNull().default(0),
    filename: text('filename'),
    objectKey: text('object_key'),
    requestedAt: timestamp('requested_at', { withTimezone: true, precision: 3 }).notNull(),
    completedAt: timestamp('completed_at', { withTimezone: true, precision: 3 }),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }),
    lastError: text('last_error'),
  },
  (t) => [index('export_jobs_due').on(t.state, t.leaseUntil), index('export_jobs_requester').on(t.orgId, t.requestedBy, t.requestedAt)],
);
