import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

const MIGRATIONS = fileURLToPath(new URL('./migrations', import.meta.url));

/** The drizzle handle every store uses; both drivers share the PostgreSQL dialect. Stores name their own tables, so no schema is attached. */
export type Drizzle = PgDatabase<PgQueryResultHKT>;

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Drizzle;
  /** Runs a raw statement and returns its rows, the same shape on both drivers. */
  rows<T extends Record<string, unknown>>(query: SQL): Promise<T[]>;
  /** postgres.js client, present only on PostgreSQL: the hot ingest path uses it directly. */
  readonly pg?: postgres.Sql;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const database = options.databaseUrl
    ? await openPostgres(options.databaseUrl, options.poolSize ?? 10)
    : await openPglite(options.dataDir === ':memory:' ? 'memory://' : join(resolve(options.dataDir), 'pglite'));
  return database;
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const pg = postgres(url, {
    max,
    onnotice: () => {},
    connection: { application_name: 'icarus-nova' },
  });
  const db = drizzlePostgres(pg);
  await migratePostgres(db, { migrationsFolder: MIGRATIONS });
  return {
    kind: 'postgres',
    db,
    pg,
    async rows<T extends Record<string, unknown>>(query: SQL) {
      const result = await db.execute(query);
      return [...result] as unknown as T[];
    },
    async ping() {
      await pg`select 1`;
    },
    async close() {
      await pg.end({ timeout: 5 });
    },
  };
}

async function openPglite(dir: string): Promise<Database> {
  if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true });
  const client = new PGlite(dir);
  const db = drizzlePglite(client);
  await migratePglite(db, { migrationsFolder: MIGRATIONS });
  return {
    kind: 'pglite',
    db,
    async rows<T extends Record<string, unknown>>(query: SQL) {
      const result = await db.execute(query);
      return result.rows as T[];
    },
    async ping() {
      await client.query('select 1');
    },
    async close() {
      await client.close();
    },
  };
}
