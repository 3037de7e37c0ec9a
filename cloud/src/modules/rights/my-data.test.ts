import { sql } from 'drizzle-orm';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestResult, WIRE_PATHS } from '@icarus/shared';
import { ADMIN_API } from '../admin';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, json, makeSpans, type TestDevice } from '../../../test/support/device-client';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';

describe.each(testDatabaseKinds())('My data on the web on %s', (kind) => {
  let bed: AdminTestbed;
  let employee: Caller;
  let laptop: TestDevice;
  let desktop: TestDevice;
  let teammateBox: TestDevice;
  /** A form post as the browser sends it, with the session's CSRF token; redirects are not followed. */
  let form: (caller: Caller, path: string, fields: Record<string, string>) => Promise<Response>;

  const deviceFor = async (userId: string, osUser: string) => {
    const admin = await bed.as('admin');
    const made = await admin.send('POST', ADMIN_API.tokens, { label: `for ${osUser}`, validDays: 1, maxUses: 1, userId });
    const { token } = (await made.json()) as { token: string };
    return createTestDevice(bed.cloud.fetchPath, bed.cloud.url, token, osUser);
  };
  const idleSpan = () => ({ id: uuidv7(), start: new Date(Date.now() + 5).toISOString(), durationMs: 900, idle: true });

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `mydata-${kind}`);
    form = (caller, path, fields) =>
      bed.cloud.fetchPath(path, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: caller.headers['cookie'] ?? '', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: caller.headers['x-csrf-token'] ?? '', ...fields }).toString(),
      });
    await bed.cloud.database.rows(sql`update orgs set time_zone = 'Europe/Berlin' where id = ${bed.orgA.orgId}`);
    employee = await bed.as('employee');
    laptop = await deviceFor(bed.orgA.people.employee.id, 'emp-laptop');
    desktop = await deviceFor(bed.orgA.people.employee.id, 'emp-desktop');
    teammateBox = await deviceFor(bed.orgA.people.teammate.id, 'mate');
    for (const d of [laptop, desktop, teammateBox]) expect((await d.consent(['app_usage', 'idle'])).status).toBe(201);
  });
  afterAll(async () => bed?.stop());

  it('shows consent per scope; a withdrawal on the web is the person\u2019s decision on each bound computer, signed, audited and sent as a directive', async () => {
    const before = await (await employee.get('/me/data')).text();
    expect(before).toContain('granted on test-laptop, test-laptop');
    expect(before).toContain('Withdraw active or idle');

    const done = await form(employee, '/me/data/consent/withdraw', { scope: 'idle' });
    expect(done.status).toBe(303);
    const after = await (await employee.get(done.headers.get('location') ?? '/me/data')).text();
    expect(after).toContain('Withdrawn: active or idle on 2 computers.');
    expect(after).toContain('not granted on any computer');

    const rows = await bed.cloud.database.rows<{
      device_id: string;
      method: string;
      decision: string;
      granted: string[];
      receipt_jws: string;
      binding_id: string;
    }>(
      sql`select device_id, method, decision, granted, receipt_jws, binding_id from consent_records where user_id = ${bed.orgA.people.employee.id} and superseded_at is null order by device_id`,
    );
    expect(rows.map((r) => [r.decision, r.method, r.granted])).toEqual([
      ['withdrawn', 'web', ['app_usage']],
      ['withdrawn', 'web', ['app_usage']],
    ]);
    for (const r of rows) {
      expect(decodeProtectedHeader(r.receipt_jws).typ).toBe('consent-receipt+jws');
      expect(decodeJwt(r.receipt_jws)).toMatchObject({ collectionMethod: 'web', decision: 'withdrawn', scopesGranted: ['app_usage'] });
    }
    const audited = await bed.cloud.database.rows<{ actor_type: string; actor_id: string }>(
      sql`select actor_type, actor_id from audit_log where action = 'consent.withdrawn' and details->>'via' = 'web'`,
    );
    expect(audited).toEqual([
      { actor_type: 'user', actor_id: bed.orgA.people.employee.id },
      { actor_type: 'user', actor_id: bed.orgA.people.employee.id },
    ]);

    // Each computer learns it at its next sync, and the server already refuses the scope.
    const synced = IngestResult.parse(await (await laptop.ingest([...makeSpans(1, { from: Date.now() + 5 }), idleSpan()])).json());
    expect(synced.directives).toContainEqual({ type: 'consent_revoked', scopes: ['idle'], reason: 'you withdrew consent on the web' });
    expect(synced.accepted).toBe(1);
    expect(synced.rejected.map((r) => r.reason)).toEqual(['no_consent']);
    // The teammate's computer is not the employee's to decide for.
    const theirs = IngestResult.parse(await (await teammateBox.ingest([idleSpan()])).json());
    expect(theirs.accepted).toBe(1);
    expect(theirs.directives.filter((d) => d.type === 'consent_revoked')).toEqual([]);
  });

  it('a bad scope is a 400 naming the field, and nothing stored changes', async () => {
    const count = async () => (await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from consent_records`))[0]?.n;
    const before = await count();
    const refused = await form(employee, '/me/data/consent/withdraw', { scope: 'keystrokes' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('<strong>What to withdraw</strong>: choose one of the scopes listed under My consent');
    expect(await count()).toBe(before);
  });

  it('"who viewed" says who, when in the org\u2019s time, what kind of view, and whether alone or as one of N people', async () => {
    const { audit } = bed.cloud.cloud.services;
    const others = Array.from({ length: 979 }, () => uuidv7());
    await audit.record({
      orgId: bed.orgA.orgId,
      actorType: 'user',
      actorId: bed.orgA.people.manager.id,
      action: 'report.team_comparison.viewed',
      subjectUserIds: [bed.orgA.people.employee.id, ...others],
    });
    await audit.record({
      orgId: bed.orgA.orgId,
      actorType: 'user',
      actorId: bed.orgA.people.admin.id,
      action: 'report.person_detail.viewed',
      subjectUserIds: [bed.orgA.people.employee.id],
    });
    const page = await (await employee.get('/me/data')).text();
    expect(page).toContain('manager (manager) saw your time per category, in a comparison of teams, you as one of 980 people in a total.');
    expect(page).toContain('admin (admin) saw your own totals, one by one, you individually.');
    expect(page).not.toContain('report.team_comparison.viewed');
    expect(page).toMatch(/<strong>\d{4}-\d{2}-\d{2} \d{2}:\d{2} (CET|CEST|GMT\+1|GMT\+2)<\/strong>/);
    expect(page).toContain('Times are in Europe/Berlin.');
  });

  /** An import of two spans of past history made on `device`: its grant id. */
  const importOn = async (device: TestDevice, daysAgo: number) => {
    const auth = { authorization: `Bearer ${device.accessToken}` };
    const start = Date.now() - daysAgo * 86_400_000;
    const granted = await bed.cloud.fetchPath(
      WIRE_PATHS.consentImports,
      json(
        {
          policyVersion: await device.policyVersion(),
          scopes: ['app_usage'],
          from: new Date(start).toISOString(),
          to: new Date(start + 3_600_000).toISOString(),
          source: 'activitywatch',
          preview: { spans: 2, activeMs: 1_800_000, idleMs: 0, apps: 1, titles: false },
        },
        auth,
      ),
    );
    expect(granted.status).toBe(201);
    const grantId = ((await granted.json()) as { grant: { id: string } }).grant.id;
    const stored = IngestResult.parse(await (await device.ingest(makeSpans(2, { from: start, app: 'Editor' }), { extra: { importGrantId: grantId } })).json());
    expect(stored.accepted).toBe(2);
    return grantId;
  };
  const directivesOf = async (deviceId: string) =>
    (
      await bed.cloud.database.rows<{ type: string }>(
        sql`select directive->>'type' as type from device_directives where device_id = ${deviceId} order by created_at`,
      )
    ).map((r) => r.type);

  it('an import of past history is listed with what it uploaded, and withdrawing it on the web erases that history', async () => {
    const grantId = await importOn(laptop, 20);
    const page = await (await employee.get('/me/data')).text();
    expect(page).toMatch(/ActivityWatch.*2 spans, 0\.5 h active, 1 apps.*Withdraw and erase this history/s);

    // Someone else's session cannot withdraw it: 404 naming the field, nothing erased.
    const teammate = await bed.as('teammate');
    const refused = await form(teammate, '/me/data/imports/withdraw', { id: grantId });
    expect(refused.status).toBe(404);
    expect(await refused.text()).toContain('not an import you made');
    const count = async () =>
      (await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from spans where import_grant_id = ${grantId}`))[0]?.n;
    expect(await count()).toBe(2);

    const done = await form(employee, '/me/data/imports/withdraw', { id: grantId });
    expect(done.status).toBe(200);
    expect(await done.text()).toMatch(
      /Your import was withdrawn and its history erased here \(2 spans\)\. test-laptop deletes its own copy when it next syncs\.[\s\S]*withdrawn .*; this history was erased/,
    );
    expect(await count()).toBe(0);
    expect(await directivesOf(laptop.deviceId)).toContain('import_withdrawn');
    const [row] = await bed.cloud.database.rows<{ receipt: string }>(sql`select withdrawal_receipt_jws as receipt from import_grants where id = ${grantId}`);
    expect(JSON.parse(Buffer.from(row?.receipt.split('.')[1] ?? '', 'base64url').toString())).toMatchObject({
      decision: 'withdrawn',
      collectionMethod: 'web',
      importedHistory: { grantId },
    });
  });

  it('withdrawing an import made on a computer since revoked erases the history here and says that computer cannot be told', async () => {
    const old = await deviceFor(bed.orgA.people.employee.id, 'emp-old-laptop');
    expect((await old.consent(['app_usage', 'idle'])).status).toBe(201);
    const grantId = await importOn(old, 30);
    await bed.cloud.cloud.services.devices.revoke(old.deviceId, bed.orgA.orgId, bed.orgA.people.admin.id);
    const done = await form(employee, '/me/data/imports/withdraw', { id: grantId });
    expect(done.status).toBe(200);
    const text = await done.text();
    expect(text).toContain('history erased here (2 spans)');
    expect(text).toContain('test-laptop was revoked, so it cannot be told: its own copy stays there until you run');
    expect(text).toContain(`icarus-agent withdraw-import ${grantId}`);
    expect((await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from spans where import_grant_id = ${grantId}`))[0]?.n).toBe(0);
    // No directive waits for a device that can never take it.
    expect(await directivesOf(old.deviceId)).not.toContain('import_withdrawn');
  });

  it('erasure asks first: without the confirmation box nothing is requested; with it the request is taken', async () => {
    const requests = async () =>
      (await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from erasure_requests where user_id = ${bed.orgA.people.employee.id}`))[0]?.n;
    expect(await (await employee.get('/me/data/erasure')).text()).toContain('I understand my data will be erased');
    const unconfirmed = await form(employee, '/me/data/erasure', { eraseLocal: 'true' });
    expect(unconfirmed.status).toBe(400);
    expect(await unconfirmed.text()).toContain('<strong>Confirmation</strong>: tick the box to confirm that your data is to be erased');
    expect(await requests()).toBe(0);
    const confirmed = await form(employee, '/me/data/erasure', { confirm: 'erase' });
    expect(confirmed.status).toBe(303);
    await bed.cloud.cloud.services.rights.idle();
    expect(await requests()).toBe(1);
  });
});
