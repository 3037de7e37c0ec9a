import { addDays, weekOf } from '@icarus/shared';
import { sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import type { Productivity } from './tables';

/** Reads of the rollups for reports; every query is bounded by org and by a day range. */
export interface UserAppTotal {
  userId: string;
  app: string;
  category: string;
  productivity: Productivity;
  activeMs: number;
  idleMs: number;
}
export interface UserDayTotal {
  userId: string;
  day: string;
  activeMs: number;
  idleMs: number;
  productiveMs: number;
}
export interface WeekTotal {
  week: string;
  activeMs: number;
  idleMs: number;
  productiveMs: number;
  people: number;
}
export interface TeamTotal {
  teamId: string;
  activeMs: number;
  idleMs: number;
  productiveMs: number;
}
export interface ExportRow {
  day: string;
  userId: string | null;
  app: string;
  category: string;
  productivity: Productivity;
  activeMs: number;
  idleMs: number;
  spans: number;
  /** Who is in the row (team level only: the threshold needs the sets, not just counts). */
  peopleIds: string[];
}

/** Rows one export read aims at: big enough that round trips do not dominate, small in memory. */
const EXPORT_ROWS_PER_READ = 40_000;
/** Apps and categories a person touches in a day, roughly (the demo org: ~7). */
const ROWS_PER_PERSON_DAY = 8;
const MAX_WINDOW_DAYS = 120;

const uuidArray = (ids: readonly string[]) => sql`${`{${ids.join(',')}}`}::uuid[]`;
const num = (v: unknown) => Number(v ?? 0);

/** One export row from the columns both export reads select: day, app, category, productivity, a, i, s. */
function exportRow(r: Record<string, unknown>, userId: string | null, peopleIds: string[]): ExportRow {
  return {
    day: String(r.day),
    userId,
    app: String(r.app),
    category: String(r.category),
    productivity: r.productivity as Productivity,
    activeMs: num(r.a),
    idleMs: num(r.i),
    spans: num(r.s),
    peopleIds,
  };
}

export function createRollupQueries(database: Database) {
  return {
    async userAppTotals(orgId: string, userIds: readonly string[], from: string, to: string): Promise<UserAppTotal[]> {
      if (userIds.length === 0) return [];
      const rows = await database.rows<Record<string, unknown>>(sql`
        select user_id, app, category, productivity, sum(active_ms)::float8 as a, sum(idle_ms)::float8 as i
        from rollup_user_daily
        where org_id = ${orgId} and user_id = any(${uuidArray(userIds)}) and day between ${from}::date and ${to}::date
        group by 1, 2, 3, 4`);
      return rows.map((r) => ({
        userId: String(r.user_id),
        app: String(r.app),
        category: String(r.category),
        productivity: r.productivity as Productivity,
        activeMs: num(r.a),
        idleMs: num(r.i),
      }));
    },

    /** Per person-day totals from the person-day rollup (one row each, no per-app rows to sum). */
    async userDayTotals(orgId: string, userIds: readonly string[], from: string, to: string): Promise<UserDayTotal[]> {
      if (userIds.length === 0) return [];
      const rows = await database.rows<Record<string, unknown>>(sql`
        select user_id, to_char(day, 'YYYY-MM-DD') as day, active_ms::float8 as a, idle_ms::float8 as i, productive_ms::float8 as p
        from rollup_user_days
        where org_id = ${orgId} and user_id = any(${uuidArray(userIds)}) and day between ${from}::date and ${to}::date`);
      return rows.map((r) => ({ userId: String(r.user_id), day: String(r.day), activeMs: num(r.a), idleMs: num(r.i), productiveMs: num(r.p) }));
    },

    /**
     * Org-wide weekly totals (every person, with or without a team) and distinct people per
     * week, from the per-day org rollup and the per-person-week presence rows.
     */
    async orgWeeks(orgId: string, from: string, to: string): Promise<WeekTotal[]> {
      const rows = await database.rows<Record<string, unknown>>(sql`
        with p as (
          select week, count(*)::int as n from rollup_user_weeks
          where org_id = ${orgId} and week between ${weekOf(from).week}::date and ${weekOf(to).week}::date and ${daysInRange(from, to)}
          group by 1
        ), t as (
          select date_trunc('week', day)::date as w, sum(active_ms)::float8 as a, sum(idle_ms)::float8 as i, sum(productive_ms)::float8 as p
          from rollup_org_daily where org_id = ${orgId} and day between ${from}::date and ${to}::date group by 1
        )
        select to_char(p.week, 'YYYY-MM-DD') as week, coalesce(t.a, 0) as a, coalesce(t.i, 0) as i, coalesce(t.p, 0) as p, p.n
        from p left join t on t.w = p.week order by p.week`);
      return rows.map((r) => ({ week: String(r.week), activeMs: num(r.a), idleMs: num(r.i), productiveMs: num(r.p), people: num(r.n) }));
    },

    /** Everyone with any activity in the range (the subjects an org-wide report reads). */
    async peopleInRange(orgId: string, from: string, to: string): Promise<string[]> {
      const rows = await database.rows<{ user_id: string }>(sql`
        select distinct user_id from rollup_user_weeks
        where org_id = ${orgId} and week between ${weekOf(from).week}::date and ${weekOf(to).week}::date and ${daysInRange(from, to)}`);
      return rows.map((r) => r.user_id);
    },

    /** Per team (as at ingest) totals for a range, and who contributed to each. */
    async teamTotals(orgId: string, from: string, to: string): Promise<{ totals: TeamTotal[]; people: Map<string, Set<string>> }> {
      const [totals, people] = await Promise.all([
        database.rows<Record<string, unknown>>(sql`
          select team_id, sum(active_ms)::float8 as a, sum(idle_ms)::float8 as i,
                 sum(active_ms) filter (where productivity = 'productive')::float8 as p
          from rollup_team_daily where org_id = ${orgId} and day between ${from}::date and ${to}::date group by 1`),
        database.rows<Record<string, unknown>>(sql`
          select distinct team_id, user_id from rollup_user_days
          where org_id = ${orgId} and team_id is not null and day between ${from}::date and ${to}::date`),
      ]);
      const byTeam = new Map<string, Set<string>>();
      for (const r of people) {
        const team = String(r.team_id);
        const set = byTeam.get(team) ?? new Set<string>();
        set.add(String(r.user_id));
        byTeam.set(team, set);
      }
      return {
        totals: totals.map((r) => ({ teamId: String(r.team_id), activeMs: num(r.a), idleMs: num(r.i), productiveMs: num(r.p) })),
        people: byTeam,
      };
    },

    /**
     * Export rows for people over a range, about EXPORT_ROWS_PER_READ rows per query so memory
     * stays flat whatever the size. `perPerson` true reads the rollup's own rows (already unique
     * per person, day, app and category) a group of people at a time over the whole range, in
     * the primary key's order (person, day): a short `user_id = any(...)` list per query, where
     * one list of the whole org would be searched for every row. `perPerson` false sums over
     * the people (with who they were) a window of days at a time, in day order.
     */
    async *exportRows(orgId: string, userIds: readonly string[], from: string, to: string, perPerson: boolean): AsyncGenerator<ExportRow[]> {
      if (userIds.length === 0) return;
      const days = Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
      if (perPerson) {
        const sorted = [...userIds].sort();
        const group = Math.max(1, Math.floor(EXPORT_ROWS_PER_READ / (days * ROWS_PER_PERSON_DAY)));
        const read = (i: number) =>
          database.rows<Record<string, unknown>>(sql`
            select day::text as day, user_id::text as u, app, category, productivity,
                   active_ms::float8 as a, idle_ms::float8 as i, spans as s
            from rollup_user_daily
            where org_id = ${orgId} and user_id = any(${uuidArray(sorted.slice(i, i + group))}) and day between ${from}::date and ${to}::date
            -- Byte order: a stable order without the locale's slow string comparisons.
            order by user_id, day, app collate "C", category collate "C", productivity collate "C"`);
        // One read ahead: the database fetches the next group while this one is turned into CSV
        // (two groups in memory at most).
        let pending = read(0);
        try {
          for (let i = 0; i < sorted.length; i += group) {
            const rows = await pending;
            if (i + group < sorted.length) pending = read(i + group);
            yield rows.map((r) => exportRow(r, String(r.u), []));
          }
        } finally {
          // A download cancelled mid-way leaves a read in flight: its outcome no longer matters.
          pending.catch(() => undefined);
        }
        return;
      }
      const windowDays = Math.max(1, Math.min(MAX_WINDOW_DAYS, Math.floor(EXPORT_ROWS_PER_READ / (userIds.length * ROWS_PER_PERSON_DAY))));
      const who = uuidArray(userIds);
      for (let start = from; start <= to; start = addDays(start, windowDays)) {
        const end = addDays(start, windowDays - 1) < to ? addDays(start, windowDays - 1) : to;
        const rows = await database.rows<Record<string, unknown>>(sql`
          select to_char(day, 'YYYY-MM-DD') as day, app, category, productivity,
                 sum(active_ms)::float8 as a, sum(idle_ms)::float8 as i, sum(spans)::int as s, array_agg(distinct user_id::text) as n
          from rollup_user_daily
          where org_id = ${orgId} and user_id = any(${who}) and day between ${start}::date and ${end}::date
          group by 1, 2, 3, 4 order by 1, 2, 3, 4`);
        yield rows.map((r) => exportRow(r, null, Array.isArray(r.n) ? r.n.map(String) : []));
      }
    },
  };
}
export type RollupQueries = ReturnType<typeof createRollupQueries>;

/**
 * The condition on rollup_user_weeks rows that keeps people active on a day inside
 * [from, to]: whole weeks inside the range take any day, the first and last week only their
 * days in range (a range may start or end mid-week).
 */
function daysInRange(from: string, to: string) {
  const first = weekOf(from);
  const last = weekOf(to);
  const firstMask = 127 & ~(first.bit - 1); // from's weekday to Sunday
  const lastMask = last.bit * 2 - 1; // Monday to to's weekday
  if (first.week === last.week) return sql`(days & ${firstMask & lastMask}) <> 0`;
  return sql`(days & case week when ${first.week}::date then ${firstMask} when ${last.week}::date then ${lastMask} else 127 end) <> 0`;
}
