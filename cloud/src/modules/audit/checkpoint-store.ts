import { and, desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { NO_EVENTS, type EventOutbox } from '../../platform/events';
import { auditCheckpoints } from './tables';

export type StoredCheckpoint = typeof auditCheckpoints.$inferSelect;

/** The checkpoints table, and the one question about the log that only checkpoints ask: which orgs have one. */
export function createCheckpointStore(database: Database, events: EventOutbox = NO_EVENTS) {
  const { db } = database;
  return {
    /** Two instances signing the same head keep the first; both statements are valid. */
    async insert(row: StoredCheckpoint): Promise<void> {
      await events.atomically(database, async (tx) => {
        const stored = await tx.db.insert(auditCheckpoints).values(row).onConflictDoNothing().returning({ seq: auditCheckpoints.seq });
        if (stored.length === 0) return;
        await events.add(tx, {
          name: 'audit.checkpoint_signed',
          subject: `${row.orgId}/checkpoints/${row.seq}`,
          time: row.signedAt,
          data: { orgId: row.orgId, seq: row.seq, size: row.size, hash: row.hash, keyId: row.keyId },
        });
      });
    },

    /** Newest first. */
    async recent(orgId: string, limit: number): Promise<StoredCheckpoint[]> {
      return db.select().from(auditCheckpoints).where(eq(auditCheckpoints.orgId, orgId)).orderBy(desc(auditCheckpoints.seq)).limit(limit);
    },

    async find(orgId: string, seq: number): Promise<StoredCheckpoint | undefined> {
      const [row] = await db
        .select()
        .from(auditCheckpoints)
        .where(and(eq(auditCheckpoints.orgId, orgId), eq(auditCheckpoints.seq, seq)));
      return row;
    },

    /** Every org with audit entries, one index probe each (a loose index scan over audit_log_org_seq). */
    async orgIds(): Promise<string[]> {
      const rows = await database.rows<{ org_id: string }>(sql`
        with recursive orgs as (
          (select org_id from audit_log order by org_id limit 1)
          union all
          select (select a.org_id from audit_log a where a.org_id > orgs.org_id order by a.org_id limit 1) from orgs where orgs.org_id is not null
        )
        select org_id from orgs where org_id is not null`);
      return rows.map((r) => r.org_id);
    },
  };
}
export type CheckpointStore = ReturnType<typeof createCheckpointStore>;
