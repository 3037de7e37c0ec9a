import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, WIRE_PATHS } from '@icarus/shared';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, json } from '../../../test/support/device-client';

describe.each(testDatabaseKinds())('device keys and assertions (%s)', (kind) => {
  let cloud: TestCloud;
  const tokenUses = async () => (await cloud.database.rows<{ n: number }>(sql`select sum(uses)::int as n from enrollment_tokens`))[0]?.n ?? -1;
  beforeAll(async () => {
    cloud = await startTestCloud(kind);
  });
  afterAll(() => cloud?.stopAll());

  // All zeros is a small-order point: under it an all-zero signature verifies for any message.
  it.each([
    ['the all-zero key', 'A'.repeat(43)],
    ['the identity point', `AQ${'A'.repeat(41)}`],
    ['an encoding off the curve', `${'_'.repeat(42)}8`],
  ])('refuses %s at enrollment with 400 naming publicKeyJwk, spending no token use', async (_, x) => {
    const before = await tokenUses();
    const response = await cloud.fetchPath(
      WIRE_PATHS.enroll,
      json({ enrollmentToken: cloud.enrollmentToken, deviceName: 'laptop', platform: 'linux', osUser: 'eve', publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x } }),
    );
    expect(response.status).toBe(400);
    expect(ApiError.parse(await response.json()).error.fields?.map((f) => f.path)).toContain('publicKeyJwk');
    expect(await tokenUses()).toBe(before);
  });

  it('refuses an assertion issued in the future, and takes one issued now', async () => {
    const device = await createTestDevice(cloud.fetchPath, cloud.url, cloud.enrollmentToken);
    const future = await cloud.fetchPath(WIRE_PATHS.token, json({ assertion: await device.assertion({ issuedInSeconds: 3600 }) }));
    expect(future.status).toBe(401);
    expect(JSON.stringify(await future.json())).toContain('future');
    const current = await cloud.fetchPath(WIRE_PATHS.token, json({ assertion: await device.assertion() }));
    expect(current.status).toBe(200);
  });
});
