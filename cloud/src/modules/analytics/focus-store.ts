import type { WorkingWeek } from '@icarus/shared';
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';

/** Focus: productive active spans joined across gaps shorter than this... */
export const FOCUS_GAP_MS = 2 * 60_000;
/** ...counted when the stretch, first start to last end, lasts at least this long. */
export const FOCUS_MIN_MS = 30 * 60_000;

/**
 * What a person-day's stored focus and after-hours figures were computed under: the org's time
 * zone (the day's bounds, local times) and its working week. A row whose stamp differs from the
 * org's settings now (or is null: new spans since) is computed again, on read and by the job.
 */
export function focusBasis(timeZone: string, week: WorkingWeek): string {
  return `${timeZone}|${week.days.join(',')}|${week.start}-${week.end}`;
}

/**
 * The focus and after-hours time of the person-days in the CTE `targets` (user_id, day), each
 * from that day's own spans in the org's time zone; appended after a `with targets as (...)`,
 * it ends the statement's CTE list with `focus_of (user_id, day, f, a)`, which holds only
 * person-days with spans still stored (a day past raw retention keeps what was stored).
 *
 * A stretch is a run of the day's active spans in apps that person's rollup counts productive
 * that day (the category rules as the rollups applied them), with no other span between them
 * and no gap of FOCUS_GAP_MS or more; it counts as focus when it lasts at least FOCUS_MIN_MS.
 * A stretch across midnight is two, one per day: a day's figure never depends on its neighbours,
 * so new spans change only their own day's stored figures. After hours is active time starting
 * outside the working week (its hours on its working days, a non-working day whole).
 */
export function focusOfTargets(orgId: string, timeZone: string, week: WorkingWeek): SQL {
  return sql`,
    -- Each person-day's spans by the (org, user, start) index: a lateral read per person-day, so
    -- the planner never scans the whole org's day partitions for a few people.
    focus_spans as (
      select t.user_id, t.day, sp.start, sp.start + sp.duration_ms * interval '1 millisecond' as stop, sp.duration_ms, sp.idle, sp.app,
             sp.start at time zone ${timeZone}::text as local
      from targets t
      cross join lateral (
        select start, duration_ms, idle, app from spans
        where org_id = ${orgId} and user_id = t.user_id
          and start >= (t.day::timestamp) at time zone ${timeZone}::text
          and start < ((t.day + 1)::timestamp) at time zone ${timeZone}::text
        -- A fence: without it the planner flattens the lateral read into one scan of the org.
        offset 0
      ) sp
    ),
    focus_apps as (
      select r.user_id, r.day, r.app from rollup_user_daily r join targets t on t.user_id = r.user_id and t.day = r.day
      where r.org_id = ${orgId} and r.productivity = 'productive'
      group by 1, 2, 3
    ),
    focus_marked as (
      select s.*, (not s.idle and a.app is not null) as prod
      from focus_spans s left join focus_apps a on a.user_id = s.user_id and a.day = s.day and a.app = s.app
    ),
    focus_ordered as (
      select m.*, max(stop) over (partition by user_id, day order by start rows between unbounded preceding and 1 preceding) as before_stop
      from focus_marked m
    ),
    focus_runs as (
      select o.*,
             sum(case when not prod or before_stop is null or start - before_stop >= ${FOCUS_GAP_MS}::int * interval '1 millisecond' then 1 else 0 end)
               over (partition by user_id, day order by start rows unbounded preceding) as run
      from focus_ordered o
    ),
    focus_stretches as (
      select user_id, day, sum(duration_ms)::float8 as ms from focus_runs where prod
      group by user_id, day, run
      having max(stop) - min(start) >= ${FOCUS_MIN_MS}::int * interval '1 millisecond'
    ),
    focus_sum as (select user_id, day, sum(ms)::float8 as f from focus_stretches group by 1, 2),
    focus_after as (
      select user_id, day,
             sum(duration_ms) filter (
               where not idle and (not (extract(isodow from local)::int = any(${`{${week.days.join(',')}}`}::int[]))
                                   or local::time < ${week.start}::time or local::time >= ${week.end}::time))::float8 as a
      from focus_spans group by 1, 2
    ),
    focus_of as (
      select h.user_id, h.day, coalesce(f.f, 0)::float8 as f, coalesce(h.a, 0)::float8 as a
      from focus_after h left join focus_sum f on f.user_id = h.user_id and f.day = h.day
    )`;
}

/** Person-days computed and stored per statement by the upkeep job. */
const FILL_ROWS = 2_000;

/**
 * Stores focus and after-hours figures on `rollup_user_days`, so a report reads them instead of
 * every raw span of its range. The consumer's upsert of a person-day clears its stamp (new
 * spans); rebuilt and new rows start without one; this fills them in.
 */
export function createFocusStore(database: Database) {
  return {
    /**
     * Clears the stamp of an org's rows computed under other settings (a changed working week or
     * time zone), so `fill` finds them through its index. One pass over the org's rows.
     */
    async forgetOtherBases(orgId: string, basis: string): Promise<number> {
      const rows = await database.rows(sql`
        update rollup_user_days set focus_basis = null
        where org_id = ${orgId} and focus_basis is not null and focus_basis <> ${basis}
        returning 1`);
      return rows.length;
    },

    /**
     * Computes and stores up to FILL_ROWS of an org's person-days without a stamp, days before
     * `beforeDay` (today's rows change with every sync: reads compute those), newest first.
     * Lock-free: a row is written only if nothing changed it since it was read (its `xmin`), so
     * a consumer's new spans, a rebuild or an erasure meanwhile always win. Returns rows stored.
     */
    async fill(orgId: string, timeZone: string, week: WorkingWeek, beforeDay: string): Promise<number> {
      const basis = focusBasis(timeZone, week);
      const rows = await database.rows(sql`
        with targets as (
          select user_id, day, xmin as seen from rollup_user_days
          where org_id = ${orgId} and focus_basis is null and day < ${beforeDay}::date
          order by day desc limit ${FILL_ROWS}
        )${focusOfTargets(orgId, timeZone, week)}
        update rollup_user_days d set
          focus_ms = coalesce(c.f, d.focus_ms, 0),
          after_hours_ms = coalesce(c.a, d.after_hours_ms, 0),
          focus_basis = ${basis}
        from targets t left join focus_of c on c.user_id = t.user_id and c.day = t.day
        where d.org_id = ${orgId} and d.user_id = t.user_id and d.day = t.day and d.xmin = t.seen
        returning 1`);
      return rows.length;
    },
  };
}
export type FocusStore = ReturnType<typeof createFocusStore>;
