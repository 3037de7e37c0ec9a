// The schema migrations on their own, for deployments that run them once before the processes:
//   node --import tsx cloud/scripts/migrate.ts
//       applies the migrations to DATABASE_URL and exits 0 when the schema is current (what a
//       compose one-shot service or a Kubernetes Job runs).
//   node --import tsx cloud/scripts/migrate.ts --wait <seconds>
//       applies nothing: waits until every migration this image ships is applied, exit 0, or
//       exits 1 after that many seconds (a Kubernetes init container, so new pods start only
//       after the Job, and N pods never race to migrate).
// The api, worker and scheduler processes also migrate at start, and then find nothing to do.
// Needs only DATABASE_URL: no keys, no demo data, nothing served.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { openDatabase } from '../src/platform/db/client';

const JOURNAL = new URL('../src/platform/db/migrations/meta/_journal.json', import.meta.url);

/** How many migrations this image ships. */
const shipped = () => (JSON.parse(readFileSync(JOURNAL, 'utf8')) as { entries: unknown[] }).entries.length;

/** How many are applied to the database (0 before the first, when drizzle's journal table is missing). */
async function applied(sql: postgres.Sql): Promise<number> {
  const [table] = await sql<{ present: boolean }[]>`select to_regclass('drizzle.__drizzle_migrations') is not null as present`;
  if (!table?.present) return 0;
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
  return row?.n ?? 0;
}

async function main(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { wait: { type: 'string' } }, strict: true });
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL: required (the PostgreSQL database to migrate)');
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error('DATABASE_URL: must be a postgres:// URL');
  const started = Date.now();

  if (values.wait !== undefined) {
    const seconds = Number(values.wait);
    if (!Number.isInteger(seconds) || seconds < 1) throw new Error('--wait: a whole number of seconds, at least 1');
    const want = shipped();
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
    try {
      for (;;) {
        const have = await applied(sql).catch(() => -1);
        if (have >= want) {
          process.stdout.write(`schema current: ${have} of ${want} migrations applied\n`);
          return;
        }
        if (Date.now() - started > seconds * 1000) {
          throw new Error(`the schema is not current after ${seconds} s (${have < 0 ? 'database unreachable' : `${have} of ${want} migrations applied`})`);
        }
        await new Promise((r) => setTimeout(r, 2000));
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
  }

  const database = await openDatabase({ databaseUrl, dataDir: '.', poolSize: 1 });
  await database.close();
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const have = await applied(sql).finally(() => sql.end({ timeout: 5 }));
  process.stdout.write(`schema current: ${have} migrations applied (${Date.now() - started} ms)\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`Migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
