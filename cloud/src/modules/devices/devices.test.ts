import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIRE_PATHS } from '@icarus/shared';
import { RATE_RULES } from '../../app';
import { createMemoryRateLimitStore } from '../../adapters/rate-limit-memory';
import { loadSecrets } from '../../platform/secrets';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, json, makeSpans } from '../../../test/support/device-client';

/** Enrolling devices and flooding one: minutes when the shared machine is busy. */
const SETUP_MS = 240_000;

/** Enrollment, device tokens, revocation and the per-device limit, over HTTP against a started cloud. */
describe.each(testDatabaseKinds())('devices on %s', (kind) => {
  let cloud: TestCloud;
  // Buckets refill by the clock; freezing it makes "the flood is refused" independent of load.
  const real = createMemoryRateLimitStore();
  let frozenAt: number | undefined;

  beforeAll(async () => {
    // The token key given, so a test can sign a token as the server does.
    cloud = await startTestCloud(
      kind,
      { TOKEN_SECRET: randomBytes(32).toString('base64') },
      { rateLimits: { take: (key, rule, now) => real.take(key, rule, frozenAt ?? now) } },
    );
  }, SETUP_MS);
  afterAll(async () => cloud?.stopAll());

  const newToken = (maxUses: number, validDays = 1) =>
    cloud.cloud.services.devices.createEnrollmentToken({ orgId: cloud.bootstrap.orgId, label: `t-${maxUses}`, validDays, maxUses });
  const devicesOf = async () =>
    (await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from devices where org_id = ${cloud.bootstrap.orgId}`))[0]?.n ?? -1;
  const enrollBody = (enrollmentToken: string) => ({
    enrollmentToken,
    deviceName: 'spare',
    platform: 'linux',
    osUser: 'nobody',
    publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
  });

  it('an enrollment token enrolls as many devices as its uses, then is refused naming why, with nothing stored', async () => {
    const { token } = await newToken(2);
    await createTestDevice(cloud.fetchPath, cloud.url, token);
    await createTestDevice(cloud.fetchPath, cloud.url, token);
    const before = await devicesOf();
    const third = await cloud.fetchPath(WIRE_PATHS.enroll, json(enrollBody(token)));
    expect(third.status).toBe(401);
    expect(await third.json()).toMatchObject({ error: { message: 'Enrollment token has reached its use limit', fields: [{ path: 'enrollmentToken' }] } });
    expect(await devicesOf()).toBe(before);
  });

  it('an expired or revoked enrollment token is refused, and an unknown one too', async () => {
    const expired = await newToken(5);
    await cloud.database.rows(sql`update enrollment_tokens set expires_at = now() - interval '1 minute' where id = ${expired.id}`);
    const revoked = await newToken(5);
    await cloud.cloud.services.devices.revokeEnrollmentToken(revoked.id, cloud.bootstrap.orgId, 'test');
    const before = await devicesOf();
    for (const [token, why] of [
      [expired.token, 'has expired'],
      [revoked.token, 'was revoked'],
      ['icn_enr_never-issued', 'is not known'],
    ] as const) {
      const response = await cloud.fetchPath(WIRE_PATHS.enroll, json(enrollBody(token)));
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { message: string } }).error.message).toBe(`Enrollment token ${why}`);
    }
    expect(await devicesOf()).toBe(before);
  });

  it('enrolls a key exactly as WebCrypto exports it (alg Ed25519, ext, key_ops), and its assertions get tokens', async () => {
    const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
    if (!('publicKey' in pair)) throw new Error('a key pair expected');
    const exported = await crypto.subtle.exportKey('jwk', pair.publicKey);
    expect(exported).toMatchObject({ alg: 'Ed25519', ext: true, key_ops: ['verify'] });
    const enrolled = await cloud.fetchPath(WIRE_PATHS.enroll, json({ ...enrollBody((await newToken(1)).token), publicKeyJwk: exported }));
    expect(enrolled.status).toBe(201);
    const { deviceId } = (await enrolled.json()) as { deviceId: string };
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(deviceId)
      .setSubject(deviceId)
      .setAudience(`${cloud.url}${WIRE_PATHS.token}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti(uuidv7())
      .sign(pair.privateKey);
    expect((await cloud.fetchPath(WIRE_PATHS.token, json({ assertion }))).status).toBe(200);
    // A key that claims to sign, or another algorithm, is still refused naming the field.
    for (const bad of [{ key_ops: ['sign'] }, { alg: 'ES256' }]) {
      const refused = await cloud.fetchPath(WIRE_PATHS.enroll, json({ ...enrollBody((await newToken(1)).token), publicKeyJwk: { ...exported, ...bad } }));
      expect(refused.status).toBe(400);
      expect(JSON.stringify(await refused.json())).toContain('publicKeyJwk.');
    }
  });

  it('refuses an assertion used twice, and one aimed at another audience', async () => {
    const device = await createTestDevice(cloud.fetchPath, cloud.url, cloud.enrollmentToken);
    const assertion = await device.assertion();
    expect((await cloud.fetchPath(WIRE_PATHS.token, json({ assertion }))).status).toBe(200);
    const replay = await cloud.fetchPath(WIRE_PATHS.token, json({ assertion }));
    expect(replay.status).toBe(401);
    expect(await replay.text()).toMatch(/replay/);
    const elsewhere = await cloud.fetchPath(WIRE_PATHS.token, json({ assertion: await device.assertion({ aud: 'https://other.example/v1/devices/token' }) }));
    expect(elsewhere.status).toBe(401);
  });

  it('an access token that worked is refused once it expires, naming why', async () => {
    const device = await createTestDevice(cloud.fetchPath, cloud.url, cloud.enrollmentToken, 'short-lived');
    // Signed as the server signs them, but living two seconds (the shortest the config allows is a minute).
    const key = loadSecrets(cloud.config).tokenKeys.newest;
    const issued = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ org: device.orgId, typ: 'device' })
      .setProtectedHeader({ alg: 'HS256', kid: key.keyId })
      .setIssuer('icarus-nova')
      .setSubject(device.deviceId)
      .setIssuedAt(issued)
      .setExpirationTime(issued + 2)
      .sign(key.key);
    const policy = () => cloud.fetchPath(WIRE_PATHS.policy, { headers: { authorization: `Bearer ${token}` } });
    const first = await policy();
    expect(first.status, await first.text()).toBe(200);
    expect((await policy()).status).toBe(200);
    await new Promise((r) => setTimeout(r, (issued + 2) * 1000 - Date.now() + 100));
    const refused = await policy();
    expect(refused.status).toBe(401);
    expect(await refused.text()).toMatch(/access token has expired/);
  });

  it('a revoked device gets no new token and its current token stops working at once', async () => {
    const device = await createTestDevice(cloud.fetchPath, cloud.url, cloud.enrollmentToken);
    await device.consent(['app_usage']);
    expect((await device.ingest(makeSpans(1))).status).toBe(200);
    await cloud.cloud.services.devices.revoke(device.deviceId, device.orgId, 'test');
    const token = await cloud.fetchPath(WIRE_PATHS.token, json({ assertion: await device.assertion() }));
    expect(token.status).toBe(403);
    expect(await token.text()).toMatch(/revoked/i);
    const spans = makeSpans(1);
    expect((await device.ingest(spans)).status).toBe(403);
    const stored = await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from spans where id = ${spans[0]?.id ?? ''}`);
    expect(stored[0]?.n).toBe(0);
  });

  it('one device\u2019s rate limit never throttles another device', async () => {
    const noisy = await createTestDevice(cloud.fetchPath, cloud.url, cloud.enrollmentToken, 'noisy');
    const quiet = await createTestDevice(cloud.fetchPath, cloud.url, cloud.enrollmentToken, 'quiet');
    await noisy.consent(['app_usage']);
    await quiet.consent(['app_usage']);
    frozenAt = Date.now();
    try {
      const flood = await Promise.all(Array.from({ length: RATE_RULES.perDevice.burst + 10 }, () => noisy.ingest([], { batchId: uuidv7() })));
      expect(flood.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(10);
      expect((await noisy.ingest([], { batchId: uuidv7() })).status).toBe(429);
      // Same address, same org, same moment: the quiet device still gets through, every time.
      const statuses = await Promise.all(Array.from({ length: 5 }, () => quiet.ingest(makeSpans(1)).then((r) => r.status)));
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
    } finally {
      frozenAt = undefined;
    }
  });
});
