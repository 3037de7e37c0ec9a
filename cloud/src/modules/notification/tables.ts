import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const CHANNELS = ['agent', 'email', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * One row per delivery (event x recipient x channel), worked with FOR UPDATE SKIP LOCKED so
 * any number of server instances share it. A claimed row's `nextAttemptAt` is pushed ahead
 * by a lease: a worker that dies mid-delivery leaves the row due again once the lease ends.
 */
export const notificationOutbox = pgTable(
  'notification_outbox',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    event: text('event').notNull(),
    channel: text('channel', { enum: CHANNELS }).notNull(),
    /** The person it is for (agent, email); null for an org's webhook. */
    userId: uuid('user_id'),
    /** Device id (agent), address (email) or endpoint id (webhook). */
    target: text('target').notNull(),
    /** Rendered when queued, so a template change never alters what was promised. */
    payload: jsonb('payload').$type<OutboxPayload>().notNull(),
    /** Makes queueing idempotent: the same event for the same target is queued once. */
    dedupeKey: text('dedupe_key').unique(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, precision: 3 }).notNull(),
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, precision: 3 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('notification_outbox_due').on(t.status, t.nextAttemptAt), index('notification_outbox_org').on(t.orgId, t.createdAt)],
);

export type OutboxPayload =
  { kind: 'agent'; text: string } | { kind: 'email'; subject: string; text: string; html: string } | { kind: 'webhook'; body: string };

/** A person's choice for one event on one channel; no row means the default (on). */
export const notificationPreferences = pgTable(
  'notification_preferences',
  {
    userId: uuid('user_id').notNull(),
    orgId: uuid('org_id').notNull(),
    event: text('event').notNull(),
    channel: text('channel', { enum: CHANNELS }).notNull(),
    enabled: boolean('enabled').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.event, t.channel] })],
);

/** Why an endpoint takes no deliveries: the last two are the server's doing, and an admin may re-enable them. */
export const DISABLED_REASONS = ['removed', 'gone', 'failing'] as const;
export type DisabledReason = (typeof DISABLED_REASONS)[number];

/** Where an org's events are POSTed, signed with the endpoint's own secret. */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    url: text('url').notNull(),
    /** Event names this endpoint receives. */
    events: jsonb('events').$type<string[]>().notNull(),
    /** The Standard Webhooks signing secret (`whsec_…`), sealed (platform/secret-box) and bound to the row id: every delivery is signed with it. */
    secret: text('secret').notNull(),
    createdBy: uuid('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    /** Why it stopped: removed by an admin, answered 410 Gone, or failed a delivery through the whole retry schedule. */
    disabledReason: text('disabled_reason', { enum: DISABLED_REASONS }),
    /** What the receiver last said (the status or error of the delivery that gave up). */
    disabledDetail: text('disabled_detail'),
  },
  (t) => [index('webhook_endpoints_org').on(t.orgId)],
);
