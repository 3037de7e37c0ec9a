import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database';
import { openDatabase } from './client';

/**
 * The server's own PostgreSQL connections run without JIT and, unless configured, without
 * parallel workers (see DatabaseOptions): every connection of the pool, not only the first.
 */
describe.skipIf(!process.env.TEST_DATABASE_URL)('the server’s PostgreSQL sessions', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
  });
  afterAll(async () => test?.drop());

  const settingsOf = async (parallelWorkers?: number) => {
    const database = await openDatabase({
      databaseUrl: test.databaseUrl,
      dataDir: test.dataDir,
      poolSize: 3,
      ...(parallelWorkers === undefined ? {} : { parallelWorkers }),
    });
    try {
      // Three at once: each on a connection of its own.
      return await Promise.all(
        [1, 2, 3].map(async () => {
          const [row] = await database.rows<{ p: string; j: string }>(
            sql`select current_setting('max_parallel_workers_per_gather') as p, current_setting('jit') as j from pg_sleep(0.05)`,
          );
          return row;
        }),
      );
    } finally {
      await database.close();
    }
  };

  it('start no parallel workers by default, and as many as configured', async () => {
    expect(await settingsOf()).toEqual([0, 1, 2].map(() => ({ p: '0', j: 'off' })));
    expect(await settingsOf(2)).toEqual([0, 1, 2].map(() => ({ p: '2', j: 'off' })));
  });
});
