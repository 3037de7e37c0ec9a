import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPeople, noonDaysAgo, record, type ActivePerson } from '../../../test/support/activity';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { PASSWORD } from '../../../test/support/people';
import { defaultPolicy } from '../consent';
import { REPORT_PATHS } from './routes';

/** Setting up dozens of devices and sessions: minutes when the shared machine is busy. */
const SETUP_MS = 240_000;

const HOUR = 3_600_000;
const MIN = 60_000;
const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Who may read which report, over HTTP with real sessions: a manager only their own teams,
 * a person's detail only with that person's own current consent, and the team CSV pooling
 * small apps exactly as the team summary does.
 */
describe.each(testDatabaseKinds())('report access on %s', (kind) => {
  let cloud: TestCloud;
  const teams = { mine: '', theirs: '', studio: '' };
  let mine: ActivePerson[];
  let theirs: ActivePerson[];
  let studio: ActivePerson[];
  let managerId = '';
  const sessions: Record<'manager', Record<string, string>> = { manager: {} };
  const workday = day(noonDaysAgo(3));
  const studioDay = day(noonDaysAgo(4));
  const range = `from=${day(noonDaysAgo(6))}&to=${day(noonDaysAgo(1))}`;

  async function signIn(email: string): Promise<Record<string, string>> {
    const started = await cloud.cloud.services.auth.signInWithPassword({ email, password: PASSWORD });
    return { cookie: `icarus_session=${started.token}`, 'x-csrf-token': started.session.csrfSecret };
  }
  const get = (who: 'manager', path: string) => cloud.cloud.app.request(path, { headers: sessions[who] });
  const reportAudits = async (actorId: string) =>
    (await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from audit_log where actor_id = ${actorId} and action like 'report.%'`))[0]?.n ??
    -1;

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    const { directory, consent } = cloud.cloud.services;
    const { orgId } = cloud.bootstrap;
    for (const key of ['mine', 'theirs', 'studio'] as const) teams[key] = (await directory.createTeam(orgId, `Team ${key}`)).id;
    const consentFrom = noonDaysAgo(10);
    mine = await addPeople(cloud, { teamId: teams.mine, count: 5, consentFrom });
    theirs = await addPeople(cloud, { teamId: teams.theirs, count: 5, consentFrom });
    studio = await addPeople(cloud, { teamId: teams.studio, count: 6, consentFrom });
    await record(cloud, [...mine, ...theirs], [{ at: noonDaysAgo(3), ms: HOUR }]);

    // Studio, one day: all six in Code, five in Slack, two of those five in Figma.
    const at = noonDaysAgo(4);
    await record(cloud, studio, [{ at, ms: HOUR, app: 'Code' }]);
    await record(cloud, studio.slice(0, 5), [{ at: new Date(at.getTime() + HOUR), ms: 20 * MIN, app: 'Slack' }]);
    await record(cloud, studio.slice(0, 2), [{ at: new Date(at.getTime() + 2 * HOUR), ms: 10 * MIN, app: 'Figma' }]);

    const manager = await directory.createUser({ orgId, email: 'lead@access.test', name: 'Lead', role: 'manager', teamId: teams.mine, password: PASSWORD });
    managerId = manager.id;
    await cloud.database.rows(sql`insert into team_managers (team_id, user_id) values (${teams.mine}, ${manager.id})`);
    sessions.manager = await signIn('lead@access.test');

    const org = await directory.findOrg(orgId);
    await consent.publish(orgId, { ...defaultPolicy(org?.name ?? 'Org'), managersSeeIndividuals: true }, { type: 'system', id: 'test' });
  }, SETUP_MS);
  afterAll(async () => cloud?.stopAll());

  it('a manager reads their own team, and every report of a team they do not manage is refused with no view audited', async () => {
    const own = await get('manager', `${REPORT_PATHS.teamSummary}?teamId=${teams.mine}&${range}`);
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ people: 5, hidden: null });
    expect(await reportAudits(managerId)).toBe(1);

    const foreign = [
      `${REPORT_PATHS.teamSummary}?teamId=${teams.theirs}&${range}`,
      `${REPORT_PATHS.teamTrend}?teamId=${teams.theirs}&${range}`,
      `${REPORT_PATHS.exportCsv}?teamId=${teams.theirs}&level=team&${range}`,
      `${REPORT_PATHS.exportCsv}?teamId=${teams.theirs}&level=person&${range}`,
      `${REPORT_PATHS.teamComparison}?${range}`,
      `${REPORT_PATHS.orgTrend}?${range}`,
      `${REPORT_PATHS.person}?userId=${theirs[0]?.userId}&${range}`,
    ];
    const refused: string[] = [];
    for (const path of foreign) {
      const response = await get('manager', path);
      const text = await response.text();
      if (response.status !== 403) refused.push(`${path}: ${response.status} ${text.slice(0, 120)}`);
      for (const p of theirs) expect(text).not.toContain(p.userId);
    }
    expect(refused).toEqual([]);
    expect(await reportAudits(managerId)).toBe(1);
  });

  it('person detail and the person-level CSV need the person\u2019s own current app-usage consent, not only the policy', async () => {
    const [granted, withdrawn, declined] = mine;
    if (!granted || !withdrawn || !declined) throw new Error('three people expected');
    const detail = (userId: string) => get('manager', `${REPORT_PATHS.person}?userId=${userId}&${range}`);
    const personCsv = async () => {
      const csv = await get('manager', `${REPORT_PATHS.exportCsv}?teamId=${teams.mine}&level=person&${range}`);
      expect(csv.status).toBe(200);
      return (await csv.text()).trim().split('\r\n').slice(1);
    };
    // Everyone in the team shown one by one: nothing is kept back.
    expect(await (await detail(granted.userId)).json()).toMatchObject({ totals: { activeMs: HOUR }, withheldDays: [] });
    expect(new Set((await personCsv()).map((r) => r.split(',')[2])).has(granted.email)).toBe(true);

    expect((await withdrawn.device.consent(['app_usage'], 'withdrawn')).status).toBe(201);
    expect((await declined.device.consent([], 'declined')).status).toBe(201);
    const ok = await detail(granted.userId);
    expect(ok.status).toBe(200);
    // Now two of the five are not shown: the team's total minus the three shown would be exactly
    // those two people's time, so the three keep that day back (the team summary still shows it).
    expect(await ok.json()).toMatchObject({ person: { id: granted.userId }, totals: { activeMs: 0 }, withheldDays: [workday], days: [] });
    const before = await reportAudits(managerId);
    for (const person of [withdrawn, declined]) {
      const refused = await detail(person.userId);
      expect(refused.status).toBe(403);
      expect(await refused.text()).toMatch(/not granted app usage/);
    }
    expect(await reportAudits(managerId)).toBe(before);

    const rows = await personCsv();
    const emails = new Set(rows.map((r) => r.split(',')[2]));
    expect(emails.has(withdrawn.email)).toBe(false);
    expect(emails.has(declined.email)).toBe(false);
    expect(rows.filter((r) => r.startsWith(workday))).toEqual([]);
    const audited = await cloud.database.rows<{ subject_user_ids: string[] }>(
      sql`select subject_user_ids from audit_log where actor_id = ${managerId} and action = 'report.csv.exported' order by seq desc limit 1`,
    );
    expect(audited[0]?.subject_user_ids).not.toContain(withdrawn.userId);
    expect(audited[0]?.subject_user_ids).not.toContain(declined.userId);
    const summary = (await (await get('manager', `${REPORT_PATHS.teamSummary}?teamId=${teams.mine}&${range}`)).json()) as { people: number };
    expect(summary.people).toBe(5);
  });

  it('the team CSV pools small apps into one row exactly as the team summary pools them', async () => {
    // As the demo admin, through the services the routes call (an admin session needs TOTP).
    const { reports, exportCsv } = cloud.cloud.services;
    const user = await cloud.demoAdmin();
    const q = { teamId: teams.studio, from: studioDay, to: studioDay };
    const summary = await reports.teamSummary(user, q);
    // Figma (2 people) is too small; Slack (5) alone would reveal it by subtraction, so both pool.
    expect(summary.topApps.map((a) => a.app)).toEqual(['Code']);
    expect(summary.otherApps).toEqual({ apps: 2, activeMs: 5 * 20 * MIN + 2 * 10 * MIN });

    const { body } = await exportCsv(user, { ...q, level: 'team' });
    const lines = (await new Response(body).text())
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const shown = lines.filter((l) => l[1] !== '(other apps)').map((l) => l[1]);
    expect(shown).toEqual(summary.topApps.map((a) => a.app));
    const other = lines.find((l) => l[1] === '(other apps)');
    expect(other).toBeDefined();
    expect(Number(other?.[4])).toBe(5);
    expect(Number(other?.[5])).toBe(summary.otherApps?.activeMs);
    expect(lines.reduce((n, l) => n + Number(l[5]), 0)).toBe(summary.totals?.activeMs);
    expect(studio).toHaveLength(6);
  });
});
