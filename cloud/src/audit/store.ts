import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { auditLog } from './tables';

export type StoredAuditEvent = typeof auditLog.$inferSelect;
export const GENESIS_HASH = '0'.repeat(64);
type NewRow = Omit<StoredAuditEvent, 'seq'>;

export function createAuditStore(database: Database) {
  const { db } = database;
  return {
    /**
     * Appends under a per-org transaction lock so concurrent writers chain one after
     * another; `build` receives the previous row's hash.
     */
    async append(orgId: string, build: (prevHash: string) => NewRow): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${orgId}, 7))`);
        const [last] = await tx
          .select({ hash: auditLog.hash })
          .from(auditLog)
          .where(eq(auditLog.orgId, orgId))
          .orderBy(desc(auditLog.seq))
          .limit(1);
        await tx.insert(auditLog).values(build(last?.hash ?? GENESIS_HASH));
      });
    },

    async *pages(orgId: string, size: number): AsyncGenerator<StoredAuditEvent[]> {
      let after = 0;
      for (;;) {
        const page = await db
          .select()
          .from(auditLog)
          .where(and(eq(auditLog.orgId, orgId), gt(auditLog.seq, after)))
          .orderBy(asc(auditLog.seq))
          .limit(size);
        if (page.length === 0) return;
        yield page;
        const last = page[page.length - 1];
        if (!last || page.length < size) return;
        after = last.seq;
      }
    },
  };
}
export type AuditStore = ReturnType<typeof createAuditStore>;
