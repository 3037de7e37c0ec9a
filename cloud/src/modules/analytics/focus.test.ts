import { DEFAULT_WORKING_WEEK } from '@icarus/shared';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignedInUser } from '../../platform/env';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { fillStatement, focusBasis } from './focus-store';
import { createRollupQueries } from './query-store';
import { createAnalyticsStore } from './store';

/**
 * Focus time and after-hours share from hand-made spans whose figures are known, in an org on
 * Europe/Berlin across the end of summer time (Sunday 2026-10-25: UTC+2 before, UTC+1 after).
 */
const MIN = 60_000;
const at = (iso: string) => new Date(iso);

interface Span {
  start: Date;
  min: number;
  app: string;
  idle?: boolean;
}

/** One person's spans; the same for each of the five people of the team. */
const SPANS: Span[] = [
  // Tuesday 2026-10-27, CET (UTC+1).
  // 09:00-09:22 and 09:23-09:45 in Code: one 45-minute stretch across a 1-minute gap (44 min active): focus.
  { start: at('2026-10-27T08:00:00Z'), min: 22, app: 'Code' },
  { start: at('2026-10-27T08:23:00Z'), min: 22, app: 'Code' },
  // 10:00-10:20: 20 minutes, too short.
  { start: at('2026-10-27T09:00:00Z'), min: 20, app: 'Code' },
  // 11:00-11:41 broken by a minute idle: two stretches of 20 minutes.
  { start: at('2026-10-27T10:00:00Z'), min: 20, app: 'Code' },
  { start: at('2026-10-27T10:20:00Z'), min: 1, app: 'Code', idle: true },
  { start: at('2026-10-27T10:21:00Z'), min: 20, app: 'Code' },
  // 13:00-13:41 broken by a minute in Slack (neutral).
  { start: at('2026-10-27T12:00:00Z'), min: 20, app: 'Code' },
  { start: at('2026-10-27T12:20:00Z'), min: 1, app: 'Slack' },
  { start: at('2026-10-27T12:21:00Z'), min: 20, app: 'Code' },
  // 17:30 CET is within working hours (it would be 18:30 on summer time).
  { start: at('2026-10-27T16:30:00Z'), min: 10, app: 'Code' },
  // 19:00 CET on a Tuesday: after hours.
  { start: at('2026-10-27T18:00:00Z'), min: 10, app: 'Slack' },
  // Tuesday 2026-10-20, CEST (UTC+2): 18:30 and 19:00 local, both after hours.
  { start: at('2026-10-20T16:30:00Z'), min: 10, app: 'Code' },
  { start: at('2026-10-20T17:00:00Z'), min: 10, app: 'Slack' },
  // Saturday 2026-10-24 at noon CEST: after hours.
  { start: at('2026-10-24T10:00:00Z'), min: 10, app: 'Code' },
];
const DAY: Record<string, string> = { '2026-10-27': '2026-10-27', '2026-10-20': '2026-10-20', '2026-10-24': '2026-10-24' };
const dayOf = (d: Date) => DAY[d.toISOString().slice(0, 10)] ?? '';
const PRODUCTIVITY: Record<string, 'productive' | 'neutral'> = { Code: 'productive', Slack: 'neutral' };
const CATEGORY: Record<string, string> = { Code: 'Development', Slack: 'Chat' };
const DEFAULT_BASIS = focusBasis('Europe/Berlin', DEFAULT_WORKING_WEEK);

interface PlanNode {
  'Node Type': string;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

/** Carries an EXPLAIN's plan out of the transaction it rolls back. */
class PlanRead extends Error {
  readonly plan: PlanNode;
  constructor(row: Record<string, unknown> | undefined) {
    super('plan read');
    // PostgreSQL answers the JSON plan as a value, PGlite as its text.
    const value = Object.values(row ?? {})[0];
    const parsed = (typeof value === 'string' ? JSON.parse(value) : value) as { Plan: PlanNode }[];
    this.plan = parsed[0]?.Plan ?? { 'Node Type': 'none', 'Actual Loops': 0 };
  }
}

describe.each(testDatabaseKinds())('focus time and after hours on %s', (kind) => {
  let cloud: TestCloud;
  let admin: SignedInUser;
  let teamId = '';
  const people: string[] = [];

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    const { directory } = cloud.cloud.services;
    const org = await directory.createOrg({ name: 'Focus Org', timeZone: 'Europe/Berlin' });
    const orgId = org.id;
    const adminRow = await directory.createUser({ orgId, email: 'admin@focus.test', name: 'Admin', role: 'admin', osUser: 'admin' });
    admin = { userId: adminRow.id, orgId, email: 'admin@focus.test', name: 'Admin', role: 'admin', managedTeamIds: [], teamId: null, sessionId: 's' };
    const team = await directory.createTeam(orgId, 'Focus team');
    teamId = team.id;
    for (let i = 0; i < 5; i++) {
      const user = await directory.createUser({ orgId, email: `p${i}@focus.test`, name: `Person ${i}`, role: 'employee', osUser: `p${i}`, teamId });
      people.push(user.id);
      const deviceId = uuidv7();
      // The rollups as the consumer would have written them from these spans.
      const days = new Map<string, { active: number; idle: number; productive: number; apps: Map<string, { active: number; idle: number; spans: number }> }>();
      for (const s of SPANS) {
        await cloud.database.rows(sql`
          insert into spans (id, start, org_id, device_id, user_id, duration_ms, app, idle)
          values (${uuidv7()}::uuid, ${s.start.toISOString()}::timestamptz, ${orgId}::uuid, ${deviceId}::uuid, ${user.id}::uuid, ${s.min * MIN}, ${s.app}, ${s.idle ?? false})`);
        const day = dayOf(s.start);
        const d = days.get(day) ?? { active: 0, idle: 0, productive: 0, apps: new Map() };
        const a = d.apps.get(s.app) ?? { active: 0, idle: 0, spans: 0 };
        if (s.idle) {
          d.idle += s.min * MIN;
          a.idle += s.min * MIN;
        } else {
          d.active += s.min * MIN;
          a.active += s.min * MIN;
          if (PRODUCTIVITY[s.app] === 'productive') d.productive += s.min * MIN;
        }
        a.spans++;
        d.apps.set(s.app, a);
        days.set(day, d);
      }
      for (const [day, d] of days) {
        await cloud.database.rows(sql`
          insert into rollup_user_days (org_id, day, user_id, team_id, active_ms, idle_ms, productive_ms)
          values (${orgId}::uuid, ${day}::date, ${user.id}::uuid, ${teamId}::uuid, ${d.active}, ${d.idle}, ${d.productive})`);
        for (const [app, a] of d.apps) {
          await cloud.database.rows(sql`
            insert into rollup_user_daily (org_id, user_id, day, app, category, productivity, active_ms, idle_ms, spans)
            values (${orgId}::uuid, ${user.id}::uuid, ${day}::date, ${app}, ${CATEGORY[app]}, ${PRODUCTIVITY[app]}, ${a.active}, ${a.idle}, ${a.spans})`);
        }
      }
    }
  }, 120_000);
  afterAll(async () => cloud?.stopAll());

  it('counts a 45-minute productive stretch across a 1-minute gap, and nothing broken by idle time, a neutral app or too short', async () => {
    const days = (
      await createRollupQueries(cloud.database).groupPersonFocusDays(admin.orgId, teamId, '2026-10-19', '2026-10-28', 'Europe/Berlin', DEFAULT_WORKING_WEEK)
    ).focus;
    const mine = days.filter((d) => d.userId === people[0]).sort((a, b) => a.day.localeCompare(b.day));
    expect(mine).toEqual([
      { userId: people[0], day: '2026-10-20', focusMs: 0, afterHoursMs: 20 * MIN },
      { userId: people[0], day: '2026-10-24', focusMs: 0, afterHoursMs: 10 * MIN },
      { userId: people[0], day: '2026-10-27', focusMs: 44 * MIN, afterHoursMs: 10 * MIN },
    ]);
  });

  it('shows focus per person per day and the after-hours share on the team summary, with plain-word highlights', async () => {
    const summary = await cloud.cloud.services.reports.teamSummary(admin, { teamId, from: '2026-10-20', to: '2026-10-27' });
    expect(summary.status).toBe('shown');
    const active = 5 * 195 * MIN;
    expect(summary.totals?.activeMs).toBe(active);
    expect(summary.focus).toEqual({ activeMs: 5 * 44 * MIN, msPerPersonDay: (5 * 44 * MIN) / 15, share: (5 * 44) / (5 * 195) });
    expect(summary.afterHours).toEqual({ activeMs: 5 * 40 * MIN, share: 40 / 195, outside: 'Mon–Fri 08:00–18:00', workingWeek: DEFAULT_WORKING_WEEK });
    expect(summary.previous?.status).toBe('no_activity');
    expect(summary.highlights).toContain('Focus time (stretches of 30 minutes or more in productive apps): 0.2 h per person per day, 23 % of active time.');
    expect(summary.highlights).toContain('After hours (outside Mon–Fri 08:00–18:00): 21 % of active time.');
  });

  it('compares with the previous period', async () => {
    // The week of the 27th against the week before (the 20th and the 24th: after hours only, no focus).
    const summary = await cloud.cloud.services.reports.teamSummary(admin, { teamId, from: '2026-10-25', to: '2026-10-31' });
    expect(summary.previous?.focus?.share).toBe(0);
    expect(summary.previous?.afterHours?.share).toBe(1);
    expect(summary.focus?.share).toBe(44 / 165);
    expect(summary.highlights).toContain(
      'Focus time (stretches of 30 minutes or more in productive apps): 0.7 h per person per day, 27 % of active time, up 27 points from 0 %.',
    );
    expect(summary.highlights).toContain('After hours (outside Mon–Fri 08:00–18:00): 6 % of active time, down 94 points from 100 %.');
  });

  it("counts after hours outside the org's own working week once an admin sets it, and says which week on the report", async () => {
    const { people: directory } = cloud.cloud.services;
    const week = (days: number[], start: string, end: string) => directory.setWorkingWeek(admin, { days, start, end });
    const summary = () => cloud.cloud.services.reports.teamSummary(admin, { teamId, from: '2026-10-20', to: '2026-10-27' });
    try {
      // The figures stored under the default week are not read once the week changes.
      await upkeep();
      // Sunday to Thursday, 09:00-17:00: the 17:30 span of the 27th is after hours now, Tuesday stays a working day, Saturday does not.
      await week([7, 1, 2, 3, 4], '09:00', '17:00');
      const sunToThu = await summary();
      expect(sunToThu.afterHours).toMatchObject({ activeMs: 5 * 50 * MIN, share: 50 / 195, outside: 'Sun–Thu 09:00–17:00' });
      expect(sunToThu.highlights).toContain('After hours (outside Sun–Thu 09:00–17:00): 26 % of active time.');
      // The job clears the old stamps and stores the figures under the new week: the same answer.
      expect(await upkeep()).toEqual({ stored: 15, cleared: 15 });
      expect((await summary()).afterHours).toEqual(sunToThu.afterHours);
      // Wednesday to Sunday: every Tuesday span is after hours, the Saturday noon span is not.
      await week([3, 4, 5, 6, 7], '08:00', '18:00');
      expect((await summary()).afterHours).toMatchObject({ activeMs: 5 * 185 * MIN, outside: 'Wed–Sun 08:00–18:00' });
      const [changed] = await cloud.database.rows<{ actor_id: string; details: { reads: string } }>(
        sql`select actor_id, details from audit_log where org_id = ${admin.orgId} and action = 'directory.working_week_set' order by seq desc limit 1`,
      );
      expect(changed).toMatchObject({ actor_id: admin.userId, details: { reads: 'Wed–Sun 08:00–18:00' } });
      // Refused whole, the field named; the week in force stays.
      await expect(week([], '18:00', '08:00')).rejects.toMatchObject({
        fields: [
          { path: 'days', problem: 'choose at least one working day' },
          { path: 'end', problem: 'the working day must end after it starts (18:00)' },
        ],
      });
      expect(await directory.workingWeek(admin)).toEqual({ days: [3, 4, 5, 6, 7], start: '08:00', end: '18:00' });
    } finally {
      await week([1, 2, 3, 4, 5], '08:00', '18:00');
    }
  });

  const upkeep = () => cloud.cloud.services.analyticsJobs.focusUpkeep();
  const focusDays = async () =>
    (
      await createRollupQueries(cloud.database).groupPersonFocusDays(admin.orgId, teamId, '2026-10-19', '2026-10-28', 'Europe/Berlin', DEFAULT_WORKING_WEEK)
    ).focus.sort((a, b) => a.userId.localeCompare(b.userId) || a.day.localeCompare(b.day));
  const stored = (userId: string) =>
    cloud.database.rows<{ day: string; focus_ms: number | null; after_hours_ms: number | null; focus_basis: string | null; owed: boolean }>(sql`
      select day::text as day, focus_ms::float8 as focus_ms, after_hours_ms::float8 as after_hours_ms, focus_basis,
             (focus_basis is null or focus_owed_from is not null) as owed
      from rollup_user_days where org_id = ${admin.orgId} and user_id = ${userId} order by day`);

  it('computes each stage of the upkeep once per run, whatever the planner guesses of tables not analysed yet', async () => {
    await cloud.database.rows(sql`update rollup_user_days set focus_basis = null where org_id = ${admin.orgId}`);
    // Run and rolled back: the plan as executed, with how often each node ran.
    const plan = await cloud.database
      .transaction(async (tx) => {
        const [row] = await tx.rows<Record<string, unknown>>(
          sql`explain (analyze, format json) ${fillStatement(admin.orgId, 'Europe/Berlin', DEFAULT_WORKING_WEEK)}`,
        );
        throw new PlanRead(row);
      })
      .catch((error: unknown) => {
        if (error instanceof PlanRead) return error.plan;
        throw error;
      });
    const rerun: string[] = [];
    const walk = (node: PlanNode) => {
      if (['Aggregate', 'WindowAgg'].includes(node['Node Type']) && node['Actual Loops'] > 1) rerun.push(`${node['Node Type']} × ${node['Actual Loops']}`);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(plan);
    expect(rerun).toEqual([]);
  });

  it('stores each person-day’s figures once the upkeep job runs; a report reads the same figures from them', async () => {
    await cloud.database.rows(sql`update rollup_user_days set focus_basis = null where org_id = ${admin.orgId}`);
    const computed = await focusDays();
    expect(await upkeep()).toEqual({ stored: 15, cleared: 0 });
    expect(await stored(people[0] ?? '')).toEqual([
      { day: '2026-10-20', focus_ms: 0, after_hours_ms: 20 * MIN, focus_basis: DEFAULT_BASIS, owed: false },
      { day: '2026-10-24', focus_ms: 0, after_hours_ms: 10 * MIN, focus_basis: DEFAULT_BASIS, owed: false },
      { day: '2026-10-27', focus_ms: 44 * MIN, after_hours_ms: 10 * MIN, focus_basis: DEFAULT_BASIS, owed: false },
    ]);
    expect(await focusDays()).toEqual(computed);
    expect(await upkeep()).toEqual({ stored: 0, cleared: 0 });
  });

  it('keeps a day’s stored figures once retention has removed its raw spans', async () => {
    await upkeep();
    const person = people[3] ?? '';
    await cloud.database.rows(sql`delete from spans where org_id = ${admin.orgId} and user_id = ${person} and start < ${'2026-10-21T00:00:00Z'}::timestamptz`);
    const mine = (await focusDays()).filter((d) => d.userId === person);
    expect(mine.find((d) => d.day === '2026-10-20')).toEqual({ userId: person, day: '2026-10-20', focusMs: 0, afterHoursMs: 20 * MIN });
  });

  it('counts new spans rolled up into a stored day at once, and stores that day again', async () => {
    await upkeep();
    const person = people[1] ?? '';
    // Saturday 12:10-12:35 in Code, beside the 12:00-12:10 span: one 35-minute stretch, all after hours.
    await cloud.database.rows(sql`
      insert into spans (id, start, org_id, device_id, user_id, duration_ms, app, idle)
      values (${uuidv7()}::uuid, ${'2026-10-24T10:10:00Z'}::timestamptz, ${admin.orgId}::uuid, ${uuidv7()}::uuid, ${person}::uuid, ${25 * MIN}, 'Code', false)`);
    await createAnalyticsStore(cloud.database).addDeltas({
      users: [
        {
          orgId: admin.orgId,
          userId: person,
          day: '2026-10-24',
          app: 'Code',
          category: 'Development',
          productivity: 'productive',
          activeMs: 25 * MIN,
          idleMs: 0,
          spans: 1,
        },
      ],
      teams: [{ orgId: admin.orgId, teamId, day: '2026-10-24', category: 'Development', productivity: 'productive', activeMs: 25 * MIN, idleMs: 0, spans: 1 }],
      presence: [
        {
          orgId: admin.orgId,
          day: '2026-10-24',
          userId: person,
          teamId,
          activeMs: 25 * MIN,
          idleMs: 0,
          productiveMs: 25 * MIN,
          firstStartMs: Date.parse('2026-10-24T10:10:00Z'),
        },
      ],
      weeks: [],
      orgDays: [],
    });
    expect((await stored(person)).find((r) => r.day === '2026-10-24')?.owed).toBe(true);
    const saturday = { userId: person, day: '2026-10-24', focusMs: 35 * MIN, afterHoursMs: 35 * MIN };
    expect((await focusDays()).find((d) => d.userId === person && d.day === '2026-10-24')).toEqual(saturday);
    expect(await upkeep()).toEqual({ stored: 1, cleared: 0 });
    expect((await stored(person)).find((r) => r.day === '2026-10-24')).toMatchObject({ focus_ms: 35 * MIN, focus_basis: DEFAULT_BASIS, owed: false });
    expect((await focusDays()).find((d) => d.userId === person && d.day === '2026-10-24')).toEqual(saturday);
  });

  it('ends its run once it has stored every day owed, though spans keep owing a day again meanwhile', async () => {
    await upkeep();
    const person = people[2] ?? '';
    // What a live fleet does to today's rows: a consumer marks the day owed again every few milliseconds.
    let arriving = true;
    const owing = (async () => {
      while (arriving) {
        await cloud.database.rows(sql`
          update rollup_user_days set focus_owed_from = ${'2026-10-27T15:00:00Z'}::timestamptz
          where org_id = ${admin.orgId} and user_id = ${person} and day = '2026-10-27'`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    try {
      // A pass that read fewer owed days than a page held every one there was: the job ends there, and
      // leaves what arrives later to its next run instead of computing the same day until its budget is gone.
      const { stored } = await cloud.cloud.services.analyticsJobs.focusUpkeep(3_000);
      expect(stored).toBeLessThanOrEqual(1);
    } finally {
      arriving = false;
      await owing;
    }
  });

  // Two connections are needed to change a row while the job computes it: PostgreSQL only.
  if (kind === 'postgres') {
    it('never stores figures on a person-day that changed while they were computed', async () => {
      await upkeep();
      const person = people[4] ?? '';
      await cloud.database.rows(
        sql`update rollup_user_days set focus_basis = null where org_id = ${admin.orgId} and user_id = ${person} and day = '2026-10-27'`,
      );
      const other = postgres(cloud.testDb.databaseUrl ?? '', { max: 1, onnotice: () => {} });
      try {
        let filling: Promise<{ stored: number }> | undefined;
        // A consumer's upsert of that day, not yet committed, while the job reads and computes it.
        await other.begin(async (tx) => {
          await tx`update rollup_user_days set active_ms = active_ms + 60000, focus_basis = null
                   where org_id = ${admin.orgId} and user_id = ${person} and day = '2026-10-27'`;
          filling = upkeep();
          const waiting = async () =>
            Number(
              (
                await cloud.database.rows<{ n: number }>(
                  sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
                )
              )[0]?.n ?? 0,
            );
          await expect.poll(waiting, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
        });
        expect(await filling).toMatchObject({ stored: 0 });
        expect((await stored(person)).find((r) => r.day === '2026-10-27')?.focus_basis).toBeNull();
        expect(await upkeep()).toMatchObject({ stored: 1 });
      } finally {
        await other.end();
      }
    });
  }
});
