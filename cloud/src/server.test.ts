import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { startTestCloud } from '../test/support/cloud';
import { testDatabaseKinds } from '../test/support/database';
import { createTestDevice, makeSpans } from '../test/support/device-client';
import { backdateDevice } from '../test/support/backdate';

const serverEntry = new URL('./server.ts', import.meta.url).pathname;

/** `tsx src/server.ts` on PGlite in `dataDir`, with what it prints so far and its exit code to come. */
function spawnServer(dataDir: string, logLevel = 'warn') {
  const child = spawn(process.execPath, ['--import', 'tsx', serverEntry], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: logLevel, DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  /** Waits (a minute at most) until the output matches or the process is gone. */
  const until = async (pattern: RegExp) => {
    const deadline = Date.now() + 60_000;
    while (!pattern.test(output) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  };
  return { child, output: () => output, exited, until };
}

/** Runs the server until it prints its sign-in lines, then stops it with SIGTERM. */
async function runServerOnce(dataDir: string): Promise<{ output: string; exitCode: number | null }> {
  const server = spawnServer(dataDir);
  await server.until(/Admin sign-in/);
  server.child.kill('SIGTERM');
  const exitCode = await server.exited;
  return { output: server.output(), exitCode };
}

describe('server start', () => {
  it('prints the enrollment token on the first start only, and exits cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'icarus-start-'));
    try {
      const first = await runServerOnce(dataDir);
      expect(first.output).toMatch(/^Enrollment token: icn_enr_\S+$/m);
      expect(first.output).toMatch(/Admin sign-in: admin@demo\.icarus\.local \/ \S+/);
      expect(first.exitCode).toBe(0);
      const second = await runServerOnce(dataDir);
      expect(second.output).not.toMatch(/Enrollment token/);
      expect(second.output).toMatch(
        /Admin sign-in: admin@demo\.icarus\.local \(password shown on first start; a new one: npm run admin -- reset-password --email admin@demo\.icarus\.local\)/,
      );
      expect(second.exitCode).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a stop asked for while starting still closes cleanly, and the sign-in made by that start is still shown', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'icarus-start-'));
    try {
      const server = spawnServer(dataDir, 'info');
      // The scheduler's leadership line is logged while the cloud is still starting, before it
      // listens (on a busy machine it may have gone on by the time the signal lands: still clean).
      await server.until(/this instance leads/);
      expect(server.output()).toMatch(/this instance leads/);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(server.output()).toMatch(/Admin sign-in: admin@demo\.icarus\.local \/ \S+/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);

  it('a bad setting stops the start with a message naming it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', serverEntry], { env: { ...process.env, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/PORT/);
  }, 60_000);
});

describe.each(testDatabaseKinds())('stopping on %s', (kind) => {
  it('finishes batches in flight when it is asked to stop', async () => {
    const cloud = await startTestCloud(kind);
    const device = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('alice')).token);
    await device.consent(['app_usage']);
    // Five batches of an hour ago, one after the other (as a device catching up sends them).
    await backdateDevice(cloud, device.deviceId, new Date(Date.now() - 2 * 3_600_000));
    const batches = Array.from({ length: 5 }, (_, i) => makeSpans(200, { from: Date.now() - 3_600_000 + i * 200_000 }));
    // A request the server never received cannot be finished; count the ones it had at close.
    let settled = 0;
    const inFlight = batches.map((spans) =>
      device
        .ingest(spans)
        .then(
          (r) => r.status,
          () => 0,
        )
        .finally(() => settled++),
    );
    const gauge = cloud.cloud.services.metrics.inFlight;
    const inFlightNow = async () => (await gauge.get()).values[0]?.value ?? 0;
    while ((await inFlightNow()) < 1 && settled < batches.length) await new Promise((r) => setImmediate(r));
    const receivedAtClose = await inFlightNow();
    let storedAtClose = -1;
    cloud.cloud.onStop(async () => {
      storedAtClose = (await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from spans`))[0]?.n ?? -1;
    });
    const closing = cloud.close();
    const statuses = await Promise.all(inFlight);
    await closing;
    const finished = statuses.filter((s) => s === 200).length;
    expect(finished).toBeGreaterThanOrEqual(receivedAtClose);
    expect(statuses.every((s) => s === 200 || s === 0)).toBe(true);
    expect(storedAtClose).toBe(finished * 200);
    await cloud.testDb.drop();
  }, 90_000);
});
