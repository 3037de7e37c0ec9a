import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignedInUser } from '../../platform/env';
import { addPeople, DAY_MS, type ActivePerson } from '../../../test/support/activity';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { defaultPolicy } from '../consent';

/** Setting up devices and decisions: minutes when the shared machine is busy. */
const SETUP_MS = 240_000;

/**
 * Consent coverage and device health over one demo org where each person decided
 * differently and each device is in a different state.
 */
describe.each(testDatabaseKinds())('compliance reports on %s', (kind) => {
  let cloud: TestCloud;
  let admin: SignedInUser;
  const who: Record<'granted' | 'withdrawn' | 'declined' | 'onNewVersion' | 'undecided', string> = {
    granted: '',
    withdrawn: '',
    declined: '',
    onNewVersion: '',
    undecided: '',
  };
  const device: Record<'fresh' | 'stale' | 'revoked' | 'recent', string> = { fresh: '', stale: '', revoked: '', recent: '' };

  const seen = (deviceId: string, at: Date) =>
    cloud.database.rows(sql`update devices set last_seen_at = ${at.toISOString()}::timestamptz where id = ${deviceId}`);
  const lastAudit = async (action: string) =>
    (
      await cloud.database.rows<{ actor_id: string; subject_user_ids: string[] }>(
        sql`select actor_id, subject_user_ids from audit_log where action = ${action} order by seq desc limit 1`,
      )
    )[0];

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    const { directory, consent, devices } = cloud.cloud.services;
    const { orgId } = cloud.bootstrap;
    admin = await cloud.demoAdmin();
    const team = await directory.createTeam(orgId, 'Ops');
    const [granted, withdrawn, declined] = await addPeople(cloud, { teamId: team.id, count: 3 });
    if (!granted || !withdrawn || !declined) throw new Error('three people expected');
    expect((await withdrawn.device.consent([], 'withdrawn')).status).toBe(201);
    expect((await declined.device.consent([], 'declined')).status).toBe(201);
    const org = await directory.findOrg(orgId);
    await consent.publish(orgId, { ...defaultPolicy(org?.name ?? 'Org'), purpose: 'Version two, same scopes.' }, { type: 'system', id: 'test' });
    const [onNewVersion] = await addPeople(cloud, { teamId: team.id, count: 1, scopes: ['app_usage'] });
    const undecided = await directory.createUser({ orgId, email: 'undecided@coverage.test', name: 'Undecided', role: 'employee', teamId: team.id });
    if (!onNewVersion) throw new Error('one person expected');
    Object.assign(who, {
      granted: granted.userId,
      withdrawn: withdrawn.userId,
      declined: declined.userId,
      onNewVersion: onNewVersion.userId,
      undecided: undecided.id,
    });

    const pick = (p: ActivePerson) => p.device.deviceId;
    Object.assign(device, { fresh: pick(granted), stale: pick(declined), revoked: pick(withdrawn), recent: pick(onNewVersion) });
    const now = Date.now();
    await seen(device.fresh, new Date(now - 3_600_000));
    await seen(device.recent, new Date(now - 2 * DAY_MS));
    await seen(device.stale, new Date(now - 4 * DAY_MS));
    await devices.revoke(device.revoked, orgId, admin.userId);
  }, SETUP_MS);
  afterAll(async () => cloud?.stopAll());

  it('consent coverage counts each person by their latest decision and flags decisions on an older version', async () => {
    const coverage = await cloud.cloud.services.compliance.consentCoverage(admin);
    expect(coverage.policyVersion).toBe(2);
    // The demo admin has made no decision either.
    expect(coverage.people).toBe(6);
    expect(coverage.counts).toEqual({ granted: 2, declined: 1, withdrawn: 1, pendingReconsent: 3, noDecision: 2 });
    expect(coverage.byScope).toEqual([
      { scope: 'app_usage', granted: 2 },
      { scope: 'idle', granted: 1 },
      { scope: 'window_titles', granted: 0 },
    ]);
    const row = (id: string) => coverage.rows.find((r) => r.userId === id);
    expect(row(who.granted)).toMatchObject({ state: 'granted', granted: ['app_usage', 'idle'], policyVersion: 1, pendingReconsent: true });
    expect(row(who.onNewVersion)).toMatchObject({ state: 'granted', granted: ['app_usage'], policyVersion: 2, pendingReconsent: false });
    expect(row(who.withdrawn)).toMatchObject({ state: 'withdrawn', granted: [] });
    expect(row(who.declined)).toMatchObject({ state: 'declined', granted: [] });
    expect(row(who.undecided)).toMatchObject({ state: 'no_decision', granted: [], policyVersion: null, decidedAt: null, pendingReconsent: false });
    expect(coverage.recentWithdrawals).toEqual([expect.objectContaining({ userId: who.withdrawn, remaining: [] })]);
    const audited = await lastAudit('report.consent_coverage.viewed');
    expect(audited?.actor_id).toBe(admin.userId);
    expect(audited?.subject_user_ids).toHaveLength(6);
  });

  it('consent coverage is for admins and auditors; device health for admins only', async () => {
    const { compliance } = cloud.cloud.services;
    await expect(compliance.consentCoverage({ ...admin, role: 'auditor' })).resolves.toMatchObject({ people: 6 });
    await expect(compliance.consentCoverage({ ...admin, role: 'manager' })).rejects.toThrow(/role admin or auditor/);
    await expect(compliance.deviceHealth({ ...admin, role: 'auditor' })).rejects.toThrow(/role admin/);
  });

  it('device health tells fresh, stale and revoked devices apart', async () => {
    const health = await cloud.cloud.services.compliance.deviceHealth(admin);
    const row = (id: string) => health.devices.find((d) => d.deviceId === id);
    expect(row(device.fresh)).toMatchObject({ revoked: false, stale: false, userId: who.granted });
    expect(row(device.recent)).toMatchObject({ revoked: false, stale: false });
    expect(row(device.stale)).toMatchObject({ revoked: false, stale: true });
    expect(row(device.revoked)).toMatchObject({ revoked: true, stale: false });
    expect(health.summary).toMatchObject({ total: 4, active: 2, stale: 1, revoked: 1 });
    // Versions count only devices still in service.
    expect(Object.values(health.summary.versions).reduce((n, v) => n + v, 0)).toBe(3);
    const audited = await lastAudit('report.device_health.viewed');
    expect([...(audited?.subject_user_ids ?? [])].sort()).toEqual([who.granted, who.withdrawn, who.declined, who.onNewVersion].sort());
  });

  const teamRows = async () => {
    const report = await cloud.cloud.services.complianceReport.build(admin, {});
    return report.coverage.map((r) => ({
      team: r.teamName,
      v: r.policyVersion,
      people: r.people,
      granted: r.granted,
      declined: r.declined,
      withdrawn: r.withdrawn,
      noDecision: r.noDecision,
      pending: r.pendingReconsent,
      scopes: r.byScope,
    }));
  };

  it("the report's coverage per team and policy version is counted by the database as the per-person coverage counts each person", async () => {
    const none = { app_usage: 0, idle: 0, window_titles: 0 };
    expect(await teamRows()).toEqual([
      { team: 'no team', v: null, people: 1, granted: 0, declined: 0, withdrawn: 0, noDecision: 1, pending: 0, scopes: none },
      { team: 'Ops', v: null, people: 1, granted: 0, declined: 0, withdrawn: 0, noDecision: 1, pending: 0, scopes: none },
      { team: 'Ops', v: 1, people: 3, granted: 1, declined: 1, withdrawn: 1, noDecision: 0, pending: 3, scopes: { ...none, app_usage: 1, idle: 1 } },
      { team: 'Ops', v: 2, people: 1, granted: 1, declined: 0, withdrawn: 0, noDecision: 0, pending: 0, scopes: { ...none, app_usage: 1 } },
    ]);
    const audited = await lastAudit('report.consent_coverage.viewed');
    expect(audited?.subject_user_ids).toHaveLength(6);
  });

  it('a decision made under a binding since ended counts for nobody in the report', async () => {
    const { orgId } = cloud.bootstrap;
    // The granted person's computer is given to the undecided person: the grant was the first person's, not theirs.
    await cloud.cloud.services.bindings.assign(orgId, device.fresh, who.undecided, admin.userId);
    const ops = (await teamRows()).filter((r) => r.team === 'Ops');
    expect(ops.find((r) => r.v === null)).toMatchObject({ people: 2, noDecision: 2 });
    expect(ops.find((r) => r.v === 1)).toMatchObject({ people: 2, granted: 0, declined: 1, withdrawn: 1, pending: 2 });
    const perPerson = await cloud.cloud.services.compliance.consentCoverage(admin);
    expect(perPerson.counts).toMatchObject({ granted: 1, noDecision: 3 });
  });
});
