import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../../start';
import { deploymentSecrets, startAnotherInstance, startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds, type TestDatabaseKind } from '../../../test/support/database';
import { createTestDevice, type TestDevice } from '../../../test/support/device-client';
import { uuidv7 } from 'uuidv7';

/**
 * Every sync reads the device and its consent from memory; a revocation or a withdrawal made
 * anywhere empties those caches everywhere at once (PostgreSQL NOTIFY between instances).
 */
/** PostgreSQL twice: instances told through NOTIFY, and through Redis pub/sub (REDIS_URL). */
type Variant = [string, 'local' | 'notify' | 'redis'];
const variants: Variant[] = testDatabaseKinds().flatMap((kind): Variant[] =>
  kind === 'postgres'
    ? [
        [kind, 'notify'],
        [kind, 'redis'],
      ]
    : [[kind, 'local']],
);

describe.each(variants)('cached device state on %s (%s)', (kind, bus) => {
  let cloud: TestCloud;
  let other: RunningCloud | undefined;
  let device: TestDevice;
  let adminId = '';
  // Each span after the last (the cloud refuses overlapping spans of one device).
  let next = 0;
  const span = () => {
    next = Math.max(next + 20, Date.now());
    return [{ id: uuidv7(), start: new Date(next).toISOString(), durationMs: 10, app: 'Code' }];
  };
  // One deployment: both instances share the keys.
  const keys = {
    ...(bus === 'redis'
      ? { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_PREFIX: `icarus-test-${randomBytes(4).toString('hex')}:` }
      : {}),
    ...deploymentSecrets(),
  };

  beforeAll(async () => {
    cloud = await startTestCloud(kind as TestDatabaseKind, keys);
    // A second instance on the same PostgreSQL database (PGlite belongs to one process).
    if (kind === 'postgres') {
      other = await startAnotherInstance(cloud, keys);
    }
    const { token } = await cloud.personToken('rita');
    device = await createTestDevice(cloud.fetchPath, cloud.url, token, 'rita');
    expect((await device.consent(['app_usage'])).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    const admin = await cloud.cloud.services.directory.findUserByEmail(cloud.bootstrap.orgId, cloud.bootstrap.adminEmail);
    adminId = admin?.id ?? '';
  }, 120_000);
  afterAll(async () => {
    await other?.close();
    await cloud?.stopAll();
  });

  /** Ingest through the instance that did not make the change, when there is one. */
  const ingestElsewhere = (body: unknown[]) => {
    if (!other) return device.ingest(body);
    const base = other.url;
    return fetch(`${base}/v1/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${device.accessToken}` },
      body: JSON.stringify({ batchId: uuidv7(), spans: body }),
    });
  };

  it('a withdrawal stops ingestion within a second on every instance, and a new grant resumes it', async () => {
    // Warm the caches on the other instance: it now holds the device and its timeline.
    expect(((await (await ingestElsewhere(span())).json()) as { accepted: number }).accepted).toBe(1);
    expect((await device.consent(['app_usage'], 'withdrawn')).ok).toBe(true);
    const deadline = Date.now() + 1000;
    let result = (await (await ingestElsewhere(span())).json()) as { accepted: number; rejected: { reason: string }[] };
    while (result.accepted > 0 && Date.now() < deadline) result = (await (await ingestElsewhere(span())).json()) as typeof result;
    expect(result.accepted).toBe(0);
    expect(result.rejected[0]?.reason).toBe('no_consent');
    expect((await device.consent(['app_usage'])).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    const again = (await (await ingestElsewhere(span())).json()) as { accepted: number };
    expect(again.accepted).toBe(1);
  });

  it('a revoked device is refused within a second on every instance', async () => {
    expect((await ingestElsewhere(span())).status).toBe(200);
    await cloud.cloud.services.devices.revoke(device.deviceId, cloud.bootstrap.orgId, adminId);
    const started = Date.now();
    let status = (await ingestElsewhere(span())).status;
    while (status === 200 && Date.now() - started < 1000) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await ingestElsewhere(span())).status;
    }
    expect(status).toBe(403);
  });
});
