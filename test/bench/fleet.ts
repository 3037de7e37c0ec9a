import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { createTestDatabase } from '../../cloud/test/support/database';
import type { TestDevice } from '../../cloud/test/support/device-client';
import { enrollFleet, loadRun, nextBatch, startServer } from './ingest';
import { median, percentile } from './stats';
import { hasWrk, wrkRun, type PreparedBatch } from './wrk-load';

export interface FleetFigures {
  devices: number;
  batchSize: number;
  concurrency: number;
  seconds: number;
  runs: number;
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  bareRequestsPerSecond: number;
  bareP95Ms: number;
  /** The 1-minute load average at the end of each run (the machine is shared). */
  loadAverages: number[];
  /** What sent the load: wrk (C, one thread) when installed, else Node's fetch in the bench process. */
  generator: 'wrk' | 'node-fetch';
}

/** Batches prepared per second of a wrk run: above what the cloud can take here, so none is sent twice. */
const WRK_BATCHES_PER_SECOND = 8_000;

/** `count` batches round the fleet, each continuing its device's timeline (what a real agent sends). */
function prepare(devices: TestDevice[], timelines: Map<TestDevice, number>, batchSize: number, count: number): PreparedBatch[] {
  return Array.from({ length: count }, (_, i) => {
    const device = devices[i % devices.length] as TestDevice;
    const batch = nextBatch(device, timelines, batchSize);
    return { token: device.accessToken, gzip: batch.gzip, count: batch.count };
  });
}

/** One measured load: wrk when it is here, else the bench's own fetch loop. */
async function measure(
  url: string,
  devices: TestDevice[],
  timelines: Map<TestDevice, number>,
  o: { batchSize: number; concurrency: number; seconds: number; batches: number; wrk: boolean },
): Promise<{ requestsPerSecond: number; p50: number; p95: number; p99: number; failures: number; firstFailure: string }> {
  if (o.wrk) {
    const r = await wrkRun(url, prepare(devices, timelines, o.batchSize, o.batches), o.concurrency, o.seconds);
    return { requestsPerSecond: r.requestsPerSecond, p50: r.p50Ms, p95: r.p95Ms, p99: r.p99Ms, failures: r.failures, firstFailure: r.firstFailure };
  }
  const r = await loadRun(url, devices, timelines, o.batchSize, o.concurrency, o.seconds, 5000);
  const l = r.latencies;
  return {
    requestsPerSecond: r.requestsPerSecond,
    p50: percentile(l, 50),
    p95: percentile(l, 95),
    p99: percentile(l, 99),
    failures: r.failures,
    firstFailure: r.firstFailure,
  };
}

export async function startBare(): Promise<{ child: ChildProcess; url: string }> {
  const entry = new URL('./bare-server.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 30_000;
  while (!/listening on (\S+)/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`bare server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: /listening on (\S+)/.exec(out)?.[1] ?? '' };
}

/**
 * A live fleet: many devices, each sending the small batch a working agent sends every minute,
 * `concurrency` requests in flight; beside the same load against a bare Hono server that only
 * reads and parses the body (the framework's ceiling on this machine, measured in the same run).
 */
export async function benchFleet(
  options: { runs?: number; seconds?: number; devices?: number; batchSize?: number; concurrency?: number } = {},
): Promise<FleetFigures> {
  const runs = options.runs ?? 3;
  const seconds = options.seconds ?? 10;
  const count = options.devices ?? 400;
  const batchSize = options.batchSize ?? 5;
  const concurrency = options.concurrency ?? 16;
  const rates: number[] = [];
  const p50: number[] = [];
  const p95: number[] = [];
  const p99: number[] = [];
  const bareRates: number[] = [];
  const bareP95: number[] = [];
  const loads: number[] = [];
  const wrk = hasWrk();
  for (let run = 0; run < runs; run++) {
    const db = await createTestDatabase('postgres');
    const databaseUrl = db.databaseUrl ?? '';
    const server = await startServer(databaseUrl);
    let devices: TestDevice[] = [];
    try {
      devices = await enrollFleet(databaseUrl, server, count);
      const timelines = new Map<TestDevice, number>();
      const load = { batchSize, concurrency, wrk };
      await measure(server.url, devices, timelines, { ...load, seconds: 2, batches: 2 * WRK_BATCHES_PER_SECOND }); // warm-up
      const result = await measure(server.url, devices, timelines, { ...load, seconds, batches: seconds * WRK_BATCHES_PER_SECOND });
      if (result.failures > 0) throw new Error(`${result.failures} batches failed during the run: ${result.firstFailure}`);
      rates.push(result.requestsPerSecond);
      p50.push(result.p50);
      p95.push(result.p95);
      p99.push(result.p99);
    } finally {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
      await db.drop();
    }
    const bare = await startBare();
    try {
      // The bare server stores nothing: batches sent again cost it the same, so fewer are prepared.
      const timelines = new Map<TestDevice, number>();
      const load = { batchSize, concurrency, wrk, batches: 4_000 };
      await measure(bare.url, devices, timelines, { ...load, seconds: 2 });
      const result = await measure(bare.url, devices, timelines, { ...load, seconds });
      bareRates.push(result.requestsPerSecond);
      bareP95.push(result.p95);
      loads.push(loadavg()[0] ?? 0);
    } finally {
      bare.child.kill('SIGTERM');
      await once(bare.child, 'exit');
    }
  }
  return {
    devices: count,
    batchSize,
    concurrency,
    seconds,
    runs,
    requestsPerSecond: median(rates),
    p50Ms: median(p50),
    p95Ms: median(p95),
    p99Ms: median(p99),
    bareRequestsPerSecond: median(bareRates),
    bareP95Ms: median(bareP95),
    loadAverages: loads,
    generator: wrk ? 'wrk' : 'node-fetch',
  };
}
