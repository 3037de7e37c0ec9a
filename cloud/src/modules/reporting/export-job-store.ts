import { and, desc, eq, lte, sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { exportJobs } from './tables';

export type ExportJobRow = typeof exportJobs.$inferSelect;
/** A claimed job: its id and the attempt that holds the lease (only that attempt may finish it). */
export type HeldJob = Pick<ExportJobRow, 'id' | 'attempts'>;

const leaseFromNow = (leaseMs: number) => sql`now() + (${leaseMs}::int * interval '1 millisecond')`;

export function createExportJobStore(database: Database) {
  const db = database.db;
  const held = (job: HeldJob) => and(eq(exportJobs.id, job.id), eq(exportJobs.attempts, job.attempts), eq(exportJobs.state, 'running'));
  return {
    async insert(row: Pick<ExportJobRow, 'id' | 'orgId' | 'requestedBy' | 'requester' | 'query' | 'requestedAt'>): Promise<ExportJobRow> {
      const [stored] = await db.insert(exportJobs).values(row).returning();
      if (!stored) throw new Error('export job not stored');
      return stored;
    },

    async ofRequester(orgId: string, requestedBy: string, id: string): Promise<ExportJobRow | undefined> {
      const [row] = await db
        .select()
        .from(exportJobs)
        .where(and(eq(exportJobs.id, id), eq(exportJobs.orgId, orgId), eq(exportJobs.requestedBy, requestedBy)));
      return row;
    },

    async recentOf(orgId: string, requestedBy: string, limit: number): Promise<ExportJobRow[]> {
      return db
        .select()
        .from(exportJobs)
        .where(and(eq(exportJobs.orgId, orgId), eq(exportJobs.requestedBy, requestedBy)))
        .orderBy(desc(exportJobs.requestedAt))
        .limit(limit);
    },

    /**
     * Takes the oldest due job in one statement: queued, or running under a lease that ran out
     * (its worker died). SKIP LOCKED gives concurrent workers different jobs.
     */
    async claim(leaseMs: number): Promise<ExportJobRow | undefined> {
      const rows = await database.rows<{ id: string }>(sql`
        update export_jobs j
        set state = 'running', attempts = j.attempts + 1, bytes = 0, lease_until = ${leaseFromNow(leaseMs)}
        from (
          select id from export_jobs
          where state = 'queued' or (state = 'running' and lease_until < now())
          order by requested_at, id
          limit 1
          for update skip locked
        ) due
        where j.id = due.id
        returning j.id`);
      const id = rows[0]?.id;
      if (!id) return undefined;
      const [row] = await db.select().from(exportJobs).where(eq(exportJobs.id, id));
      return row;
    },

    /** Bytes written so far, and the lease renewed; false when the lease is no longer this attempt's. */
    async progress(job: HeldJob, bytes: number, leaseMs: number): Promise<boolean> {
      const rows = await db
        .update(exportJobs)
        .set({ bytes, leaseUntil: leaseFromNow(leaseMs) })
        .where(held(job))
        .returning({ id: exportJobs.id });
      return rows.length > 0;
    },

    async finish(job: HeldJob, done: { bytes: number; filename: string; objectKey: string; completedAt: Date; expiresAt: Date }): Promise<boolean> {
      const rows = await db
        .update(exportJobs)
        .set({ state: 'done', ...done, leaseUntil: null })
        .where(held(job))
        .returning({ id: exportJobs.id });
      return rows.length > 0;
    },

    /** A failed attempt: queued again, or failed for good after the last one. */
    async fail(job: HeldJob, error: string, final: boolean): Promise<void> {
      await db
        .update(exportJobs)
        .set({ state: final ? 'failed' : 'queued', lastError: error.slice(0, 500), leaseUntil: null })
        .where(held(job));
    },

    async expiredBy(now: Date): Promise<Pick<ExportJobRow, 'id' | 'objectKey'>[]> {
      return db
        .select({ id: exportJobs.id, objectKey: exportJobs.objectKey })
        .from(exportJobs)
        .where(and(eq(exportJobs.state, 'done'), lte(exportJobs.expiresAt, now)));
    },

    async markExpired(id: string): Promise<void> {
      await db.update(exportJobs).set({ state: 'expired', objectKey: null }).where(eq(exportJobs.id, id));
    },
  };
}
