import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, WIRE_PATHS } from '@icarus/shared';
import { createLogger } from '../../platform/logger';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, json, makeSpans, type TestDevice } from '../../../test/support/device-client';

// JSON.stringify writes a lone surrogate as the escape \udXXX, which JSON.parse turns back into one.
const LONE_SURROGATE = 'Co\uD800de';
const NUL = 'Co\u0000de';

describe.each(testDatabaseKinds())('NUL characters and lone surrogates at the edge (%s)', (kind) => {
  let cloud: TestCloud;
  let device: TestDevice;
  const count = async (table: 'spans' | 'devices') =>
    (await cloud.database.rows<{ n: number }>(sql.raw(`select count(*)::int as n from ${table}`)))[0]?.n ?? -1;
  const tokenUses = async () => (await cloud.database.rows<{ n: number }>(sql`select sum(uses)::int as n from enrollment_tokens`))[0]?.n ?? -1;

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    device = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('unsafe-text')).token);
    expect((await device.consent(['app_usage', 'idle'])).status).toBe(201);
  });
  afterAll(() => cloud?.stopAll());

  it.each([
    ['a NUL in an app name', { app: NUL }, 'spans.3.app'],
    ['a lone surrogate in an app name', { app: LONE_SURROGATE }, 'spans.3.app'],
    ['a NUL in a title', { title: `a${'\u0000'}b` }, 'spans.3.title'],
  ])('refuses %s with 400 naming the field, storing no span of the batch', async (_, change, path) => {
    const before = await count('spans');
    const spans = makeSpans(5).map((s, i) => (i === 3 ? { ...s, ...change } : s));
    const response = await device.ingest(spans);
    expect(response.status).toBe(400);
    const { error } = ApiError.parse(await response.json());
    expect(error.fields?.map((f) => f.path)).toContain(path);
    expect(await count('spans')).toBe(before);
  });

  it('refuses bad text in the device status of a batch', async () => {
    const status = { agentVersion: '1.0.0', pendingSpans: 0, droppedSpans: 0, captureSources: [{ name: 'x', ok: false, problem: NUL }] };
    const response = await device.ingest(makeSpans(1), { extra: { status } });
    expect(response.status).toBe(400);
    expect(ApiError.parse(await response.json()).error.fields?.map((f) => f.path)).toContain('status.captureSources.0.problem');
  });

  it('refuses an enrollment with a lone surrogate before spending a token use', async () => {
    const [devicesBefore, usesBefore] = [await count('devices'), await tokenUses()];
    const response = await cloud.fetchPath(
      WIRE_PATHS.enroll,
      json({
        enrollmentToken: cloud.enrollmentToken,
        deviceName: `laptop${'\uDC00'}`,
        platform: 'linux',
        osUser: 'bob',
        publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) },
      }),
    );
    expect(response.status).toBe(400);
    expect(ApiError.parse(await response.json()).error.fields?.map((f) => f.path)).toContain('deviceName');
    expect([await count('devices'), await tokenUses()]).toEqual([devicesBefore, usesBefore]);
  });

  it('logs a database error by code and message, never with the values it was given', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }));
    const secretApp = 'SecretProjectApp';
    const failure = await cloud.database.rows(sql`select ${`${secretApp}\u0000`}::text as app`).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    logger.error({ err: failure }, 'unhandled error');
    logger.flush();
    const logged = lines.join('');
    expect(logged).toContain('unhandled error');
    expect(logged).not.toContain(secretApp);
  });
});
