import { index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { AgentStatus, Ed25519PublicJwk } from '@icarus/shared';

export const enrollmentTokens = pgTable('enrollment_tokens', {
  id: uuid('id').primaryKey(),
  orgId: uuid('org_id').notNull(),
  teamId: uuid('team_id'),
  label: text('label').notNull(),
  /** sha256 of the token; the token itself is shown once and never stored. */
  tokenHash: text('token_hash').notNull().unique(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  maxUses: integer('max_uses').notNull(),
  uses: integer('uses').notNull().default(0),
  createdBy: uuid('created_by'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  /** A per-user token (IT deploys it by MDM to one person's computer) binds at enrollment. */
  userId: uuid('user_id'),
});

export const devices = pgTable(
  'devices',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    /** The person of the binding in force (device_bindings), null while unbound. */
    userId: uuid('user_id'),
    bindingId: uuid('binding_id'),
    enrollmentTokenId: uuid('enrollment_token_id').notNull(),
    name: text('name').notNull(),
    platform: text('platform').notNull(),
    osUser: text('os_user').notNull(),
    publicKeyJwk: jsonb('public_key_jwk').$type<Ed25519PublicJwk>().notNull(),
    agentVersion: text('agent_version'),
    status: jsonb('status').$type<AgentStatus>(),
    enrolledAt: timestamp('enrolled_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    index('devices_org').on(t.orgId),
    index('devices_user').on(t.userId),
    // The fleet page's default order (newest enrollment first) reads a page off this, not a sort of the fleet.
    index('devices_org_enrolled').on(t.orgId, t.enrolledAt, t.id),
  ],
);

/** Assertion ids already used, kept until they expire, so a replayed assertion is refused. */
export const usedAssertions = pgTable('used_assertions', {
  jti: text('jti').primaryKey(),
  deviceId: uuid('device_id').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/** Directives waiting for a device's next sync (pause, erase, messages, server-side revocation). */
export const deviceDirectives = pgTable(
  'device_directives',
  {
    id: uuid('id').primaryKey(),
    deviceId: uuid('device_id').notNull(),
    directive: jsonb('directive').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [index('device_directives_pending').on(t.deviceId, t.deliveredAt)],
);

/**
 * Who a device spoke for, and from when to when: a row per binding, never reused. Consent
 * decisions name the binding they were made under, so a decision made while the device was
 * someone else's never counts for the next person.
 */
export const deviceBindings = pgTable(
  'device_bindings',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    userId: uuid('user_id').notNull(),
    method: text('method', { enum: ['pairing_code', 'it_assignment', 'enrollment_token'] }).notNull(),
    /** The admin who assigned, or the person whose pairing code it was. */
    boundBy: uuid('bound_by'),
    boundAt: timestamp('bound_at', { withTimezone: true, precision: 3 }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true, precision: 3 }),
    endedBy: uuid('ended_by'),
  },
  (t) => [index('device_bindings_device').on(t.deviceId, t.boundAt), index('device_bindings_user').on(t.userId)],
);

/** One-time pairing codes a signed-in person makes in the web app; only a keyed hash is kept. */
export const pairingCodes = pgTable(
  'pairing_codes',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    userId: uuid('user_id').notNull(),
    codeHash: text('code_hash').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    usedByDevice: uuid('used_by_device'),
  },
  (t) => [index('pairing_codes_user').on(t.userId)],
);
