import { mkdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { createApp } from '../../cloud/src/app';
import { addDays } from '@icarus/shared';
import postgres from 'postgres';
import { DEMO_SIZE, seedDemo, SeedUnfinished, type SeedOptions } from '../../cloud/scripts/seed-demo';
import type { Database } from '../../cloud/src/platform/db/client';
import type { CloudApp } from '../../cloud/src/app';
import { parseConfig } from '../../cloud/src/platform/config';
import { openDatabase } from '../../cloud/src/platform/db/client';
import type { SignedInUser } from '../../cloud/src/platform/env';
import { loadSecrets } from '../../cloud/src/platform/secrets';
import { median } from './stats';
import type { IngestWorkerInput } from './reports-ingest';

/** Background ingestion rate the issue asks reports to be measured under (BENCH_INGEST_RATE=0: none, for a quiet baseline). */
const INGEST_RATE = Number(process.env.BENCH_INGEST_RATE ?? 20_000);
/** Spans per batch, as a syncing agent sends them (≤ 1,000). */
const INGEST_BATCH = 500;
/** Batches in flight at once: one at a time cannot reach the rate on a loaded machine. */
const INGEST_CONCURRENCY = 8;
/** Rows per fetch of the raw-read ceiling's cursor. */
const EXPORT_CURSOR_ROWS = 5_000;

/** Starts the ingest worker (reports-ingest.ts); `accepted()` is the latest count it posted. */
function startIngest(input: IngestWorkerInput) {
  // A worker does not inherit tsx's loader: register it there before importing the TypeScript.
  const entry = new URL('./reports-ingest.ts', import.meta.url).href;
  // Resolved here, so the worker finds tsx whatever the working directory.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: input });
  let accepted = 0;
  let failure: string | undefined;
  const done = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: { spans?: number; done?: boolean; error?: string }) => {
      if (m.spans !== undefined) accepted = m.spans;
      if (m.error) failure = m.error;
      if (m.done || m.error) resolve();
    });
    worker.on('error', reject);
    worker.on('exit', () => resolve());
  });
  return {
    accepted: () => {
      if (failure) throw new Error(`ingest worker failed: ${failure}`);
      return accepted;
    },
    async stop() {
      worker.postMessage('stop');
      await done;
      await worker.terminate();
      if (failure) throw new Error(`ingest worker failed: ${failure}`);
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
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

/** Counts CSV data rows (lines after the header) of a streamed body. */
async function drain(body: ReadableStream<Uint8Array>): Promise<number> {
  let lines = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (let i = value.indexOf(10); i !== -1; i = value.indexOf(10, i + 1)) lines++;
  }
  return lines - 1;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * Removes the spans earlier runs' background ingestion stored (the only version-7 ids in the
 * bench's org; the seed makes version-4 ones), then rolls the days they were in up again from
 * the spans left, so every run measures the seeded org and only what its own ingestion adds.
 * How many were removed.
 */
async function clearBenchIngest(database: Database, services: CloudApp['services'], orgId: string, seededAt: Date): Promise<number> {
  // An ingest worker sends spans from six hours before it starts, never from before the seed's last ones.
  const after = new Date(seededAt.getTime() - 86_400_000).toISOString();
  const [gone] = await database.rows<{ n: number; first: string | null }>(sql`
    with gone as (
      delete from spans where org_id = ${orgId} and start >= ${after}::timestamptz and substr(id::text, 15, 1) = '7' returning start
    )
    select count(*)::int as n, min(start)::text as first from gone`);
  if (!gone || gone.n === 0 || !gone.first) return 0;
  const { today, timeZone } = await services.analytics.orgCalendar(orgId);
  const firstDay = new Date(gone.first).toLocaleDateString('en-CA', { timeZone });
  await services.analytics.rebuild(orgId, firstDay < today ? firstDay : today, today);
  return gone.n;
}

/**
 * The org the reports are measured on: BENCH_REPORTS_PEOPLE people (default 10,000: 10× the
 * demo), in teams of the demo's size (~17 people, a manager's span), 90 days of the demo's
 * workload per person.
 */
export function reportsSize(people = Number(process.env.BENCH_REPORTS_PEOPLE ?? 10_000)): SeedOptions {
  return { ...DEMO_SIZE, employees: people, teams: Math.max(1, Math.round((people * DEMO_SIZE.teams) / DEMO_SIZE.employees)) };
}

/**
 * A database of its own for the report bench (`icarus_bench_reports_<people>` beside the one
 * named, or `BENCH_REPORTS_DB`: a copy made with `create database … template …` to measure a
 * branch without touching the seeded one), created when missing and kept: seeding 10,000
 * people takes minutes, measuring a few.
 */
async function benchDatabaseUrl(databaseUrl: string, size: SeedOptions, options: { fresh?: boolean } = {}): Promise<string> {
  const url = new URL(databaseUrl);
  const name = process.env.BENCH_REPORTS_DB ?? `icarus_bench_reports_${size.employees}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`BENCH_REPORTS_DB: not a plain database name: ${name}`);
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    if (options.fresh) await admin.unsafe(`drop database if exists ${name} with (force)`);
    const exists = await admin`select 1 from pg_database where datname = ${name}`;
    if (exists.length === 0) await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Report latencies on the 1,000-person, 90-day demo org in PostgreSQL (seeded first if the
 * database does not hold it yet), measured in-process through the reporting services (the
 * same calls the HTTP handlers make, audit write included) while ~20,000 realistic spans/s
 * for the demo fleet go through the ingestion service (not HTTP) in a worker thread with its
 * own app and pool, like a second server instance (INGEST_CONCURRENCY batches of
 * INGEST_BATCH in flight, paced; each batch consent-checked, inserted idempotently and fed to
 * that instance's rollup flush every second). Same machine, same PostgreSQL.
 * BENCH_RUNS rounds (default 3); every figure is the median over rounds.
 *
 * Keys returned:
 * - quiet_team_summary_90d_p50_ms / _p95_ms, quiet_org_trend_90d_p50_ms / _p95_ms: the same
 *   reports with no ingestion running, measured just before: this machine's floor at the time.
 * - team_summary_90d_p50_ms / _p95_ms: team summary, 90 days, cycling through the 60 teams.
 * - org_trend_90d_p50_ms / _p95_ms: org-wide weekly trend, 90 days (admin).
 * - csv_export_team_90d_ms / _rows: one team's 90-day person-level CSV, start to last byte.
 * - csv_export_rows / csv_export_rows_per_s: the whole org's 90-day person-level CSV (the
 *   largest export offered, ~0.5M rows), data rows over start-to-last-byte time: the streaming
 *   rate, with start-up a negligible share.
 * - raw_read_rows_per_s: the same rollup rows read straight through postgres.js with a cursor
 *   (no CSV, no audit, no consent filter): this server's ceiling for the export at that moment.
 * - background_ingest_spans_per_s: spans the ingestion service accepted per second while the
 *   reports were measured (target INGEST_RATE, reported as background_ingest_target_spans_per_s).
 * - focus_upkeep_person_days / _seconds: person-days whose focus figures the upkeep job stored
 *   before measuring, and how long that took (0: already stored).
 * - pg_shared_buffers_mb: the server's shared_buffers (the rollups are in the OS page cache, not
 *   necessarily in these).
 * - load_avg_1m_run1..N: the machine's 1-minute load average as each round started.
 * - runs: rounds measured.
 */
export async function benchReports(serverUrl: string | 'pglite', size: SeedOptions = reportsSize()): Promise<Record<string, number>> {
  // Kept beside the database it seeded: the same keys and secrets every run.
  const dataDir = join(tmpdir(), `icarus-bench-reports-${serverUrl === 'pglite' ? 'pglite-' : ''}${size.employees}`);
  mkdirSync(dataDir, { recursive: true });
  const databaseUrl = serverUrl === 'pglite' ? undefined : await benchDatabaseUrl(serverUrl, size);
  const config = parseConfig({
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    DATABASE_POOL_SIZE: '8',
    // The API only, with the rollup consumer started below: the scheduler's and the worker's other
    // periodic jobs are not the reports measured (the worker's key re-encryption batch reads every
    // stored span each 30 s while it finds nothing to re-seal: 23M rows here; see docs/SCALING.md).
    ROLES: 'api',
  });
  const secrets = loadSecrets(config);
  const open = async () => {
    const database = await openDatabase({ databaseUrl, dataDir, poolSize: 8 });
    const cloud = createApp({ config, database, secrets, logger: pino({ level: 'silent' }) });
    await cloud.start();
    await cloud.services.ingestion.preparePartitions(new Date());
    return { database, cloud };
  };
  let { database, cloud } = await open();
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  try {
    const seedStarted = performance.now();
    const seed = () => seedDemo(cloud, database, secrets, size, (line) => process.stderr.write(`bench reports: seed ${line}\n`));
    const seeded = await seed().catch(async (error: unknown) => {
      // A seed stopped part-way (an earlier run interrupted): this database is the bench's own, so start it again.
      if (!(error instanceof SeedUnfinished)) throw error;
      process.stderr.write(`bench reports: ${error.message}; the bench's own database is made again\n`);
      await cloud.stop();
      await database.close();
      if (databaseUrl) await benchDatabaseUrl(serverUrl, size, { fresh: true });
      else rmSync(join(dataDir, 'pglite'), { recursive: true, force: true });
      ({ database, cloud } = await open());
      return seed();
    });
    const seedSeconds = seeded.created ? Math.round((performance.now() - seedStarted) / 100) / 10 : 0;
    const { services } = cloud;
    const { orgId } = seeded;
    // The same state every run: what an earlier run's background ingestion stored is removed and
    // the days it reached rolled up again from what is left (the seed's spans are version-4 ids,
    // an agent's version 7: every v7 span here came from an ingest worker of this bench).
    const cleared = await clearBenchIngest(database, services, orgId, seeded.seededAt);
    if (cleared > 0) process.stderr.write(`bench reports: removed ${cleared} spans an earlier run ingested\n`);
    // What autovacuum does to day partitions once written: visibility maps set, statistics fresh
    // (index-only reads of spans depend on the first). Quick once done, so every run asks.
    if (databaseUrl) await database.rows(sql`vacuum (analyze) spans`);
    // What a running deployment's focus upkeep job (every minute) has stored by now: the focus
    // and after-hours figures of every person-day before today. A new seed owes them all; a
    // database the bench has run on before owes none.
    const upkeepStarted = performance.now();
    let focusStored = 0;
    for (let n = -1; n !== 0; focusStored += n) n = (await services.analyticsJobs.focusUpkeep(60_000)).stored;
    const focusSeconds = Math.round((performance.now() - upkeepStarted) / 100) / 10;
    // The rollups and their indexes read once into the OS page cache (pg_prewarm's 'read' mode),
    // as on a database server with memory for them: at 10,000 people they are ~1.4 GB, where the
    // 9 GB database does not all fit this machine's cache after a seed. PostgreSQL's own
    // shared_buffers stay as configured (reported beside the figures).
    let sharedBuffersMb = 0;
    if (databaseUrl) {
      await database.rows(sql`create extension if not exists pg_prewarm`);
      await database.rows(sql`select pg_prewarm(c.oid, 'read') from pg_class c where c.relname like 'rollup\_%' and c.relkind in ('r', 'i')`);
      const [setting] = await database.rows<{ mb: number }>(sql`select (setting::bigint * 8 / 1024)::int as mb from pg_settings where name = 'shared_buffers'`);
      sharedBuffersMb = Number(setting?.mb ?? 0);
    }
    services.analytics.start();
    const members = await services.directory.listMembers(orgId);
    const admin = members.find((m) => m.role === 'admin');
    if (!admin) throw new Error('demo org has no admin');
    const user: SignedInUser = {
      userId: admin.id,
      orgId,
      email: admin.email,
      name: admin.name,
      role: 'admin',
      managedTeamIds: [],
      teamId: null,
      sessionId: 'bench',
    };
    const teams = await services.directory.listTeams(orgId);
    const { today } = await services.analytics.orgCalendar(orgId);
    const from = addDays(today, -89);
    // The seed dates each device's enrollment before its history; a bench database seeded by an
    // earlier release has its devices enrolled at seed time, and the background ingestion sends
    // spans from up to six hours back, which ingestion refuses from a device enrolled later
    // (before_enrollment): date those before that window, as a fleet running for months is.
    if (databaseUrl && INGEST_RATE > 0) {
      await database.rows(
        sql`update devices set enrolled_at = now() - interval '7 hours' where org_id = ${orgId} and enrolled_at > now() - interval '7 hours'`,
      );
    }
    const fleet = (await services.devices.listDevices(orgId)).flatMap((d) => (d.userId === null ? [] : [{ id: d.id, userId: d.userId }]));
    if (fleet.length === 0 || teams.length === 0) throw new Error('demo org has no devices or teams');

    const rounds: Record<string, number>[] = [];
    for (let run = 0; run < runs; run++) {
      const load = loadavg()[0] ?? 0;
      // The same calls with no ingestion first: the floor this machine gives right now.
      const quietSummary = await timed(30, (i) => services.reports.teamSummary(user, { teamId: teams[(i * 7) % teams.length]?.id ?? '', from, to: today }));
      const quietTrend = await timed(15, () => services.reports.orgTrend(user, { from, to: today }));
      // PGlite is one process's database: no second instance can ingest beside it.
      const ingest =
        INGEST_RATE > 0 && databaseUrl
          ? startIngest({ databaseUrl, orgId, devices: fleet, rate: INGEST_RATE, batch: INGEST_BATCH, concurrency: INGEST_CONCURRENCY })
          : undefined;
      // The scheduler's focus upkeep, every minute as in a deployment: it stores the figures of
      // past days the ingestion touches (spans from six hours back reach yesterday after midnight).
      let upkeep: Promise<unknown> = Promise.resolve();
      const upkeepTimer = ingest
        ? setInterval(() => {
            upkeep = upkeep.then(() => services.analyticsJobs.focusUpkeep()).catch(() => undefined);
          }, 60_000)
        : undefined;
      await new Promise((r) => setTimeout(r, 1500));
      const measuredFrom = { at: performance.now(), spans: ingest?.accepted() ?? 0 };

      const summary = await timed(60, (i) => services.reports.teamSummary(user, { teamId: teams[i % teams.length]?.id ?? '', from, to: today }));
      const trend = await timed(30, () => services.reports.orgTrend(user, { from, to: today }));

      const team = teams[run % teams.length];
      if (!team) throw new Error('no teams');
      const one = performance.now();
      const oneRows = await drain((await services.exportCsv(user, { teamId: team.id, from, to: today, level: 'person' })).body);
      const oneMs = performance.now() - one;

      // Streaming rate: the largest export offered, the whole org's 90 days per person (admin).
      const orgStarted = performance.now();
      const exportRows = await drain((await services.exportCsv(user, { from, to: today, level: 'person' })).body);
      const sweepSeconds = (performance.now() - orgStarted) / 1000;

      // The same server's ceiling for that read: the same rows straight through postgres.js,
      // no CSV, no audit (the ratio to it survives a noisy machine).
      const rawStarted = performance.now();
      let rawRows = 0;
      if (database.pg) {
        await database.pg`select day, user_id, app, category, productivity, active_ms, idle_ms, spans
          from rollup_user_daily where org_id = ${orgId} and day between ${from}::date and ${today}::date`.cursor(EXPORT_CURSOR_ROWS, (rows) => {
          rawRows += rows.length;
        });
      } else {
        // PGlite has no cursor over its one connection: the same rows in one plain read.
        rawRows = (
          await database.rows(
            sql`select day, user_id, app, category, productivity, active_ms, idle_ms, spans
              from rollup_user_daily where org_id = ${orgId} and day between ${from}::date and ${today}::date`,
          )
        ).length;
      }
      const rawSeconds = (performance.now() - rawStarted) / 1000;

      const ingestRate = ((ingest?.accepted() ?? 0) - measuredFrom.spans) / ((performance.now() - measuredFrom.at) / 1000);
      clearInterval(upkeepTimer);
      await upkeep;
      await ingest?.stop();
      const figures = {
        quiet_team_summary_90d_p50_ms: round1(quietSummary.p50),
        quiet_team_summary_90d_p95_ms: round1(quietSummary.p95),
        quiet_org_trend_90d_p50_ms: round1(quietTrend.p50),
        quiet_org_trend_90d_p95_ms: round1(quietTrend.p95),
        team_summary_90d_p50_ms: round1(summary.p50),
        team_summary_90d_p95_ms: round1(summary.p95),
        org_trend_90d_p50_ms: round1(trend.p50),
        org_trend_90d_p95_ms: round1(trend.p95),
        csv_export_team_90d_ms: round1(oneMs),
        csv_export_team_90d_rows: oneRows,
        csv_export_rows: exportRows,
        csv_export_rows_per_s: Math.round(exportRows / sweepSeconds),
        raw_read_rows_per_s: Math.round(rawRows / rawSeconds),
        background_ingest_spans_per_s: Math.round(ingestRate),
      };
      process.stderr.write(`bench reports: run ${run + 1}/${runs}, load average ${load.toFixed(2)}: ${JSON.stringify(figures)}\n`);
      rounds.push({ ...figures, load });
    }
    const out: Record<string, number> = {};
    for (const key of Object.keys(rounds[0] ?? {})) {
      if (key === 'load') continue;
      out[key] = median(rounds.map((r) => r[key] ?? Number.NaN));
    }
    out.background_ingest_target_spans_per_s = INGEST_RATE;
    rounds.forEach((r, i) => (out[`load_avg_1m_run${i + 1}`] = Math.round((r.load ?? 0) * 100) / 100));
    out.runs = runs;
    out.people = size.employees;
    out.teams = size.teams;
    // 0: the org was already seeded by an earlier run.
    out.seed_seconds = seedSeconds;
    // 0: stored by an earlier run (or by the job of a running deployment).
    out.focus_upkeep_person_days = focusStored;
    out.focus_upkeep_seconds = focusSeconds;
    // Spans an earlier run's background ingestion left, removed before this run measured.
    out.earlier_ingest_spans_removed = cleared;
    out.pg_shared_buffers_mb = sharedBuffersMb;
    return out;
  } finally {
    await cloud.stop();
    await database.close();
  }
}

if (process.argv[1]?.endsWith('reports.ts')) {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  benchReports(url).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
