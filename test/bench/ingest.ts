import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import postgres from 'postgres';
import { randomInt } from 'node:crypto';
import { UUID, uuidv7 } from 'uuidv7';
import pino from 'pino';
import { createApp } from '../../cloud/src/app';
import { parseConfig } from '../../cloud/src/platform/config';
import { openDatabase } from '../../cloud/src/platform/db/client';
import { loadSecrets } from '../../cloud/src/platform/secrets';
import { createTestDatabase } from '../../cloud/test/support/database';
import { createTestDevice, type TestDevice } from '../../cloud/test/support/device-client';
import { WIRE_PATHS } from '@icarus/shared';
import { median, percentile } from './stats';

/** Enough devices that ~300 batches/s stay under each device's 10/s limit. */
const DEVICES = 48;
const APPS = ['Code', 'Firefox', 'Slack', 'Terminal', 'Outlook', 'Zoom', 'Excel', 'Figma', 'Teams', 'Notion'];

export interface IngestFigures {
  eventsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  rawCeilingEventsPerSecond: number;
  /** The server process (all roles in one) during the measured run: peak RSS (VmHWM) and CPU in cores (utime+stime / wall time). */
  serverPeakRssMb: number;
  serverCpuCores: number;
  runs: number;
  batchSize: number;
  concurrency: number;
  seconds: number;
}

/** How far back the simulated devices were enrolled: their batches are days of work already done. */
export const HISTORY_MS = 90 * 86_400_000;

/** A span id as the agent's merger makes it: a uuidv7 whose clock is the moment the span opened. */
function openedAt(ms: number): string {
  return UUID.fromFieldsV7(ms, randomInt(0x1000), randomInt(0x40000000), randomInt(0x100000000)).toString();
}

/**
 * Realistic device spans: merged per app, seconds to minutes long, some idle, back to back
 * from `startMs` (a device's spans never overlap); `end` is where the next batch may start.
 * Ids are minted at each span's start, as an agent mints them (ingestion looks for a resent
 * id near where it was minted: ids minted now for spans of weeks ago would have it read days
 * no agent's batch makes it read).
 */
export function realisticBatch(size: number, startMs: number): { body: Blob; gzip: Uint8Array; count: number; end: number } {
  let t = startMs;
  const spans = Array.from({ length: size }, (_, i) => {
    const durationMs = 5_000 + ((i * 7919) % 240_000);
    const span =
      i % 9 === 8
        ? { id: openedAt(t), start: new Date(t).toISOString(), durationMs, idle: true as const }
        : { id: openedAt(t), start: new Date(t).toISOString(), durationMs, app: APPS[(i * 31) % APPS.length] };
    t += durationMs + 1000;
    return span;
  });
  const gzip = new Uint8Array(gzipSync(JSON.stringify({ batchId: uuidv7(), spans })));
  return { body: new Blob([gzip]), gzip, count: size, end: t };
}

/** The next batch of a device's timeline (from HISTORY_MS back on its first), its end kept for the one after. */
export function nextBatch(device: TestDevice, timelines: Map<TestDevice, number>, size: number) {
  const batch = realisticBatch(size, timelines.get(device) ?? Date.now() - HISTORY_MS);
  timelines.set(device, batch.end + 1000);
  return batch;
}

export async function startServer(databaseUrl: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; token: string }> {
  const entry = new URL('../../cloud/src/server.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', DATABASE_POOL_SIZE: '8', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!/Enrollment token: (\S+)/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /listening on (\S+)/.exec(out)?.[1] ?? '';
  const token = /Enrollment token: (\S+)/.exec(out)?.[1] ?? '';
  return { child, url, token };
}

/** The product's services over the bench's database, for setup made the way the product makes it. */
async function withCloud<T>(databaseUrl: string, work: (services: ReturnType<typeof createApp>['services']) => Promise<T>): Promise<T> {
  const config = parseConfig({ DATABASE_URL: databaseUrl, DEMO_SEED: 'false', LOG_LEVEL: 'silent' });
  const database = await openDatabase({ databaseUrl, dataDir: config.DATA_DIR, poolSize: 2 });
  const cloud = createApp({ config, database, secrets: loadSecrets(config), logger: pino({ level: 'silent' }) });
  try {
    return await work(cloud.services);
  } finally {
    await cloud.stop();
    await database.close();
  }
}

/**
 * A daily partition for each day of the history the fleet sends, as a deployment that has run
 * that long has (its partition job makes each a day ahead): none of it falls to the default.
 */
export function partitionHistory(databaseUrl: string): Promise<unknown> {
  return withCloud(databaseUrl, ({ ingestion }) => ingestion.ensureDailyPartitions(new Date(Date.now() - HISTORY_MS - 86_400_000), new Date()));
}

/** `count` people of the server's demo org, each with an enrollment token that binds to them. */
export function perPersonTokens(databaseUrl: string, count: number): Promise<string[]> {
  return withCloud(databaseUrl, async ({ directory, devices }) => {
    const org = await directory.firstOrg();
    if (!org) throw new Error('the bench server made no demo org');
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const person = await directory.createUser({ orgId: org.id, email: `bench-user-${i}@bench.test`, name: `Bench ${i}`, role: 'employee' });
      tokens.push((await devices.createEnrollmentToken({ orgId: org.id, userId: person.id, label: `bench ${i}`, validDays: 1, maxUses: 1 })).token);
    }
    return tokens;
  });
}

/** The devices enrolled and consenting HISTORY_MS ago: the server refuses spans from before either. */
export async function backdate(databaseUrl: string, devices: TestDevice[]): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const ids = devices.map((d) => d.deviceId);
  const since = new Date(Date.now() - HISTORY_MS - 86_400_000).toISOString();
  await sql`update devices set enrolled_at = ${since}::timestamptz where id = any(${ids}::uuid[])`;
  await sql`update consent_records set effective_at = ${since}::timestamptz where device_id = any(${ids}::uuid[])`;
  // The server caches device rows and consent timelines: tell it (its invalidation channel) they changed.
  await sql`select pg_notify('icarus_invalidate', t || chr(1) || id::text) from unnest(${ids}::uuid[]) id, unnest(array['device', 'consent-timeline']) t`;
  await sql.end();
}

/** CPU seconds (utime+stime) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident memory of a process in MB (VmHWM), start-up included. */
function peakRssMb(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** The same server's ceiling for the insert alone: json_to_recordset + on conflict, 4 connections. */
async function rawCeiling(databaseUrl: string, batchSize: number, seconds: number): Promise<number> {
  const sql = postgres(databaseUrl, { max: 4, onnotice: () => {} });
  const org = uuidv7();
  const device = uuidv7();
  let inserted = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (Date.now() < until) {
        let t = Date.now();
        const rows = Array.from({ length: batchSize }, () => ({
          id: uuidv7(),
          start: new Date((t += 1000)).toISOString(),
          duration_ms: 900,
          app: 'Code',
          idle: false,
        }));
        await sql`insert into spans (id, start, org_id, device_id, user_id, duration_ms, app, idle)
          select u.id, u.start, ${org}::uuid, ${device}::uuid, null, u.duration_ms, u.app, u.idle
          from json_to_recordset(${JSON.stringify(rows)}::text::json) as u(id uuid, start timestamptz, duration_ms int, app text, idle boolean)
          on conflict do nothing`;
        inserted += batchSize;
      }
    }),
  );
  await sql.end();
  return inserted / seconds;
}

/**
 * `count` bound, consenting devices of the server's demo org, enrolled and consenting as if long
 * ago. The fleet token binds no one, so each simulated person gets a per-person token (as IT
 * deploys by MDM), made through the directory and devices services of the same database.
 */
export async function enrollFleet(databaseUrl: string, server: { url: string; token: string }, count: number): Promise<TestDevice[]> {
  // One address enrolls the whole fleet, so it meets the per-address limit: it waits as an agent does.
  const fetchPath = async (path: string, init?: RequestInit): Promise<Response> => {
    for (;;) {
      const response = await fetch(`${server.url}${path}`, init);
      if (response.status !== 429) return response;
      await response.body?.cancel();
      await new Promise((r) => setTimeout(r, Number(response.headers.get('retry-after') ?? 1) * 1000));
    }
  };
  const devices: TestDevice[] = [];
  const personTokens = await perPersonTokens(databaseUrl, count);
  for (let i = 0; i < count; i++) {
    const device = await createTestDevice(fetchPath, server.url, personTokens[i] ?? server.token, `bench-user-${i}`);
    await device.consent(['app_usage', 'idle']);
    devices.push(device);
  }
  await backdate(databaseUrl, devices);
  await partitionHistory(databaseUrl);
  return devices;
}

export async function loadRun(
  url: string,
  devices: TestDevice[],
  timelines: Map<TestDevice, number>,
  batchSize: number,
  concurrency: number,
  seconds: number,
  /** Batches made ahead per second of the run: above what the server can take. */
  bodiesPerSecond = 200,
) {
  // Bodies are made before the clock starts so the load generator costs little CPU; each
  // continues its device's timeline, so the server sees what a real agent sends.
  const perClient = Math.ceil((seconds * bodiesPerSecond) / concurrency) + 20;
  const bodies = Array.from({ length: perClient }, (_, i) =>
    Array.from({ length: concurrency }, (_, c) => {
      const device = devices[(c + i * concurrency) % devices.length];
      return device ? nextBatch(device, timelines, batchSize) : realisticBatch(batchSize, Date.now() - HISTORY_MS);
    }),
  );
  const byClient = Array.from({ length: concurrency }, (_, c) => bodies.map((row) => row[c]).filter((b) => b !== undefined));
  const latencies: number[] = [];
  let events = 0;
  let requests = 0;
  let failures = 0;
  let firstFailure = '';
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    byClient.map(async (mine, c) => {
      // A fleet, not one device: each device stays within its own rate limit.
      for (const [i, batch] of mine.entries()) {
        const device = devices[(c + i * concurrency) % devices.length];
        if (!device || performance.now() >= until) return;
        const t0 = performance.now();
        const send = () =>
          fetch(`${url}${WIRE_PATHS.ingest}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${device.accessToken}` },
            body: batch.body,
          });
        // A keep-alive socket the server closed while idle fails once; the agent retries too.
        const res = await send().catch(send);
        const text = await res.text();
        latencies.push(performance.now() - t0);
        const accepted = res.status === 200 ? (JSON.parse(text) as { accepted: number }).accepted : -1;
        // Counted only when stored: a 200 that refuses spans is a failure of the workload.
        requests++;
        if (accepted === batch.count) events += batch.count;
        else {
          failures++;
          firstFailure ||= `${res.status} ${text.slice(0, 200)}`;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { eventsPerSecond: events / elapsed, requestsPerSecond: requests / elapsed, latencies, failures, firstFailure };
}

export async function benchIngest(options: { runs?: number; seconds?: number; batchSize?: number; concurrency?: number } = {}): Promise<IngestFigures> {
  const runs = options.runs ?? 3;
  const seconds = options.seconds ?? 10;
  const batchSize = options.batchSize ?? 500;
  const concurrency = options.concurrency ?? 4;
  const throughputs: number[] = [];
  const ceilings: number[] = [];
  const p50: number[] = [];
  const p95: number[] = [];
  const p99: number[] = [];
  const rss: number[] = [];
  const cores: number[] = [];
  for (let run = 0; run < runs; run++) {
    const db = await createTestDatabase('postgres');
    const databaseUrl = db.databaseUrl ?? '';
    const server = await startServer(databaseUrl);
    try {
      const devices = await enrollFleet(databaseUrl, server, DEVICES);
      const timelines = new Map<TestDevice, number>();
      await loadRun(server.url, devices, timelines, batchSize, concurrency, 2); // warm-up
      const pid = server.child.pid ?? 0;
      const cpuBefore = cpuSeconds(pid);
      const wallBefore = performance.now();
      const result = await loadRun(server.url, devices, timelines, batchSize, concurrency, seconds);
      cores.push((cpuSeconds(pid) - cpuBefore) / ((performance.now() - wallBefore) / 1000));
      rss.push(peakRssMb(pid));
      if (result.failures > 0) throw new Error(`${result.failures} batches failed during the run: ${result.firstFailure}`);
      throughputs.push(result.eventsPerSecond);
      p50.push(percentile(result.latencies, 50));
      p95.push(percentile(result.latencies, 95));
      p99.push(percentile(result.latencies, 99));
    } finally {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
    }
    ceilings.push(await rawCeiling(databaseUrl, batchSize, Math.min(seconds, 5)));
    await db.drop();
  }
  return {
    eventsPerSecond: median(throughputs),
    p50Ms: median(p50),
    p95Ms: median(p95),
    p99Ms: median(p99),
    rawCeilingEventsPerSecond: median(ceilings),
    serverPeakRssMb: median(rss),
    serverCpuCores: median(cores),
    runs,
    batchSize,
    concurrency,
    seconds,
  };
}
