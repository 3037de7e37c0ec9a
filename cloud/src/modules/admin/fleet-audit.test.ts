import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '@icarus/shared';
import { AUDIT_API } from '../audit';
import { COMPLIANCE_API } from '../compliance';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, makeSpans } from '../../../test/support/device-client';
import { ADMIN_API } from './api';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';

const errorOf = async (res: Response) => ApiError.parse(await res.json()).error;

describe.each(testDatabaseKinds())('devices, tokens, audit viewer on %s', (kind) => {
  let bed: AdminTestbed;
  let admin: Caller;
  let otherAdmin: Caller;

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `fleet-${kind}`);
    [admin, otherAdmin] = await Promise.all([bed.as('admin'), bed.as('admin', bed.orgB)]);
  });
  afterAll(async () => bed?.stop());

  it('tokens: validated with the field named, team of the org only, revocation stops enrollment', async () => {
    const bad = await admin.send('POST', ADMIN_API.tokens, { label: '', validDays: 0, maxUses: 1 });
    expect((await errorOf(bad)).fields?.map((f) => f.path).sort()).toEqual(['label', 'validDays']);
    const foreignTeam = await admin.send('POST', ADMIN_API.tokens, { label: 'x', validDays: 1, maxUses: 1, teamId: bed.orgB.teamId });
    expect((await errorOf(foreignTeam)).fields?.[0]?.path).toBe('teamId');
    const created = await admin.send('POST', ADMIN_API.tokens, { label: 'Sales laptops', validDays: 7, maxUses: 2, teamId: bed.orgA.teamId });
    expect(created.status).toBe(201);
    const { token, tokenId } = (await created.json()) as { token: string; tokenId: string };
    const listed = (await (await admin.get(ADMIN_API.tokens)).json()) as { tokenId: string; state: string; team: { name: string } | null }[];
    expect(listed.find((t) => t.tokenId === tokenId)).toMatchObject({ state: 'live', team: { name: 'Sales' } });
    expect(JSON.stringify(listed)).not.toContain(token);
    expect(((await (await otherAdmin.get(ADMIN_API.tokens)).json()) as { tokenId: string }[]).map((t) => t.tokenId)).not.toContain(tokenId);
    expect((await otherAdmin.send('POST', ADMIN_API.revokeToken.replace(':tokenId', tokenId))).status).toBe(404);
    await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, token, 'emp-f');
    expect((await admin.send('POST', ADMIN_API.revokeToken.replace(':tokenId', tokenId))).status).toBe(204);
    await expect(createTestDevice(bed.cloud.fetchPath, bed.cloud.url, token, 'emp-f')).rejects.toThrow(/revoked/);
  });

  it('devices: owner and health listed, revocation bites at once, never across orgs', async () => {
    // A per-user token binds the device to the employee; the OS account name alone would not.
    const { token } = (await (
      await admin.send('POST', ADMIN_API.tokens, { label: 'one', validDays: 1, maxUses: 1, userId: bed.orgA.people.employee.id })
    ).json()) as { token: string };
    const device = await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, token, 'emp-f');
    await device.consent(['app_usage', 'idle']);
    const status = { agentVersion: '9.9.9', pendingSpans: 3, droppedSpans: 1, captureSources: [{ name: 'x11', ok: false, problem: 'no display' }] };
    expect((await device.ingest(makeSpans(1, { from: Date.now() + 5 }), { extra: { status } })).status).toBe(200);
    const { devices: list } = (await (await admin.get(ADMIN_API.devices)).json()) as {
      devices: {
        deviceId: string;
        owner: { name: string } | null;
        agentVersion: string;
        pendingSpans: number;
        droppedSpans: number;
        failingSources: unknown[];
        lastSyncAt: string | null;
      }[];
    };
    expect(list.find((d) => d.deviceId === device.deviceId)).toMatchObject({
      owner: { name: 'employee' },
      agentVersion: '9.9.9',
      pendingSpans: 3,
      droppedSpans: 1,
      failingSources: [{ name: 'x11', problem: 'no display' }],
      lastSyncAt: expect.any(String),
    });
    expect(JSON.stringify(await (await otherAdmin.get(ADMIN_API.devices)).json())).not.toContain(device.deviceId);
    expect((await otherAdmin.send('POST', ADMIN_API.revokeDevice.replace(':deviceId', device.deviceId))).status).toBe(404);
    expect((await device.ingest(makeSpans(1, { from: Date.now() + 5 }))).status).toBe(200);
    expect((await admin.send('POST', ADMIN_API.revokeDevice.replace(':deviceId', device.deviceId))).status).toBe(204);
    expect((await device.ingest(makeSpans(1, { from: Date.now() + 5 }))).status).toBe(403);
    const [revoked] = await bed.cloud.database.rows<{ actor_id: string; subject_user_ids: string[] }>(
      sql`select actor_id, subject_user_ids from audit_log where action = 'device.revoked' and details->>'deviceId' = ${device.deviceId}`,
    );
    expect(revoked).toEqual({ actor_id: bed.orgA.people.admin.id, subject_user_ids: [bed.orgA.people.employee.id] });
  });

  it('audit viewer: filters, pages, CSV, chain; compliance report JSON and CSV; employees refused; other org sees none of it', async () => {
    const auditor = await bed.as('auditor');
    const byAction = (await (await auditor.get(`${AUDIT_API.events}?action=enrollment_token.*&limit=2`)).json()) as {
      events: { seq: number; action: string }[];
      nextBefore: number | null;
    };
    expect(byAction.events).toHaveLength(2);
    expect(byAction.events.every((e) => e.action.startsWith('enrollment_token.'))).toBe(true);
    expect(byAction.nextBefore).not.toBeNull();
    const next = (await (await auditor.get(`${AUDIT_API.events}?action=enrollment_token.*&limit=2&before=${byAction.nextBefore}`)).json()) as {
      events: { seq: number }[];
    };
    expect(Math.max(...next.events.map((e) => e.seq))).toBeLessThan(Math.min(...byAction.events.map((e) => e.seq)));
    const aboutEmployee = (await (await auditor.get(`${AUDIT_API.events}?subject=${bed.orgA.people.employee.id}`)).json()) as {
      events: { subjectUserIds: string[] }[];
    };
    expect(aboutEmployee.events.length).toBeGreaterThan(0);
    expect(aboutEmployee.events.every((e) => e.subjectUserIds.includes(bed.orgA.people.employee.id))).toBe(true);
    expect((await errorOf(await auditor.get(`${AUDIT_API.events}?subject=nobody&from=yesterday`))).fields?.map((f) => f.path).sort()).toEqual([
      'from',
      'subject',
    ]);

    const csv = await (await auditor.get(`${AUDIT_API.exportCsv}?action=device.revoked`)).text();
    expect(csv.split('\r\n')[0]).toBe('seq,at,actor_type,actor_id,action,subject_user_ids,details,hash');
    expect(csv).toContain(',device.revoked,');

    const report = (await (await auditor.get(COMPLIANCE_API.report)).json()) as {
      coverage: { teamName: string; policyVersion: number | null; granted: number }[];
      chain: { sinceCheckpoint: { ok: boolean } };
      personalDataAccess: { action: string }[];
    };
    expect(report.chain.sinceCheckpoint.ok).toBe(true);
    expect(report.coverage.find((c) => c.teamName === 'Sales' && c.policyVersion === 1)?.granted).toBe(1);
    expect(report.personalDataAccess.map((a) => a.action)).toContain('admin.devices_viewed');
    const reportCsv = await (await admin.get(`${COMPLIANCE_API.reportCsv}?from=${new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10)}`)).text();
    expect(reportCsv).toContain('team,policy_version,people,granted');
    expect((await errorOf(await admin.get(`${COMPLIANCE_API.report}?from=2025-02-30`))).fields?.[0]?.path).toBe('from');

    const employee = await bed.as('employee');
    for (const path of [AUDIT_API.events, AUDIT_API.exportCsv, COMPLIANCE_API.report, '/audit', ADMIN_API.devices])
      expect((await employee.get(path)).status, path).toBe(403);
    const theirs = await (await otherAdmin.get(`${AUDIT_API.events}?limit=500`)).text();
    for (const id of [bed.orgA.people.admin.id, bed.orgA.people.employee.id]) expect(theirs).not.toContain(id);
    expect(await (await auditor.get('/audit/verify')).text()).toContain('Audit chain verified');
    for (const path of ['/audit/verify', '/audit/events/1']) expect((await employee.get(path)).status, path).toBe(403);
  });

  it('audit page: people by name, a summary line per event, the people of a view as a count with a link, filters by name and day', async () => {
    const auditor = await bed.as('auditor');
    const employee = bed.orgA.people.employee;
    // A view naming many people: a count on the page, every name on the entry's own page.
    const many = [employee.id, bed.orgA.people.teammate.id, bed.orgA.people.manager.id, bed.orgA.people.outsider.id];
    await bed.cloud.cloud.services.audit.record({
      orgId: bed.orgA.orgId,
      actorType: 'user',
      actorId: bed.orgA.people.manager.id,
      action: 'report.team_summary.viewed',
      subjectUserIds: many,
      details: { from: '2026-03-01', to: '2026-03-31' },
    });
    const page = await (await auditor.get(`/audit?person=${encodeURIComponent(employee.email)}&action=report.team_summary.viewed`)).text();
    expect(page).toContain('manager (manager) viewed a team summary report, for 2026-03-01 to 2026-03-31.');
    expect(page).toContain('4 people</a>');
    expect(page).not.toContain(bed.orgA.people.teammate.id);
    // The CSV link asks the API for the same entries: the person as an id.
    const csvLink = /href="(\/api\/audit\/export\.csv\?[^"]+)"/.exec(page)?.[1]?.replace(/&amp;/g, '&') ?? '';
    expect(csvLink).toContain(`subject=${employee.id}`);
    const csv = await (await auditor.get(csvLink)).text();
    expect(csv.split('\r\n').filter((line) => line.includes('report.team_summary.viewed'))).toHaveLength(1);
    const seq = /\/audit\/events\/(\d+)/.exec(page)?.[1];
    const entry = await (await auditor.get(`/audit/events/${seq}`)).text();
    for (const name of ['employee', 'teammate', 'manager', 'outsider']) expect(entry).toContain(`>${name}</a>`);
    const today = new Date().toISOString().slice(0, 10);
    expect(await (await auditor.get(`/audit?from=${today}&to=${today}&actor=manager`)).text()).toContain('viewed a team summary report');
    const nobody = await auditor.get('/audit?person=no-such-person&from=2026-02-30');
    expect(nobody.status).toBe(400);
    const refused = await nobody.text();
    expect(refused).toContain('<strong>From</strong>: enter a day as YYYY-MM-DD');
    expect((await auditor.get('/audit/events/999999999')).status).toBe(404);
    const unknown = await auditor.get('/audit?person=no-such-person');
    expect(await unknown.text()).toContain('<strong>Person</strong>: no person of this organisation has that name or email');
  });
});
