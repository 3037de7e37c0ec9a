import { bigint, index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Append-only, hash-chained per org. UPDATE, DELETE and TRUNCATE are refused by triggers
 * (migration 0000). `hash` = sha256(prevHash | canonical JSON of the row's content).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    id: uuid('id').notNull().unique(),
    orgId: uuid('org_id').notNull(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull(),
    actorType: text('actor_type', { enum: ['user', 'device', 'system'] }).notNull(),
    actorId: text('actor_id').notNull(),
    action: text('action').notNull(),
    /** People whose personal data this event read or changed: drives "who viewed my data". */
    subjectUserIds: jsonb('subject_user_ids').$type<string[]>().notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    index('audit_log_org_seq').on(t.orgId, t.seq),
    index('audit_log_org_action').on(t.orgId, t.action, t.at),
    // The audit viewer filters by actor and by person; without these a filter scans the org.
    index('audit_log_org_actor').on(t.orgId, t.actorId, t.seq),
    index('audit_log_subjects').using('gin', t.subjectUserIds),
  ],
);

/**
 * Signed checkpoints of each org's chain: the head row's seq and hash and the number of
 * entries up to it, signed with the audit key (Ed25519, from the process's secrets, never in
 * this database). Append-only like the log (migration triggers). A superuser can delete rows
 * here too: the copies that count are the ones kept outside (compliance reports, exports).
 */
export const auditCheckpoints = pgTable(
  'audit_checkpoints',
  {
    orgId: uuid('org_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
    signedAt: timestamp('signed_at', { withTimezone: true, precision: 3 }).notNull(),
    keyId: text('key_id').notNull(),
    /** Compact JWS over the checkpoint statement: what a verifier keeps and hands back. */
    jws: text('jws').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.seq] })],
);
