import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { uuidv7 } from 'uuidv7';
import { sql } from 'drizzle-orm';
import { createApp } from '../../cloud/src/app';
import { parseConfig } from '../../cloud/src/platform/config';
import { openDatabase } from '../../cloud/src/platform/db/client';
import { loadSecrets } from '../../cloud/src/platform/secrets';

/** What the report benchmark hands this worker. */
export interface IngestWorkerInput {
  databaseUrl: string;
  orgId: string;
  devices: { id: string; userId: string }[];
  rate: number;
  batch: number;
  concurrency: number;
}

const APPS = ['Code', 'firefox', 'Slack', 'gnome-terminal', 'Microsoft Outlook', 'zoom', 'Figma', 'Zendesk'];

/**
 * Background ingestion for the report benchmark, in a worker thread: its own cloud app (the
 * ingestion service with consent checks, idempotent insert and the rollup flush every second)
 * and its own pool, like a second server instance taking agent traffic, so the reports are
 * timed on their own event loop. Posts `{ spans }` (accepted so far) every 250 ms; on 'stop'
 * finishes the batches in flight, flushes the rollups and posts `{ done: true }`.
 */
async function run(input: IngestWorkerInput) {
  const config = parseConfig({
    DATABASE_URL: input.databaseUrl,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'icarus-bench-ingest-')),
    LOG_LEVEL: 'silent',
    // An ingesting instance with its rollup consumer (started below), as the report bench's own app.
    ROLES: 'api',
  });
  const database = await openDatabase({ databaseUrl: input.databaseUrl, dataDir: config.DATA_DIR, poolSize: input.concurrency + 2 });
  const cloud = createApp({ config, database, secrets: loadSecrets(config), logger: pino({ level: 'silent' }) });
  await cloud.start();
  cloud.services.analytics.start();
  const { ingestion } = cloud.services;
  const { devices, rate, batch } = input;
  // As ingestion sees them per request: the binding in force decides whose consent counts.
  const identities = await Promise.all(devices.map((d) => cloud.services.devices.requireActive(d.id)));
  // Each device syncs its own timeline: spans of 2-20 s from six hours ago onwards, after the
  // last span it already stored (the seed's history may reach into those hours: an overlap is refused).
  const sixHoursAgo = Date.now() - 6 * 3_600_000;
  const stored = await database.rows<{ device_id: string; stop: string }>(sql`
    select device_id::text, (extract(epoch from max(start + duration_ms * interval '1 millisecond')) * 1000)::float8::text as stop
    from spans where org_id = ${input.orgId} and start >= ${new Date(sixHoursAgo - 2 * 3_600_000).toISOString()}::timestamptz
    group by device_id`);
  const lastStop = new Map(stored.map((r) => [r.device_id, Number(r.stop)]));
  const clocks = devices.map((d) => Math.max(sixHoursAgo, (lastStop.get(d.id) ?? 0) + 1_000));
  const refused = new Set<number>();
  let running = true;
  let accepted = 0;
  let batches = 0;
  parentPort?.on('message', (m) => {
    if (m === 'stop') running = false;
  });
  const report = setInterval(() => parentPort?.postMessage({ spans: accepted }), 250);
  const started = performance.now();
  const worker = async () => {
    while (running) {
      const k = batches++;
      // One shared schedule: batch k is due at k * batch / rate seconds.
      const wait = started + ((k * batch) / rate) * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!running) break;
      let d = k % devices.length;
      // People who declined consent have every span dropped: send for consenting ones only.
      while (refused.has(d) && refused.size < devices.length) d = (d + 1) % devices.length;
      const device = devices[d];
      if (!device) break;
      let t = clocks[d] ?? Date.now();
      const spans = Array.from({ length: batch }, (_, i) => {
        const durationMs = 2_000 + ((k * 131 + i * 7919) % 18_000);
        const start = new Date(t).toISOString();
        t += durationMs + 500;
        return i % 9 === 8 ? { id: uuidv7(), start, durationMs, idle: true as const } : { id: uuidv7(), start, durationMs, app: APPS[(d + i) % APPS.length] };
      });
      clocks[d] = t;
      const identity = identities[d];
      if (!identity) break;
      const result = await ingestion.ingest(identity, { batchId: uuidv7(), spans });
      accepted += result.accepted;
      if (result.accepted === 0) refused.add(d);
    }
  };
  await Promise.all(Array.from({ length: input.concurrency }, worker));
  clearInterval(report);
  await cloud.services.analytics.flush();
  await cloud.stop();
  await database.close();
  parentPort?.postMessage({ spans: accepted, done: true });
}

run(workerData as IngestWorkerInput).catch((error: unknown) => {
  parentPort?.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
});
