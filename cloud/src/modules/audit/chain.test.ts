import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../platform/db/client';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../../../test/support/database';
import { createAuditModule, type AuditService } from './index';
import { hashAuditRow } from './service';

/**
 * The hash chain over a real database: it verifies as written, the table refuses changes,
 * and a row changed behind its back (triggers off, as a superuser could) is found: a changed
 * row as a hash mismatch, a changed row whose own hash was recomputed as a broken link.
 */
describe.each(testDatabaseKinds())('audit chain on %s', (kind) => {
  let testDb: TestDatabase;
  let database: Database;
  let audit: AuditService;

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    database = await openDatabase({ databaseUrl: testDb.databaseUrl, dataDir: testDb.dataDir });
    audit = createAuditModule({ database }).service;
  }, 120_000);
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  /** An org with `n` events, interleaved with another org's so chains are per org. */
  async function orgWithEvents(n: number): Promise<{ orgId: string; seqs: number[] }> {
    const orgId = uuidv7();
    const noise = uuidv7();
    for (let i = 0; i < n; i++) {
      await audit.record({ orgId, actorType: 'user', actorId: `u-${i}`, action: 'report.team_summary.viewed', subjectUserIds: [`p-${i}`], details: { i } });
      await audit.record({ orgId: noise, actorType: 'system', actorId: 'system', action: 'noise' });
    }
    const rows = await database.rows<{ seq: number }>(sql`select seq::int as seq from audit_log where org_id = ${orgId} order by seq`);
    return { orgId, seqs: rows.map((r) => Number(r.seq)) };
  }

  /** Runs one change with the append-only triggers off, then turns them back on. */
  async function behindItsBack(change: ReturnType<typeof sql>) {
    await database.rows(sql`alter table audit_log disable trigger user`);
    try {
      await database.rows(change);
    } finally {
      await database.rows(sql`alter table audit_log enable trigger user`);
    }
  }

  it('verifies an untouched chain, each org on its own', async () => {
    const { orgId } = await orgWithEvents(5);
    const result = await audit.verify(orgId);
    expect(result).toMatchObject({ ok: true, checked: 5 });
    expect(result.brokenAt).toBeUndefined();
    expect(result.lastHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses UPDATE, DELETE and TRUNCATE', async () => {
    const { orgId } = await orgWithEvents(1);
    // The driver wraps the database's refusal; the trigger's own words are in the cause.
    const refusal = (query: ReturnType<typeof sql>) =>
      database.rows(query).then(
        () => 'accepted',
        (err: unknown) => (err instanceof Error ? `${err.message} ${err.cause instanceof Error ? err.cause.message : ''}` : String(err)),
      );
    expect(await refusal(sql`update audit_log set action = 'nothing.happened' where org_id = ${orgId}`)).toMatch(/append-only: UPDATE refused/);
    expect(await refusal(sql`delete from audit_log where org_id = ${orgId}`)).toMatch(/append-only: DELETE refused/);
    expect(await refusal(sql`truncate audit_log`)).toMatch(/append-only: TRUNCATE refused/);
    expect((await audit.verify(orgId)).ok).toBe(true);
  });

  it('reports a changed row as a hash mismatch at that row', async () => {
    const { orgId, seqs } = await orgWithEvents(4);
    const target = seqs[2] ?? -1;
    await behindItsBack(sql`update audit_log set subject_user_ids = '[]'::jsonb where seq = ${target}`);
    expect(await audit.verify(orgId)).toMatchObject({ ok: false, checked: 2, brokenAt: { seq: target, reason: 'hash_mismatch' } });
  });

  it('reports a changed row whose own hash was recomputed as a broken link at the next row', async () => {
    const { orgId, seqs } = await orgWithEvents(4);
    const target = seqs[1] ?? -1;
    const [row] = await database.rows<{ id: string; prev_hash: string; at: Date | string; actor_type: 'user'; actor_id: string; action: string }>(
      sql`select id, prev_hash, at, actor_type, actor_id, action from audit_log where seq = ${target}`,
    );
    if (!row) throw new Error('row expected');
    // The forger hides whose data was read and makes the row's own hash fit again.
    const forged = hashAuditRow(row.prev_hash, {
      id: row.id,
      orgId,
      at: new Date(row.at),
      actorType: row.actor_type,
      actorId: row.actor_id,
      action: row.action,
      subjectUserIds: [],
      details: { i: 1 },
    });
    await behindItsBack(sql`update audit_log set subject_user_ids = '[]'::jsonb, hash = ${forged} where seq = ${target}`);
    expect(await audit.verify(orgId)).toMatchObject({ ok: false, checked: 2, brokenAt: { seq: seqs[2], reason: 'link_mismatch' } });
  });

  it('reports a deleted row as a broken link at the row after it', async () => {
    const { orgId, seqs } = await orgWithEvents(3);
    await behindItsBack(sql`delete from audit_log where seq = ${seqs[1] ?? -1}`);
    expect(await audit.verify(orgId)).toMatchObject({ ok: false, checked: 1, brokenAt: { seq: seqs[2], reason: 'link_mismatch' } });
  });
});
