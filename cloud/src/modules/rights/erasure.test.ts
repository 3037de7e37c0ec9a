import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy } from '../consent';
import { startSmtpServer, waitFor } from '../../../test/support/servers';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, json, makeSpans, type TestDevice } from '../../../test/support/device-client';

const PASSWORD = 'correct horse battery staple';

describe.each(testDatabaseKinds())('employee data rights on %s', (kind) => {
  let cloud: TestCloud;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let orgId: string;
  let otherOrgId: string;
  let teamId: string;
  const ids: Record<'alice' | 'bob' | 'manager' | 'carol', string> = { alice: '', bob: '', manager: '', carol: '' };
  const devices: Partial<Record<'alice' | 'bob' | 'carol', TestDevice>> = {};

  const spanCount = async (userId: string) =>
    (await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from spans where user_id = ${userId}`))[0]?.n ?? -1;
  const rollupMs = async (userId: string) =>
    Number(
      (await cloud.database.rows<{ ms: number | null }>(sql`select sum(active_ms)::float8 as ms from rollup_user_daily where user_id = ${userId}`))[0]?.ms ?? 0,
    );
  /** A user's or team's rollup rows per (day, category, productivity), sorted: the figures reports read. */
  const userRollup = async (userId: string) =>
    cloud.database.rows<{ day: string; category: string; productivity: string; active: number; idle: number; spans: number }>(sql`
      select to_char(day, 'YYYY-MM-DD') as day, category, productivity, sum(active_ms)::float8 as active, sum(idle_ms)::float8 as idle, sum(spans)::int as spans
      from rollup_user_daily where user_id = ${userId} group by 1, 2, 3 order by 1, 2, 3`);
  const teamRollup = async (id: string) =>
    cloud.database.rows<{ day: string; category: string; productivity: string; active: number; idle: number; spans: number }>(sql`
      select to_char(day, 'YYYY-MM-DD') as day, category, productivity, active_ms::float8 as active, idle_ms::float8 as idle, spans
      from rollup_team_daily where team_id = ${id} order by 1, 2, 3`);
  const orgDays = async (id: string) =>
    cloud.database.rows<{ day: string; active: number; idle: number; productive: number; spans: number }>(sql`
      select to_char(day, 'YYYY-MM-DD') as day, active_ms::float8 as active, idle_ms::float8 as idle, productive_ms::float8 as productive, spans
      from rollup_org_daily where org_id = ${id} order by 1`);
  /** The org-day figures one person's per-app rows add up to. */
  const orgDaysOf = async (userId: string) =>
    cloud.database.rows<{ day: string; active: number; idle: number; productive: number; spans: number }>(sql`
      select to_char(day, 'YYYY-MM-DD') as day, sum(active_ms)::float8 as active, sum(idle_ms)::float8 as idle,
             coalesce(sum(active_ms) filter (where productivity = 'productive'), 0)::float8 as productive, sum(spans)::int as spans
      from rollup_user_daily where user_id = ${userId} group by 1 order by 1`);
  const weekRows = async (userId: string) =>
    (await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from rollup_user_weeks where user_id = ${userId}`))[0]?.n ?? -1;
  const presenceDays = async (userId: string) =>
    (await cloud.database.rows<{ day: string }>(sql`select to_char(day, 'YYYY-MM-DD') as day from rollup_user_days where user_id = ${userId} order by 1`)).map(
      (r) => r.day,
    );
  const bearer = (d: TestDevice | undefined) => ({ authorization: `Bearer ${d?.accessToken ?? ''}` });

  beforeAll(async () => {
    smtp = await startSmtpServer();
    cloud = await startTestCloud(kind, { SMTP_URL: smtp.url, NOTIFY_POLL_MS: '50' });
    const { directory, consent } = cloud.cloud.services;
    orgId = cloud.bootstrap.orgId;
    teamId = (await directory.createTeam(orgId, 'Sales')).id;
    const person = async (name: 'alice' | 'bob' | 'manager', role: 'employee' | 'manager') =>
      (ids[name] = (await directory.createUser({ orgId, email: `${name}@rights.test`, name, role, osUser: name, teamId, password: PASSWORD })).id);
    await person('alice', 'employee');
    await person('bob', 'employee');
    await person('manager', 'manager');
    await cloud.database.rows(sql`insert into team_managers (team_id, user_id) values (${teamId}, ${ids.manager})`);
    // Titles stored (sealed at rest), so "see own data" has something to decrypt.
    const withTitles = defaultPolicy('Demo Org');
    withTitles.scopes.push({ scope: 'window_titles', purpose: 'Window titles, to tell documents apart.', legalBasis: 'consent' });
    withTitles.titleMode = 'full';
    await consent.publish(orgId, withTitles, { type: 'system', id: 'test' });
    // Another org with its own person, device and spans: erasure in org A must not touch it.
    const other = await directory.createOrg({ name: 'Other', timeZone: 'UTC' });
    otherOrgId = other.id;
    ids.carol = (await directory.createUser({ orgId: other.id, email: 'carol@other.test', name: 'carol', role: 'employee', osUser: 'carol' })).id;
    await consent.publish(other.id, defaultPolicy('Other'), { type: 'system', id: 'test' });
    const token = await cloud.tokenFor(ids.carol, other.id);
    devices.carol = await createTestDevice(cloud.fetchPath, cloud.url, token, 'carol');
    devices.alice = await createTestDevice(cloud.fetchPath, cloud.url, await cloud.tokenFor(ids.alice), 'alice');
    devices.bob = await createTestDevice(cloud.fetchPath, cloud.url, await cloud.tokenFor(ids.bob), 'bob');
    for (const [name, d] of Object.entries(devices)) {
      const scopes = name === 'carol' ? (['app_usage'] as const) : (['app_usage', 'window_titles'] as const);
      expect((await d.consent([...scopes])).status).toBe(201);
      expect((await d.ingest(makeSpans(6, name === 'carol' ? {} : { title: 'Quarterly plan.odt' }))).status).toBe(200);
    }
    await cloud.cloud.services.analytics.flush();
  });
  afterAll(async () => {
    await cloud?.stopAll();
    await smtp?.close();
  });

  it("lists a manager's report view of the person under who viewed my data", async () => {
    const { auth } = cloud.cloud.services;
    const signed = await auth.signInWithPassword({ email: 'manager@rights.test', password: PASSWORD });
    const view = await cloud.fetchPath(`/api/reports/team-summary?teamId=${teamId}`, { headers: { cookie: `icarus_session=${signed.token}` } });
    expect(view.status).toBe(200);
    const response = await cloud.fetchPath('/v1/me/viewers', { headers: bearer(devices.alice) });
    expect(response.status).toBe(200);
    const { viewers } = (await response.json()) as { viewers: { action: string; actor: { id: string; role: string } }[] };
    expect(viewers).toContainEqual(
      expect.objectContaining({ action: 'report.team_summary.viewed', actor: expect.objectContaining({ id: ids.manager, role: 'manager' }) }),
    );
    // The same list on the web, for the person signed in.
    const alice = await auth.signInWithPassword({ email: 'alice@rights.test', password: PASSWORD });
    const web = await cloud.fetchPath('/api/me/viewers', { headers: { cookie: `icarus_session=${alice.token}` } });
    expect(((await web.json()) as { viewers: unknown[] }).viewers).toHaveLength(viewers.length);
  });

  it('shows and exports the own spans with readable titles, as JSON and CSV', async () => {
    const own = (await (
      await cloud.fetchPath(`/v1/me/spans?to=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`, { headers: bearer(devices.alice) })
    ).json()) as { spans: { title: string; app: string }[] };
    expect(own.spans).toHaveLength(6);
    expect(own.spans[0]).toMatchObject({ app: 'Code', title: 'Quarterly plan.odt' });
    const exported = (await (await cloud.fetchPath('/v1/me/export?format=json', { headers: bearer(devices.alice) })).json()) as {
      person: { userId: string };
      spans: unknown[];
    };
    expect(exported.person.userId).toBe(ids.alice);
    expect(exported.spans).toHaveLength(6);
    const csv = await cloud.fetchPath('/v1/me/export?format=csv', { headers: bearer(devices.alice) });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('id,start,durationMs,app,title,idle,deviceId');
    expect(lines).toHaveLength(7);
    expect((await cloud.fetchPath('/v1/me/export?format=xml', { headers: bearer(devices.alice) })).status).toBe(400);
  });

  it('erases spans and rollup contributions, keeps the audit trail, confirms, and leaves others untouched', async () => {
    const { rights, analytics } = cloud.cloud.services;
    // Rollups of a day 120 days back whose raw spans retention has since dropped: stored, rolled
    // up, then removed as retention removes them. Erasure must still take alice's share out.
    const longAgo = new Date(Date.now() - 120 * 86_400_000);
    const { timeZone: zoneOfOrg } = await analytics.orgCalendar(orgId);
    const longAgoDay = new Intl.DateTimeFormat('en-CA', { timeZone: zoneOfOrg, year: 'numeric', month: '2-digit', day: '2-digit' }).format(longAgo);
    for (const [userId, n] of [
      [ids.alice, 3],
      [ids.bob, 2],
    ] as const) {
      for (let i = 0; i < n; i++) {
        await cloud.database.rows(sql`insert into spans (id, start, org_id, device_id, user_id, duration_ms, app, idle)
          values (${crypto.randomUUID()}, ${new Date(longAgo.getTime() + i * 1000).toISOString()}, ${orgId}, ${crypto.randomUUID()}, ${userId}, 700, 'Slack', false)`);
      }
    }
    await analytics.rebuild(orgId, longAgoDay, longAgoDay);
    await cloud.database.rows(sql`delete from spans where org_id = ${orgId} and start < ${new Date(Date.now() - 100 * 86_400_000).toISOString()}`);
    const { timeZone } = await analytics.orgCalendar(orgId);
    const oldDay = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(longAgo);
    const aliceDays = await presenceDays(ids.alice);
    expect(aliceDays).toContain(oldDay);
    const bobRows = await userRollup(ids.bob);
    const teamBefore = await teamRollup(teamId);
    // Before: the team rows hold both people (so the check below shows alice's share leaving).
    expect(teamBefore.filter((r) => r.day === oldDay)).toEqual([{ day: oldDay, category: 'Chat', productivity: 'neutral', active: 3500, idle: 0, spans: 5 }]);
    expect((await orgDays(orgId)).find((r) => r.day === oldDay)).toEqual({ day: oldDay, active: 3500, idle: 0, productive: 0, spans: 5 });
    expect(await weekRows(ids.alice)).toBeGreaterThan(0);
    const otherOrgBefore = await orgDays(otherOrgId);
    const bobBefore = await rollupMs(ids.bob);
    expect(await rollupMs(ids.alice)).toBeGreaterThan(0);
    const response = await cloud.fetchPath('/v1/me/erasure', json({ eraseLocal: true }, bearer(devices.alice)));
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    await rights.idle();

    expect(await spanCount(ids.alice)).toBe(0);
    expect(await rollupMs(ids.alice)).toBe(0);
    expect(await spanCount(ids.bob)).toBe(6);
    expect(await rollupMs(ids.bob)).toBe(bobBefore);
    expect(await spanCount(ids.carol)).toBe(6);
    // Nothing of alice in any rollup, on any day (the old one too); bob's rows as they were, and
    // the team's rows now exactly his (he is its only other person with activity).
    expect(await userRollup(ids.alice)).toEqual([]);
    expect(await presenceDays(ids.alice)).toEqual([]);
    expect(await userRollup(ids.bob)).toEqual(bobRows);
    expect(await teamRollup(teamId)).toEqual(bobRows);
    expect(await teamRollup(teamId)).not.toEqual(teamBefore);
    expect(await weekRows(ids.alice)).toBe(0);
    expect(await weekRows(ids.bob)).toBeGreaterThan(0);
    expect(await orgDays(orgId)).toEqual(await orgDaysOf(ids.bob));
    expect(await orgDays(otherOrgId)).toEqual(otherOrgBefore);
    const { today } = await analytics.orgCalendar(orgId);
    // Rollups equal the raw spans afterwards: the consistency check finds nothing to repair.
    expect((await analytics.checkConsistency(orgId, today, today)).repairedDays).toEqual([]);
    expect((await analytics.checkConsistency(otherOrgId, today, today)).repairedDays).toEqual([]);

    const trail = await cloud.database.rows<{ action: string; details: unknown }>(
      sql`select action, details from audit_log where org_id = ${orgId} and action like 'rights.erasure.%' and subject_user_ids @> ${JSON.stringify([ids.alice])}::jsonb order by seq`,
    );
    expect(trail.map((t) => t.action)).toEqual(['rights.erasure.requested', 'rights.erasure.completed']);
    expect(JSON.stringify(trail)).not.toMatch(/Quarterly|Code/);
    expect(JSON.stringify(trail[1]?.details)).toContain('"spansRemoved":6');
    expect(JSON.stringify(trail[1]?.details)).toContain(`"rollupDaysErased":${aliceDays.length}`);

    const mail = await waitFor(() => smtp.mails.find((m) => m.subject === 'Your data was erased'));
    expect(mail.to).toEqual(['alice@rights.test']);
    await waitFor(
      async () =>
        (
          await cloud.database.rows<{ n: number }>(
            sql`select count(*)::int as n from notification_outbox where event = 'erasure.completed' and status = 'delivered'`,
          )
        )[0]?.n === 2,
    );
    const sync = (await (await devices.alice?.ingest([]))?.json()) as { directives: { type: string }[] };
    expect(sync.directives.map((d) => d.type)).toEqual(expect.arrayContaining(['erase_local', 'message']));

    const listed = (await (await cloud.fetchPath('/v1/me/erasures', { headers: bearer(devices.alice) })).json()) as {
      erasures: { id: string; state: string; spansRemoved: number }[];
    };
    expect(listed.erasures[0]).toMatchObject({ id, state: 'completed', spansRemoved: 6 });
  });
});
