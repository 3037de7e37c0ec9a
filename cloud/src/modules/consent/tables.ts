import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { ImportPreview, PolicyContent, Scope } from '@icarus/shared';

export const policies = pgTable(
  'policies',
  {
    orgId: uuid('org_id').notNull(),
    version: integer('version').notNull(),
    content: jsonb('content').$type<PolicyContent>().notNull(),
    hash: text('hash').notNull(),
    state: text('state', { enum: ['draft', 'in_review', 'published', 'retired'] }).notNull(),
    createdBy: uuid('created_by'),
    /** Everyone who created or edited this version: none of them may approve it. */
    authors: jsonb('authors').$type<string[]>().notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    /** Published by the organisation's only reviewer, who confirmed that no second person reviewed it. */
    publishedWithoutReview: boolean('published_without_review').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.version] })],
);

/**
 * Every decision a person made on a device, never updated in place except to mark it
 * superseded: the history is the record. `granted` is the full set in force from `effectiveAt`.
 */
export const consentRecords = pgTable(
  'consent_records',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    userId: uuid('user_id'),
    /** The device binding (devices module) in force when the person decided; null only on rows from before bindings. */
    bindingId: uuid('binding_id'),
    policyVersion: integer('policy_version').notNull(),
    policyHash: text('policy_hash').notNull(),
    decision: text('decision', { enum: ['granted', 'declined', 'withdrawn'] }).notNull(),
    requestedScopes: jsonb('requested_scopes').$type<Scope[]>().notNull(),
    granted: jsonb('granted').$type<Scope[]>().notNull(),
    method: text('method').notNull(),
    effectiveAt: timestamp('effective_at', { withTimezone: true, precision: 3 }).notNull(),
    supersededAt: timestamp('superseded_at', { withTimezone: true, precision: 3 }),
    receiptJws: text('receipt_jws').notNull(),
  },
  (t) => [index('consent_records_device').on(t.deviceId, t.effectiveAt), index('consent_records_org').on(t.orgId)],
);

/**
 * Who approved a policy version in review, and in which capacity. A row per person: with
 * works-council approval on, publishing needs an admin and a works-council member who are
 * two different people. Cleared when the version goes back to draft (the audit log keeps them).
 */
export const policyApprovals = pgTable(
  'policy_approvals',
  {
    orgId: uuid('org_id').notNull(),
    version: integer('version').notNull(),
    userId: uuid('user_id').notNull(),
    asAdmin: boolean('as_admin').notNull(),
    asWorksCouncil: boolean('as_works_council').notNull(),
    approvedAt: timestamp('approved_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.version, t.userId] })],
);

/**
 * A person's consent for history recorded before now (an ActivityWatch import): the scopes may
 * be stored for the past period [from, to) from batches that name this grant, and only under the
 * binding that made it. Withdrawn once (its own receipt); the history it brought in is erased then.
 */
export const importGrants = pgTable(
  'import_grants',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id').notNull(),
    deviceId: uuid('device_id').notNull(),
    userId: uuid('user_id').notNull(),
    bindingId: uuid('binding_id').notNull(),
    source: text('source', { enum: ['activitywatch'] }).notNull(),
    policyVersion: integer('policy_version').notNull(),
    policyHash: text('policy_hash').notNull(),
    scopes: jsonb('scopes').$type<Scope[]>().notNull(),
    fromAt: timestamp('from_at', { withTimezone: true, precision: 3 }).notNull(),
    toAt: timestamp('to_at', { withTimezone: true, precision: 3 }).notNull(),
    /** What the person was shown before granting: spans, active and idle time, apps, titles. */
    preview: jsonb('preview').$type<ImportPreview>().notNull(),
    method: text('method').notNull(),
    decidedAt: timestamp('decided_at', { withTimezone: true, precision: 3 }).notNull(),
    receiptJws: text('receipt_jws').notNull(),
    withdrawnAt: timestamp('withdrawn_at', { withTimezone: true, precision: 3 }),
    withdrawalReceiptJws: text('withdrawal_receipt_jws'),
  },
  (t) => [index('import_grants_device').on(t.deviceId), index('import_grants_user').on(t.orgId, t.userId)],
);
