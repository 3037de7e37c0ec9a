import { and, eq, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { schedulerRuns } from './tables';

/** Tick claims and the advisory lock that makes one instance the scheduler's leader. */
export function createSchedulerStore(database: Database) {
  const { db } = database;
  return {
    /** True when this instance won the tick; false when another already has it. */
    async claim(job: string, tick: Date, claimedBy: string): Promise<boolean> {
      const rows = await db.insert(schedulerRuns).values({ job, tick, claimedBy }).onConflictDoNothing().returning({ job: schedulerRuns.job });
      return rows.length === 1;
    },
    async finish(job: string, tick: Date): Promise<void> {
      await db
        .update(schedulerRuns)
        .set({ finishedAt: sql`now()` })
        .where(and(eq(schedulerRuns.job, job), eq(schedulerRuns.tick, tick)));
    },
    /** Claims older than `before` are history; kept a while so an operator can see what ran where. */
    async forget(before: Date): Promise<void> {
      await db.delete(schedulerRuns).where(lt(schedulerRuns.tick, before));
    },
    async runs(job: string): Promise<{ tick: Date; claimedBy: string; finishedAt: Date | null }[]> {
      return db
        .select({ tick: schedulerRuns.tick, claimedBy: schedulerRuns.claimedBy, finishedAt: schedulerRuns.finishedAt })
        .from(schedulerRuns)
        .where(eq(schedulerRuns.job, job))
        .orderBy(schedulerRuns.tick);
    },
  };
}
export type SchedulerStore = ReturnType<typeof createSchedulerStore>;
