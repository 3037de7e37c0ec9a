import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, makeSpans, type TestDevice } from '../../../test/support/device-client';

/** Devices' syncs arriving together are written together: each answer still comes after its device's sync is stored. */
describe.each(testDatabaseKinds())('sync times and health of devices syncing at once (%s)', (kind) => {
  let cloud: TestCloud;
  const devices: TestDevice[] = [];
  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    for (let i = 0; i < 6; i++) devices.push(await createTestDevice(cloud.fetchPath, cloud.url, cloud.enrollmentToken, `sync-${i}`));
  }, 120_000);
  afterAll(() => cloud?.stopAll());

  it("stores each device's last sync and its own status by the time it is answered", async () => {
    const before = Date.now();
    const answers = await Promise.all(
      devices.map((device, i) =>
        // Every other device reports no status: its sync time is still stored.
        device.ingest(
          makeSpans(1),
          i % 2 === 0 ? { extra: { status: { agentVersion: `1.0.${i}`, pendingSpans: i, droppedSpans: 0, captureSources: [] } } } : {},
        ),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(devices.map(() => 200));
    const ids = devices.map((d) => d.deviceId);
    const rows = await cloud.database.rows<{ id: string; last_seen_at: Date | string | null; agent_version: string | null; pending: string | null }>(
      sql`select id, last_seen_at, agent_version, status->>'pendingSpans' as pending from devices where id = any(${`{${ids.join(',')}}`}::uuid[])`,
    );
    for (const [i, id] of ids.entries()) {
      const row = rows.find((r) => r.id === id);
      expect(new Date(row?.last_seen_at ?? 0).getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(row?.agent_version ?? null).toBe(i % 2 === 0 ? `1.0.${i}` : null);
      expect(row?.pending ?? null).toBe(i % 2 === 0 ? String(i) : null);
    }
  });
});
