import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * An identity provider's SCIM connection to one org: its bearer token is shown once and kept
 * only as SHA-256 (the token carries 256 random bits, so no slow hash is needed to resist guessing).
 */
export const scimConnections = pgTable(
  'scim_connections',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    /** The token's first characters, so an admin can tell tokens apart. */
    tokenHint: text('token_hint').notNull(),
    createdBy: uuid('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, precision: 3 }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [uniqueIndex('scim_connections_token').on(t.tokenHash), index('scim_connections_org').on(t.orgId)],
);

/**
 * What the identity provider knows a person by: its userName and externalId, and when SCIM last
 * changed them. `deletedAt`: the provider deleted the user; the person stays (deactivated) for the
 * audit log and reports, but the SCIM resource is gone.
 */
export const scimUsers = pgTable(
  'scim_users',
  {
    userId: uuid('user_id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    connectionId: uuid('connection_id').notNull(),
    userName: text('user_name').notNull(),
    externalId: text('external_id'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull(),
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('scim_users_org_external').on(t.orgId, t.externalId), index('scim_users_org_user_name').on(t.orgId, t.userName)],
);

/** A team as the identity provider's group: its externalId and when SCIM last changed it. */
export const scimGroups = pgTable(
  'scim_groups',
  {
    teamId: uuid('team_id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    connectionId: uuid('connection_id').notNull(),
    externalId: text('external_id'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull(),
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('scim_groups_org_external').on(t.orgId, t.externalId)],
);

/** What happens to a deprovisioned person's activity data: kept (the default) or erased. */
export const provisioningSettings = pgTable('provisioning_settings', {
  orgId: uuid('org_id').primaryKey(),
  deprovisionedData: text('deprovisioned_data', { enum: ['keep', 'erase'] }).notNull(),
  updatedBy: uuid('updated_by').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull(),
});
