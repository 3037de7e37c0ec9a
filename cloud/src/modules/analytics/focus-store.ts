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
 * org's settings now, or with spans added since, is computed again, on read and by the job.
 */
export function focusBasis(timeZone: string, week: WorkingWeek): string {
  return `${timeZone}|${week.days.join(',')}|${week.start}-${week.end}`;
}

/**
 * The columns of `rollup_user_days` that make a row of `targets` for `focusOfTargets`: where the
 * row's cut still holds (computed under `basis`, and every span added since starts after it),
 * the day is computed from the cut on, on top of the figures before it; otherwise from the day's
 * start. A span added at the cut itself may sort before it, hence "after", strictly.
 */
export function focusTargetColumns(basis: string): SQL {
  const cutHolds = sql`(focus_basis = ${basis} and focus_cut is not null and (focus_owed_from is null or focus_owed_from > focus_cut))`;
  return sql`user_id, day,
    case when ${cutHolds} then focus_cut end as since,
    case when ${cutHolds} then cut_focus_ms else 0 end::float8 as base_f,
    case when ${cutHolds} then cut_after_hours_ms else 0 end::float8 as base_a`;
}

/**
 * The focus and after-hours time of the person-days in the CTE `targets` (user_id, day, since,
 * base_f, base_a: see focusTargetColumns), each from that day's own spans in the org's time zone
 * starting at `since` (null: the day's start), added to the figures before it. Appended after a
 * `with targets as (...)`, it ends the statement's CTE list with `focus_of (user_id, day, f, a,
 * cut, cf, ca)`: the figures, and a new cut with the figures before it. It holds only
 * person-days with spans still stored (a day past raw retention keeps what was stored).
 *
 * A stretch is a run of the day's active spans in apps that person's rollup counts productive
 * that day (the category rules as the rollups applied them), with no other span between them
 * and no gap of FOCUS_GAP_MS or more; it counts as focus when it lasts at least FOCUS_MIN_MS.
 * A stretch across midnight is two, one per day: a day's figure never depends on its neighbours,
 * so new spans change only their own day's stored figures. After hours is active time starting
 * outside the working week (its hours on its working days, a non-working day whole).
 *
 * Spans are taken in (start, duration, idle, app) order: spans equal in all four are the same to
 * the rule, so the figures never depend on which order the database returns ties in.
 */
export function focusOfTargets(orgId: string, timeZone: string, week: WorkingWeek): SQL {
  const order = sql`partition by user_id, day order by start, duration_ms, idle, app`;
  const outside = (local: SQL) =>
    sql`(not (extract(isodow from ${local})::int = any(${`{${week.days.join(',')}}`}::int[])) or ${local}::time < ${week.start}::time or ${local}::time >= ${week.end}::time)`;
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
          and start >= coalesce(t.since, (t.day::timestamp) at time zone ${timeZone}::text)
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
      select m.*, max(stop) over (${order} rows between unbounded preceding and 1 preceding) as before_stop
      from focus_marked m
    ),
    focus_breaks as (
      select o.*,
             (not prod or before_stop is null or start - before_stop >= ${FOCUS_GAP_MS}::int * interval '1 millisecond') as brk,
             -- A place to cut: a new run that no earlier span runs into (read from there, every
             -- later span sees the same spans before it). An earlier span at the same start can
             -- only be of zero length (they sort by duration): read again, it counts for nothing.
             (before_stop is null or before_stop <= start) as clean
      from focus_ordered o
    ),
    focus_runs as (
      select b.*, sum(case when brk then 1 else 0 end) over (${order} rows unbounded preceding) as run
      from focus_breaks b
    ),
    focus_cuts as (
      select user_id, day, max(run) filter (where brk and clean) as cut_run, max(start) filter (where brk and clean) as cut,
             sum(duration_ms) filter (where not idle and ${outside(sql.raw('local'))})::float8 as a
      from focus_runs group by 1, 2
    ),
    focus_stretches as (
      select user_id, day, run, sum(duration_ms)::float8 as ms from focus_runs where prod
      group by user_id, day, run
      having max(stop) - min(start) >= ${FOCUS_MIN_MS}::int * interval '1 millisecond'
    ),
    -- Materialized, as focus_after_cut: each is one aggregate over every target day. Inlined, a
    -- planner that guessed one target (a table not analysed yet) joined them in a nested loop and
    -- ran the aggregate again for each target day: 2,000 owed days of a 10,000-device fleet took
    -- over 13 minutes instead of 0.5 s, holding the rows the rollup worker waited to update.
    focus_sum as materialized (
      select s.user_id, s.day, sum(s.ms)::float8 as f, sum(s.ms) filter (where s.run < c.cut_run)::float8 as cf
      from focus_stretches s join focus_cuts c on c.user_id = s.user_id and c.day = s.day group by 1, 2
    ),
    focus_after_cut as materialized (
      select r.user_id, r.day,
             sum(r.duration_ms) filter (where not r.idle and ${outside(sql.raw('r.local'))})::float8 as a
      from focus_runs r join focus_cuts c on c.user_id = r.user_id and c.day = r.day
      where r.start >= c.cut group by 1, 2
    ),
    focus_of as (
      select c.user_id, c.day, t.base_f + coalesce(s.f, 0) as f, t.base_a + coalesce(c.a, 0) as a, c.cut,
             t.base_f + coalesce(s.cf, 0) as cf, t.base_a + coalesce(c.a, 0) - coalesce(h.a, 0) as ca
      from focus_cuts c
      join targets t on t.user_id = c.user_id and t.day = c.day
      left join focus_sum s on s.user_id = c.user_id and s.day = c.day
      left join focus_after_cut h on h.user_id = c.user_id and h.day = c.day
    )`;
}

/** Person-days computed and stored per statement by the upkeep job. */
const FILL_ROWS = 2_000;
/** The longest a page of the upkeep may run (0.5 s measured for a full page at 10,000 devices). */
const FILL_TIMEOUT_MS = 60_000;

/**
 * Stores focus and after-hours figures on `rollup_user_days`, so a report reads them instead of
 * every raw span of its range. The consumer marks a person-day it adds spans to (from where);
 * rebuilt and new rows start without a stamp; this computes them again, from their cut on
 * where it holds (today's rows under a live fleet: a few minutes of spans each).
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
     * Computes and stores up to FILL_ROWS of an org's person-days that are owed (no stamp, or
     * spans added since), newest first. Lock-free: a row is written only if nothing changed it
     * since it was read (its `xmin`), so a consumer's new spans, a rebuild or an erasure
     * meanwhile always win. Says how many it stored and whether more may be owed: a page read
     * short held every owed row there was, so the caller stops even while spans keep arriving
     * (they owe today's rows again within seconds; the next run takes them).
     */
    async fill(orgId: string, timeZone: string, week: WorkingWeek): Promise<{ stored: number; more: boolean }> {
      const [row] = await database.transaction(async (tx) => {
        // A page takes a second or less; one that ran on would hold the rows the rollup worker
        // waits to update (and a stop waiting for the job): it is cut off, and the next run tries again.
        await tx.rows(sql`select set_config('statement_timeout', ${String(FILL_TIMEOUT_MS)}, true)`);
        return tx.rows<{ read: number; stored: number }>(fillStatement(orgId, timeZone, week));
      });
      return { stored: row?.stored ?? 0, more: (row?.read ?? 0) >= FILL_ROWS };
    },
  };
}
export type FocusStore = ReturnType<typeof createFocusStore>;

/** `fill`'s one statement (exported for the test of its plan). */
export function fillStatement(orgId: string, timeZone: string, week: WorkingWeek): SQL {
  const basis = focusBasis(timeZone, week);
  return sql`
        with targets as (
          select ${focusTargetColumns(basis)}, xmin as seen from rollup_user_days
          where org_id = ${orgId} and (focus_basis is null or focus_owed_from is not null)
          order by day desc limit ${FILL_ROWS}
        )${focusOfTargets(orgId, timeZone, week)}
        , stored as (update rollup_user_days d set
          focus_ms = coalesce(c.f, d.focus_ms, 0),
          after_hours_ms = coalesce(c.a, d.after_hours_ms, 0),
          focus_basis = ${basis},
          focus_owed_from = null,
          -- No spans read (past raw retention): no cut, so spans added later start from the day's start.
          focus_cut = c.cut,
          cut_focus_ms = c.cf,
          cut_after_hours_ms = c.ca
        from targets t left join focus_of c on c.user_id = t.user_id and c.day = t.day
        where d.org_id = ${orgId} and d.user_id = t.user_id and d.day = t.day and d.xmin = t.seen
        returning 1)
        select (select count(*)::int from targets) as read, (select count(*)::int from stored) as stored`;
}
