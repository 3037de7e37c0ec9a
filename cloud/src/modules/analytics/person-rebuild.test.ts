import { addDays } from '@icarus/shared';
import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';

/**
 * One person's days rebuilt from their spans alone (an import of theirs withdrawn) leave every
 * rollup as a rebuild of the whole org from all spans would: their rows, their teams' days, the
 * org's days and their weeks, and nobody else's rows change.
 */
const MIN = 60_000;
const DAYS = 6;
const APPS = ['Code', 'Slack', 'Docs', 'Game'] as const;

describe.each(testDatabaseKinds())('a person-level rebuild on %s', (kind) => {
  let cloud: TestCloud;
  let orgId = '';
  let from = '';
  let to = '';
  const people: string[] = [];

  /** Every rollup row of the org as text, table by table, in a fixed order (focus figures aside: the upkeep job owes them either way). */
  async function rollups(): Promise<Record<string, string[]>> {
    const read = async (query: ReturnType<typeof sql>) => (await cloud.database.rows<{ r: string }>(query)).map((x) => x.r);
    return {
      user_daily: await read(
        sql`select concat_ws('|', user_id, day, app, category, productivity, active_ms, idle_ms, spans) as r from rollup_user_daily where org_id = ${orgId} order by 1`,
      ),
      team_daily: await read(
        sql`select concat_ws('|', team_id, day, category, productivity, active_ms, idle_ms, spans) as r from rollup_team_daily where org_id = ${orgId} order by 1`,
      ),
      user_days: await read(
        sql`select concat_ws('|', user_id, day, team_id, active_ms, idle_ms, productive_ms) as r from rollup_user_days where org_id = ${orgId} order by 1`,
      ),
      user_weeks: await read(sql`select concat_ws('|', user_id, week, days) as r from rollup_user_weeks where org_id = ${orgId} order by 1`),
      org_daily: await read(
        sql`select concat_ws('|', day, active_ms, idle_ms, productive_ms, spans) as r from rollup_org_daily where org_id = ${orgId} order by 1`,
      ),
    };
  }

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    const { directory, analytics } = cloud.cloud.services;
    const org = await directory.createOrg({ name: 'Rebuild Org', timeZone: 'Europe/Berlin' });
    orgId = org.id;
    const teams = [(await directory.createTeam(orgId, 'One')).id, (await directory.createTeam(orgId, 'Two')).id];
    const today = (await analytics.orgCalendar(orgId)).today;
    from = addDays(today, -DAYS - 1);
    to = today;
    await cloud.cloud.services.ingestion.ensureDailyPartitions(new Date(Date.parse(from) - 86_400_000), new Date(Date.parse(to) + 2 * 86_400_000));
    for (let i = 0; i < 4; i++) {
      const user = await directory.createUser({ orgId, email: `p${i}@rebuild.test`, name: `P${i}`, role: 'employee', osUser: `p${i}`, teamId: teams[i % 2] });
      people.push(user.id);
      const device = uuidv7();
      for (let d = 0; d < DAYS; d++) {
        // Person 0 alone works on the first day: that org-day is theirs only.
        if (d === 0 && i !== 0) continue;
        const dayStart = Date.parse(`${addDays(from, d + 1)}T08:00:00Z`);
        for (let k = 0; k < 6; k++) {
          await cloud.database.rows(sql`
            insert into spans (id, start, org_id, device_id, user_id, duration_ms, app, idle)
            values (${uuidv7()}::uuid, ${new Date(dayStart + k * 20 * MIN).toISOString()}::timestamptz, ${orgId}::uuid, ${device}::uuid,
                    ${user.id}::uuid, ${(5 + k + i) * MIN}, ${APPS[(k + i + d) % APPS.length]}, ${k === 5})`);
        }
      }
    }
    await analytics.rebuild(orgId, from, to);
  }, 120_000);
  afterAll(async () => cloud?.stopAll());

  it('equals a rebuild of the whole org once some of one person’s spans are gone, and leaves everyone else’s rows as they were', async () => {
    const { analytics } = cloud.cloud.services;
    const before = await rollups();
    const target = people[0] ?? '';
    // What an import withdrawal erases: the person's spans of the first day (theirs alone), and part of two more.
    await cloud.database.rows(sql`
      delete from spans where org_id = ${orgId} and user_id = ${target}
        and (start < ${`${addDays(from, 2)}T00:00:00Z`}::timestamptz or (start >= ${`${addDays(from, 3)}T08:30:00Z`}::timestamptz and start < ${`${addDays(from, 4)}T09:00:00Z`}::timestamptz))`);
    await analytics.rebuildPerson(orgId, target, from, to);
    const personal = await rollups();
    expect(personal).not.toEqual(before);
    // Nobody else's own rows moved.
    const others = (rows: string[] | undefined) => (rows ?? []).filter((r) => !r.startsWith(target));
    expect(others(personal.user_daily)).toEqual(others(before.user_daily));
    expect(others(personal.user_days)).toEqual(others(before.user_days));
    expect(others(personal.user_weeks)).toEqual(others(before.user_weeks));
    // The first day was theirs alone: the org has no row for it now.
    expect((personal.org_daily ?? []).some((r) => r.startsWith(addDays(from, 1)))).toBe(false);

    await analytics.rebuild(orgId, from, to);
    expect(personal).toEqual(await rollups());
  });

  it('the nightly check repairs a person-day that differs from its spans by rebuilding that person, to what a whole rebuild gives', async () => {
    const { analytics } = cloud.cloud.services;
    await analytics.rebuild(orgId, from, to);
    const good = await rollups();
    const day = addDays(from, 3);
    // A person's day drifted as a delta applied twice would leave it: one of their rows, their
    // team's row of its category and the org's day each a minute over.
    const [row] = await cloud.database.rows<{ app: string; category: string; productivity: string; team: string }>(sql`
      select r.app, r.category, r.productivity, p.team_id as team from rollup_user_daily r
      join rollup_user_days p on p.org_id = r.org_id and p.user_id = r.user_id and p.day = r.day
      where r.org_id = ${orgId} and r.user_id = ${people[1]} and r.day = ${day}::date order by r.app limit 1`);
    if (!row) throw new Error('no row to drift');
    await cloud.database.rows(sql`
      update rollup_user_daily set active_ms = active_ms + 60000
      where org_id = ${orgId} and user_id = ${people[1]} and day = ${day}::date and app = ${row.app} and category = ${row.category}`);
    await cloud.database.rows(sql`
      update rollup_team_daily set active_ms = active_ms + 60000
      where org_id = ${orgId} and team_id = ${row.team} and day = ${day}::date and category = ${row.category} and productivity = ${row.productivity}`);
    await cloud.database.rows(sql`
      update rollup_org_daily set active_ms = active_ms + 60000, productive_ms = productive_ms + ${row.productivity === 'productive' ? 60000 : 0}
      where org_id = ${orgId} and day = ${day}::date`);
    expect(await rollups()).not.toEqual(good);
    expect((await analytics.checkConsistency(orgId, from, to)).repairedDays).toEqual([day]);
    expect(await rollups()).toEqual(good);
  });
});
