import { and, desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { erasureRequests } from './tables';

export type ErasureRow = typeof erasureRequests.$inferSelect;

export interface OwnSpanRow extends Record<string, unknown> {
  id: string;
  start: Date | string;
  duration_ms: number;
  app: string | null;
  title_enc: Uint8Array | null;
  idle: boolean;
  device_id: string;
}

export interface ViewRow extends Record<string, unknown> {
  seq: number | string;
  at: Date | string;
  actor_id: string;
  action: string;
  details: Record<string, unknown> | string;
}

/**
 * The rights module's table, plus two narrow reads and one delete on other modules'
 * tables that a person's rights need and their services do not offer yet: the person's
 * own raw spans (ingestion) and the audit rows naming them (audit). Each is scoped by org
 * and person; they belong in those services and move there when the services grow them.
 */
export function createRightsStore(database: Database) {
  const { db } = database;
  return {
    /** One page of a person's spans, oldest first, after the (start, id) cursor. */
    async spansPage(orgId: string, userId: string, after: { start: string; id: string } | undefined, limit: number, range?: { from: Date; to: Date }): Promise<OwnSpanRow[]> {
      const cursor = after ? sql`and (s.start, s.id) > (${after.start}::timestamptz, ${after.id}::uuid)` : sql``;
      const within = range ? sql`and s.start >= ${range.from.toISOString()}::timestamptz and s.start < ${range.to.toISOString()}::timestamptz` : sql``;
      return database.rows<OwnSpanRow>(sql`
        select s.id, s.start, s.duration_ms, s.app, s.title_enc, s.idle, s.device_id
        from spans s
        where s.org_id = ${orgId} and s.user_id = ${userId} ${within} ${cursor}
        order by s.start, s.id
        limit ${limit}`);
    },

    /** Deletes every raw span of the person; returns how many and the time they covered. */
    async eraseSpans(orgId: string, userId: string): Promise<{ count: number; first: Date | null; last: Date | null }> {
      const [row] = await database.rows<{ n: number | string; first: Date | string | null; last: Date | string | null }>(sql`
        with d as (delete from spans where org_id = ${orgId} and user_id = ${userId} returning start)
        select count(*)::int as n, min(start) as first, max(start) as last from d`);
      const toDate = (v: Date | string | null | undefined) => (v === null || v === undefined ? null : new Date(v));
      return { count: Number(row?.n ?? 0), first: toDate(row?.first), last: toDate(row?.last) };
    },

    /** Audit rows whose subjects include the person, by anyone but the person, newest first. */
    async viewsOf(orgId: string, userId: string, limit: number): Promise<ViewRow[]> {
      return database.rows<ViewRow>(sql`
        select seq, at, actor_id, action, details from audit_log
        where org_id = ${orgId} and actor_type = 'user' and actor_id <> ${userId}
          and subject_user_ids @> ${JSON.stringify([userId])}::jsonb
        order by seq desc
        limit ${limit}`);
    },

    async insertErasure(row: typeof erasureRequests.$inferInsert): Promise<void> {
      await db.insert(erasureRequests).values(row);
    },

    async finishErasure(id: string, outcome: { state: 'completed'; spansRemoved: number; at: Date } | { state: 'failed'; error: string }): Promise<void> {
      await db
        .update(erasureRequests)
        .set(outcome.state === 'completed' ? { state: 'completed', completedAt: outcome.at, spansRemoved: outcome.spansRemoved, lastError: null } : { state: 'failed', lastError: outcome.error })
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
