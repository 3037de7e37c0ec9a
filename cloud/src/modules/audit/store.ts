import { and, asc, desc, eq, gt, gte, like, lt, ne, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { auditLog } from './tables';

export type StoredAuditEvent = typeof auditLog.$inferSelect;
export const GENESIS_HASH = '0'.repeat(64);
type NewRow = Omit<StoredAuditEvent, 'seq'>;

/** The audit viewer's filters; an action ending in "." or "*" matches that prefix. */
export interface AuditFilter {
  actorId?: string | undefined;
  action?: string | undefined;
  subjectUserId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

function conditions(orgId: string, f: AuditFilter): SQL[] {
  const where: SQL[] = [eq(auditLog.orgId, orgId)];
  if (f.actorId) where.push(eq(auditLog.actorId, f.actorId));
  if (f.action) {
    const prefix = f.action.replace(/\*$/, '');
    where.push(
      f.action.endsWith('*') || f.action.endsWith('.') ? like(auditLog.action, `${prefix.replace(/[\\%_]/g, '\\$&')}%`) : eq(auditLog.action, f.action),
    );
  }
  // jsonb containment uses the GIN index on subject_user_ids.
  if (f.subjectUserId) where.push(sql`${auditLog.subjectUserIds} @> ${JSON.stringify([f.subjectUserId])}::jsonb`);
  if (f.from) where.push(gte(auditLog.at, f.from));
  if (f.to) where.push(lt(auditLog.at, f.to));
  return where;
}

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
        const [last] = await tx.select({ hash: auditLog.hash }).from(auditLog).where(eq(auditLog.orgId, orgId)).orderBy(desc(auditLog.seq)).limit(1);
        await tx.insert(auditLog).values(build(last?.hash ?? GENESIS_HASH));
      });
    },

    /** Newest first, `limit` rows with seq below `beforeSeq`: the viewer's pages. */
    async search(orgId: string, filter: AuditFilter, page: { beforeSeq?: number | undefined; limit: number }): Promise<StoredAuditEvent[]> {
      const where = conditions(orgId, filter);
      if (page.beforeSeq !== undefined) where.push(lt(auditLog.seq, page.beforeSeq));
      return db
        .select()
        .from(auditLog)
        .where(and(...where))
        .orderBy(desc(auditLog.seq))
        .limit(page.limit);
    },

    /**
     * Events by users other than the person whose subjects include the person, newest first:
     * "who viewed my data" (the person's own reads are not someone viewing them).
     */
    async eventsAboutSubject(orgId: string, subjectUserId: string, limit: number): Promise<StoredAuditEvent[]> {
      return db
        .select()
        .from(auditLog)
        .where(
          and(
            eq(auditLog.orgId, orgId),
            eq(auditLog.actorType, 'user'),
            ne(auditLog.actorId, subjectUserId),
            sql`${auditLog.subjectUserIds} @> ${JSON.stringify([subjectUserId])}::jsonb`,
          ),
        )
        .orderBy(desc(auditLog.seq))
        .limit(limit);
    },

    /**
     * Events that read or changed someone's personal data in a period, counted per action.
     * People are counted over the distinct subject lists, not over every event's: report views
     * name the same team again and again, and unnesting each of them (up to 1,000 people per
     * view) was most of the cost. Still exact: a person is counted once per action however many
     * lists name them.
     */
    async personalDataAccess(orgId: string, from: Date, to: Date): Promise<{ action: string; events: number; actors: number; people: number }[]> {
      const fromIso = from.toISOString();
      const toIso = to.toISOString();
      return database.rows<{ action: string; events: number; actors: number; people: number }>(sql`
        with events as materialized (
          select action, actor_id, subject_user_ids from audit_log
          where org_id = ${orgId} and actor_type = 'user' and at >= ${fromIso}::timestamptz and at < ${toIso}::timestamptz
            and subject_user_ids <> '[]'::jsonb
        ), counts as (
          select action, count(*)::int as events, count(distinct actor_id)::int as actors from events group by action
        ), people as (
          select d.action, count(distinct s.person)::int as people
          from (select distinct action, subject_user_ids from events) d cross join lateral jsonb_array_elements_text(d.subject_user_ids) as s(person)
          group by d.action
        )
        select c.action, c.events, c.actors, p.people from counts c join people p using (action) order by c.action`);
    },

    /** The org's entries in chain order, from the one at `fromSeq` on. */
    async *pages(orgId: string, size: number, fromSeq = 0): AsyncGenerator<StoredAuditEvent[]> {
      let after = fromSeq - 1;
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
