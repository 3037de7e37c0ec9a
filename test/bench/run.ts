import { cpus, loadavg, totalmem } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import postgres from 'postgres';
import { benchAgentCapture, type AgentCaptureFigures } from './agent-capture';
import { benchFleet, type FleetFigures } from './fleet';
import { benchFleetMinute, type FleetMinuteFigures } from './fleet-minute';
import { benchIngest, type IngestFigures } from './ingest';
import { benchReports, reportsSize } from './reports';
import { benchFleetPages } from './fleet-pages';

/**
 * `npm run bench`: every speed goal of the product, measured on this machine and written to
 * docs/BENCHMARKS.md. Medians over several runs; each figure beside the same server's ceiling.
 */
const databaseUrl = process.env.TEST_DATABASE_URL ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.TEST_DATABASE_URL = databaseUrl;
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);

/** The CPU a figure was measured on, as the file's header and each section's stamp name it. */
const cpuLabel = () => `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`;

async function machine(): Promise<string[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const settings = await sql<{ name: string; setting: string; unit: string | null }[]>`
    select name, setting, unit from pg_settings
    where name in ('shared_buffers', 'max_wal_size', 'synchronous_commit', 'fsync', 'server_version')`;
  await sql.end();
  const pg = settings.map((s) => `${s.name}=${s.setting}${s.unit ?? ''}`).join(', ');
  return [
    `- CPU: ${cpuLabel()}`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}`,
    `- PostgreSQL on the same machine: ${pg}`,
    `- Written: ${new Date().toISOString()}. Each section ends with when and on which CPU it was measured, and the load average (1/5/15 min) then: above the core count, its figures are of a shared machine; a section of an earlier run keeps the stamp of its own run`,
  ];
}

/** A section with when it was measured and the machine's load then (sections of other runs are kept as they were). */
function stamped(lines: string[]): string[] {
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
  const body = lines.at(-1) === '' ? lines.slice(0, -1) : lines;
  return [...body, '', `_Measured ${new Date().toISOString()} on ${cpuLabel()}, load average ${load} at its end._`, ''];
}

function ingestSection(f: IngestFigures): string[] {
  const ratio = (f.eventsPerSecond / f.rawCeilingEventsPerSecond) * 100;
  return [
    '## Ingestion through the HTTP server into PostgreSQL',
    '',
    `${f.concurrency} clients in flight over loopback, batches of ${f.batchSize} realistic spans (gzip), each batch authenticated,`,
    `validated, consent-checked per span and inserted idempotently; ${f.seconds} s per run, median of ${f.runs} runs.`,
    '',
    '| figure | value | goal |',
    '|---|---|---|',
    `| events/s | ${Math.round(f.eventsPerSecond).toLocaleString('en')} | ≥ 80,000 |`,
    `| p50 latency | ${f.p50Ms.toFixed(1)} ms | |`,
    `| p95 latency | ${f.p95Ms.toFixed(1)} ms | |`,
    `| p99 latency | ${f.p99Ms.toFixed(1)} ms | < 100 ms |`,
    `| raw insert ceiling, same server (json_to_recordset + on conflict, 4 connections) | ${Math.round(f.rawCeilingEventsPerSecond).toLocaleString('en')} | |`,
    `| ingest as a share of that ceiling | ${ratio.toFixed(0)} % | ~75 % |`,
    `| the cloud process during the run: CPU | ${f.serverCpuCores.toFixed(2)} cores of the ${cpus().length} here | |`,
    `| the cloud process: peak RSS (VmHWM, start-up included) | ${f.serverPeakRssMb.toFixed(0)} MB | |`,
    '',
    'The last two size the containers (`deploy/kubernetes/`, `docs/DEPLOYMENT.md`): one process with every role, at the rate above.',
    '',
  ];
}

function fleetSection(f: FleetFigures): string[] {
  const share = (f.requestsPerSecond / f.bareRequestsPerSecond) * 100;
  return [
    '## A live fleet: small batches from many devices',
    '',
    `${f.devices} bound, consenting devices each sending ${f.batchSize}-span gzip batches (what a working agent sends every minute),`,
    `${f.concurrency} requests in flight over loopback, ${f.seconds} s per run, median of ${f.runs} runs; beside the same load against`,
    'a bare Hono server on the same machine that only inflates and parses the body (`test/bench/bare-server.ts`).',
    f.generator === 'wrk'
      ? 'The load comes from wrk (one thread, `test/bench/wrk-load.ts`) sending batches prepared before its clock starts, each once.'
      : 'The load comes from Node `fetch` in the bench process (wrk is not installed: `apt-get install wrk`), which takes about as much CPU per request as the server on these cores.',
    '',
    '| figure | value | goal |',
    '|---|---|---|',
    `| requests/s | ${Math.round(f.requestsPerSecond).toLocaleString('en')} | ≥ 3,000 |`,
    `| p50 latency | ${f.p50Ms.toFixed(1)} ms | |`,
    `| p95 latency | ${f.p95Ms.toFixed(1)} ms | < 25 ms |`,
    `| p99 latency | ${f.p99Ms.toFixed(1)} ms | |`,
    `| bare Hono server, same load, requests/s | ${Math.round(f.bareRequestsPerSecond).toLocaleString('en')} (p95 ${f.bareP95Ms.toFixed(1)} ms) | |`,
    `| the cloud as a share of that ceiling | ${share.toFixed(0)} % | ≥ 40 % |`,
    `| load average (1 min) at the end of each run | ${f.loadAverages.map((l) => l.toFixed(1)).join(' / ')} | |`,
    '',
  ];
}

function fleetMinuteSection(f: FleetMinuteFigures): string[] {
  return [
    `## A fleet of ${f.devices.toLocaleString('en')} devices at its steady pace`,
    '',
    `${f.devices.toLocaleString('en')} bound, consenting devices (made in the database, each with its own Ed25519 key), each syncing a 5-span gzip batch once a`,
    `minute at its own moment of the minute (open loop: ~${Math.round(f.devices / 60)} syncs/s whatever the answers), and the fifteenth of them whose`,
    '15-minute access token is due asking for a new one first (signed assertion, `POST /v1/devices/token`). Each from its own address',
    `behind a trusted proxy (\`TRUST_PROXY\`). One minute fills the server's caches (a running fleet has them), then ${f.minutes} measured`,
    'minutes; percentiles are the median over the measured minutes. Beside it, the same schedule against the bare Hono server.',
    '',
    '| figure | value | goal |',
    '|---|---|---|',
    `| syncs per minute | ${Math.round(f.syncsPerMinute).toLocaleString('en')} | |`,
    `| token refreshes per minute | ${Math.round(f.tokenRefreshesPerMinute).toLocaleString('en')} | |`,
    `| sync p50 latency | ${f.syncP50Ms.toFixed(1)} ms | |`,
    `| sync p99 latency | ${f.syncP99Ms.toFixed(1)} ms | < 100 ms |`,
    `| token refresh p99 latency | ${f.tokenP99Ms.toFixed(1)} ms | |`,
    `| errors (refused or failed syncs and refreshes) | ${f.errors}${f.firstError ? ` (first: ${f.firstError.replace(/\|/g, '/')})` : ''} | 0 |`,
    `| bare Hono server, same schedule, p99 | ${f.bareP99Ms.toFixed(1)} ms | |`,
    `| load average (1 min) at the end of each measured minute | ${f.loadAverages.map((l) => l.toFixed(1)).join(' / ')} | |`,
    '',
  ];
}

function agentSection(f: AgentCaptureFigures): string[] {
  return [
    '## The headless agent capturing under Xvfb',
    '',
    `The bundled headless agent (\`icarus-agent run\`) capturing real X windows for ${f.seconds} s with a focus switch`,
    'every 3 s (xdotool), sampling every second; CPU from /proc (utime+stime), memory from VmHWM/VmRSS.',
    '',
    '| figure | value | goal |',
    '|---|---|---|',
    `| CPU, % of one core | ${f.cpuPercentOfOneCore.toFixed(2)} % | < 1 % |`,
    `| peak RSS (VmHWM, start-up included) | ${f.peakRssMb.toFixed(1)} MB | < 60 MB |`,
    `| RSS at the end | ${f.endRssMb.toFixed(1)} MB | |`,
    `| spans per window switch | ${f.spansPerSwitch.toFixed(2)} | 1 |`,
    '',
  ];
}

/** Whether the reports were measured under ingestion, as the figures say. */
function ingestState(f: Record<string, number>): string {
  if ((f.background_ingest_target_spans_per_s ?? 0) === 0) return 'quiet (BENCH_INGEST_RATE=0)';
  if ((f.background_ingest_spans_per_s ?? 0) === 0) return 'ingestion refused (0 spans/s accepted): every figure quiet';
  return 'with ingestion running';
}

function reportsSection(figures: Record<string, number>, pglite?: Record<string, number>): string[] {
  const people = (figures.people ?? 0).toLocaleString('en');
  const share = (f: Record<string, number>) => (((f.csv_export_rows_per_s ?? 0) / (f.raw_read_rows_per_s ?? 1)) * 100).toFixed(0);
  const row = (key: string, value: number) => `| ${key} | ${Number.isInteger(value) ? value.toLocaleString('en') : value.toFixed(1)} |`;
  return [
    `## Reports on ${people} people × 90 days (PostgreSQL), ${ingestState(figures)}`,
    '',
    `${people} people in ${(figures.teams ?? 0).toLocaleString('en')} teams of the demo's size (\`npm run seed:demo\` at ${people} people; seeded once into a database of its own, \`seed_seconds\` 0 when it was already there;`,
    'each run first removes what earlier runs ingested, `earlier_ingest_spans_removed`, and rolls those days up again),',
    'measured in-process through the reporting services, the unprefixed figures while a second instance ingests in a worker thread (`test/bench/reports.ts`).',
    'Goals: team summary p95 < 50 ms under ingestion, org-wide trend p95 < 100 ms, CSV export ≥ 60 % of the plain read of the same rows.',
    `CSV export as a share of that plain read: ${share(figures)} %. Every figure is the median of the runs; the load average is the machine's as each run started.`,
    '',
    '| figure | value |',
    '|---|---|',
    ...Object.entries(figures).map(([key, value]) => row(key, value)),
    '',
    ...(pglite
      ? [
          `PGlite, ${(pglite.people ?? 0).toLocaleString('en')} people (one process's database: no second instance ingests, so these are quiet figures only; CSV export ${share(pglite)} % of a plain read):`,
          '',
          '| figure | value |',
          '|---|---|',
          ...Object.entries(pglite)
            .filter(([key]) => !key.startsWith('background_ingest') && !(key.endsWith('_ms') && !key.startsWith('quiet') && !key.startsWith('csv')))
            .map(([key, value]) => row(key, value)),
          '',
        ]
      : []),
  ];
}

function pagesSection(lines: string[]): string[] {
  return [
    '## Fleet and audit pages at 10,000 devices and 100,000 audit rows',
    '',
    'Time to first byte over loopback, signed in (`test/bench/fleet-pages.ts`), of the fleet, audit, compliance and working-week pages. Goal: under 300 ms.',
    '',
    ...lines,
  ];
}

const target = new URL('../../docs/BENCHMARKS.md', import.meta.url);
/** What the file holds: sections of earlier runs stay until this run measures them again. */
const sections = existsSync(target) ? splitSections(readFileSync(target, 'utf8')) : new Map<string, string>();
sections.delete('Machine');

/** Writes a section as soon as it is measured, so a part that hangs or fails later loses nothing measured before it. */
async function publish(lines: string[]): Promise<void> {
  for (const [title, text] of splitSections(stamped(lines).join('\n'))) {
    // The reports section's title names the org's size: a run at another size replaces it.
    if (title.startsWith('Reports on ')) for (const old of sections.keys()) if (old.startsWith('Reports on ') && old !== title) sections.delete(old);
    sections.set(title, text);
  }
  const doc = [
    '# Benchmarks',
    '',
    'Written by `npm run bench`. The machine is shared and noisy: read ratios to the ceiling beside each figure.',
    '',
    '## Machine',
    '',
    ...(await machine()),
    '',
    ...sections.values(),
  ].join('\n');
  mkdirSync(new URL('../../docs/', import.meta.url), { recursive: true });
  writeFileSync(target, doc);
  process.stdout.write(`bench: wrote ${lines[0]?.slice(3) ?? 'a section'} to docs/BENCHMARKS.md\n`);
}

async function main() {
  if (wanted('ingest')) {
    process.stdout.write('bench: ingestion…\n');
    const figures = await benchIngest({ runs: Number(process.env.BENCH_RUNS ?? 3), seconds: Number(process.env.BENCH_SECONDS ?? 10) });
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    await publish(ingestSection(figures));
  }
  if (wanted('fleet')) {
    process.stdout.write('bench: live fleet…\n');
    const figures = await benchFleet({ runs: Number(process.env.BENCH_RUNS ?? 3), seconds: Number(process.env.BENCH_SECONDS ?? 10) });
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    await publish(fleetSection(figures));
    process.stdout.write('bench: 10,000 devices, a sync a minute each…\n');
    const minute = await benchFleetMinute({
      devices: Number(process.env.BENCH_FLEET_DEVICES ?? 10_000),
      minutes: Number(process.env.BENCH_RUNS ?? 3),
    });
    process.stdout.write(`${JSON.stringify(minute)}\n`);
    await publish(fleetMinuteSection(minute));
  }
  if (wanted('agent')) {
    process.stdout.write('bench: headless agent capture…\n');
    const figures = await benchAgentCapture(Number(process.env.BENCH_AGENT_SECONDS ?? 60));
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    await publish(agentSection(figures));
  }
  if (wanted('reports')) {
    process.stdout.write('bench: reports…\n');
    const figures = await benchReports(databaseUrl);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    // Written before PGlite's part starts: a PGlite part that fails keeps PostgreSQL's figures.
    await publish(reportsSection(figures));
    // PGlite too (BENCH_REPORTS_PGLITE_PEOPLE=0 skips it): the embedded database `npm start` runs on.
    const pglitePeople = Number(process.env.BENCH_REPORTS_PGLITE_PEOPLE ?? 1_000);
    if (pglitePeople > 0) {
      const pglite = await benchReports('pglite', reportsSize(pglitePeople));
      process.stdout.write(`${JSON.stringify(pglite)}\n`);
      await publish(reportsSection(figures, pglite));
    }
  }
  if (wanted('pages')) {
    process.stdout.write('bench: fleet and audit pages…\n');
    await publish(pagesSection([...(await benchFleetPages('pglite')), ...(process.env.TEST_DATABASE_URL ? await benchFleetPages('postgres') : [])]));
  }
}

/** `## ` sections of a Markdown text by title, each with its heading (what comes before the first is dropped). */
function splitSections(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const part of text.split(/^(?=## )/m)) {
    if (!part.startsWith('## ')) continue;
    const title = part.slice(3, part.indexOf('\n') === -1 ? undefined : part.indexOf('\n')).trim();
    // One blank line after each section however often it is rewritten.
    sections.set(title, `${part.trimEnd()}\n`);
  }
  return sections;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
