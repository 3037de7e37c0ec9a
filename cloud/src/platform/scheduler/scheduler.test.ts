import pino from 'pino';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../../../test/support/database';
import { openDatabase, type Database } from '../db/client';
import { createScheduler, type Scheduler } from './index';
import { createSchedulerStore } from './store';

const logger = pino({ level: process.env.SCHED_LOG ?? 'silent' });
const waitFor = async (what: string, ok: () => boolean | Promise<boolean>, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.each(testDatabaseKinds())('scheduler on %s', (kind) => {
  let testDb: TestDatabase;
  const databases: Database[] = [];
  const open = async () => {
    const database = await openDatabase({ databaseUrl: testDb.databaseUrl, dataDir: testDb.dataDir, poolSize: 3 });
    databases.push(database);
    return database;
  };

  let database: Database;
  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    database = await open();
  });
  afterAll(async () => {
    for (const d of databases) await d.close();
    await testDb?.drop();
  });

  it('runs a job once per tick and claims each tick before it runs', async () => {
    const scheduler = createScheduler({ database, logger, instanceId: 'only', retryMs: 100 });
    scheduler.start();
    await waitFor('leadership', () => scheduler.isLeader());
    let runs = 0;
    const jobs = scheduler.schedule([{ name: 'every-second', cron: '* * * * * *', run: async () => void runs++ }]);
    await waitFor('three runs', () => runs >= 3);
    await jobs.stop();
    await scheduler.stop();
    const claims = await createSchedulerStore(database).runs('every-second');
    expect(claims.length).toBe(runs);
    expect(new Set(claims.map((c) => c.tick.getTime())).size).toBe(claims.length);
    expect(claims.every((c) => c.claimedBy === 'only' && c.finishedAt !== null)).toBe(true);
  });
});

// Two instances can share only a server database (an embedded one belongs to one process).
if (testDatabaseKinds().includes('postgres')) {
  describe('scheduler on postgres, two instances', () => {
    let testDb: TestDatabase;
    const databases: Database[] = [];
    const open = async () => {
      const database = await openDatabase({ databaseUrl: testDb.databaseUrl, dataDir: testDb.dataDir, poolSize: 3 });
      databases.push(database);
      return database;
    };
    let first: Database;
    let second: Database;
    beforeAll(async () => {
      testDb = await createTestDatabase('postgres');
      [first, second] = [await open(), await open()];
    });
    afterAll(async () => {
      for (const d of databases.slice(1)) await d.close();
      await testDb?.drop();
    });

    it('with two instances one leads; when its connection dies the other takes over within seconds, and no tick runs twice', async () => {
      const ran: { instance: string; at: number }[] = [];
      const schedules: { stop: () => Promise<void> }[] = [];
      const make = (database: Database, instance: string): Scheduler => {
        const s = createScheduler({ database, logger, instanceId: instance, retryMs: 200 });
        s.start();
        schedules.push(s.schedule([{ name: 'shared-job', cron: '* * * * * *', run: async () => void ran.push({ instance, at: Date.now() }) }]));
        return s;
      };
      const a = make(first, 'a');
      await waitFor('a leads', () => a.isLeader());
      const b = make(second, 'b');
      await waitFor('a few ticks', () => ran.length >= 3);
      expect(b.isLeader()).toBe(false);
      expect(new Set(ran.map((r) => r.instance))).toEqual(new Set(['a']));

      // The leader dies: its lock connection is cut and its pool goes with it, as when its process is killed.
      const admin = postgres(testDb.databaseUrl ?? '', { max: 1, onnotice: () => {} });
      const cut = Date.now();
      // Only the holder of the scheduler's lock (key 0x1ca705ced01e) in this test's own database.
      const killed = await admin`
      select pg_terminate_backend(pid) as ok from pg_locks
      where locktype = 'advisory' and granted and classid = ${0x1ca7} and objid = ${0x05ced01e}
        and database = (select oid from pg_database where datname = current_database())`;
      expect(killed.length).toBe(1);
      const ended = first.close();
      await admin.end();
      await waitFor('b takes over', () => b.isLeader(), 5_000);
      expect(Date.now() - cut).toBeLessThan(5_000);
      const before = ran.length;
      await waitFor('b runs ticks', () => ran.filter((r) => r.instance === 'b').length >= 2);
      expect(ran.length).toBeGreaterThan(before);

      for (const s of schedules) await s.stop();
      await Promise.all([a.stop(), b.stop(), ended]);
      const claims = await createSchedulerStore(second).runs('shared-job');
      // Every run had a claim of its own: one run per tick, whoever led.
      expect(claims.length).toBe(ran.length);
      expect(new Set(claims.map((c) => c.tick.getTime())).size).toBe(claims.length);
    });
  });
}
