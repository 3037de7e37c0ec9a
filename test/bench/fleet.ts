import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { createTestDatabase } from '../../cloud/test/support/database';
import type { TestDevice } from '../../cloud/test/support/device-client';
import { enrollFleet, loadRun, startServer } from './ingest';
import { median, percentile } from './stats';

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
  for (let run = 0; run < runs; run++) {
    const db = await createTestDatabase('postgres');
    const databaseUrl = db.databaseUrl ?? '';
    const server = await startServer(databaseUrl);
    let devices: TestDevice[] = [];
    try {
      devices = await enrollFleet(databaseUrl, server, count);
      const timelines = new Map<TestDevice, number>();
      await loadRun(server.url, devices, timelines, batchSize, concurrency, 2, 5000); // warm-up
      const result = await loadRun(server.url, devices, timelines, batchSize, concurrency, seconds, 5000);
      if (result.failures > 0) throw new Error(`${result.failures} batches failed during the run: ${result.firstFailure}`);
      rates.push(result.requestsPerSecond);
      p50.push(percentile(result.latencies, 50));
      p95.push(percentile(result.latencies, 95));
      p99.push(percentile(result.latencies, 99));
    } finally {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
      await db.drop();
    }
    const bare = await startBare();
    try {
      const timelines = new Map<TestDevice, number>();
      await loadRun(bare.url, devices, timelines, batchSize, concurrency, 2, 10_000);
      const result = await loadRun(bare.url, devices, timelines, batchSize, concurrency, seconds, 10_000);
      bareRates.push(result.requestsPerSecond);
      bareP95.push(percentile(result.latencies, 95));
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
  };
}
