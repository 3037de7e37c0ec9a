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
});

export const devices = pgTable(
  'devices',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    userId: uuid('user_id'),
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
  (t) => [index('devices_org').on(t.orgId), index('devices_user').on(t.userId)],
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
