// Consent for imported history, over HTTP against the real cloud (PGlite; PostgreSQL too when
// TEST_DATABASE_URL is set): a grant for a past period with its own receipt, import batches judged
// by it alone (live batches before enrollment still refused), the truth checks still applied,
// rollups of past days, the history views, and withdrawal erasing what the grant brought in.
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { compactVerify, createLocalJWKSet } from 'jose';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importWithdrawPath, ReceiptPayload, WIRE_PATHS, type ImportConsentResponse } from '@icarus/shared';
import { defaultPolicy } from '.';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, json, type TestDevice } from '../../../test/support/device-client';

const DAY = 86_400_000;
const PASSWORD = 'correct horse battery staple';

/** A span id as the agent derives it: the start in the UUIDv7 time field. */
function idAt(startMs: number): string {
  const hex = uuidv7().replace(/-/g, '');
  const t = startMs.toString(16).padStart(12, '0');
  const h = t + hex.slice(12);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
const span = (startMs: number, durationMs: number, app?: string) =>
  app === undefined
    ? { id: idAt(startMs), start: new Date(startMs).toISOString(), durationMs, idle: true }
    : { id: idAt(startMs), start: new Date(startMs).toISOString(), durationMs, app };

describe.each(testDatabaseKinds())('import consent on %s', (kind) => {
  let cloud: TestCloud;
  let device: TestDevice;
  let other: TestDevice;
  let userId: string;
  let teamId: string;
  const now = Date.now();
  // Midday UTC, 10 and 11 days back: long before the device enrolled.
  const tenDaysAgo = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate()) - 10 * DAY + 12 * 3_600_000;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const auth = (d: TestDevice) => ({ authorization: `Bearer ${d.accessToken}` });
  const preview = { spans: 3, activeMs: 3 * 600_000, idleMs: 0, apps: 2, titles: false };
  const request = (over: Record<string, unknown> = {}) => ({
    policyVersion: 1,
    scopes: ['app_usage'],
    from: new Date(tenDaysAgo - 2 * DAY).toISOString(),
    to: new Date(tenDaysAgo + DAY).toISOString(),
    source: 'activitywatch',
    preview,
    ...over,
  });
  const grant = async (d: TestDevice, over: Record<string, unknown> = {}) => {
    const res = await cloud.fetchPath(WIRE_PATHS.consentImports, json(request({ policyVersion: await d.policyVersion(), ...over }), auth(d)));
    return { status: res.status, body: (await res.json()) as ImportConsentResponse & { error?: { fields: { path: string; problem: string }[] } } };
  };
  const ingest = async (d: TestDevice, spans: unknown[], importGrantId?: string) => {
    const res = await d.ingest(spans, importGrantId ? { extra: { importGrantId } } : {});
    return {
      status: res.status,
      body: (await res.json()) as { accepted: number; duplicates: number; rejected: { id: string; reason: string }[]; error?: { fields: { path: string }[] } },
    };
  };
  const spansOf = async (deviceId: string) =>
    cloud.database.rows<{ id: string; import_grant_id: string | null }>(
      sql`select id::text as id, import_grant_id::text as import_grant_id from spans where device_id = ${deviceId} order by start`,
    );
  const rollupDay = async (d: string) =>
    Number(
      (
        await cloud.database.rows<{ ms: number | null }>(
          sql`select sum(active_ms)::float8 as ms from rollup_user_daily where user_id = ${userId} and day = ${d}::date`,
        )
      )[0]?.ms ?? 0,
    );
  const teamDay = async (d: string) =>
    Number(
      (
        await cloud.database.rows<{ ms: number | null }>(
          sql`select sum(active_ms)::float8 as ms from rollup_team_daily where team_id = ${teamId} and day = ${d}::date`,
        )
      )[0]?.ms ?? 0,
    );

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    const { directory } = cloud.cloud.services;
    const orgId = cloud.bootstrap.orgId;
    teamId = (await directory.createTeam(orgId, 'Imports')).id;
    userId = (await directory.createUser({ orgId, email: 'ada@imports.test', name: 'Ada', role: 'employee', osUser: 'ada', teamId, password: PASSWORD })).id;
    device = await createTestDevice(cloud.fetchPath, cloud.url, await cloud.tokenFor(userId), 'ada');
    other = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('Bert')).token, 'bert');
    expect((await device.consent(['app_usage', 'idle'])).status).toBe(201);
    expect((await other.consent(['app_usage', 'idle'])).status).toBe(201);
  });
  afterAll(async () => {
    await cloud?.stopAll();
  });

  let grantId = '';

  it('refuses a grant for what the policy does not allow, history past retention, or a period in the future, naming the field', async () => {
    const titles = await grant(device, { scopes: ['window_titles'] });
    expect(titles.status).toBe(400);
    expect(titles.body.error?.fields).toEqual([{ path: 'scopes.0', problem: expect.stringMatching(/not a scope of policy version 1/) }]);
    const old = await grant(device, { from: new Date(now - 120 * DAY).toISOString() });
    expect(old.status).toBe(400);
    expect(old.body.error?.fields).toEqual([{ path: 'from', problem: expect.stringMatching(/keeps 90 days of history, older history is not stored/) }]);
    const future = await grant(device, { to: new Date(now + DAY).toISOString() });
    expect(future.body.error?.fields.map((f) => f.path)).toEqual(['to']);
    const reversed = await grant(device, { to: new Date(tenDaysAgo - 3 * DAY).toISOString() });
    expect(reversed.status).toBe(400);
    expect(reversed.body.error?.fields.map((f) => f.path)).toEqual(['to']);
    const extra = await grant(device, { everything: true });
    expect(extra.status).toBe(400);
    expect((await cloud.database.rows(sql`select 1 from import_grants`)).length).toBe(0);
  });

  it('grants an import for a past period with its own signed receipt stating the period and that it is an import', async () => {
    const { status, body } = await grant(device);
    expect(status).toBe(201);
    grantId = body.grant.id;
    expect(body.grant).toMatchObject({ source: 'activitywatch', scopes: ['app_usage'], withdrawnAt: null, preview, from: request().from, to: request().to });
    const keys = await (await cloud.fetchPath(WIRE_PATHS.receiptKeys)).json();
    const verified = await compactVerify(body.receipt.jws, createLocalJWKSet(keys as Parameters<typeof createLocalJWKSet>[0]));
    const payload = ReceiptPayload.parse(JSON.parse(new TextDecoder().decode(verified.payload)));
    expect(payload).toMatchObject({
      decision: 'granted',
      consentReceiptID: grantId,
      scopesGranted: ['app_usage'],
      principal: { userId, deviceId: device.deviceId },
      importedHistory: { grantId, source: 'activitywatch', from: request().from, to: request().to },
    });
    const listed = (await (await cloud.fetchPath(WIRE_PATHS.consentImports, { headers: auth(device) })).json()) as { grants: { id: string }[] };
    expect(listed.grants.map((g) => g.id)).toEqual([grantId]);
    const audited = await cloud.database.rows<{ action: string }>(sql`select action from audit_log where action = 'consent.import_granted'`);
    expect(audited).toHaveLength(1);
  });

  it('stores history before enrollment only from a batch naming the grant, within its period and scopes; the other checks still apply', async () => {
    const history = [span(tenDaysAgo, 600_000, 'Editor'), span(tenDaysAgo + 600_000, 600_000, 'Mail'), span(tenDaysAgo + 1_200_000, 600_000, 'Editor')];
    // The same spans as a live batch: before the device enrolled, refused as ever.
    const live = await ingest(device, history);
    expect(live.body.rejected.map((r) => r.reason)).toEqual(['before_enrollment', 'before_enrollment', 'before_enrollment']);

    const idle = span(tenDaysAgo + 1_800_000, 60_000);
    const outside = span(tenDaysAgo - 5 * DAY, 60_000, 'Editor');
    const overlapping = { ...span(tenDaysAgo + 300_000, 60_000, 'Terminal'), id: idAt(tenDaysAgo + 300_000) };
    const imported = await ingest(device, [...history, idle, outside, overlapping], grantId);
    expect(imported.status).toBe(200);
    expect(imported.body.accepted).toBe(3);
    expect(imported.body.rejected).toEqual([
      { id: idle.id, reason: 'no_consent' },
      { id: outside.id, reason: 'no_consent' },
      { id: overlapping.id, reason: 'overlap' },
    ]);
    const again = await ingest(device, history, grantId);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 3, rejected: [] });
    expect((await spansOf(device.deviceId)).map((s) => s.import_grant_id)).toEqual([grantId, grantId, grantId]);

    // Another device may not use the grant.
    const stolen = await ingest(other, [span(tenDaysAgo + 3_600_000, 60_000, 'Editor')], grantId);
    expect(stolen.status).toBe(403);
    expect(stolen.body.error?.fields.map((f) => f.path)).toEqual(['importGrantId']);
    expect(await spansOf(other.deviceId)).toEqual([]);
  });

  it("rolls the imported history into that past day's rollups", async () => {
    await cloud.cloud.services.analytics.flush();
    expect(await rollupDay(day(tenDaysAgo))).toBe(1_800_000);
    expect(await teamDay(day(tenDaysAgo))).toBe(1_800_000);
  });

  it("shows the import in the person's consent history and My data", async () => {
    const { auth: signIns, drafts } = cloud.cloud.services;
    const asAdmin = await cloud.demoAdmin();
    const history = await drafts.consentHistory(asAdmin, userId);
    expect(history.imports).toEqual([expect.objectContaining({ id: grantId, from: request().from, to: request().to, deviceId: device.deviceId })]);
    const ada = await signIns.signInWithPassword({ email: 'ada@imports.test', password: PASSWORD });
    const page = await (await cloud.fetchPath('/me/data', { headers: { cookie: `icarus_session=${ada.token}` } })).text();
    expect(page).toContain('Imported history');
    expect(page).toMatch(/ActivityWatch.*3 spans, 0\.5 h active, 2 apps.*kept under this consent/s);
  });

  it('erases what the grant brought in when it is withdrawn, rollups follow, and the grant covers nothing after', async () => {
    // A live span of the same person today: withdrawal of the import leaves it alone.
    const liveSpan = span(Date.now(), 100, 'Editor');
    const liveResult = await ingest(device, [liveSpan]);
    expect(liveResult.body.accepted, JSON.stringify(liveResult.body)).toBe(1);
    expect((await cloud.fetchPath(importWithdrawPath(grantId), json({}, auth(other)))).status).toBe(404);

    const res = await cloud.fetchPath(importWithdrawPath(grantId), json({}, auth(device)));
    expect(res.status).toBe(200);
    const body = (await res.json()) as ImportConsentResponse;
    expect(body.erasedSpans).toBe(3);
    expect(body.grant.withdrawnAt).not.toBeNull();
    expect(body.receipt.payload).toMatchObject({ decision: 'withdrawn', scopesGranted: [], importedHistory: { grantId } });
    expect((await spansOf(device.deviceId)).map((s) => s.id)).toEqual([liveSpan.id]);
    await cloud.cloud.services.analytics.flush();
    expect(await rollupDay(day(tenDaysAgo))).toBe(0);
    expect(await teamDay(day(tenDaysAgo))).toBe(0);

    const after = await ingest(device, [span(tenDaysAgo, 600_000, 'Editor')], grantId);
    expect(after.body.rejected.map((r) => r.reason)).toEqual(['no_consent']);
    const twice = (await (await cloud.fetchPath(importWithdrawPath(grantId), json({}, auth(device)))).json()) as ImportConsentResponse;
    expect(twice.receipt.jws).toBe(body.receipt.jws);
    expect(twice.erasedSpans).toBe(0);
    const actions = await cloud.database.rows<{ action: string }>(
      sql`select action from audit_log where action in ('consent.import_withdrawn', 'import.erased') order by seq`,
    );
    expect(actions.map((a) => a.action)).toEqual(['consent.import_withdrawn', 'import.erased', 'import.erased']);
  });

  // Two connections are needed to hold a batch mid-way: PostgreSQL only (PGlite serves one at a time, so it has no such race).
  if (kind === 'postgres') {
    it('stores nothing of an import batch held up while its grant is withdrawn and erased', async () => {
      const { body } = await grant(device);
      const held = postgres(cloud.testDb.databaseUrl ?? '', { max: 1, onnotice: () => {} });
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      try {
        // The person's span lock, held elsewhere: the batch's cover is read (in force), then it waits.
        let locked = () => {};
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holding = held.begin(async (tx) => {
          await tx`select pg_advisory_xact_lock(${0x5350414e}::int, hashtext(${userId}::text))`;
          locked();
          await released;
        });
        await isLocked;
        const waiting = async () =>
          Number(
            (
              await cloud.database.rows<{ n: number }>(
                sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`,
              )
            )[0]?.n ?? 0,
          );
        const batch = ingest(device, [span(tenDaysAgo, 600_000, 'Editor')], body.grant.id);
        await expect.poll(waiting, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
        // Withdrawn meanwhile (its erasure may need the person's lock too, so it is not awaited yet).
        const withdrawal = cloud.fetchPath(importWithdrawPath(body.grant.id), json({}, auth(device)));
        const withdrawnAt = async () =>
          (await cloud.database.rows<{ w: boolean }>(sql`select withdrawn_at is not null as w from import_grants where id = ${body.grant.id}`))[0]?.w;
        await expect.poll(withdrawnAt, { timeout: 10_000 }).toBe(true);
        release();
        await holding;
        const [result, withdrawn] = await Promise.all([batch, withdrawal]);
        expect(withdrawn.status).toBe(200);
        expect(result.body.accepted).toBe(0);
        expect(result.body.rejected.map((r) => r.reason)).toEqual(['no_consent']);
        expect((await spansOf(device.deviceId)).filter((s) => s.import_grant_id === body.grant.id)).toEqual([]);
      } finally {
        release();
        await held.end();
      }
    });
  }

  it('does not store imported history that the retention window has since passed', async () => {
    const { body } = await grant(device);
    const content = { ...defaultPolicy('Demo Org'), retentionDays: 7 };
    await cloud.cloud.services.consent.publish(cloud.bootstrap.orgId, content, { type: 'system', id: 'test' });
    const result = await ingest(device, [span(tenDaysAgo, 600_000, 'Editor')], body.grant.id);
    expect(result.body.rejected.map((r) => r.reason)).toEqual(['beyond_retention']);
    // A new grant for it is refused in words.
    const refused = await grant(device);
    expect(refused.body.error?.fields).toEqual([{ path: 'from', problem: expect.stringMatching(/keeps 7 days of history/) }]);
  });
});
