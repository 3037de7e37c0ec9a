import { addDays as dayAdd } from '@icarus/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignedInUser } from '../../platform/env';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { seedRollups, type SeedPersonDay } from '../../../test/support/rollups';
import { mondayOf } from './cells';

const H = 3_600_000;

/**
 * What a manager reads first: this period against the previous one, per-person averages,
 * meeting load, highlights, drill-down below a team, and suppression that says how many people
 * of how many were needed. Seeded rollups with known figures, through the real service.
 */
describe.each(testDatabaseKinds())('team insights on %s', (kind) => {
  let cloud: TestCloud;
  let admin: SignedInUser;
  let team = '';
  let pilot = '';
  /** Two whole weeks: the previous (5 people, 6 h a day, 1 h of meetings) and this one (6 people, 7 h, 2 h of meetings). */
  let week = { from: '', to: '' };
  let previous = { from: '', to: '' };

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    const { directory, analytics } = cloud.cloud.services;
    const { orgId } = cloud.bootstrap;
    admin = await cloud.demoAdmin();
    team = (await directory.createTeam(orgId, 'Insights')).id;
    pilot = (await directory.createTeam(orgId, 'Pilot')).id;
    const people: string[] = [];
    for (let i = 0; i < 6; i++)
      people.push((await directory.createUser({ orgId, email: `i${i}@insights.test`, name: `I ${i}`, role: 'employee', teamId: team })).id);
    const pilots: string[] = [];
    for (let i = 0; i < 3; i++)
      pilots.push((await directory.createUser({ orgId, email: `p${i}@insights.test`, name: `P ${i}`, role: 'employee', teamId: pilot })).id);
    const today = (await analytics.orgCalendar(orgId)).today;
    const monday = dayAdd(mondayOf(today), -14);
    week = { from: monday, to: dayAdd(monday, 6) };
    previous = { from: dayAdd(monday, -7), to: dayAdd(monday, -1) };
    const rows: SeedPersonDay[] = [];
    for (let d = 0; d < 5; d++) {
      people.slice(0, 5).forEach((userId) =>
        rows.push({
          userId,
          teamId: team,
          day: dayAdd(previous.from, d),
          apps: [
            { app: 'Code', activeMs: 5 * H },
            { app: 'zoom', category: 'Meetings', productivity: 'neutral', activeMs: 1 * H },
          ],
        }),
      );
      people.forEach((userId) =>
        rows.push({
          userId,
          teamId: team,
          day: dayAdd(week.from, d),
          apps: [
            { app: 'Code', activeMs: 5 * H, idleMs: H },
            { app: 'zoom', category: 'Meetings', productivity: 'neutral', activeMs: 2 * H },
          ],
        }),
      );
      pilots.forEach((userId) => rows.push({ userId, teamId: pilot, day: dayAdd(week.from, d), apps: [{ app: 'Code', activeMs: H }] }));
    }
    // Saturday of this week: 2 people, below the minimum of 5.
    people.slice(0, 2).forEach((userId) => rows.push({ userId, teamId: team, day: dayAdd(week.from, 5), apps: [{ app: 'Code', activeMs: H }] }));
    await seedRollups(cloud.database, orgId, rows);
  });
  afterAll(async () => cloud?.stopAll());

  it('compares the period with the previous one of the same length, per person per day, with meeting load and highlights', async () => {
    const s = await cloud.cloud.services.reports.teamSummary(admin, { teamId: team, ...week });
    expect(s.status).toBe('shown');
    expect(s.perPerson).toEqual({ personDays: 30, activeMsPerPerson: 35 * H, activeMsPerPersonDay: 7 * H, idleMsPerPersonDay: H });
    expect(s.meetings?.activeMs).toBe(60 * H);
    expect(s.previous?.range).toEqual(previous);
    expect(s.previous?.people).toBe(5);
    expect(s.previous?.perPerson?.activeMsPerPersonDay).toBe(6 * H);
    expect(s.highlights).toContain('Active time per person per day: 7.0 h, up 17 % from 6.0 h in the previous period.');
    expect(s.highlights).toContain('Productive share: 71 %, down 12 points from 83 %.');
    expect(s.highlights).toContain('Meetings: 29 % of active time, up 12 points from 17 %.');
    expect(s.highlights).toContain('1 day is hidden (fewer than 5 people active) and in no figure.');
  });

  it('says how many people of how many a hidden day and a hidden team had, and a day without activity is no activity', async () => {
    const s = await cloud.cloud.services.reports.teamSummary(admin, { teamId: team, ...week });
    const saturday = s.days.find((d) => d.day === dayAdd(week.from, 5));
    const sunday = s.days.find((d) => d.day === dayAdd(week.from, 6));
    expect(saturday).toMatchObject({ state: 'hidden', figures: null, hidden: { reason: 'too_few_people', people: 2, needed: 5 } });
    expect(saturday?.hidden?.explanation).toMatch(/^Hidden: 2 of 5 people needed\./);
    expect(sunday).toMatchObject({ state: 'no_activity', hidden: null });

    const p = await cloud.cloud.services.reports.teamSummary(admin, { teamId: pilot, ...week });
    expect(p.status).toBe('hidden');
    expect(p.hidden).toMatchObject({ people: 3, needed: 5 });
    expect(p.hidden?.explanation).toMatch(/^Hidden: 3 of 5 people needed\./);
    expect(p.totals).toBeNull();

    const future = await cloud.cloud.services.reports.teamSummary(admin, { teamId: team, from: dayAdd(week.to, 30), to: dayAdd(week.to, 40) });
    expect(future.status).toBe('no_activity');
    expect(future.hidden).toBeNull();
  });

  it('drills down to a category’s apps and each app’s days, from passing days only', async () => {
    const apps = await cloud.cloud.services.reports.teamApps(admin, { teamId: team, category: 'Meetings', ...week });
    expect(apps.apps.map((a) => [a.app, a.activeMs])).toEqual([['zoom', 60 * H]]);
    const days = apps.apps[0]?.days ?? [];
    expect(days.map((d) => d.activeMs)).toEqual([12 * H, 12 * H, 12 * H, 12 * H, 12 * H, null, null]);
    const all = await cloud.cloud.services.reports.teamApps(admin, { teamId: team, ...week });
    // The Saturday of 2 people is in no figure: Code is the weekdays' 30 person-days of 5 h.
    expect(all.apps.find((a) => a.app === 'Code')?.activeMs).toBe(150 * H);
    const hidden = await cloud.cloud.services.reports.teamApps(admin, { teamId: pilot, ...week });
    expect(hidden).toMatchObject({ status: 'hidden', apps: [], hidden: { people: 3, needed: 5 } });
  });

  it('lists no one by name when the policy allows no individual view', async () => {
    const people = await cloud.cloud.services.reports.teamPeople(admin, { teamId: team });
    expect(people).toMatchObject({ individualViews: false, people: [], notListed: 6 });
    expect(people.explanation).toContain('does not let managers see individuals');
  });

  it('refuses a reversed range and one over 366 days in words that say what to do', async () => {
    const reports = cloud.cloud.services.reports;
    await expect(reports.teamSummary(admin, { teamId: team, from: week.to, to: week.from })).rejects.toThrow(
      `The range is reversed: it starts on ${week.to}, after its end on ${week.from}. Choose a start on or before the end.`,
    );
    await expect(reports.teamSummary(admin, { teamId: team, from: '2024-01-01', to: '2025-06-01' })).rejects.toThrow(
      'The range 2024-01-01 to 2025-06-01 is 518 days; a report covers at most 366 days. Choose a shorter range.',
    );
  });
});
