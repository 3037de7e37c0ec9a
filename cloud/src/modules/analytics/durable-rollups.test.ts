import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDays } from '@icarus/shared';
import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '../../start';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../../../test/support/database';
import { createTestDevice, type TestDevice } from '../../../test/support/device-client';

const serverEntry = new URL('../../server.ts', import.meta.url).pathname;

/**
 * Rollups survive `kill -9`: what ingestion stored is owed to the rollups in the database (the
 * outbox written in the insert's statement), not in a process's memory. Real server processes
 * are killed with SIGKILL while devices sync; a worker started afterwards brings every report
 * figure to the raw sums, with nothing counted twice.
 */
describe.each(testDatabaseKinds())('rollups after kill -9 on %s', (kind) => {
  let testDb: TestDatabase;
  let dataDir: string;
  const env = () => ({
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL: testDb.databaseUrl ?? '',
  });
  let orgId = '';
  let tokens: string[] = [];

  /** The cloud in this test process, on the shared database (PGlite: one process at a time). */
  async function inProcess(roles: string): Promise<RunningCloud> {
    return startCloud({ env: { ...env(), PORT: '0', ROLES: roles, DEMO_SEED: 'true' }, silent: true });
  }

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    dataDir = mkdtempSync(join(tmpdir(), 'icarus-durable-'));
    const setup = await inProcess('api');
    orgId = setup.bootstrap.orgId;
    const { directory, devices } = setup.cloud.services;
    for (const name of ['ada', 'bo', 'cy']) {
      const user = await directory.createUser({ orgId, email: `${name}@durable.test`, name, role: 'employee', osUser: name });
      tokens.push((await devices.createEnrollmentToken({ orgId, userId: user.id, label: name, validDays: 1, maxUses: 5 })).token);
    }
    await setup.close();
  }, 120_000);

  afterAll(async () => {
    await testDb.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** `node server.ts` with these roles; resolves with its URL once it listens. */
  async function serverProcess(roles: string): Promise<{ child: ChildProcess; url: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', serverEntry], {
      env: { ...process.env, ...env(), PORT: '0', ROLES: roles, DEMO_SEED: 'false', LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 90_000;
    for (;;) {
      const url = /listening on (\S+)/.exec(output)?.[1];
      if (url) return { child, url };
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function killHard(child: ChildProcess) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Spans after consent, 50 ms apart: a device that synced a busy stretch. */
  function spansFrom(from: number, count: number, app: string) {
    return Array.from({ length: count }, (_, i) => ({ id: uuidv7(), start: new Date(from + i * 50).toISOString(), durationMs: 40, app }));
  }

  async function compare(cloud: RunningCloud) {
    const [raw] = await cloud.database.rows<{ ms: number; spans: number }>(
      sql`select coalesce(sum(duration_ms), 0)::float8 as ms, count(*)::int as spans from spans where org_id = ${orgId}`,
    );
    const [rolled] = await cloud.database.rows<{ ms: number; spans: number }>(
      sql`select coalesce(sum(active_ms + idle_ms), 0)::float8 as ms, coalesce(sum(spans), 0)::int as spans from rollup_user_daily where org_id = ${orgId}`,
    );
    const [people] = await cloud.database.rows<{ ms: number }>(
      sql`select coalesce(sum(active_ms + idle_ms), 0)::float8 as ms from rollup_user_days where org_id = ${orgId}`,
    );
    return {
      raw: { ms: Number(raw?.ms), spans: Number(raw?.spans) },
      rolled: { ms: Number(rolled?.ms), spans: Number(rolled?.spans) },
      people: Number(people?.ms),
    };
  }

  it('keeps what an api process stored and owed when it is killed, and a worker started later writes it once', async () => {
    const api = await serverProcess('api');
    const fetchPath = (path: string, init?: RequestInit) => fetch(`${api.url}${path}`, init);
    const devices: TestDevice[] = [];
    for (const [i, token] of tokens.entries()) {
      const device = await createTestDevice(fetchPath, api.url, token, `user${i}`);
      expect((await device.consent(['app_usage'])).ok).toBe(true);
      devices.push(device);
    }
    const from = Date.now() + 1000;
    await new Promise((r) => setTimeout(r, 1100));
    let accepted = 0;
    for (const [i, device] of devices.entries()) {
      const res = await device.ingest(spansFrom(from + i * 7, 40, ['Code', 'Slack', 'Figma'][i] ?? 'Code'));
      expect(res.status).toBe(200);
      accepted += ((await res.json()) as { accepted: number }).accepted;
    }
    expect(accepted).toBe(120);
    // No worker role: nothing was written to the rollups, all of it is owed.
    await killHard(api.child);

    const worker = await inProcess('worker');
    try {
      const deadline = Date.now() + 10_000;
      let seen = await compare(worker);
      while (seen.rolled.spans < 120 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        seen = await compare(worker);
      }
      expect(seen.raw).toEqual({ ms: 120 * 40, spans: 120 });
      expect(seen.rolled).toEqual(seen.raw);
      expect(seen.people).toBe(seen.raw.ms);
      expect(await worker.cloud.services.analytics.owed()).toBe(0);
      // The safety net finds nothing to repair.
      const { today } = await worker.cloud.services.analytics.orgCalendar(orgId);
      expect((await worker.cloud.services.analytics.checkConsistency(orgId, addDays(today, -1), addDays(today, 1))).repairedDays).toEqual([]);
    } finally {
      await worker.close();
    }
  }, 180_000);

  it('loses and doubles nothing when a process serving every role is killed while devices sync', async () => {
    const before = await (async () => {
      const c = await inProcess('api');
      try {
        return await compare(c);
      } finally {
        await c.close();
      }
    })();
    const all = await serverProcess('api,worker,scheduler');
    const fetchPath = (path: string, init?: RequestInit) => fetch(`${all.url}${path}`, init);
    const devices: TestDevice[] = [];
    for (const [i, token] of tokens.entries()) {
      const device = await createTestDevice(fetchPath, all.url, token, `again${i}`);
      expect((await device.consent(['app_usage'])).ok).toBe(true);
      devices.push(device);
    }
    const from = Date.now() + 1000;
    await new Promise((r) => setTimeout(r, 1100));
    // Devices keep syncing; the process dies at a moment no one chose (mid-consume or not).
    let sent = 0;
    let stored = 0;
    let ended = 0;
    const syncing = devices.map(async (device, i) => {
      try {
        for (let round = 0; round < 50; round++) {
          const spans = spansFrom(from + round * 2000 + i * 11, 20, 'Code');
          sent += spans.length;
          const res = await device.ingest(spans).catch(() => undefined);
          if (!res) return;
          if (res.status === 200) stored += ((await res.json()) as { accepted: number }).accepted;
        }
      } finally {
        ended++;
      }
    });
    // Killed once a share of the spans no one chose (a fifth to four fifths) is stored, however fast they go.
    const killAt = Math.floor(devices.length * 50 * 20 * (0.2 + Math.random() * 0.6));
    while (stored < killAt && ended < devices.length) await new Promise((r) => setTimeout(r, 5));
    await killHard(all.child);
    await Promise.all(syncing);
    expect(stored).toBeGreaterThan(0);
    expect(sent).toBeGreaterThan(stored);

    const worker = await inProcess('worker');
    try {
      const deadline = Date.now() + 10_000;
      let seen = await compare(worker);
      while (seen.rolled.spans !== seen.raw.spans && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        seen = await compare(worker);
      }
      // Every stored span counted once; the raw table holds at least what the devices were told.
      expect(seen.raw.spans - before.raw.spans).toBeGreaterThanOrEqual(stored);
      expect(seen.rolled).toEqual(seen.raw);
      expect(seen.people).toBe(seen.raw.ms);
      expect(await worker.cloud.services.analytics.owed()).toBe(0);
    } finally {
      await worker.close();
    }
  }, 180_000);
});
