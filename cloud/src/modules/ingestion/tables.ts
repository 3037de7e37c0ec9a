import { bigint, boolean, customType, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

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
    /** The import grant (consent module) this span came in under; null for live capture. Withdrawing the grant erases these. */
    importGrantId: uuid('import_grant_id'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.start] }),
    // A person's spans in start order with what reports and checks read of each (duration, idle,
    // app): index-only scans, a few leaf pages per person-day, where the heap holds one person's
    // spans of a day scattered over as many pages as there were batches from the fleet.
    index('spans_org_user_start').on(t.orgId, t.userId, t.start, t.durationMs, t.idle, t.app),
  ],
);

/**
 * What the rollups still owe: one row per stored batch of a bound device, written in the same
 * statement as its spans (a transactional outbox), and deleted in the same transaction as the
 * rollup deltas it caused. Whatever process dies when, every stored span reaches the rollups
 * exactly once. Keys only: the spans themselves are read back by (id, start).
 */
export const spanInserts = pgTable(
  'span_inserts',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    orgId: uuid('org_id').notNull(),
    userId: uuid('user_id').notNull(),
    spanIds: uuid('span_ids').array().notNull(),
    starts: timestamp('starts', { withTimezone: true, precision: 3 }).array().notNull(),
    insertedAt: timestamp('inserted_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('span_inserts_org_user').on(t.orgId, t.userId)],
);
