import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Events for other consumers, written in the transaction of the change they announce (only when a
 * broker is configured) and published by the relay in the worker role. A claimed row's
 * `nextAttemptAt` is pushed ahead by a lease, so a relay that dies mid-publish leaves it due again;
 * published rows keep `sentAt` a while (what left when), then are deleted.
 */
export const eventOutbox = pgTable(
  'event_outbox',
  {
    orgId: uuid('org_id').notNull(),
    /** The CloudEvents id: the same on every redelivery. */
    id: uuid('id').notNull(),
    /** Catalogue name (`device.revoked`): the routing key, and the type after its prefix. */
    name: text('name').notNull(),
    subject: text('subject').notNull(),
    time: timestamp('time', { withTimezone: true, precision: 3 }).notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    lastError: text('last_error'),
    sentAt: timestamp('sent_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    index('event_outbox_due')
      .on(t.nextAttemptAt)
      .where(sql`${t.sentAt} is null`),
    index('event_outbox_sent')
      .on(t.sentAt)
      .where(sql`${t.sentAt} is not null`),
  ],
);
