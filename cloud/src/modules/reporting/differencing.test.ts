import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignedInUser } from '../../platform/env';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { seedRollups, type SeedPersonDay } from '../../../test/support/rollups';
import { mondayOf } from './cells';
import { addDays as dayAdd } from '@icarus/shared';

/**
 * The review's findings, on seeded rollups: a team of 6 where only the victim was active on D2,
 * a team of 5, two people without a team; each attack differences two published numbers.
 */
describe.each(testDatabaseKinds())('differencing attacks on %s', (kind) => {
  let cloud: TestCloud;
  let admin: SignedInUser;
  const a: string[] = [];
  const b: string[] = [];
  const loners: string[] = [];
  let teamA = '';
  let teamB = '';
  let d1 = '';
  let d2 = '';
  const VICTIM_D2 = 7_654_321;
  const active = (i: number) => 3_600_000 + i * 1_117;

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    const { directory, analytics } = cloud.cloud.services;
    const { orgId } = cloud.bootstrap;
    admin = await cloud.demoAdmin();
    teamA = (await directory.createTeam(orgId, 'Team A')).id;
    teamB = (await directory.createTeam(orgId, 'Team B')).id;
    const person = async (list: string[], teamId: string | null, tag: string) => {
      const { id } = await directory.createUser({ orgId, email: `${tag}${list.length}@diff.test`, name: `${tag} ${list.length}`, role: 'employee', teamId });
      list.push(id);
    };
    for (let i = 0; i < 6; i++) await person(a, teamA, 'a');
    for (let i = 0; i < 5; i++) await person(b, teamB, 'b');
    for (let i = 0; i < 2; i++) await person(loners, null, 'n');
    const today = (await analytics.orgCalendar(orgId)).today;
    d1 = dayAdd(mondayOf(today), -21);
    d2 = dayAdd(d1, 1);
    const rows: SeedPersonDay[] = [];
    const everyone = [...a.map((u) => [u, teamA] as const), ...b.map((u) => [u, teamB] as const), ...loners.map((u) => [u, null] as const)];
    everyone.forEach(([userId, teamId], i) => rows.push({ userId, teamId, day: d1, apps: [{ app: 'Code', activeMs: active(i), idleMs: 1000 + i }] }));
    // D2: of team A only the victim; team B and the people without a team as usual.
    rows.push({ userId: a[0] ?? '', teamId: teamA, day: d2, apps: [{ app: 'Code', activeMs: VICTIM_D2, idleMs: 4321 }] });
    everyone.slice(6).forEach(([userId, teamId], i) => rows.push({ userId, teamId, day: d2, apps: [{ app: 'Code', activeMs: active(100 + i) }] }));
    await seedRollups(cloud.database, orgId, rows);
  });
  afterAll(async () => cloud?.stopAll());

  it('team summary: D1..D2 minus D1..D1 does not give the victim’s D2 time; D2 is hidden and in no total', async () => {
    const { reports } = cloud.cloud.services;
    const both = await reports.teamSummary(admin, { teamId: teamA, from: d1, to: d2 });
    const first = await reports.teamSummary(admin, { teamId: teamA, from: d1, to: d1 });
    expect(first.totals?.activeMs).toBe([0, 1, 2, 3, 4, 5].reduce((n, i) => n + active(i), 0));
    expect((both.totals?.activeMs ?? 0) - (first.totals?.activeMs ?? 0)).toBe(0);
    expect((both.totals?.idleMs ?? 0) - (first.totals?.idleMs ?? 0)).toBe(0);
    const code = (s: typeof both) => s.topApps.find((x) => x.app === 'Code')?.activeMs ?? 0;
    expect(code(both) - code(first)).toBe(0);
    expect(both.days.find((d) => d.day === d2)?.hidden?.reason).toBe('too_few_people');
    expect(both.notes.join(' ')).not.toMatch(/still in the totals/);
    expect(both.notes.join(' ')).toMatch(/left out of every total/);
  });

  it('team trend: the week over D1..D2 minus the week over D1..D1 is zero, and the trend names D2 as left out', async () => {
    const { reports } = cloud.cloud.services;
    const both = await reports.teamTrend(admin, { teamId: teamA, from: d1, to: d2 });
    const first = await reports.teamTrend(admin, { teamId: teamA, from: d1, to: d1 });
    expect(both.weeks).toHaveLength(1);
    expect((both.weeks[0]?.figures?.activeMs ?? 0) - (first.weeks[0]?.figures?.activeMs ?? 0)).toBe(0);
    expect(both.weeks[0]?.leftOut).toEqual([{ teamId: teamA, day: d2, reason: 'too_few_people' }]);
  });

  it('org trend minus the team comparison does not give the two people without a team', async () => {
    const { reports } = cloud.cloud.services;
    const trend = await reports.orgTrend(admin, { from: d1, to: d2 });
    const cmp = await reports.teamComparison(admin, { from: d1, to: d2 });
    const orgTotal = trend.weeks.reduce((n, w) => n + (w.figures?.activeMs ?? 0), 0);
    const teamsTotal = cmp.teams.reduce((n, t) => n + (t.figures?.activeMs ?? 0), 0);
    const lonersTime = active(11) + active(12) + active(105) + active(106);
    expect(orgTotal - teamsTotal).not.toBe(lonersTime);
    expect(orgTotal - teamsTotal).toBe(0);
    expect(cmp.noTeam.hidden?.reason).toBe('too_few_people');
    expect(cmp.org.figures?.activeMs).toBe(orgTotal);
  });

  it('a past day re-read after the victim moved teams (CSV import) is unchanged: days keep the membership they had', async () => {
    const { reports, importer, directory } = cloud.cloud.services;
    const before = await reports.teamSummary(admin, { teamId: teamA, from: d1, to: d1 });
    const beforeB = await reports.teamSummary(admin, { teamId: teamB, from: d1, to: d1 });
    const victim = await directory.findUser(a[0] ?? '');
    await importer.importCsv({
      orgId: admin.orgId,
      actorUserId: admin.userId,
      text: `email,name,team\n${victim?.email},${victim?.name},Team B\n`,
      dryRun: false,
    });
    expect((await directory.findUser(a[0] ?? ''))?.teamId).toBe(teamB);
    // Past the reports' 5-second directory cache, so today's membership would be what they read.
    await new Promise((resolve) => setTimeout(resolve, 5_100));
    const after = await reports.teamSummary(admin, { teamId: teamA, from: d1, to: d1 });
    const afterB = await reports.teamSummary(admin, { teamId: teamB, from: d1, to: d1 });
    expect(after.totals).toEqual(before.totals);
    expect(after.people).toBe(6);
    expect(afterB.totals).toEqual(beforeB.totals);
    const history = await cloud.database.rows<{ team_id: string | null; valid_from: string | null; valid_to: string | null }>(
      sql`select team_id, valid_from::text, valid_to::text from team_memberships where user_id = ${a[0] ?? ''} order by valid_from nulls first`,
    );
    expect(history.map((h) => h.team_id)).toEqual([teamA, teamB]);
    expect(history[0]?.valid_to).toBe(history[1]?.valid_from);
  });
});
