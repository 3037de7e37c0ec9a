import { sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';

/**
 * Removes one person from the rollups on every day they appear, including days whose raw
 * spans retention has already dropped (those days cannot be rebuilt from raw spans: a
 * rebuild would find nobody's spans and wipe everyone's history).
 *
 * The person's own rows (per app, per day with totals, per week) are simply deleted. The
 * org-day rows hold everyone, so they are summed again from the remaining per-user rows.
 * The per-team rollup does not record
 * who contributed to it, only the team each person had on a day (rollup_user_days), so a
 * subtraction could miss a share that went to another team after a mid-day move. Instead
 * the team rows of those days are rebuilt from the remaining per-user rows and their
 * presence team, the same sums flushes and raw rebuilds write: nothing of the person can
 * remain, and everyone else's figures come out as they were (only a share another person
 * moved mid-day lands in their presence team, as a raw rebuild would put it).
 */
export function createRollupEraser(database: Database) {
  const { db } = database;
  return {
    /** Returns how many days the person was removed from. */
    async eraseUser(orgId: string, userId: string): Promise<{ days: number }> {
      const days = (
        await database.rows<{ day: string }>(sql`
          select to_char(day, 'YYYY-MM-DD') as day from rollup_user_days where org_id = ${orgId} and user_id = ${userId}
          union
          select distinct to_char(day, 'YYYY-MM-DD') from rollup_user_daily where org_id = ${orgId} and user_id = ${userId}`)
      ).map((r) => r.day);
      if (days.length === 0) return { days: 0 };
      const dayList = sql`${`{${days.join(',')}}`}::date[]`;
      await db.transaction(async (tx) => {
        await tx.execute(sql`delete from rollup_user_daily where org_id = ${orgId} and user_id = ${userId}`);
        await tx.execute(sql`delete from rollup_user_days where org_id = ${orgId} and user_id = ${userId}`);
        await tx.execute(sql`delete from rollup_user_weeks where org_id = ${orgId} and user_id = ${userId}`);
        await tx.execute(sql`delete from rollup_org_daily where org_id = ${orgId} and day = any(${dayList})`);
        await tx.execute(sql`
          insert into rollup_org_daily (org_id, day, active_ms, idle_ms, productive_ms, spans)
          select org_id, day, sum(active_ms), sum(idle_ms), coalesce(sum(active_ms) filter (where productivity = 'productive'), 0), sum(spans)
          from rollup_user_daily
          where org_id = ${orgId} and day = any(${dayList})
          group by org_id, day`);
        await tx.execute(sql`delete from rollup_team_daily where org_id = ${orgId} and day = any(${dayList})`);
        await tx.execute(sql`
          insert into rollup_team_daily (org_id, team_id, day, category, productivity, active_ms, idle_ms, spans)
          select r.org_id, p.team_id, r.day, r.category, r.productivity, sum(r.active_ms), sum(r.idle_ms), sum(r.spans)
          from rollup_user_daily r
          join rollup_user_days p on p.org_id = r.org_id and p.day = r.day and p.user_id = r.user_id
          where r.org_id = ${orgId} and r.day = any(${dayList}) and p.team_id is not null
          group by r.org_id, p.team_id, r.day, r.category, r.productivity`);
      });
      return { days: days.length };
    },
  };
}
export type RollupEraser = ReturnType<typeof createRollupEraser>;
