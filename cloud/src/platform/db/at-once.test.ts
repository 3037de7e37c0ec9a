import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../../../test/support/database';
import { openDatabase, type Database } from './client';

describe.each(testDatabaseKinds())('statements sent at once as one transaction, on %s', (kind) => {
  let test: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    test = await createTestDatabase(kind);
    database = await openDatabase({ databaseUrl: test.databaseUrl, dataDir: test.dataDir, poolSize: 2 });
    await database.atOnce([{ text: 'create table at_once_probe (n int primary key)', params: [] }]);
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  const stored = async () =>
    (await database.atOnce([{ text: 'select coalesce(array_agg(n order by n), $1::int[])::text as ns from at_once_probe', params: ['{}'] }]))[0]?.[0]?.ns;

  it("answers each statement's rows, the same statement again as often as it is sent", async () => {
    for (const n of ['1', '2', '3']) {
      const answers = await database.atOnce([
        { text: 'insert into at_once_probe (n) values ($1::int) returning n', params: [n] },
        { text: 'select count(*)::int as c from at_once_probe', params: [] },
      ]);
      expect(answers).toEqual([[{ n: Number(n) }], [{ c: Number(n) }]]);
    }
    expect(await stored()).toBe('{1,2,3}');
  });

  it('keeps nothing of a transaction whose later statement fails, and the pool serves on', async () => {
    await expect(
      database.atOnce([
        { text: 'insert into at_once_probe (n) values ($1::int)', params: ['10'] },
        { text: 'insert into at_once_probe (n) values ($1::int)', params: ['1'] },
      ]),
    ).rejects.toThrow(/duplicate key/);
    expect(await stored()).toBe('{1,2,3}');
    // Every connection of the pool still answers after the failure.
    const again = await Promise.all([1, 2, 3, 4].map(() => database.atOnce([{ text: 'select 1 as one', params: [] }])));
    expect(again.every((a) => a[0]?.[0]?.one === 1)).toBe(true);
  });
});
