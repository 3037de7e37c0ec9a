import { gzipSync } from 'node:zlib';
import { compactVerify, createLocalJWKSet, SignJWT } from 'jose';
import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, IngestResult, ReceiptPayload, WIRE_PATHS } from '@icarus/shared';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, json, makeSpans, type TestDevice } from '../../../test/support/device-client';
import { backdateDevice } from '../../../test/support/backdate';

// Known to the test so it can mint an access token that has already expired.
const TOKEN_SECRET = Buffer.alloc(32, 7).toString('base64');

describe.each(testDatabaseKinds())('wire API on %s', (kind) => {
  let cloud: TestCloud;
  let device: TestDevice;

  const spanCount = async () => (await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from spans`))[0]?.n ?? -1;
  const errorOf = async (res: Response) => ApiError.parse(await res.json()).error;

  beforeAll(async () => {
    cloud = await startTestCloud(kind, { TOKEN_SECRET });
    device = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('alice')).token);
    expect((await device.consent(['app_usage', 'idle'])).status).toBe(201);
  });
  afterAll(async () => cloud?.stopAll());

  it('stores each span once however often it is sent, gzip or not', async () => {
    const spans = makeSpans(20);
    const first = IngestResult.parse(await (await device.ingest(spans, { gzip: true })).json());
    expect(first).toMatchObject({ accepted: 20, duplicates: 0, rejected: [] });
    const again = IngestResult.parse(await (await device.ingest(spans)).json());
    expect(again).toMatchObject({ accepted: 0, duplicates: 20, rejected: [] });
    const rows = await cloud.database.rows<{ n: number }>(
      sql`select count(*)::int as n from spans where id = any(${`{${spans.map((s) => s.id).join(',')}}`}::uuid[])`,
    );
    expect(rows[0]?.n).toBe(20);
  });

  it('treats an id sent in upper case as the same span, not a stranger', async () => {
    const spans = makeSpans(3, { app: 'Editor' }).map((s) => ({ ...s, id: s.id.toUpperCase() }));
    const first = IngestResult.parse(await (await device.ingest(spans)).json());
    expect(first).toMatchObject({ accepted: 3, duplicates: 0, rejected: [] });
    for (const resend of [spans, spans.map((s) => ({ ...s, id: s.id.toLowerCase() }))]) {
      const again = IngestResult.parse(await (await device.ingest(resend)).json());
      expect(again).toMatchObject({ accepted: 0, duplicates: 3, rejected: [] });
    }
  });

  it('takes an active span sent with an explicit idle: false as the same span as one without idle', async () => {
    const spans = makeSpans(2, { app: 'Terminal' });
    const sent = IngestResult.parse(await (await device.ingest(spans.map((s) => ({ ...s, idle: false })))).json());
    expect(sent).toMatchObject({ accepted: 2, duplicates: 0, rejected: [] });
    const again = IngestResult.parse(await (await device.ingest(spans)).json());
    expect(again).toMatchObject({ accepted: 0, duplicates: 2, rejected: [] });
    const stored = await cloud.database.rows<{ idle: boolean; app: string }>(
      sql`select idle, app from spans where id = any(${`{${spans.map((s) => s.id).join(',')}}`}::uuid[])`,
    );
    expect(stored).toEqual([
      { idle: false, app: 'Terminal' },
      { idle: false, app: 'Terminal' },
    ]);
    // An idle span with an app is still refused, whichever way idle is spelled.
    const bad = await device.ingest([{ ...makeSpans(1)[0]!, idle: true, app: 'Terminal' }]);
    expect(bad.status).toBe(400);
  });

  it('rejects spans whose scope had no consent at their start and stores none of them', async () => {
    const before = await spanCount();
    // Enrolled days before it consented: a span in between is the device's, but without consent.
    await backdateDevice(cloud, device.deviceId, new Date(Date.now() - 4 * 86_400_000), { consent: false });
    const titled = makeSpans(3, { title: 'Quarterly plan.xlsx' });
    const ok = makeSpans(2, { app: 'Terminal' });
    const earlier = makeSpans(1, { from: Date.now() - 86_400_000 * 3 }); // before consent was given
    const result = IngestResult.parse(await (await device.ingest([...titled, ...ok, ...earlier])).json());
    expect(result.accepted).toBe(2);
    expect(result.rejected).toEqual(expect.arrayContaining([...titled, ...earlier].map((s) => ({ id: s.id, reason: 'no_consent' }))));
    expect(await spanCount()).toBe(before + 2);
  });

  it('stops accepting a scope the moment it is withdrawn', async () => {
    const other = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('bob')).token, 'bob');
    await other.consent(['app_usage', 'idle']);
    await new Promise((r) => setTimeout(r, 20));
    const before = makeSpans(1, { from: Date.now() - 10 });
    await new Promise((r) => setTimeout(r, 20));
    expect((await other.consent(['idle'], 'withdrawn')).status).toBe(201);
    const idleAfter = { id: uuidv7(), start: new Date(Date.now() + 5).toISOString(), durationMs: 1000, idle: true };
    await new Promise((r) => setTimeout(r, 30));
    const result = IngestResult.parse(await (await other.ingest([...before, idleAfter])).json());
    expect(result.accepted).toBe(1);
    expect(result.rejected).toEqual([{ id: idleAfter.id, reason: 'no_consent' }]);
  });

  it('returns a receipt signed by the server naming device, policy and scopes', async () => {
    const res = await device.consent(['app_usage', 'idle']);
    const { receipt } = (await res.json()) as { receipt: { jws: string } };
    const jwks = (await (await cloud.fetchPath(WIRE_PATHS.receiptKeys)).json()) as Parameters<typeof createLocalJWKSet>[0];
    const { payload } = await compactVerify(receipt.jws, createLocalJWKSet(jwks));
    const parsed = ReceiptPayload.parse(JSON.parse(new TextDecoder().decode(payload)));
    expect(parsed.principal.deviceId).toBe(device.deviceId);
    expect(parsed.scopesGranted).toEqual(['app_usage', 'idle']);
    expect(parsed.policy.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(parsed.services[0]?.purposes.find((p) => p.scope === 'app_usage')?.granted).toBe(true);
    const page = await fetch(parsed.policy.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(parsed.policy.hash);
  });

  it('refuses a consent for a stale policy version or an unknown scope, naming the field', async () => {
    const stale = await device.consent(['app_usage'], 'granted', 99);
    expect(stale.status).toBe(409);
    expect((await errorOf(stale)).fields?.[0]?.path).toBe('policyVersion');
    const wide = await device.consent(['window_titles'], 'granted');
    expect(wide.status).toBe(400);
    expect((await errorOf(wide)).fields?.[0]?.path).toBe('scopes.0');
  });

  describe('bad input changes nothing and names the problem', () => {
    const post = (body: BodyInit, headers: Record<string, string> = {}) =>
      cloud.fetchPath(WIRE_PATHS.ingest, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${device.accessToken}`, ...headers },
        body,
      });

    it.each([
      ['malformed JSON', '{"batchId": ', 400, 'body'],
      ['wrong type', JSON.stringify({ batchId: uuidv7(), spans: 'many' }), 400, 'spans'],
      ['unknown field', JSON.stringify({ batchId: uuidv7(), spans: [], colour: 'red' }), 400, 'colour'],
      ['unknown span field', JSON.stringify({ batchId: uuidv7(), spans: [{ ...makeSpans(1)[0], keys: 12 }] }), 400, 'spans.0.keys'],
      ['span over an hour', JSON.stringify({ batchId: uuidv7(), spans: [{ ...makeSpans(1)[0], durationMs: 3_600_001 }] }), 400, 'spans.0.durationMs'],
      ['too many spans', JSON.stringify({ batchId: uuidv7(), spans: makeSpans(1001, { from: Date.now() }) }), 400, 'spans'],
    ])('%s -> %i naming %s', async (_name, body, status, path) => {
      const before = await spanCount();
      const res = await post(body);
      expect(res.status).toBe(status);
      const error = await errorOf(res);
      expect(error.fields?.map((f) => f.path)).toContain(path);
      expect(await spanCount()).toBe(before);
    });

    it('a body over the size limit gets 413, compressed or not', async () => {
      const huge = JSON.stringify({ batchId: uuidv7(), spans: [], pad: 'x'.repeat(5 * 1024 * 1024) });
      expect((await post(huge)).status).toBe(413);
      const bomb = gzipSync(Buffer.alloc(40 * 1024 * 1024, 32));
      const res = await post(bomb, { 'content-encoding': 'gzip' });
      expect(res.status).toBe(413);
    });

    it('a wrong content type gets 415', async () => {
      const res = await post('batchId=1', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(res.status).toBe(415);
      expect((await errorOf(res)).code).toBe('unsupported_media_type');
    });

    it('a batch naming another device gets 403', async () => {
      const res = await device.ingest(makeSpans(1), { extra: { deviceId: uuidv7() } });
      expect(res.status).toBe(403);
      expect((await errorOf(res)).fields?.[0]?.path).toBe('deviceId');
    });

    it("another device's span ids are rejected, not counted as duplicates, and not overwritten", async () => {
      const owner = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('olivia')).token, 'olivia');
      await owner.consent(['app_usage']);
      const spans = makeSpans(2, { app: 'Mail', from: Date.now() + 5000 });
      expect(IngestResult.parse(await (await owner.ingest(spans)).json()).accepted).toBe(2);
      const thief = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('mallory')).token, 'mallory');
      await thief.consent(['app_usage']);
      const result = IngestResult.parse(await (await thief.ingest(spans.map((s) => ({ ...s, app: 'Evil' })))).json());
      expect(result.accepted).toBe(0);
      expect(result.duplicates).toBe(0);
      expect(result.rejected.map((r) => r.reason)).toEqual(['id_conflict', 'id_conflict']);
      const apps = await cloud.database.rows<{ app: string }>(sql`select app from spans where id = ${spans[0]?.id}::uuid`);
      expect(apps).toEqual([{ app: 'Mail' }]);
    });
  });

  describe('credentials', () => {
    it('refuses missing, forged and expired bearer tokens with 401', async () => {
      const spans = makeSpans(1);
      const noAuth = await cloud.fetchPath(WIRE_PATHS.ingest, json({ batchId: uuidv7(), spans }));
      expect(noAuth.status).toBe(401);
      const forged = device.accessToken.slice(0, -4) + 'AAAA';
      const res = await cloud.fetchPath(WIRE_PATHS.ingest, json({ batchId: uuidv7(), spans }, { authorization: `Bearer ${forged}` }));
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe('unauthorized');
    });

    it('refuses an expired access token with 401 saying so', async () => {
      const past = Math.floor(Date.now() / 1000) - 3600;
      const expired = await new SignJWT({ org: device.orgId, typ: 'device' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('icarus-nova')
        .setSubject(device.deviceId)
        .setIssuedAt(past - 900)
        .setExpirationTime(past)
        .sign(Buffer.from(TOKEN_SECRET, 'base64'));
      const res = await cloud.fetchPath(WIRE_PATHS.ingest, json({ batchId: uuidv7(), spans: [] }, { authorization: `Bearer ${expired}` }));
      expect(res.status).toBe(401);
      expect((await errorOf(res)).message).toMatch(/expired/);
    });

    it('refuses a replayed, mis-addressed or long-lived assertion', async () => {
      const assertion = await device.assertion();
      expect((await cloud.fetchPath(WIRE_PATHS.token, json({ assertion }))).status).toBe(200);
      const replay = await cloud.fetchPath(WIRE_PATHS.token, json({ assertion }));
      expect(replay.status).toBe(401);
      expect((await errorOf(replay)).message).toMatch(/replay/);
      const elsewhere = await cloud.fetchPath(WIRE_PATHS.token, json({ assertion: await device.assertion({ aud: 'https://evil.example/token' }) }));
      expect(elsewhere.status).toBe(401);
      const longLived = await cloud.fetchPath(WIRE_PATHS.token, json({ assertion: await device.assertion({ lifetime: 3600 }) }));
      expect(longLived.status).toBe(401);
    });

    it('refuses an assertion signed by another key', async () => {
      const other = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('eve')).token, 'eve');
      const res = await cloud.fetchPath(WIRE_PATHS.token, json({ assertion: await other.assertion({ iss: device.deviceId }) }));
      expect(res.status).toBe(401);
    });

    it('a revoked device is refused at once with 403', async () => {
      const victim = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('carol')).token, 'carol');
      await victim.consent(['app_usage']);
      await cloud.cloud.services.devices.revoke(victim.deviceId, victim.orgId, 'test-admin');
      const res = await victim.ingest(makeSpans(1));
      expect(res.status).toBe(403);
      const token = await cloud.fetchPath(WIRE_PATHS.token, json({ assertion: await victim.assertion() }));
      expect(token.status).toBe(403);
    });

    it('an unknown or used-up enrollment token is refused naming the field', async () => {
      const res = await cloud.fetchPath(
        WIRE_PATHS.enroll,
        json({
          enrollmentToken: 'icn_enr_not-a-real-token-at-all',
          deviceName: 'x',
          platform: 'linux',
          osUser: 'x',
          publicKeyJwk: device.publicKeyJwk,
        }),
      );
      expect(res.status).toBe(401);
      expect((await errorOf(res)).fields?.[0]?.path).toBe('enrollmentToken');
      const { token } = await cloud.cloud.services.devices.createEnrollmentToken({ orgId: device.orgId, label: 'one', validDays: 1, maxUses: 1 });
      await createTestDevice(cloud.fetchPath, cloud.url, token, 'dave');
      await expect(createTestDevice(cloud.fetchPath, cloud.url, token, 'erin')).rejects.toThrow(/use limit/);
    });
  });

  it('writes enrollment, token issue, consent and rejections to a verifiable audit chain', async () => {
    const result = await cloud.cloud.services.audit.verify(device.orgId);
    expect(result.ok).toBe(true);
    const actions = await cloud.database.rows<{ action: string }>(sql`select distinct action from audit_log`);
    expect(actions.map((a) => a.action)).toEqual(
      expect.arrayContaining(['device.enrolled', 'device.token_issued', 'consent.granted', 'consent.withdrawn', 'ingest.rejected']),
    );
  });

  it('the database refuses to change or delete audit rows', async () => {
    const refusal = (query: Promise<unknown>) =>
      query.then(
        () => 'allowed',
        (error: unknown) => String(error instanceof Error && error.cause instanceof Error ? error.cause.message : error),
      );
    expect(await refusal(cloud.database.rows(sql`update audit_log set action = 'x'`))).toMatch(/append-only: UPDATE refused/);
    expect(await refusal(cloud.database.rows(sql`delete from audit_log`))).toMatch(/append-only: DELETE refused/);
    expect((await cloud.cloud.services.audit.verify(device.orgId)).ok).toBe(true);
  });

  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    expect((await cloud.fetchPath('/healthz')).status).toBe(200);
    expect(await (await cloud.fetchPath('/readyz')).json()).toMatchObject({ ok: true, database: kind });
    const metrics = await (await cloud.fetchPath('/metrics')).text();
    expect(metrics).toMatch(/icarus_ingest_spans_total\{outcome="accepted",reason="none"\} \d+/);
    expect(metrics).toMatch(/icarus_ingest_spans_total\{outcome="rejected",reason="no_consent"\} \d+/);
    const doc = (await (await cloud.fetchPath('/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(Object.values(WIRE_PATHS)));
  });
});
