import { addDays } from '@icarus/shared';
import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignedInUser } from '../../platform/env';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice } from '../../../test/support/device-client';
import { defaultPolicy } from '../consent';
import { backdateDevice } from '../../../test/support/backdate';

describe.each(testDatabaseKinds())('reports on %s', (kind) => {
  let cloud: TestCloud;
  let admin: SignedInUser;
  const teams: Record<'five' | 'four', { id: string; people: string[] }> = { five: { id: '', people: [] }, four: { id: '', people: [] } };
  let today: string;
  /** Spans start a little after now, which may be tomorrow in the org's zone. */
  const range = () => ({ from: addDays(today, -1), to: addDays(today, 1) });

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    const { directory, ingestion, analytics } = cloud.cloud.services;
    const { orgId } = cloud.bootstrap;
    admin = await cloud.demoAdmin();
    let n = 0;
    for (const [key, size] of [
      ['five', 5],
      ['four', 4],
    ] as const) {
      const team = await directory.createTeam(orgId, `Team ${key}`);
      teams[key].id = team.id;
      for (let i = 0; i < size; i++) {
        const os = `user${n++}`;
        const user = await directory.createUser({ orgId, email: `${os}@t.test`, name: `Person ${os}`, role: 'employee', osUser: os, teamId: team.id });
        teams[key].people.push(user.id);
        const device = await createTestDevice(cloud.fetchPath, cloud.url, await cloud.tokenFor(user.id), os);
        expect((await device.consent(['app_usage', 'idle'])).status).toBe(201);
        // Enrolled and consenting an hour ago: spans before that would be refused, and so would
        // spans not ended yet.
        await backdateDevice(cloud, device.deviceId, new Date(Date.now() - 3_600_000));
        const start = Date.now() - 25 * 60_000;
        const spans = [
          { id: uuidv7(), start: new Date(start + 1000).toISOString(), durationMs: 600_000, app: 'Code' },
          { id: uuidv7(), start: new Date(start + 700_000).toISOString(), durationMs: 300_000, app: 'mystery-tool' },
          { id: uuidv7(), start: new Date(start + 1_100_000).toISOString(), durationMs: 120_000, app: 'Slack', idle: true as const },
        ];
        await ingestion.ingest(await cloud.cloud.services.devices.requireActive(device.deviceId), { batchId: uuidv7(), spans });
      }
    }
    await analytics.flush();
    today = (await analytics.orgCalendar(orgId)).today;
  });
  afterAll(async () => cloud?.stopAll());

  const auditRows = (action: string) =>
    cloud.database.rows<{ subject_user_ids: string[]; actor_id: string }>(
      sql`select subject_user_ids, actor_id from audit_log where action = ${action} order by seq`,
    );

  it('shows a team of 5 and audits whose data the view read', async () => {
    const summary = await cloud.cloud.services.reports.teamSummary(admin, { teamId: teams.five.id, ...range() });
    expect(summary.hidden).toBeNull();
    expect(summary.people).toBe(5);
    expect(summary.totals?.activeMs).toBeGreaterThanOrEqual(5 * 900_000 - 1);
    expect(summary.topApps.map((a) => a.app)).toContain('Code');
    const rows = await auditRows('report.team_summary.viewed');
    expect(rows.at(-1)?.actor_id).toBe(admin.userId);
    expect([...(rows.at(-1)?.subject_user_ids ?? [])].sort()).toEqual([...teams.five.people].sort());
  });

  it('hides a team of 4 with an explanation and no numbers', async () => {
    const summary = await cloud.cloud.services.reports.teamSummary(admin, { teamId: teams.four.id, ...range() });
    expect(summary.hidden?.reason).toBe('too_few_people');
    expect(summary.hidden?.explanation).toMatch(/minimum group size/);
    expect(summary.totals).toBeNull();
    expect(summary.days).toEqual([]);
  });

  it('compares teams from passing cells only: the org total leaves out the hidden team of 4, so org minus teams reveals nothing', async () => {
    const cmp = await cloud.cloud.services.reports.teamComparison(admin, range());
    const byId = new Map(cmp.teams.map((t) => [t.id, t]));
    expect(byId.get(teams.four.id)?.hidden?.reason).toBe('too_few_people');
    expect(byId.get(teams.five.id)?.people).toBe(5);
    expect(cmp.org.people).toBe(5);
    expect(cmp.org.figures).toEqual(byId.get(teams.five.id)?.figures);
    expect(cmp.leftOut.length).toBeGreaterThan(0);
    expect(cmp.leftOut.every((c) => c.teamId === teams.four.id && c.reason === 'too_few_people')).toBe(true);
  });

  it('exports CSV with a header and team rows of at least k people, audited; person level refused by the default policy', async () => {
    const { body } = await cloud.cloud.services.exportCsv(admin, { teamId: teams.five.id, level: 'team', ...range() });
    const text = await new Response(body).text();
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe('day,app,category,productivity,people,active_ms,idle_ms,spans');
    expect(lines.slice(1).some((l) => l.includes(',Code,Development,productive,5,3000000,0,5'))).toBe(true);
    expect(lines.slice(1).every((l) => Number(l.split(',')[4]) >= 5)).toBe(true);
    expect((await auditRows('report.csv.exported')).length).toBe(1);
    await expect(cloud.cloud.services.exportCsv(admin, { teamId: teams.five.id, level: 'person', ...range() })).rejects.toThrow(/policy/);
    await expect(cloud.cloud.services.reports.personDetail(admin, { userId: teams.five.people[0] ?? '' })).rejects.toThrow(/policy/);
  });

  it('answers an export whose first read fails with an error, never a 200 with a header and nothing after', async () => {
    const { exportCsv } = cloud.cloud.services;
    await cloud.database.rows(sql`alter table rollup_user_daily rename to rollup_user_daily_away`);
    try {
      await expect(exportCsv(admin, { teamId: teams.five.id, level: 'team', ...range() })).rejects.toThrow(/rollup_user_daily/);
    } finally {
      await cloud.database.rows(sql`alter table rollup_user_daily_away rename to rollup_user_daily`);
    }
    const { body } = await exportCsv(admin, { teamId: teams.five.id, level: 'team', ...range() });
    expect((await new Response(body).text()).split('\r\n').length).toBeGreaterThan(2);
  });

  it('exports the whole org per person for an admin only, never org-wide sums', async () => {
    const { exportCsv, consent, directory } = cloud.cloud.services;
    const manager: SignedInUser = { ...admin, role: 'manager', managedTeamIds: [teams.five.id] };
    await expect(exportCsv(manager, { level: 'person', ...range() })).rejects.toThrow(/role admin/);
    await expect(exportCsv(admin, { level: 'team', ...range() })).rejects.toThrow(/team-level sums need a team/);
    await expect(exportCsv(admin, { level: 'person', ...range() })).rejects.toThrow(/policy/);
    const org = await directory.findOrg(admin.orgId);
    await consent.publish(admin.orgId, { ...defaultPolicy(org?.name ?? 'Org'), managersSeeIndividuals: true }, { type: 'system', id: 'test' });
    const { body, filename } = await exportCsv(admin, { level: 'person', ...range() });
    expect(filename).toMatch(/^organisation-/);
    const lines = (await new Response(body).text()).trim().split('\r\n');
    expect(lines[0]).toBe('day,person,email,app,category,productivity,active_ms,idle_ms,spans');
    const everyone = [...teams.five.people, ...teams.four.people];
    // Three apps per person, all on one or two days in the org's zone.
    expect(new Set(lines.slice(1).map((l) => l.split(',')[2])).size).toBe(everyone.length);
    const audited = (await auditRows('report.csv.exported')).at(-1);
    expect([...(audited?.subject_user_ids ?? [])].sort()).toEqual([...everyone].sort());
  });

  it('recomputes rollups in the background when category rules change', async () => {
    const { analytics, reports } = cloud.cloud.services;
    const before = await reports.teamSummary(admin, { teamId: teams.five.id, ...range() });
    expect(before.categories.map((c) => c.category)).toContain('Uncategorized');
    await analytics.setRules(admin.orgId, [{ app: '^mystery-tool$', category: 'Research', productivity: 'productive' }], admin.userId);
    await analytics.idle();
    const after = await reports.teamSummary(admin, { teamId: teams.five.id, ...range() });
    expect(after.categories.map((c) => c.category)).toContain('Research');
    expect(after.categories.map((c) => c.category)).not.toContain('Uncategorized');
    expect(after.totals?.productiveShare).toBeCloseTo(1, 5);
  });
});
