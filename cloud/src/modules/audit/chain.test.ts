import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../platform/db/client';
import { startAuditTestbed, testAuditKeys, type AuditTestbed } from '../../../test/support/audit';
import { testDatabaseKinds } from '../../../test/support/database';
import type { AuditService } from './index';
import { createCheckpointStore } from './checkpoint-store';
import { createCheckpoints, createCheckpointSigner } from './checkpoints';
import { createAuditService, hashAuditRow } from './service';
import { createAuditStore } from './store';

/**
 * The hash chain over a real database: it verifies as written, the table refuses changes,
 * and a row changed behind its back (triggers off, as a superuser could) is found: a changed
 * row as a hash mismatch, a changed row whose own hash was recomputed as a broken link.
 */
describe.each(testDatabaseKinds())('audit chain on %s', (kind) => {
  let bed: AuditTestbed;
  let database: Database;
  let audit: AuditService;

  beforeAll(async () => {
    bed = await startAuditTestbed(kind, 'chain');
    ({ database, audit } = bed);
  }, 120_000);
  afterAll(async () => bed?.stop());

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

  /** Changes the row at `seqs[index]` and recomputes its hash and every one after it, as a forger with the table would. */
  async function rechainFrom(orgId: string, fromSeq: number) {
    const rows = await database.rows<{
      seq: number;
      id: string;
      prev_hash: string;
      at: Date | string;
      actor_type: 'user';
      actor_id: string;
      action: string;
      subject_user_ids: string[];
      details: Record<string, unknown>;
    }>(
      sql`select seq::int as seq, id, prev_hash, at, actor_type, actor_id, action, subject_user_ids, details from audit_log where org_id = ${orgId} and seq >= ${fromSeq} order by seq`,
    );
    let prev = rows[0]?.prev_hash ?? '';
    for (const row of rows) {
      const subjects = row.seq === fromSeq ? [] : row.subject_user_ids;
      const hash = hashAuditRow(prev, {
        id: row.id,
        orgId,
        at: new Date(row.at),
        actorType: row.actor_type,
        actorId: row.actor_id,
        action: row.action,
        subjectUserIds: subjects,
        details: row.details,
      });
      await behindItsBack(
        sql`update audit_log set subject_user_ids = ${JSON.stringify(subjects)}::jsonb, prev_hash = ${prev}, hash = ${hash} where seq = ${row.seq}`,
      );
      prev = hash;
    }
  }
  const deleteNewest = (orgId: string, n: number) =>
    behindItsBack(sql`delete from audit_log where seq in (select seq from audit_log where org_id = ${orgId} order by seq desc limit ${n})`);
  const problemsOf = async (orgId: string, supplied?: string) => (await audit.verify(orgId, { supplied })).problems;

  it('signs a checkpoint of the head; deleting the newest rows is then reported as truncation', async () => {
    const { orgId, seqs } = await orgWithEvents(5);
    const { checkpoint, problems } = await audit.checkpoint(orgId);
    expect(problems).toEqual([]);
    expect(checkpoint).toMatchObject({ org: orgId, seq: seqs[4], size: 5 });
    const fine = await audit.verify(orgId);
    expect(fine).toMatchObject({ ok: true, problems: [], checkpoints: [{ source: 'stored', seq: seqs[4] }] });

    await deleteNewest(orgId, 2);
    const verdict = await audit.verify(orgId);
    expect(verdict.ok).toBe(false);
    expect(verdict.problems).toEqual([{ kind: 'truncated', checkpointSeq: seqs[4], lastSeq: seqs[2] }]);
    expect(verdict.brokenAt).toBeUndefined();
  });

  it('reports re-chaining after an edit at the checkpoint, though every hash and link fits again', async () => {
    const { orgId, seqs } = await orgWithEvents(4);
    await audit.checkpoint(orgId);
    await rechainFrom(orgId, seqs[1] ?? -1);
    const verdict = await audit.verify(orgId);
    expect(verdict.ok).toBe(false);
    expect(verdict.brokenAt).toBeUndefined();
    expect(verdict.problems).toEqual([{ kind: 'rechained', checkpointSeq: seqs[3], foundHash: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
  });

  it('holds the chain against a checkpoint kept outside when the stored checkpoints were deleted too', async () => {
    const { orgId, seqs } = await orgWithEvents(4);
    const kept = (await audit.checkpoint(orgId)).checkpoint?.jws ?? '';
    await deleteNewest(orgId, 1);
    await database.rows(sql`alter table audit_checkpoints disable trigger user`);
    await database.rows(sql`delete from audit_checkpoints where org_id = ${orgId}`);
    await database.rows(sql`alter table audit_checkpoints enable trigger user`);
    // With its checkpoints gone too, the database alone cannot tell: this is what the kept copy is for.
    expect(await problemsOf(orgId)).toEqual([]);
    const verdict = await audit.verify(orgId, { supplied: kept });
    expect(verdict.problems).toEqual([{ kind: 'truncated', checkpointSeq: seqs[3], lastSeq: seqs[2] }]);
    expect(verdict.checkpoints.map((c) => c.source)).toEqual(['supplied']);
  });

  it('refuses a supplied checkpoint that another key signed, that was altered, or that is another org’s, naming the field', async () => {
    const { orgId } = await orgWithEvents(2);
    const { orgId: otherOrg } = await orgWithEvents(1);
    const mine = (await audit.checkpoint(orgId)).checkpoint?.jws ?? '';
    const theirs = (await audit.checkpoint(otherOrg)).checkpoint?.jws ?? '';
    const [header, payload, signature] = mine.split('.');
    const statement = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { size: number };
    const altered = [header, Buffer.from(JSON.stringify({ ...statement, size: statement.size + 1 })).toString('base64url'), signature].join('.');
    const stranger = bed.withKeys(testAuditKeys());
    const foreign = (await stranger.checkpoint(orgId)).checkpoint?.jws ?? '';
    for (const [supplied, words] of [
      [altered, /does not verify/],
      [foreign, /another key/],
      [theirs, /another organisation/],
      ['not.a.jws', /not an audit checkpoint/],
    ] as const) {
      const error = await audit.verify(orgId, { supplied }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toMatchObject({ status: 400, fields: [{ path: 'checkpoint', problem: expect.stringMatching(words) }] });
    }
  });

  it('reports a stored checkpoint that does not verify as forged, and holds the chain against the last genuine one', async () => {
    const { orgId, seqs } = await orgWithEvents(3);
    const genuine = (await audit.checkpoint(orgId)).checkpoint;
    // A superuser can write the table but not sign: a row under our key id with a made-up signature.
    const forgedJws = `${genuine?.jws.split('.').slice(0, 2).join('.')}.${Buffer.alloc(64, 7).toString('base64url')}`;
    await database.rows(
      sql`insert into audit_checkpoints (org_id, seq, size, hash, signed_at, key_id, jws) values (${orgId}, ${(seqs[2] ?? 0) + 1000000}, 9, ${'f'.repeat(64)}, now(), ${genuine?.kid ?? ''}, ${forgedJws})`,
    );
    const verdict = await audit.verify(orgId);
    expect(verdict.problems).toEqual([{ kind: 'checkpoint_forged', checkpointSeq: (seqs[2] ?? 0) + 1000000 }]);
    expect(verdict.checkpoints).toMatchObject([{ source: 'stored', seq: seqs[2] }]);
  });

  it('signs no checkpoint over a chain changed since the last one, and the checkpoints table refuses changes', async () => {
    const { orgId, seqs } = await orgWithEvents(3);
    const first = (await audit.checkpoint(orgId)).checkpoint;
    await audit.record({ orgId, actorType: 'system', actorId: 'system', action: 'later' });
    const [later] = await database.rows<{ seq: number }>(sql`select max(seq)::int as seq from audit_log where org_id = ${orgId}`);
    await behindItsBack(sql`update audit_log set action = 'hidden' where seq = ${later?.seq ?? -1}`);
    const again = await audit.checkpoint(orgId);
    expect(again.checkpoint?.seq).toBe(first?.seq);
    expect(again.problems).toEqual([{ kind: 'hash_mismatch', seq: later?.seq }]);
    const stored = await database.rows<{ n: number }>(sql`select count(*)::int as n from audit_checkpoints where org_id = ${orgId}`);
    expect(stored[0]?.n).toBe(1);
    expect(first?.seq).toBe(seqs[2]);
    await expect(database.rows(sql`delete from audit_checkpoints where org_id = ${orgId}`)).rejects.toThrow();
    await expect(database.rows(sql`update audit_checkpoints set hash = ${'0'.repeat(64)} where org_id = ${orgId}`)).rejects.toThrow();
  });

  it('the hourly job checkpoints every org whose head moved', async () => {
    const { orgId } = await orgWithEvents(2);
    const result = await audit.checkpointAll();
    expect(result.checkpointed).toBeGreaterThan(0);
    const [row] = await database.rows<{ n: number }>(sql`select count(*)::int as n from audit_checkpoints where org_id = ${orgId}`);
    expect(row?.n).toBe(1);
  });

  it('states the walk since the checkpoint and signs the head from one read of the entries, with the figures of the two calls', async () => {
    // The service over a store that counts how often the entries since a checkpoint are read.
    const store = createAuditStore(database);
    let walks = 0;
    const counted: typeof store = {
      ...store,
      pages: (orgId, size, fromSeq) => {
        walks++;
        return store.pages(orgId, size, fromSeq);
      },
    };
    const signer = createCheckpointSigner(bed.keys);
    const checkpoints = createCheckpoints({ store: counted, checkpoints: createCheckpointStore(database), signer, now: () => new Date() });
    const counting = createAuditService({ store: counted, checkpoints, signer });

    const { orgId } = await orgWithEvents(3);
    await counting.checkpoint(orgId);
    for (let i = 0; i < 2; i++) await counting.record({ orgId, actorType: 'user', actorId: 'u', action: 'report.team_summary.viewed', subjectUserIds: ['p'] });
    // What the two calls, one after the other, would state: the walk, then the head it signs.
    const expected = await counting.verifySinceCheckpoint(orgId);
    expect(expected).toMatchObject({ ok: true, entries: 5, walked: 3, checkpoint: { size: 3 } });
    walks = 0;
    const both = await counting.verifyAndCheckpoint(orgId);
    expect(walks).toBe(1);
    expect(both.sinceCheckpoint).toEqual(expected);
    expect(both.checkpoint).toMatchObject({ org: orgId, size: 5 });
    expect(await counting.latestCheckpoint(orgId)).toEqual(both.checkpoint);
    // Over a changed chain: the same findings, nothing signed, the last good checkpoint carried.
    const [head] = await database.rows<{ seq: number }>(sql`select max(seq)::int as seq from audit_log where org_id = ${orgId}`);
    await counting.record({ orgId, actorType: 'system', actorId: 'system', action: 'later' });
    const [later] = await database.rows<{ seq: number }>(sql`select max(seq)::int as seq from audit_log where org_id = ${orgId}`);
    await behindItsBack(sql`update audit_log set action = 'hidden' where seq = ${later?.seq ?? -1}`);
    const broken = await counting.verifyAndCheckpoint(orgId);
    expect(broken.sinceCheckpoint).toEqual(await counting.verifySinceCheckpoint(orgId));
    expect(broken.sinceCheckpoint.problems).toEqual([{ kind: 'hash_mismatch', seq: later?.seq }]);
    expect(broken.checkpoint).toMatchObject({ seq: head?.seq, size: 5 });
  });
});
