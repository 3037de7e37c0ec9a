import { addDays, weekOf, type WorkingWeek } from '@icarus/shared';
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { focusBasis, focusOfTargets, focusTargetColumns } from './focus-store';
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
/** One group's (team, or null: no team) totals on one day, with how many people were active in it. */
export interface GroupDayCell {
  teamId: string | null;
  day: string;
  people: number;
  activeMs: number;
  idleMs: number;
  productiveMs: number;
}
export interface OrgCells {
  cells: GroupDayCell[];
  /** Distinct people active in passing cells, by ISO week (Monday), by group, and overall. */
  peopleByWeek: Map<string, number>;
  peopleByGroup: Map<string | null, number>;
  people: number;
}
/** One person-day's focus and after-hours time (see `groupPersonFocusDays`). */
export interface FocusDay {
  userId: string;
  day: string;
  focusMs: number;
  afterHoursMs: number;
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
/** Up to this many people, withheldPersonDays counts only their own groups' cells (a few teams). */
const FEW_PEOPLE = 500;

/** People per person-level export read: about EXPORT_ROWS_PER_READ rows over the range. */
function exportGroupSize(from: string, to: string): number {
  const days = Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
  return Math.max(1, Math.floor(EXPORT_ROWS_PER_READ / (days * ROWS_PER_PERSON_DAY)));
}

/** The columns of `exportValues` rows, every one text: day, person, app, category, productivity, active ms, idle ms, spans. */
export type ExportValues = [
  day: string,
  userId: string,
  app: string,
  category: string,
  productivity: Productivity,
  activeMs: string,
  idleMs: string,
  spans: string,
];

/**
 * One group of people's export rows (fixed text, so it is prepared once per connection); the order is `exportRows`'s.
 * The sort names the table's columns: bare `user_id` and `day` would be the text output columns,
 * the same order but sorted as long strings, which spilled each read's sort to disk.
 */
const EXPORT_VALUES_SQL = `select r.day::text, r.user_id::text, app, category, productivity, active_ms::text, idle_ms::text, spans::text
  from rollup_user_daily r
  where r.org_id = $1::uuid and r.user_id = any($2::uuid[]) and r.day between $3::date and $4::date
  order by r.user_id, r.day, app collate "C", category collate "C", productivity collate "C"`;

/**
 * Person-level export reads in flight beside the one being written out: a cold read waits on
 * random index-order page reads, so a few at once keep the disk and the database busy while
 * Node writes CSV (memory: READS_AHEAD + 1 groups at most).
 */
const READS_AHEAD = 3;

/**
 * Reads of groups of `size` rows' worth from 0 to `total`, up to `ahead` started beyond the one
 * awaited, taken in the order they were started whatever finishes first. A read left in flight
 * when the consumer stops (a cancelled download) or fails while an earlier one is written out is
 * handled, never an unhandled rejection.
 */
async function* inOrder<T>(total: number, size: number, ahead: number, read: (from: number) => Promise<T>): AsyncGenerator<T> {
  const pending: Promise<T>[] = [];
  let next = 0;
  const fill = () => {
    while (pending.length <= ahead && next < total) {
      const reading = read(next);
      reading.catch(() => undefined);
      pending.push(reading);
      next += size;
    }
  };
  fill();
  for (let reading = pending.shift(); reading !== undefined; reading = pending.shift()) {
    const page = await reading;
    fill();
    yield page;
  }
}

/** Stands for "no team" inside a join; never a real team's id (those are uuidv7). */
const NO_TEAM = sql`'00000000-0000-0000-0000-000000000000'::uuid`;
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

/** `fewPeople`: up to how many people withheldPersonDays counts only their own groups (tests set it to try both reads). */
export function createRollupQueries(database: Database, options: { fewPeople?: number } = {}) {
  const fewPeople = options.fewPeople ?? FEW_PEOPLE;
  async function groupAppRows(orgId: string, teamId: string | null, from: string, to: string): Promise<ExportRow[]> {
    const rows = await database.rows<Record<string, unknown>>(sql`
      select to_char(r.day, 'YYYY-MM-DD') as day, r.app, r.category, r.productivity,
             sum(r.active_ms)::float8 as a, sum(r.idle_ms)::float8 as i, sum(r.spans)::int as s,
             coalesce(array_agg(r.user_id::text) filter (where r.active_ms > 0), '{}') as n
      from rollup_user_days p
      join rollup_user_daily r on r.org_id = p.org_id and r.user_id = p.user_id and r.day = p.day
      where p.org_id = ${orgId} and ${sameTeam(teamId, sql`p.team_id`)} and p.day between ${from}::date and ${to}::date
        and r.org_id = ${orgId} and r.day between ${from}::date and ${to}::date
      group by r.day, r.app, r.category, r.productivity
      -- Byte order: stable, and without the locale's slow string comparisons.
      order by r.day, r.app collate "C", r.category collate "C", r.productivity collate "C"`);
    return rows.map((r) => exportRow(r, null, Array.isArray(r.n) ? r.n.map(String) : []));
  }

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

    /**
     * The person-days of `userIds` whose cell (their group that day: the team of that day, or no
     * team) holds 1 to k-1 active people not in `shownIds`: the cell's total minus the figures
     * shown one by one would be those few people's time, so each figure of such a cell is
     * withheld. Counted per cell in the database (one grouping of the range's person-days and a
     * hash anti-join with the shown), never a list of each cell's people per person-day.
     */
    async withheldPersonDays(
      orgId: string,
      userIds: readonly string[],
      shownIds: readonly string[],
      from: string,
      to: string,
      k: number,
    ): Promise<{ userId: string; day: string }[]> {
      if (userIds.length === 0) return [];
      const inRange = (alias: SQL) => sql`${alias}.org_id = ${orgId} and ${alias}.day between ${from}::date and ${to}::date`;
      // For many people, every cell of the org in one scan; for a few (a team's export), only the
      // groups their own person-days are in (their team, and any team someone moved from), each
      // through the (org, team, day) index: 8 ms for a team where the whole org took 240 ms.
      const cells =
        userIds.length > fewPeople
          ? sql`
            select coalesce(d.team_id, ${NO_TEAM}) as g, d.day, count(*)::int as unseen
            from rollup_user_days d left join shown s on s.user_id = d.user_id
            where ${inRange(sql`d`)} and d.active_ms > 0 and s.user_id is null
            group by 1, 2`
          : sql`
            with groups as (
              select distinct coalesce(p.team_id, ${NO_TEAM}) as g from rollup_user_days p
              where ${inRange(sql`p`)} and p.user_id = any(${uuidArray(userIds)})
            ),
            members as (
              -- A lateral read per group: the planner, guessing 200 groups, would scan the whole org.
              select d.team_id, d.day, d.user_id from groups cross join lateral (
                select d.team_id, d.day, d.user_id from rollup_user_days d
                where ${inRange(sql`d`)} and d.active_ms > 0 and d.team_id = groups.g
                offset 0
              ) d
              union all
              select d.team_id, d.day, d.user_id from rollup_user_days d
              where ${inRange(sql`d`)} and d.active_ms > 0 and d.team_id is null and exists (select 1 from groups where g = ${NO_TEAM})
            )
            select coalesce(m.team_id, ${NO_TEAM}) as g, m.day, count(*)::int as unseen
            from members m left join shown s on s.user_id = m.user_id
            where s.user_id is null
            group by 1, 2`;
      const rows = await database.rows<Record<string, unknown>>(sql`
        with shown as (select distinct unnest(${uuidArray(shownIds)}) as user_id),
        cells as (${cells})
        select p.user_id::text as user_id, p.day::text as day
        from rollup_user_days p join cells c on c.g = coalesce(p.team_id, ${NO_TEAM}) and c.day = p.day
        where ${inRange(sql`p`)} and p.user_id = any(${uuidArray(userIds)}) and c.unseen < ${k}`);
      return rows.map((r) => ({ userId: String(r.user_id), day: String(r.day) }));
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

    /**
     * One group's person-days (a team, or null: people without a team), each attributed to the
     * team the person was in that day: the cells of a team report are built from these.
     */
    async groupPersonDays(orgId: string, teamId: string | null, from: string, to: string): Promise<UserDayTotal[]> {
      const rows = await database.rows<Record<string, unknown>>(sql`
        select user_id, to_char(day, 'YYYY-MM-DD') as day, active_ms::float8 as a, idle_ms::float8 as i, productive_ms::float8 as p
        from rollup_user_days
        where org_id = ${orgId} and ${sameTeam(teamId)} and day between ${from}::date and ${to}::date`);
      return rows.map((r) => ({ userId: String(r.user_id), day: String(r.day), activeMs: num(r.a), idleMs: num(r.i), productiveMs: num(r.p) }));
    },

    /**
     * One group's person-days (attributed to the group, as `groupPersonDays`) and, in the same
     * statement, their focus and after-hours time (analytics/focus-store.ts): stored figures where their
     * stamp matches the org's settings now and no span was added since, the rest (today's, a day
     * with new spans, all of them right after the working week changed) computed from those
     * days' spans: from the stored cut on where it holds, else the whole day. `focus` holds only
     * person-days with either.
     */
    async groupPersonFocusDays(
      orgId: string,
      teamId: string | null,
      from: string,
      to: string,
      timeZone: string,
      week: WorkingWeek,
    ): Promise<{ days: UserDayTotal[]; focus: FocusDay[] }> {
      const basis = focusBasis(timeZone, week);
      const rows = await database.rows<Record<string, unknown>>(sql`
        with pd as (
          select ${focusTargetColumns(basis)}, active_ms, idle_ms, productive_ms, focus_ms, after_hours_ms,
                 focus_basis = ${basis} and focus_owed_from is null as fresh
          from rollup_user_days
          where org_id = ${orgId} and ${sameTeam(teamId)} and day between ${from}::date and ${to}::date
        ),
        targets as (select user_id, day, since, base_f, base_a from pd where fresh is not true)${focusOfTargets(orgId, timeZone, week)}
        select pd.user_id, to_char(pd.day, 'YYYY-MM-DD') as day, pd.active_ms::float8 as a, pd.idle_ms::float8 as i, pd.productive_ms::float8 as p,
               -- Fresh rows are no targets (no computed row): the stored figures, as for a day past raw retention.
               coalesce(c.f, pd.focus_ms)::float8 as f,
               coalesce(c.a, pd.after_hours_ms)::float8 as h
        from pd left join focus_of c on c.user_id = pd.user_id and c.day = pd.day`);
      const days: UserDayTotal[] = [];
      const focus: FocusDay[] = [];
      for (const r of rows) {
        const userId = String(r.user_id);
        const day = String(r.day);
        days.push({ userId, day, activeMs: num(r.a), idleMs: num(r.i), productiveMs: num(r.p) });
        const focusMs = num(r.f);
        const afterHoursMs = num(r.h);
        if (focusMs > 0 || afterHoursMs > 0) focus.push({ userId, day, focusMs, afterHoursMs });
      }
      return { days, focus };
    },

    /**
     * One group's per-day rows by app, category and productivity, with the people active in
     * each (the threshold needs the sets): only person-days attributed to that group count.
     */
    async groupAppDays(orgId: string, teamId: string | null, from: string, to: string): Promise<ExportRow[]> {
      return groupAppRows(orgId, teamId, from, to);
    },

    /**
     * Every group's per-day rows by app, category and productivity (each person-day in the team
     * of that day; null: no team), with the people active in each: the org report's per-team
     * breakdowns are cut from these exactly as each team summary cuts its own.
     */
    async orgAppDays(orgId: string, from: string, to: string): Promise<(ExportRow & { teamId: string | null })[]> {
      const rows = await database.rows<Record<string, unknown>>(sql`
        select p.team_id, to_char(r.day, 'YYYY-MM-DD') as day, r.app, r.category, r.productivity,
               sum(r.active_ms)::float8 as a, sum(r.idle_ms)::float8 as i, sum(r.spans)::int as s,
               coalesce(array_agg(r.user_id::text) filter (where r.active_ms > 0), '{}') as n
        from rollup_user_days p
        join rollup_user_daily r on r.org_id = p.org_id and r.user_id = p.user_id and r.day = p.day
        where p.org_id = ${orgId} and p.day between ${from}::date and ${to}::date
          and r.org_id = ${orgId} and r.day between ${from}::date and ${to}::date
        group by p.team_id, r.day, r.app, r.category, r.productivity
        order by p.team_id, r.day, r.app collate "C", r.category collate "C", r.productivity collate "C"`);
      return rows.map((r) => ({ ...exportRow(r, null, Array.isArray(r.n) ? r.n.map(String) : []), teamId: r.team_id === null ? null : String(r.team_id) }));
    },

    /**
     * Every group's day cells over a range (group = team, or null: no team), and the distinct
     * people active in cells with at least `k` active people: per week, per group and overall.
     * Distinct counts over the passing cells are done here, not from ~1 row per person-day.
     */
    async orgCells(orgId: string, from: string, to: string, k: number): Promise<OrgCells> {
      const inRange = sql`org_id = ${orgId} and day between ${from}::date and ${to}::date`;
      const [cells, people] = await Promise.all([
        database.rows<Record<string, unknown>>(sql`
          select team_id, to_char(day, 'YYYY-MM-DD') as day, (count(*) filter (where active_ms > 0))::int as n,
                 sum(active_ms)::float8 as a, sum(idle_ms)::float8 as i, sum(productive_ms)::float8 as p
          from rollup_user_days where ${inRange} group by 1, 2`),
        database.rows<Record<string, unknown>>(sql`
          with passing as (
            select coalesce(team_id, ${NO_TEAM}) as g, day from rollup_user_days where ${inRange} and active_ms > 0
            group by 1, 2 having count(*) >= ${k}
          )
          select grouping(d.team_id) as by_week, d.team_id, to_char(date_trunc('week', d.day), 'YYYY-MM-DD') as week,
                 count(distinct d.user_id)::int as n
          -- Plain equality on a stand-in for "no team", so the join can hash (is not distinct from cannot).
          from rollup_user_days d join passing c on c.g = coalesce(d.team_id, ${NO_TEAM}) and c.day = d.day
          where d.org_id = ${orgId} and d.day between ${from}::date and ${to}::date and d.active_ms > 0
          group by grouping sets ((date_trunc('week', d.day)), (d.team_id), ())`),
      ]);
      const result: OrgCells = {
        cells: cells.map((r) => ({
          teamId: r.team_id === null ? null : String(r.team_id),
          day: String(r.day),
          people: num(r.n),
          activeMs: num(r.a),
          idleMs: num(r.i),
          productiveMs: num(r.p),
        })),
        peopleByWeek: new Map(),
        peopleByGroup: new Map(),
        people: 0,
      };
      for (const r of people) {
        if (r.week !== null && r.week !== undefined) result.peopleByWeek.set(String(r.week), num(r.n));
        else if (num(r.by_week) === 0) result.peopleByGroup.set(r.team_id === null ? null : String(r.team_id), num(r.n));
        else result.people = num(r.n);
      }
      return result;
    },

    /** One group's export rows (per day, app, category), a window of days per read, in day order. */
    async *groupExportRows(orgId: string, teamId: string | null, from: string, to: string, expectedPeople: number): AsyncGenerator<ExportRow[]> {
      const windowDays = Math.max(1, Math.min(MAX_WINDOW_DAYS, Math.floor(EXPORT_ROWS_PER_READ / (Math.max(1, expectedPeople) * ROWS_PER_PERSON_DAY))));
      for (let start = from; start <= to; start = addDays(start, windowDays)) {
        const end = addDays(start, windowDays - 1) < to ? addDays(start, windowDays - 1) : to;
        yield await groupAppRows(orgId, teamId, start, end);
      }
    },

    /**
     * The person-level export's rows as text values, in EXPORT_VALUE_COLUMNS order: the same
     * rows and groups of people as `exportRows` (READS_AHEAD reads ahead), but each row the array the driver
     * read (PostgreSQL formats day and numbers as text), with no object made per row.
     */
    async *exportValues(orgId: string, userIds: readonly string[], from: string, to: string): AsyncGenerator<ExportValues[]> {
      if (userIds.length === 0) return;
      const sorted = [...userIds].sort();
      const group = exportGroupSize(from, to);
      const read = (i: number) =>
        database.values({
          text: EXPORT_VALUES_SQL,
          params: [orgId, `{${sorted.slice(i, i + group).join(',')}}`, from, to],
        }) as Promise<ExportValues[]>;
      yield* inOrder(sorted.length, group, READS_AHEAD, read);
    },

    /**
     * Person-level export rows over a range, about EXPORT_ROWS_PER_READ rows per query so memory
     * stays flat whatever the size: the rollup's own rows (already unique per person, day, app
     * and category) a group of people at a time over the whole range, in the primary key's order
     * (person, day): a short `user_id = any(...)` list per query, where one list of the whole org
     * would be searched for every row.
     */
    async *exportRows(orgId: string, userIds: readonly string[], from: string, to: string): AsyncGenerator<ExportRow[]> {
      if (userIds.length === 0) return;
      const sorted = [...userIds].sort();
      const group = exportGroupSize(from, to);
      const read = (i: number) =>
        database.rows<Record<string, unknown>>(sql`
          select day::text as day, user_id::text as u, app, category, productivity,
                 active_ms::float8 as a, idle_ms::float8 as i, spans as s
          from rollup_user_daily
          where org_id = ${orgId} and user_id = any(${uuidArray(sorted.slice(i, i + group))}) and day between ${from}::date and ${to}::date
          -- Byte order: a stable order without the locale's slow string comparisons; the table's
          -- day, not the text column of that name (EXPORT_VALUES_SQL says why).
          order by user_id, rollup_user_daily.day, app collate "C", category collate "C", productivity collate "C"`);
      // The next group is read while this one is turned into rows (two groups in memory at most).
      for await (const rows of inOrder(sorted.length, group, 0, read)) yield rows.map((r) => exportRow(r, String(r.u), []));
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

/** The rows of one group: a team's, or (null) those of people without a team. */
function sameTeam(teamId: string | null, column = sql`team_id`) {
  return teamId === null ? sql`${column} is null` : sql`${column} = ${teamId}::uuid`;
}
