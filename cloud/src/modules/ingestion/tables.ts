import { boolean, customType, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * Raw spans, partitioned by day on `start` (see migration 0000: partitioned by hand, since
 * drizzle-kit does not emit PARTITION BY). The key includes `start` because a partitioned
 * table's unique keys must; span ids are made once on the device, so a resend repeats both.
 */
export const spans = pgTable(
  'spans',
  {
    id: uuid('id').notNull(),
    start: timestamp('start', { withTimezone: true, precision: 3 }).notNull(),
    orgId: uuid('org_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    userId: uuid('user_id'),
    durationMs: integer('duration_ms').notNull(),
    app: text('app'),
    /** AES-256-GCM ciphertext (iv | tag | data) of the title as the device sent it. */
    titleEnc: bytea('title_enc'),
    idle: boolean('idle').notNull().default(false),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.id, t.start] }), index('spans_org_user_start').on(t.orgId, t.userId, t.start)],
);
