import { addDays } from '@icarus/shared';
import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '../../start';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, json, type TestDevice } from '../../../test/support/device-client';

/** Spans after consent, 50 ms apart. */
function spansFrom(from: number, count: number, app = 'Code') {
  return Array.from({ length: count }, (_, i) => ({ id: uuidv7(), start: new Date(from + i * 50).toISOString(), durationMs: 40, app }));
}

async function totals(cloud: RunningCloud, orgId: string, userId?: string) {
  const who = userId ? sql`and user_id = ${userId}` : sql``;
  const [raw] = await cloud.database.rows<{ ms: number; spans: number }>(
    sql`select coalesce(sum(duration_ms), 0)::float8 as ms, count(*)::int as spans from spans where org_id = ${orgId} ${who}`,
  );
  const [rolled] = await cloud.database.rows<{ ms: number; spans: number }>(
    sql`select coalesce(sum(active_ms + idle_ms), 0)::float8 as ms, coalesce(sum(spans), 0)::int as spans from rollup_user_daily where org_id = ${orgId} ${who}`,
  );
  const [org] = await cloud.database.rows<{ ms: number }>(
    sql`select coalesce(sum(active_ms + idle_ms), 0)::float8 as ms from rollup_org_daily where org_id = ${orgId}`,
  );
  return { raw: { ms: Number(raw?.ms), spans: Number(raw?.spans) }, rolled: { ms: Number(rolled?.ms), spans: Number(rolled?.spans) }, orgMs: Number(org?.ms) };
}

describe.each(testDatabaseKinds())('the rollup outbox on %s', (kind) => {
  let cloud: TestCloud;
  const devices: Record<string, TestDevice> = {};
  const ids: Record<string, string> = {};
  let from = 0;

  beforeAll(async () => {
    // No worker role: the consumer runs only when a test calls flush(), so what is owed can be seen.
    cloud = await startTestCloud(kind, { ROLES: 'api,scheduler' });
    for (const name of ['alice', 'bob']) {
      const { userId, token } = await cloud.personToken(name);
      ids[name] = userId;
      const device = await createTestDevice(cloud.fetchPath, cloud.url, token, name);
      expect((await device.consent(['app_usage'])).ok).toBe(true);
      devices[name] = device;
    }
    from = Date.now() + 1000;
    await new Promise((r) => setTimeout(r, 1100));
  }, 120_000);
  afterAll(() => cloud?.stopAll());

  it('owes every stored batch until the consumer writes it, once, and a resend owes nothing', async () => {
    const { analytics } = cloud.cloud.services;
    const spans = spansFrom(from, 30);
    expect((await devices.alice?.ingest(spans))?.status).toBe(200);
    expect((await devices.bob?.ingest(spansFrom(from + 3, 10, 'Slack')))?.status).toBe(200);
    expect(await analytics.owed()).toBe(2);
    expect((await totals(cloud, cloud.bootstrap.orgId)).rolled.spans).toBe(0);
    // The same batch again: duplicates, nothing new owed.
    expect((await (await devices.alice?.ingest(spans))?.json()) as { duplicates: number }).toMatchObject({ duplicates: 30 });
    expect(await analytics.owed()).toBe(2);
    expect(await analytics.flush()).toBe(2);
    expect(await analytics.owed()).toBe(0);
    const seen = await totals(cloud, cloud.bootstrap.orgId);
    expect(seen.rolled).toEqual({ ms: 40 * 40, spans: 40 });
    expect(seen.rolled).toEqual(seen.raw);
    expect(seen.orgMs).toBe(seen.raw.ms);
    expect(await analytics.flush()).toBe(0);
  });

  it('a rebuild while batches are owed counts each span once (the owed ones are added after)', async () => {
    const { analytics } = cloud.cloud.services;
    const orgId = cloud.bootstrap.orgId;
    expect((await devices.alice?.ingest(spansFrom(from + 20_000, 25)))?.status).toBe(200);
    expect(await analytics.owed()).toBe(1);
    const { today } = await analytics.orgCalendar(orgId);
    await analytics.rebuild(orgId, addDays(today, -2), addDays(today, 2));
    // The rebuild left the owed spans out; the consumer adds them: neither lost nor doubled.
    expect((await totals(cloud, orgId)).rolled.spans).toBe(40);
    await analytics.flush();
    const seen = await totals(cloud, orgId);
    expect(seen.rolled).toEqual(seen.raw);
    expect(seen.rolled.spans).toBe(65);
    expect((await analytics.checkConsistency(orgId, addDays(today, -2), addDays(today, 2))).repairedDays).toEqual([]);
  });

  it('an erasure while the person still has owed batches leaves nothing of them to come back', async () => {
    const { analytics, rights } = cloud.cloud.services;
    const orgId = cloud.bootstrap.orgId;
    const bobBefore = await totals(cloud, orgId, ids.bob);
    expect((await devices.alice?.ingest(spansFrom(from + 40_000, 15)))?.status).toBe(200);
    expect((await devices.bob?.ingest(spansFrom(from + 40_003, 5, 'Slack')))?.status).toBe(200);
    expect(await analytics.owed()).toBe(2);
    const bearer = { authorization: `Bearer ${devices.alice?.accessToken ?? ''}` };
    expect((await cloud.fetchPath('/v1/me/erasure', json({ eraseLocal: false }, bearer))).status).toBe(202);
    await rights.idle();
    // Only bob's batch is still owed; consuming it brings none of alice's figures back.
    expect(await analytics.owed()).toBe(1);
    await analytics.flush();
    expect(await totals(cloud, orgId, ids.alice)).toMatchObject({ raw: { ms: 0, spans: 0 }, rolled: { ms: 0, spans: 0 } });
    const bob = await totals(cloud, orgId, ids.bob);
    expect(bob.rolled).toEqual({ ms: bobBefore.rolled.ms + 5 * 40, spans: bobBefore.rolled.spans + 5 });
    expect(bob.rolled).toEqual(bob.raw);
    expect((await totals(cloud, orgId)).orgMs).toBe(bob.raw.ms);
  });

  // Several processes on one database: PostgreSQL only (an embedded PGlite belongs to one process).
  if (kind !== 'postgres') return;
  it('two workers and a rebuild on one database while devices sync: every span counted once', async () => {
    const orgId = cloud.bootstrap.orgId;
    const workerEnv = {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      DATA_DIR: ':memory:',
      DATABASE_URL: cloud.testDb.databaseUrl ?? '',
      ROLES: 'worker',
    };
    const workers = await Promise.all([startCloud({ env: workerEnv, silent: true }), startCloud({ env: workerEnv, silent: true })]);
    try {
      const bob = devices.bob as TestDevice;
      const syncing = (async () => {
        for (let round = 0; round < 40; round++) expect((await bob.ingest(spansFrom(from + 60_000 + round * 1000, 20, 'Slack'))).status).toBe(200);
      })();
      const { today } = await cloud.cloud.services.analytics.orgCalendar(orgId);
      const rebuilding = (async () => {
        for (let i = 0; i < 5; i++) {
          await workers[i % 2]?.cloud.services.analytics.rebuild(orgId, addDays(today, -1), addDays(today, 1));
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      await Promise.all([syncing, rebuilding]);
      const deadline = Date.now() + 10_000;
      let seen = await totals(cloud, orgId);
      while ((seen.rolled.spans !== seen.raw.spans || (await cloud.cloud.services.analytics.owed()) > 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await totals(cloud, orgId);
      }
      expect(seen.rolled).toEqual(seen.raw);
      expect(seen.orgMs).toBe(seen.raw.ms);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  }, 120_000);
});
