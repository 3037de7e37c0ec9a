import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

const MIGRATIONS = fileURLToPath(new URL('./migrations', import.meta.url));

/** The drizzle handle every store uses; both drivers share the PostgreSQL dialect. Stores name their own tables, so no schema is attached. */
export type Drizzle = PgDatabase<PgQueryResultHKT>;

/** What a store needs to run statements: the database itself, or one transaction of it. */
export interface Queryable {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Drizzle;
  /** Runs a raw statement and returns its rows, the same shape on both drivers. */
  rows<T extends Record<string, unknown>>(query: SQL): Promise<T[]>;
}

/** A statement of fixed text with `$n` parameters (strings or null, cast in the text). */
export interface Statement {
  text: string;
  params: (string | null)[];
}

export interface Database extends Queryable {
  /** postgres.js client, present only on PostgreSQL: the hot ingest path uses it directly. */
  readonly pg?: postgres.Sql;
  /**
   * Runs `work` in one transaction on one connection; the handle it gets is a Database whose
   * statements all belong to that transaction (stores are made over it as over the pool).
   * On PGlite, a statement on the outer handle inside `work` would wait for the transaction
   * to end: inside, use only the handle given.
   */
  transaction<T>(work: (tx: Database) => Promise<T>): Promise<T>;
  /**
   * Runs the statements as one transaction sent at once: BEGIN, each statement, COMMIT in one
   * write, so the transaction costs one round trip. On PostgreSQL each statement is prepared once
   * per connection (postgres.js names it by its text) and only bound and executed after that, so
   * the text must be fixed, never built per call. Answers each statement's rows; if one fails
   * the transaction rolls back and its error is thrown.
   */
  atOnce(statements: readonly Statement[]): Promise<Record<string, unknown>[][]>;
  /**
   * One statement's rows as arrays of their column values in select order, as the driver reads
   * them (no object per row): bulk reads that only pass values on, such as CSV exports. Select
   * text columns to get strings. Prepared once per connection on PostgreSQL, like `atOnce`.
   */
  values(statement: Statement): Promise<unknown[][]>;
  ping(): Promise<void>;
  /**
   * A session-level advisory lock on a connection of its own, or undefined when another
   * session holds it. The lock ends with that connection (a killed process releases it).
   */
  tryAdvisoryLock(key: bigint): Promise<HeldLock | undefined>;
  close(): Promise<void>;
}

/** How long a lock's connection may take to answer before the lock counts as lost. */
const LOCK_CHECK_MS = 1_500;

/** A Database over a drizzle transaction: the same surface, bound to the transaction's connection. */
function inTransaction(kind: Database['kind'], tx: Drizzle, rowsOf: (result: unknown) => Record<string, unknown>[]): Database {
  const handle: Database = {
    kind,
    db: tx,
    async rows<T extends Record<string, unknown>>(query: SQL) {
      return rowsOf(await tx.execute(query)) as T[];
    },
    // Nested: a savepoint on the same connection.
    transaction: (work) => tx.transaction((inner) => work(inTransaction(kind, inner, rowsOf))),
    // Already inside a transaction: the statements join it, one after the other.
    async atOnce(statements) {
      const answers: Record<string, unknown>[][] = [];
      for (const s of statements) answers.push(rowsOf(await tx.execute(asSql(s))));
      return answers;
    },
    // Column order is select order: a row object keeps it (names a query selects are distinct).
    values: async (s) => rowsOf(await tx.execute(asSql(s))).map((row) => Object.values(row)),
    ping: async () => {
      await tx.execute(sql`select 1`);
    },
    tryAdvisoryLock: () => Promise.reject(new Error('advisory session locks are not taken inside a transaction')),
    close: () => Promise.reject(new Error('a transaction handle is not closed; its transaction ends with its callback')),
  };
  return handle;
}

/** A fixed-text statement as a drizzle query: each `$n` becomes its parameter again. */
function asSql(s: Statement): SQL {
  const parts = s.text.split(/\$(\d+)/);
  const chunks: SQL[] = [];
  for (const [i, part] of parts.entries()) chunks.push(i % 2 === 0 ? sql.raw(part) : sql`${s.params[Number(part) - 1] ?? null}`);
  return sql.join(chunks);
}

/** The promise's value, or undefined when it fails or takes longer than `ms`. */
async function within<T>(ms: number, work: PromiseLike<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([Promise.resolve(work).catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HeldLock {
  /** False once the connection that holds the lock has gone. */
  alive(): Promise<boolean>;
  release(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize?: number;
  /**
   * PostgreSQL's max_parallel_workers_per_gather for this server's connections (default 0). The
   * reads here are many and short; a parallel worker's start and the gather after it cost more
   * than they saved (a team summary's 90 days: 18 ms serial against 20-31 ms with one worker),
   * and on a shared database each worker is a core another statement waits for.
   */
  parallelWorkers?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const database = options.databaseUrl
    ? await openPostgres(options.databaseUrl, options.poolSize ?? 10, options.parallelWorkers ?? 0)
    : await openPglite(options.dataDir === ':memory:' ? 'memory://' : join(resolve(options.dataDir), 'pglite'));
  return database;
}

async function openPostgres(url: string, max: number, parallelWorkers: number): Promise<Database> {
  const pg = postgres(url, {
    max,
    onnotice: () => {},
    // No JIT: it compiles any plan estimated above jit_above_cost, and a report's lateral reads
    // over a day partition each are estimated high while they run in milliseconds; compiling
    // took 0.3 to 3.4 s per statement here (docs/SCALING.md).
    connection: { application_name: 'icarus-nova', jit: 'off', max_parallel_workers_per_gather: String(parallelWorkers) },
  });
  const db = drizzlePostgres(pg);
  let ending = false;
  await migratePostgres(db, { migrationsFolder: MIGRATIONS });
  const rowsOf = (result: unknown) => [...(result as Iterable<Record<string, unknown>>)];
  return {
    kind: 'postgres',
    db,
    pg,
    async rows<T extends Record<string, unknown>>(query: SQL) {
      return rowsOf(await db.execute(query)) as T[];
    },
    transaction: (work) => db.transaction((tx) => work(inTransaction('postgres', tx, rowsOf))),
    async atOnce(statements) {
      const connection = await pg.reserve();
      try {
        // Issued without waiting: postgres.js writes them together and reads the answers in order.
        const begin = connection`begin`;
        const each = statements.map((s) => connection.unsafe(s.text, s.params, { prepare: true }));
        const commit = connection`commit`;
        const settled = await Promise.allSettled([begin, ...each, commit]);
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) {
          // COMMIT of a failed transaction rolls it back; a failure of BEGIN or COMMIT itself ends it here.
          await connection`rollback`.catch(() => undefined);
          throw failed.reason;
        }
        return settled.slice(1, -1).map((r) => rowsOf((r as PromiseFulfilledResult<unknown>).value));
      } finally {
        connection.release();
      }
    },
    values: (s) => pg.unsafe(s.text, s.params, { prepare: true }).values() as Promise<unknown[][]>,
    async ping() {
      await pg`select 1`;
    },
    async tryAdvisoryLock(key) {
      // A pool that is ending never hands out a connection again: reserve() would wait forever.
      if (ending) throw new Error('the database is closing');
      const session = await pg.reserve();
      let row: { ok: boolean; pid: number } | undefined;
      try {
        [row] = await session<{ ok: boolean; pid: number }[]>`select pg_try_advisory_lock(${key.toString()}::bigint) as ok, pg_backend_pid() as pid`;
      } catch (error) {
        session.release();
        throw error;
      }
      if (row?.ok !== true) {
        session.release();
        return undefined;
      }
      const pid = row.pid;
      // Asked on the pool, not on the lock's own connection: postgres.js cannot be given a query
      // on a reserved connection whose socket has died (it throws outside any promise).
      const held = async () => {
        const [answer] =
          (await within(
            LOCK_CHECK_MS,
            pg<{ held: boolean }[]>`select exists (select 1 from pg_locks where locktype = 'advisory' and granted and pid = ${pid}
              and classid = ${Number(key >> 32n)} and objid = ${Number(key & 0xffffffffn)}) as held`,
          )) ?? [];
        return answer?.held === true;
      };
      return {
        alive: held,
        async release() {
          if (await held()) await within(LOCK_CHECK_MS, session`select pg_advisory_unlock(${key.toString()}::bigint)`);
          session.release();
        },
      };
    },
    async close() {
      ending = true;
      await pg.end({ timeout: 5 });
    },
  };
}

async function openPglite(dir: string): Promise<Database> {
  if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true });
  const client = new PGlite(dir);
  const db = drizzlePglite(client);
  await migratePglite(db, { migrationsFolder: MIGRATIONS });
  const rowsOf = (result: unknown) => (result as { rows: Record<string, unknown>[] }).rows;
  return {
    kind: 'pglite',
    db,
    async rows<T extends Record<string, unknown>>(query: SQL) {
      return rowsOf(await db.execute(query)) as T[];
    },
    transaction: (work) => db.transaction((tx) => work(inTransaction('pglite', tx, rowsOf))),
    // In process, a round trip costs nothing: one transaction, one statement after the other.
    atOnce: (statements) =>
      client.transaction(async (tx) => {
        const answers: Record<string, unknown>[][] = [];
        for (const s of statements) answers.push((await tx.query<Record<string, unknown>>(s.text, s.params)).rows);
        return answers;
      }),
    values: async (s) => (await client.query<unknown[]>(s.text, s.params, { rowMode: 'array' })).rows,
    async ping() {
      await client.query('select 1');
    },
    // One process owns an embedded database, so it always leads.
    async tryAdvisoryLock() {
      return { alive: async () => !client.closed, release: async () => {} };
    },
    async close() {
      await client.close();
    },
  };
}
