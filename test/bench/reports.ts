import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { uuidv7 } from 'uuidv7';
import { createApp } from '../../cloud/src/app';
import { addDays } from '../../cloud/src/analytics/service';
import { DEMO_SIZE, seedDemo } from '../../cloud/src/analytics/seed-demo';
import { parseConfig } from '../../cloud/src/config';
import { openDatabase } from '../../cloud/src/db/client';
import type { SignedInUser } from '../../cloud/src/env';
import { loadSecrets } from '../../cloud/src/ops/secrets';

const INGEST_RATE = 20_000;
const BATCH = 1_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function timed(runs: number, work: (i: number) => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await work(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

/**
 * Report latencies on the 1,000-person, 90-day demo org in PostgreSQL (seeded first if the
 * database does not hold it yet), measured in-process through the reporting services (the
 * same calls the HTTP handlers make) while ingestion runs at ~20,000 spans/s in the background.
 */
export async function benchReports(databaseUrl: string): Promise<Record<string, number>> {
  const config = parseConfig({ DATABASE_URL: databaseUrl, DATA_DIR: mkdtempSync(join(tmpdir(), 'icarus-bench-')), LOG_LEVEL: 'silent', DATABASE_POOL_SIZE: '8' });
  const database = await openDatabase({ databaseUrl, dataDir: config.DATA_DIR, poolSize: 8 });
  const secrets = loadSecrets(config);
  const cloud = createApp({ config, database, secrets, logger: pino({ level: 'silent' }) });
  const { services } = cloud;
  try {
    await services.ingestion.preparePartitions(new Date());
    const { orgId } = await seedDemo(cloud, database, secrets, DEMO_SIZE);
    const members = await services.directory.listMembers(orgId);
    const admin = members.find((m) => m.role === 'admin');
    if (!admin) throw new Error('demo org has no admin');
    const user: SignedInUser = { userId: admin.id, orgId, email: admin.email, name: admin.name, role: 'admin', managedTeamIds: [], teamId: null, sessionId: 'bench' };
    const teams = await services.directory.listTeams(orgId);
    const { today } = await services.analytics.orgCalendar(orgId);
    const from = addDays(today, -89);

    // Background ingestion: batches of 1,000 spans for seeded devices, paced to INGEST_RATE.
    const devices = (await services.devices.listDevices(orgId)).filter((d) => d.userId !== null).slice(0, 200);
    let ingesting = true;
    let ingested = 0;
    const ingestStarted = performance.now();
    const pump = (async () => {
      let n = 0;
      while (ingesting) {
        const device = devices[n++ % devices.length];
        if (!device) break;
        const base = Date.now() - 60_000;
        const spans = Array.from({ length: BATCH }, (_, i) => ({ id: uuidv7(), start: new Date(base + i * 10).toISOString(), durationMs: 9, app: i % 2 ? 'Code' : 'Slack' }));
        const result = await services.ingestion.ingest({ deviceId: device.id, orgId, userId: device.userId }, { batchId: uuidv7(), spans });
        ingested += result.accepted;
        const due = ingestStarted + ((ingested + BATCH) / INGEST_RATE) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    })();
    await new Promise((r) => setTimeout(r, 1000));

    const summary = await timed(60, (i) => services.reports.teamSummary(user, { teamId: teams[i % teams.length]?.id ?? '', from, to: today }));
    const trend = await timed(30, () => services.reports.orgTrend(user, { from, to: today }));
    let rows = 0;
    const exportStarted = performance.now();
    const team = teams[0];
    if (!team) throw new Error('no teams');
    for (const level of ['person', 'team'] as const) {
      const { body } = await services.exportCsv(user, { teamId: team.id, from, to: today, level });
      const reader = body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const ch of decoder.decode(value, { stream: true })) if (ch === '\n') rows++;
      }
      rows -= 1;
    }
    const exportSeconds = (performance.now() - exportStarted) / 1000;
    ingesting = false;
    await pump;
    const ingestRate = ingested / ((performance.now() - ingestStarted) / 1000);
    return {
      team_summary_90d_p50_ms: Math.round(summary.p50 * 10) / 10,
      team_summary_90d_p95_ms: Math.round(summary.p95 * 10) / 10,
      org_trend_90d_p50_ms: Math.round(trend.p50 * 10) / 10,
      org_trend_90d_p95_ms: Math.round(trend.p95 * 10) / 10,
      csv_export_rows: rows,
      csv_export_rows_per_s: Math.round(rows / exportSeconds),
      background_ingest_spans_per_s: Math.round(ingestRate),
    };
  } finally {
    await cloud.stop();
    await database.close();
  }
}

if (process.argv[1]?.endsWith('reports.ts')) {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/icarus_demo';
  benchReports(url).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
