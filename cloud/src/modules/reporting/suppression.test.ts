import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignedInUser } from '../../platform/env';
import { addPeople, record, type ActivePerson } from '../../../test/support/activity';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { defaultPolicy } from '../consent';
import { addDays as dayAdd } from '@icarus/shared';
import { mondayOf } from './cells';

/** Setting up dozens of devices and sessions: minutes when the shared machine is busy. */
const SETUP_MS = 240_000;

const HOUR = 3_600_000;
const noon = (day: string) => new Date(`${day}T12:00:00Z`);
const ids = (people: readonly ActivePerson[]) => people.map((p) => p.userId);

/**
 * The minimum group size (k = 5, the default policy) as the team comparison and the trends
 * apply it, on activity stored through ingestion weeks in the past.
 */
describe.each(testDatabaseKinds())('suppression in comparisons and trends on %s', (kind) => {
  let cloud: TestCloud;
  let admin: SignedInUser;
  let otherAdmin: SignedInUser;
  const teams = { big: '', fresh: '', other: '', trend: '', foreign: '' };
  const people: Record<'big' | 'other' | 'trend' | 'foreign', ActivePerson[]> = { big: [], other: [], trend: [], foreign: [] };
  let comparison: { from: string; to: string };
  let weeks: { older: string; newer: string };

  const asAdmin = (user: { id: string }, orgId: string, email: string): SignedInUser => ({
    userId: user.id,
    orgId,
    email,
    name: 'Admin',
    role: 'admin',
    managedTeamIds: [],
    teamId: null,
    sessionId: 's',
  });

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    const { directory, consent, devices, analytics } = cloud.cloud.services;
    const { orgId } = cloud.bootstrap;
    const adminRow = await directory.findUserByEmail(cloud.bootstrap.orgId, cloud.bootstrap.adminEmail);
    admin = asAdmin({ id: adminRow?.id ?? '' }, orgId, cloud.bootstrap.adminEmail);
    const today = (await analytics.orgCalendar(orgId)).today;
    const thisWeek = mondayOf(today);
    const consentFrom = noon(dayAdd(thisWeek, -40));

    for (const key of ['big', 'fresh', 'other', 'trend'] as const) teams[key] = (await directory.createTeam(orgId, `Team ${key}`)).id;
    people.big = await addPeople(cloud, { teamId: teams.big, count: 6, consentFrom });
    people.other = await addPeople(cloud, { teamId: teams.other, count: 5, consentFrom });
    people.trend = await addPeople(cloud, { teamId: teams.trend, count: 5, consentFrom });

    // Another org with a team active on the same days: none of it may reach org A's reports.
    const orgB = await directory.createOrg({ name: 'Org B', timeZone: 'Europe/Berlin' });
    await consent.publish(orgB.id, defaultPolicy('Org B'), { type: 'system', id: 'test' });
    teams.foreign = (await directory.createTeam(orgB.id, 'Team foreign')).id;
    people.foreign = await addPeople(cloud, { teamId: teams.foreign, count: 5, consentFrom, orgId: orgB.id });
    const adminB = await directory.createUser({ orgId: orgB.id, email: 'admin@b.test', name: 'Admin B', role: 'admin' });
    otherAdmin = asAdmin(adminB, orgB.id, 'admin@b.test');

    // Comparison, four weeks back: on Tuesday everyone works; then five of Big move to Fresh
    // and work on Wednesday there, so in the range they are in two teams.
    const tuesday = dayAdd(thisWeek, -27);
    const wednesday = dayAdd(thisWeek, -26);
    comparison = { from: tuesday, to: wednesday };
    await record(cloud, [...people.big, ...people.other, ...people.foreign], [{ at: noon(tuesday), ms: HOUR }]);
    const movers = people.big.slice(0, 5);
    // The move as the directory records it: Big until Tuesday, Fresh from Wednesday.
    for (const m of movers) {
      await cloud.database.rows(sql`update users set team_id = ${teams.fresh} where id = ${m.userId}`);
      await cloud.database.rows(sql`update team_memberships set valid_to = ${wednesday}::date where user_id = ${m.userId} and valid_to is null`);
      await cloud.database.rows(
        sql`insert into team_memberships (id, org_id, user_id, team_id, valid_from) values (gen_random_uuid(), ${orgId}, ${m.userId}, ${teams.fresh}, ${wednesday}::date)`,
      );
    }
    await record(cloud, movers, [{ at: noon(wednesday), ms: HOUR }]);
    // The day's rollups are rebuilt with the directory as it is now (the mover in Fresh).
    await analytics.rebuild(orgId, wednesday, wednesday);

    // Trends, two weeks back and last week: four of the trend team, then all five.
    weeks = { older: dayAdd(thisWeek, -14), newer: dayAdd(thisWeek, -7) };
    await record(cloud, people.trend.slice(0, 4), [{ at: noon(dayAdd(weeks.older, 2)), ms: HOUR }]);
    await record(cloud, people.trend, [{ at: noon(dayAdd(weeks.newer, 2)), ms: HOUR }]);
  }, SETUP_MS);
  afterAll(async () => cloud?.stopAll());

  const lastAudit = async (action: string) =>
    (
      await cloud.database.rows<{ subject_user_ids: string[] }>(sql`select subject_user_ids from audit_log where action = ${action} order by seq desc limit 1`)
    )[0];

  it('people who moved between teams in the range count in each team only on the days they were in it, so no two teams share a cell', async () => {
    const cmp = await cloud.cloud.services.reports.teamComparison(admin, comparison);
    const byId = new Map(cmp.teams.map((t) => [t.id, t]));
    // Tuesday: Big 6 people, Other 5. Wednesday: the 5 movers in Fresh, and Big has no one.
    // Big and Fresh share no (team, day) cell, so Big minus Fresh is no one's time.
    expect(byId.get(teams.big)).toMatchObject({ people: 6, figures: { activeMs: 6 * HOUR }, hidden: null });
    expect(byId.get(teams.fresh)).toMatchObject({ people: 5, figures: { activeMs: 5 * HOUR }, hidden: null });
    expect(byId.get(teams.other)).toMatchObject({ people: 5, figures: { activeMs: 5 * HOUR }, hidden: null });
    expect(cmp.org).toMatchObject({ people: 11, figures: { activeMs: 16 * HOUR }, hidden: null });
  });

  it('counts only the org\u2019s own people in the comparison and in its audit', async () => {
    const cmp = await cloud.cloud.services.reports.teamComparison(admin, comparison);
    expect(cmp.org.people).toBe(11);
    expect(cmp.teams.map((t) => t.id)).not.toContain(teams.foreign);
    const audited = await lastAudit('report.team_comparison.viewed');
    expect([...(audited?.subject_user_ids ?? [])].sort()).toEqual([...ids(people.big), ...ids(people.other)].sort());

    const theirs = await cloud.cloud.services.reports.teamComparison(otherAdmin, comparison);
    expect(theirs.org).toMatchObject({ people: 5, figures: { activeMs: 5 * HOUR } });
    expect(theirs.teams.map((t) => t.id)).toEqual([teams.foreign]);
  });

  /**
   * The trend team's two weeks, which are the org's too on those days (no one else was active):
   * the older with k−1 people hidden and its day left out by name, the newer with k shown.
   */
  const expectOlderWeekHiddenNewerShown = (trendWeeks: unknown[]) => {
    expect(trendWeeks).toMatchObject([
      {
        week: weeks.older,
        people: null,
        figures: null,
        hidden: expect.objectContaining({ reason: 'too_few_people' }),
        leftOut: [{ day: dayAdd(weeks.older, 2), reason: 'too_few_people' }],
      },
      { week: weeks.newer, people: 5, figures: { activeMs: 5 * HOUR, idleMs: 0, productiveShare: 1 }, hidden: null },
    ]);
    expect(trendWeeks).toHaveLength(2);
  };

  it('the team trend hides a week with k\u22121 people and shows the week with k', async () => {
    const trend = await cloud.cloud.services.reports.teamTrend(admin, { teamId: teams.trend, from: weeks.older, to: dayAdd(weeks.newer, 6) });
    expect(trend.scope).toMatchObject({ kind: 'team', id: teams.trend });
    expectOlderWeekHiddenNewerShown(trend.weeks);
    const audited = await lastAudit('report.team_trend.viewed');
    expect([...(audited?.subject_user_ids ?? [])].sort()).toEqual([...ids(people.trend)].sort());
  });

  it('the org trend counts everyone in the org per week, hides a week under k, and audits whom it read', async () => {
    const trend = await cloud.cloud.services.reports.orgTrend(admin, { from: weeks.older, to: dayAdd(weeks.newer, 6) });
    expect(trend.scope).toMatchObject({ kind: 'org', id: admin.orgId, name: 'Demo Org' });
    expectOlderWeekHiddenNewerShown(trend.weeks);
    const audited = await lastAudit('report.org_trend.viewed');
    expect([...(audited?.subject_user_ids ?? [])].sort()).toEqual([...ids(people.trend)].sort());
    // Over the comparison's days: Big and Other, not the other org's five.
    const earlier = await cloud.cloud.services.reports.orgTrend(admin, comparison);
    expect(earlier.weeks).toMatchObject([
      { week: mondayOf(comparison.from), people: 11, figures: { activeMs: 16 * HOUR, idleMs: 0, productiveShare: 1 }, hidden: null },
    ]);
    expect(earlier.weeks).toHaveLength(1);
  });

  it('the org trend is for admins only', async () => {
    await expect(cloud.cloud.services.reports.orgTrend({ ...admin, role: 'manager', managedTeamIds: [teams.trend] }, {})).rejects.toThrow(/role admin/);
  });
});
