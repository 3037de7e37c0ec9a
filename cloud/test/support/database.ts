import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface TestDatabase {
  /** Undefined on PGlite (in memory); a fresh PostgreSQL database otherwise. */
  databaseUrl: string | undefined;
  dataDir: string;
  label: 'pglite' | 'postgres';
  drop(): Promise<void>;
}

export type TestDatabaseKind = 'pglite' | 'postgres';

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). */
export function testDatabaseKinds(): TestDatabaseKind[] {
  return process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

/**
 * A database of its own for one test file: in-memory PGlite, or a freshly created
 * PostgreSQL database (from TEST_DATABASE_URL), so runs never see each other's rows.
 * With no kind given: PostgreSQL when TEST_DATABASE_URL is set, else PGlite.
 */
export async function createTestDatabase(kind?: TestDatabaseKind): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (kind === 'postgres' && !adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  if (kind === 'pglite' || !adminUrl) {
    return { databaseUrl: undefined, dataDir: ':memory:', label: 'pglite', drop: async () => {} };
  }
  const name = `icarus_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    dataDir: ':memory:',
    label: 'postgres',
    async drop() {
      const again = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await again.unsafe(`drop database if exists ${name} with (force)`);
      await again.end();
    },
  };
}
