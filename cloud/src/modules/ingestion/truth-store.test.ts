import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../../../test/support/database';
import { openDatabase, type Database } from '../../platform/db/client';
import type { SpanRow } from './store';
import { factsQuery, quickCheck, type Candidate } from './truth';
import { createTruthStore, type TruthStore } from './truth-store';

const MINUTE = 60_000;

describe.each(testDatabaseKinds())('batches stored the quick way, on %s', (kind) => {
  let test: TestDatabase;
  let database: Database;
  let truth: TruthStore;

  beforeAll(async () => {
    test = await createTestDatabase(kind);
    database = await openDatabase({ databaseUrl: test.databaseUrl, dataDir: test.dataDir, poolSize: 4 });
    truth = createTruthStore(database);
  });
  afterAll(async () => {
    await database?.close();
    await test?.drop();
  });

  const person = () => ({ orgId: uuidv7(), userId: uuidv7(), deviceId: uuidv7() });
  const rowsFrom = (startMs: number, count: number, app = 'Code'): SpanRow[] =>
    Array.from({ length: count }, (_, i) => ({
      id: uuidv7(),
      start: new Date(startMs + i * 2 * MINUTE).toISOString(),
      durationMs: MINUTE,
      app,
      titleEnc: null,
      idle: false,
    }));
  /** What the service does before the quick path: the batch checked on its own, and its bounds. */
  function store(owner: ReturnType<typeof person>, rows: SpanRow[]) {
    const candidates: Candidate[] = rows.map((row, at) => ({ at, startMs: Date.parse(row.start), row }));
    const check = quickCheck(owner.deviceId, 'UTC', candidates, factsQuery(owner, 'UTC', candidates).dayOf);
    if (!check) throw new Error('the batch is not true on its own');
    return truth.storeIfTrue(owner, check, rows);
  }
  /** The transaction that stored each span (its xmin): spans of one shared transaction have one. */
  async function transactionsOf(ids: string[]): Promise<Map<string, string>> {
    const rows = await database.rows<{ id: string; tx: string }>(
      sql`select id::text as id, xmin::text as tx from spans where id = any(${`{${ids.join(',')}}`}::uuid[])`,
    );
    return new Map(rows.map((r) => [r.id, r.tx]));
  }

  it('of batches sent at once, one that fails fails alone: the others sharing its transaction are stored', async () => {
    const start = Date.now() - 3 * 3_600_000;
    const owners = Array.from({ length: 14 }, person);
    // The last is true as far as the check in JavaScript goes; the database refuses its text (the
    // wire schema refuses a NUL long before, so only a bug could send it).
    const batches = owners.map((_, i) => rowsFrom(start, 3, i === 13 ? 'Co\u0000de' : 'Code'));
    const answers = await Promise.allSettled(owners.map((owner, i) => store(owner, batches[i] ?? [])));

    expect(answers.slice(0, 13).map((a) => (a.status === 'fulfilled' ? a.value?.length : a.reason))).toEqual(Array(13).fill(3));
    expect(answers[13]?.status).toBe('rejected');
    const stored = await transactionsOf(batches.flat().map((r) => r.id));
    expect([...stored.keys()].sort()).toEqual(
      batches
        .slice(0, 13)
        .flat()
        .map((r) => r.id)
        .sort(),
    );
  });

  it('batches sent at once share a transaction; of one person, the second sees the first, so an overlap is found', async () => {
    const start = Date.now() - 2 * 3_600_000;
    // More batches than transactions at once: the person's three come after every connection is taken.
    const fillers = Array.from({ length: 10 }, person);
    const owner = person();
    const first = rowsFrom(start, 3);
    const overlapping = rowsFrom(start + MINUTE / 2, 3);
    const next = rowsFrom(start + 30 * MINUTE, 3);
    const [a, b, c] = (
      await Promise.all([...fillers.map((f) => store(f, rowsFrom(start, 2))), store(owner, first), store(owner, overlapping), store(owner, next)])
    ).slice(fillers.length);
    expect(a).toHaveLength(3);
    // Contradicted by what the first stored: nothing of it was stored, the caller judges it the full way.
    expect(b).toBeUndefined();
    expect(c).toHaveLength(3);
    const stored = await transactionsOf([...first, ...overlapping, ...next].map((r) => r.id));
    expect([...stored.keys()].sort()).toEqual([...first, ...next].map((r) => r.id).sort());
    expect(new Set([...first, ...next].map((r) => stored.get(r.id))).size).toBe(1);
  });
});
