// One device at a time sends batches of truthful spans (past, back to back, never over a day)
// over loopback HTTP; prints the p50 of a 5-span and a 500-span batch beside a `select 1`
// round trip on the same pool. Median of several runs, each on a fresh person and device.
// Usage: tsx test/bench/ingest-latency.ts [runs] [pglite|postgres]
import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { WIRE_PATHS } from '@icarus/shared';
import { startTestCloud } from '../../cloud/test/support/cloud';
import { createTestDevice } from '../../cloud/test/support/device-client';
import { median, percentile } from './stats';
import { backdateDevice } from '../../cloud/test/support/backdate';

const runs = Number(process.argv[2] ?? 5);
const kind = process.argv[3] === 'pglite' ? 'pglite' : 'postgres';
if (kind === 'postgres') process.env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
const DAY = 86_400_000;
const APPS = ['Code', 'Firefox', 'Slack', 'Terminal', 'Outlook'];
const plan = [
  { size: 5, batches: 300 },
  { size: 500, batches: 40 },
];

// A measurement of the ingest path, not of the per-device rate limit.
const cloud = await startTestCloud(kind, {}, { rateLimits: { take: async () => 0 } });
const { ingestion } = cloud.cloud.services;
// The spans below reach 30 days back: daily partitions for them, as retention upkeep keeps.
await ingestion.ensureDailyPartitions(new Date(Date.now() - 31 * DAY), new Date(Date.now() + DAY));
const figures: Record<string, number[]> = { select1: [], ...Object.fromEntries(plan.map((p) => [`batch${p.size}`, []])) };
try {
  for (let run = 0; run < runs; run++) {
    for (const { size, batches } of plan) {
      const name = `latency-${run}-${size}`;
      const { token } = await cloud.personToken(name);
      const device = await createTestDevice(cloud.fetchPath, cloud.url, token, name);
      await device.consent(['app_usage', 'idle']);
      const since = new Date(Date.now() - 31 * DAY).toISOString();
      await backdateDevice(cloud, device.deviceId, new Date(since));
      // One timeline per device, ending well before now: whole days of work, as a catching-up agent sends them.
      let t = Date.now() - 30 * DAY;
      const bodies = Array.from({ length: batches }, (_, b) => {
        const spans = Array.from({ length: size }, (_, i) => {
          const durationMs = 5_000 + (((b * size + i) * 7919) % 240_000);
          const span = { id: uuidv7(), start: new Date(t).toISOString(), durationMs, app: APPS[i % APPS.length] };
          t += durationMs + 1000;
          return span;
        });
        return gzipSync(JSON.stringify({ batchId: uuidv7(), spans }));
      });
      const latencies: number[] = [];
      for (const body of bodies) {
        const t0 = performance.now();
        const res = await cloud.fetchPath(WIRE_PATHS.ingest, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${device.accessToken}` },
          body,
        });
        const answer = (await res.json()) as { accepted: number; rejected: unknown[] };
        latencies.push(performance.now() - t0);
        if (res.status !== 200 || answer.accepted !== size) throw new Error(`batch refused: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
      }
      // The first few warm the plan caches and the connection pool.
      figures[`batch${size}`]?.push(percentile(latencies.slice(10), 50));
    }
    const pings: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      await cloud.database.ping();
      pings.push(performance.now() - t0);
    }
    figures.select1?.push(percentile(pings.slice(10), 50));
  }
  for (const [name, values] of Object.entries(figures)) {
    console.log(`${kind} ${name}: p50 ${median(values).toFixed(3)} ms (median of ${values.length} runs: ${values.map((v) => v.toFixed(2)).join(', ')})`);
  }
} finally {
  await cloud.stopAll();
}
