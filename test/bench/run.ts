import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import postgres from 'postgres';
import { benchAgentCapture, type AgentCaptureFigures } from './agent-capture';
import { benchIngest, type IngestFigures } from './ingest';
import { benchReports } from './reports';
import { benchFleetPages } from './fleet-pages';

/**
 * `npm run bench`: every speed goal of the product, measured on this machine and written to
 * docs/BENCHMARKS.md. Medians over several runs; each figure beside the same server's ceiling.
 */
const databaseUrl = process.env.TEST_DATABASE_URL ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.TEST_DATABASE_URL = databaseUrl;
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);

async function machine(): Promise<string[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const settings = await sql<{ name: string; setting: string; unit: string | null }[]>`
    select name, setting, unit from pg_settings
    where name in ('shared_buffers', 'max_wal_size', 'synchronous_commit', 'fsync', 'server_version')`;
  await sql.end();
  const pg = settings.map((s) => `${s.name}=${s.setting}${s.unit ?? ''}`).join(', ');
  return [
    `- CPU: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}`,
    `- PostgreSQL on the same machine: ${pg}`,
    `- Date: ${new Date().toISOString()}`,
  ];
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

function reportsSection(figures: Record<string, number>): string[] {
  return [
    '## Reports on the 1,000-person × 90-day demo data (PostgreSQL), with ingestion running',
    '',
    'Goals: team summary p95 < 50 ms, org-wide trend p95 < 100 ms, CSV export > 100,000 rows/s.',
    '',
    '| figure | value |',
    '|---|---|',
    ...Object.entries(figures).map(([key, value]) => `| ${key} | ${Number.isInteger(value) ? value.toLocaleString('en') : value.toFixed(1)} |`),
    '',
  ];
}

function pagesSection(lines: string[]): string[] {
  return [
    '## Fleet and audit pages at 10,000 devices and 100,000 audit rows',
    '',
    'Time to first byte over loopback, signed in (`test/bench/fleet-pages.ts`). Goal: under 300 ms.',
    '',
    ...lines,
  ];
}

async function main() {
  const sections: string[] = [];
  if (wanted('ingest')) {
    process.stdout.write('bench: ingestion…\n');
    const figures = await benchIngest({ runs: Number(process.env.BENCH_RUNS ?? 3), seconds: Number(process.env.BENCH_SECONDS ?? 10) });
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    sections.push(...ingestSection(figures));
  }
  if (wanted('agent')) {
    process.stdout.write('bench: headless agent capture…\n');
    const figures = await benchAgentCapture(Number(process.env.BENCH_AGENT_SECONDS ?? 60));
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    sections.push(...agentSection(figures));
  }
  if (wanted('reports')) {
    process.stdout.write('bench: reports…\n');
    const figures = await benchReports(databaseUrl);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    sections.push(...reportsSection(figures));
  }
  if (wanted('pages')) {
    process.stdout.write('bench: fleet and audit pages…\n');
    sections.push(...pagesSection([...(await benchFleetPages('pglite')), ...(process.env.TEST_DATABASE_URL ? await benchFleetPages('postgres') : [])]));
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
    ...sections,
  ].join('\n');
  mkdirSync(new URL('../../docs/', import.meta.url), { recursive: true });
  writeFileSync(new URL('../../docs/BENCHMARKS.md', import.meta.url), doc);
  process.stdout.write(`bench: wrote docs/BENCHMARKS.md\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
