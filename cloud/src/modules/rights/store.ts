import { and, desc, eq } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { erasureRequests } from './tables';

export type ErasureRow = typeof erasureRequests.$inferSelect;

/** The rights module's own table: erasure requests and their outcome. */
export function createRightsStore(database: Database) {
  const { db } = database;
  return {
    async insertErasure(row: typeof erasureRequests.$inferInsert): Promise<void> {
      await db.insert(erasureRequests).values(row);
    },

    async finishErasure(id: string, outcome: { state: 'completed'; spansRemoved: number; at: Date } | { state: 'failed'; error: string }): Promise<void> {
      await db
        .update(erasureRequests)
        .set(
          outcome.state === 'completed'
            ? { state: 'completed', completedAt: outcome.at, spansRemoved: outcome.spansRemoved, lastError: null }
            : { state: 'failed', lastError: outcome.error },
        )
        .where(eq(erasureRequests.id, id));
    },

    async erasures(orgId: string, userId: string): Promise<ErasureRow[]> {
      return db
        .select()
        .from(erasureRequests)
        .where(and(eq(erasureRequests.orgId, orgId), eq(erasureRequests.userId, userId)))
        .orderBy(desc(erasureRequests.requestedAt))
        .limit(50);
    },

    /** Requests left unfinished by a stop or crash, to run again at start. */
    async unfinishedErasures(): Promise<ErasureRow[]> {
      return db.select().from(erasureRequests).where(eq(erasureRequests.state, 'requested'));
    },
  };
}
export type RightsStore = ReturnType<typeof createRightsStore>;
