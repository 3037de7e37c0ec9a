import { weekOf } from '@icarus/shared';
import { and, between, eq, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { categoryRules, rollupOrgDaily, rollupTeamDaily, rollupUserDaily, rollupUserDays, type CategoryRule, type Productivity } from './tables';

export interface UserDayRow {
  orgId: string;
  userId: string;
  day: string;
  app: string;
  category: string;
  productivity: Productivity;
  activeMs: number;
  idleMs: number;
  spans: number;
}
export interface TeamDayRow {
  orgId: string;
  teamId: string;
  day: string;
  category: string;
  productivity: Productivity;
  activeMs: number;
  idleMs: number;
  spans: number;
}
export interface PresenceRow {
  orgId: string;
  day: string;
  userId: string;
  teamId: string | null;
  activeMs: number;
  idleMs: number;
  productiveMs: number;
  /** The earliest start (ms) of the spans summed here; null when they were summed without it. */
  firstStartMs: number | null;
}
export interface UserWeekRow {
  orgId: string;
  /** The Monday of the ISO week. */
  week: string;
  userId: string;
  /** Bit per weekday with activity, Monday = 1 ... Sunday = 64. */
  days: number;
}
export interface OrgDayRow {
  orgId: string;
  day: string;
  activeMs: number;
  idleMs: number;
  productiveMs: number;
  spans: number;
}
export interface RollupChanges {
  users: UserDayRow[];
  teams: TeamDayRow[];
  presence: PresenceRow[];
  weeks: UserWeekRow[];
  orgDays: OrgDayRow[];
}

const asUserRecords = (rows: UserDayRow[]) =>
  JSON.stringify(rows.map((r) => [r.orgId, r.userId, r.day, r.app, r.category, r.productivity, r.activeMs, r.idleMs, r.spans]));
const asTeamRecords = (rows: TeamDayRow[]) =>
  JSON.stringify(rows.map((r) => [r.orgId, r.teamId, r.day, r.category, r.productivity, r.activeMs, r.idleMs, r.spans]));
const asPresenceRecords = (rows: PresenceRow[]) =>
  JSON.stringify(
    rows.map((r) => [
      r.orgId,
      r.day,
      r.userId,
      r.teamId,
      r.activeMs,
      r.idleMs,
      r.productiveMs,
      r.firstStartMs === null ? null : new Date(r.firstStartMs).toISOString(),
    ]),
  );
const asWeekRecords = (rows: UserWeekRow[]) => JSON.stringify(rows.map((r) => [r.orgId, r.week, r.userId, r.days]));
const asOrgDayRecords = (rows: OrgDayRow[]) => JSON.stringify(rows.map((r) => [r.orgId, r.day, r.activeMs, r.idleMs, r.productiveMs, r.spans]));

// Arrays of arrays are about half the JSON of objects; json_array_elements unpacks them by position.
const USER_SELECT = sql`select (e->>0)::uuid, (e->>1)::uuid, (e->>2)::date, e->>3, e->>4, e->>5, (e->>6)::bigint, (e->>7)::bigint, (e->>8)::int`;
const TEAM_SELECT = sql`select (e->>0)::uuid, (e->>1)::uuid, (e->>2)::date, e->>3, e->>4, (e->>5)::bigint, (e->>6)::bigint, (e->>7)::int`;
const PRESENCE_SELECT = sql`select (e->>0)::uuid, (e->>1)::date, (e->>2)::uuid, (e->>3)::uuid, (e->>4)::bigint, (e->>5)::bigint, (e->>6)::bigint`;
const WEEK_SELECT = sql`select (e->>0)::uuid, (e->>1)::date, (e->>2)::uuid, (e->>3)::smallint`;
const ORG_DAY_SELECT = sql`select (e->>0)::uuid, (e->>1)::date, (e->>2)::bigint, (e->>3)::bigint, (e->>4)::bigint, (e->>5)::int`;

/**
 * Every week [fromDay, toDay] touches worked out again from the person-days, of one person or (no
 * `userId`) everyone: each week's set of days with any activity, a bit per ISO weekday. A range
 * may cut weeks in two; this reads the untouched days around it too.
 */
function weeksFromDays(orgId: string, fromDay: string, toDay: string, userId?: string): SQL[] {
  const firstWeek = weekOf(fromDay).week;
  const lastWeek = weekOf(toDay).week;
  const whose = userId === undefined ? sql`` : sql` and user_id = ${userId}`;
  return [
    sql`delete from rollup_user_weeks where org_id = ${orgId}${whose} and week between ${firstWeek}::date and ${lastWeek}::date`,
    sql`insert into rollup_user_weeks (org_id, week, user_id, days)
      select org_id, date_trunc('week', day)::date, user_id, bit_or(1 << (extract(isodow from day)::int - 1))::smallint
      from rollup_user_days where org_id = ${orgId}${whose} and day between ${firstWeek}::date and ${lastWeek}::date + 6
      group by 1, 2, 3`,
  ];
}

export function createAnalyticsStore(database: Database) {
  const { db } = database;
  return {
    /**
     * Fresh planner statistics for the rollups after a bulk load: without them the planner takes
     * millions of new rows for an empty table (sorts spill, wrong joins) until autovacuum runs.
     */
    async analyzeRollups(): Promise<void> {
      for (const table of ['rollup_user_daily', 'rollup_team_daily', 'rollup_user_days', 'rollup_user_weeks', 'rollup_org_daily']) {
        await database.rows(sql.raw(`vacuum (analyze) ${table}`));
      }
    },

    /**
     * Takes each org's rollup lock until the transaction ends, in a fixed order (no deadlock
     * between two consumers): consumers, rebuilds, checks and erasure of one org never interleave.
     */
    async lockOrgs(orgIds: string[]): Promise<void> {
      for (const orgId of [...orgIds].sort()) {
        await database.rows(sql`select pg_advisory_xact_lock(hashtextextended(${`rollups:${orgId}`}, 0))`);
      }
    },

    /**
     * Adds deltas to all five rollups in one statement (data-modifying CTEs), so a flush is
     * one round trip and one transaction: the rollups never disagree with each other.
     * Keys must be unique within each list: the caller pre-aggregates.
     */
    async addDeltas(changes: RollupChanges): Promise<void> {
      if (changes.users.length === 0 && changes.presence.length === 0) return;
      await database.rows(sql`
        with u as (
          insert into rollup_user_daily (org_id, user_id, day, app, category, productivity, active_ms, idle_ms, spans)
          ${USER_SELECT} from json_array_elements(${asUserRecords(changes.users)}::json) e
          on conflict (org_id, user_id, day, app, category, productivity) do update set
            active_ms = rollup_user_daily.active_ms + excluded.active_ms,
            idle_ms = rollup_user_daily.idle_ms + excluded.idle_ms,
            spans = rollup_user_daily.spans + excluded.spans
          returning 1
        ), t as (
          insert into rollup_team_daily (org_id, team_id, day, category, productivity, active_ms, idle_ms, spans)
          ${TEAM_SELECT} from json_array_elements(${asTeamRecords(changes.teams)}::json) e
          on conflict (org_id, day, team_id, category, productivity) do update set
            active_ms = rollup_team_daily.active_ms + excluded.active_ms,
            idle_ms = rollup_team_daily.idle_ms + excluded.idle_ms,
            spans = rollup_team_daily.spans + excluded.spans
          returning 1
        ), w as (
          insert into rollup_user_weeks (org_id, week, user_id, days)
          ${WEEK_SELECT} from json_array_elements(${asWeekRecords(changes.weeks)}::json) e
          on conflict (org_id, week, user_id) do update set days = rollup_user_weeks.days | excluded.days
          -- Most flushes add time to days already marked: leave those rows (no dead tuples).
          where (rollup_user_weeks.days | excluded.days) <> rollup_user_weeks.days
          returning 1
        ), o as (
          insert into rollup_org_daily (org_id, day, active_ms, idle_ms, productive_ms, spans)
          ${ORG_DAY_SELECT} from json_array_elements(${asOrgDayRecords(changes.orgDays)}::json) e
          on conflict (org_id, day) do update set
            active_ms = rollup_org_daily.active_ms + excluded.active_ms,
            idle_ms = rollup_org_daily.idle_ms + excluded.idle_ms,
            productive_ms = rollup_org_daily.productive_ms + excluded.productive_ms,
            spans = rollup_org_daily.spans + excluded.spans
          returning 1
        )
        insert into rollup_user_days (org_id, day, user_id, team_id, active_ms, idle_ms, productive_ms, focus_owed_from)
        ${PRESENCE_SELECT}, coalesce((e->>7)::timestamptz, '-infinity') from json_array_elements(${asPresenceRecords(changes.presence)}::json) e
        -- The team is the one the membership history gives for that day (a move today moves today's row).
        on conflict (org_id, day, user_id) do update set
          team_id = excluded.team_id,
          active_ms = rollup_user_days.active_ms + excluded.active_ms,
          idle_ms = rollup_user_days.idle_ms + excluded.idle_ms,
          productive_ms = rollup_user_days.productive_ms + excluded.productive_ms,
          -- New spans: the day's stored focus figures are owed again from their first start on
          -- (unknown: from the day's start), see analytics/focus-store.ts.
          focus_owed_from = least(rollup_user_days.focus_owed_from, excluded.focus_owed_from)`);
    },

    /** Replaces an org's rollups for [fromDay, toDay] with rows rebuilt from raw spans, atomically. */
    async replaceDays(orgId: string, fromDay: string, toDay: string, changes: RollupChanges): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.delete(rollupUserDaily).where(and(eq(rollupUserDaily.orgId, orgId), between(rollupUserDaily.day, fromDay, toDay)));
        await tx.delete(rollupTeamDaily).where(and(eq(rollupTeamDaily.orgId, orgId), between(rollupTeamDaily.day, fromDay, toDay)));
        await tx.delete(rollupUserDays).where(and(eq(rollupUserDays.orgId, orgId), between(rollupUserDays.day, fromDay, toDay)));
        await tx.delete(rollupOrgDaily).where(and(eq(rollupOrgDaily.orgId, orgId), between(rollupOrgDaily.day, fromDay, toDay)));
        await tx.execute(sql`insert into rollup_user_daily (org_id, user_id, day, app, category, productivity, active_ms, idle_ms, spans)
          ${USER_SELECT} from json_array_elements(${asUserRecords(changes.users)}::json) e`);
        await tx.execute(sql`insert into rollup_team_daily (org_id, team_id, day, category, productivity, active_ms, idle_ms, spans)
          ${TEAM_SELECT} from json_array_elements(${asTeamRecords(changes.teams)}::json) e`);
        await tx.execute(sql`insert into rollup_user_days (org_id, day, user_id, team_id, active_ms, idle_ms, productive_ms)
          ${PRESENCE_SELECT} from json_array_elements(${asPresenceRecords(changes.presence)}::json) e`);
        await tx.execute(sql`insert into rollup_org_daily (org_id, day, active_ms, idle_ms, productive_ms, spans)
          ${ORG_DAY_SELECT} from json_array_elements(${asOrgDayRecords(changes.orgDays)}::json) e`);
        // The range may cut weeks in two: rebuild every week it touches from the person-days,
        // which now hold the rebuilt days and the untouched days around them.
        for (const statement of weeksFromDays(orgId, fromDay, toDay)) await tx.execute(statement);
      });
    },

    /**
     * Replaces one person's rollups for [fromDay, toDay] with `changes`, rows rebuilt from their
     * raw spans alone (an import withdrawn: only their history changed), atomically and without
     * reading anyone else's spans. Their share leaves the org's days by subtraction (an org-day is
     * the plain sum of everyone's rows). A team-day does not record who is in it, so the team-days
     * they were present in are summed again from their members' rows, as the eraser does
     * (erase-store.ts); then their rebuilt rows go in as a flush's deltas, and their weeks are
     * worked out again from their days.
     */
    async replacePersonDays(orgId: string, userId: string, fromDay: string, toDay: string, changes: RollupChanges): Promise<void> {
      const own = sql`org_id = ${orgId} and user_id = ${userId} and day between ${fromDay}::date and ${toDay}::date`;
      await database.transaction(async (tx) => {
        const teamDays = await tx.rows<{ team_id: string; day: string }>(
          sql`select team_id, to_char(day, 'YYYY-MM-DD') as day from rollup_user_days where ${own} and team_id is not null`,
        );
        await tx.rows(sql`
          update rollup_org_daily o set
            active_ms = o.active_ms - p.active_ms, idle_ms = o.idle_ms - p.idle_ms,
            productive_ms = o.productive_ms - p.productive_ms, spans = o.spans - p.spans
          from (
            select day, sum(active_ms) as active_ms, sum(idle_ms) as idle_ms,
                   coalesce(sum(active_ms) filter (where productivity = 'productive'), 0) as productive_ms, sum(spans) as spans
            from rollup_user_daily where ${own} group by day
          ) p
          where o.org_id = ${orgId} and o.day = p.day`);
        await tx.rows(sql`delete from rollup_org_daily where org_id = ${orgId} and day between ${fromDay}::date and ${toDay}::date and spans <= 0`);
        await tx.rows(sql`delete from rollup_user_daily where ${own}`);
        await tx.rows(sql`delete from rollup_user_days where ${own}`);
        if (teamDays.length > 0) {
          const touched = sql`${JSON.stringify(teamDays)}::json`;
          await tx.rows(sql`
            delete from rollup_team_daily t using json_to_recordset(${touched}) as x(team_id uuid, day date)
            where t.org_id = ${orgId} and t.team_id = x.team_id and t.day = x.day`);
          await tx.rows(sql`
            insert into rollup_team_daily (org_id, team_id, day, category, productivity, active_ms, idle_ms, spans)
            select r.org_id, p.team_id, r.day, r.category, r.productivity, sum(r.active_ms), sum(r.idle_ms), sum(r.spans)
            from json_to_recordset(${touched}) as x(team_id uuid, day date)
            join rollup_user_days p on p.org_id = ${orgId} and p.team_id = x.team_id and p.day = x.day
            join rollup_user_daily r on r.org_id = p.org_id and r.day = p.day and r.user_id = p.user_id
            group by r.org_id, p.team_id, r.day, r.category, r.productivity`);
        }
        await createAnalyticsStore(tx).addDeltas(changes);
        for (const statement of weeksFromDays(orgId, fromDay, toDay, userId)) await tx.rows(statement);
      });
    },

    /** Per person and day, what the rollup holds: compared with raw spans by the nightly check. */
    async dailyTotals(
      orgId: string,
      fromDay: string,
      toDay: string,
    ): Promise<{ user_id: string; day: string; active_ms: number; idle_ms: number; spans: number }[]> {
      const rows = await database.rows<{ user_id: string; day: string; active_ms: number; idle_ms: number; spans: number }>(sql`
        select user_id, to_char(day, 'YYYY-MM-DD') as day, sum(active_ms)::float8 as active_ms, sum(idle_ms)::float8 as idle_ms, sum(spans)::int as spans
        from rollup_user_daily where org_id = ${orgId} and day between ${fromDay}::date and ${toDay}::date
        group by 1, 2`);
      return rows.map((r) => ({ ...r, active_ms: Number(r.active_ms), idle_ms: Number(r.idle_ms), spans: Number(r.spans) }));
    },

    /** Days that have any rollup rows, to find days whose raw spans were all removed. */
    async rolledUpDays(orgId: string, fromDay: string, toDay: string): Promise<string[]> {
      const rows = await database.rows<{ day: string }>(sql`
        select distinct to_char(day, 'YYYY-MM-DD') as day from rollup_user_days where org_id = ${orgId} and day between ${fromDay}::date and ${toDay}::date`);
      return rows.map((r) => r.day);
    },

    async rules(orgId: string): Promise<{ rules: CategoryRule[]; version: number } | undefined> {
      const [row] = await db.select().from(categoryRules).where(eq(categoryRules.orgId, orgId));
      return row ? { rules: row.rules, version: row.version } : undefined;
    },

    async saveRules(orgId: string, rules: CategoryRule[], updatedBy: string): Promise<number> {
      const [row] = await db
        .insert(categoryRules)
        .values({ orgId, rules, version: 1, updatedBy })
        .onConflictDoUpdate({
          target: categoryRules.orgId,
          set: { rules, version: sql`${categoryRules.version} + 1`, updatedBy, updatedAt: new Date() },
        })
        .returning({ version: categoryRules.version });
      return row?.version ?? 1;
    },
  };
}
export type AnalyticsStore = ReturnType<typeof createAnalyticsStore>;
