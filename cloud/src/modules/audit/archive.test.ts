// The audit archive: sealed segments and signed checkpoints in the object store, verifiable
// from the store alone, after the database is gone.
import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../platform/db/client';
import type { ObjectStore } from '../../platform/object-store';
import { startAuditTestbed, testAuditKeys, type AuditTestbed } from '../../../test/support/audit';
import { testDatabaseKinds } from '../../../test/support/database';
import { createAuditArchive } from './archive';
import { createCheckpointStore } from './checkpoint-store';
import { createCheckpoints, createCheckpointSigner, type AuditKeys } from './checkpoints';
import type { AuditService } from './index';
import { createAuditStore } from './store';

describe.each(testDatabaseKinds())('audit archive on %s', (kind) => {
  let bed: AuditTestbed;
  let database: Database;
  let audit: AuditService;
  let objects: ObjectStore;
  let keys: AuditKeys;
  /** Small segments, so a few entries make several. */
  const archiveOf = () => {
    const store = createAuditStore(database);
    const signer = createCheckpointSigner(keys);
    const checkpoints = createCheckpoints({ store, checkpoints: createCheckpointStore(database), signer, now: () => new Date() });
    return createAuditArchive({ store, checkpoints, signer, objects, segmentRows: 4 });
  };

  beforeAll(async () => {
    bed = await startAuditTestbed(kind, 'archive');
    ({ database, audit, objects, keys } = bed);
  }, 120_000);
  afterAll(async () => bed?.stop());

  const events = async (orgId: string, n: number) => {
    for (let i = 0; i < n; i++) {
      await audit.record({ orgId, actorType: 'user', actorId: `u-${i}`, action: 'report.team_summary.viewed', subjectUserIds: [`p-${i}`], details: { i } });
      await audit.record({ orgId: uuidv7(), actorType: 'system', actorId: 'system', action: 'noise' });
    }
  };

  it('writes sealed segments and the checkpoint, then only what is new, and the archive verifies on its own', async () => {
    const orgId = uuidv7();
    const archive = archiveOf();
    await events(orgId, 10);
    const first = await archive.archive(orgId);
    expect(first).toMatchObject({ segments: 3, entries: 10, problems: [] });
    await events(orgId, 3);
    const second = await archive.archive(orgId);
    expect(second).toMatchObject({ segments: 1, entries: 3, problems: [] });
    const again = await archive.archive(orgId);
    expect(again).toMatchObject({ segments: 0, entries: 0 });
    const segments = (await objects.list(`audit/${orgId}/segments/`)).map((o) => o.key);
    expect(segments).toHaveLength(4);
    expect((await objects.list(`audit/${orgId}/checkpoints/`)).length).toBe(2);

    const verified = await archive.verify(orgId);
    expect(verified).toEqual({ ok: true, segments: 4, entries: 13, lastSeq: second.sealedSeq, checkpoints: 2, problems: [] });
    // The database's own chain agrees with the archive's head.
    expect((await audit.verify(orgId)).lastSeq).toBe(verified.lastSeq);
  });

  it('finds an archived entry changed, a segment removed, and a checkpoint of another key', async () => {
    const orgId = uuidv7();
    const archive = archiveOf();
    await events(orgId, 9);
    await archive.archive(orgId);
    const [, middleKey] = (await objects.list(`audit/${orgId}/segments/`)).map((o) => o.key);
    const original = (await objects.get(middleKey!))!.toString();
    await objects.put(middleKey!, original.replace('"actorId":"u-5"', '"actorId":"someone-else"'));
    const changed = await archive.verify(orgId);
    expect(changed.ok).toBe(false);
    expect(changed.problems).toContainEqual(expect.objectContaining({ kind: 'hash_mismatch' }));

    await objects.delete(middleKey!);
    const removed = await archive.verify(orgId);
    expect(removed.problems).toContainEqual(expect.objectContaining({ kind: 'segment_gap' }));
    await objects.put(middleKey!, original);
    expect((await archive.verify(orgId)).ok).toBe(true);

    // A checkpoint signed by another key, put beside the real ones, is refused by name.
    const other = bed.withKeys(testAuditKeys());
    const foreign = (await other.checkpoint(orgId)).checkpoint?.jws ?? '';
    await objects.put(`audit/${orgId}/checkpoints/9999999999999999.jws`, foreign);
    const refused = await archive.verify(orgId);
    expect(refused.problems).toContainEqual({ kind: 'checkpoint_rejected', key: `audit/${orgId}/checkpoints/9999999999999999.jws`, reason: 'other_key' });
    await objects.delete(`audit/${orgId}/checkpoints/9999999999999999.jws`);
  });

  it('archives nothing and signs nothing over a chain changed in the database', async () => {
    const orgId = uuidv7();
    const archive = archiveOf();
    await events(orgId, 5);
    await archive.archive(orgId);
    await events(orgId, 2);
    await database.rows(sql`alter table audit_log disable trigger user`);
    try {
      await database.rows(
        sql`update audit_log set actor_id = 'rewritten' where org_id = ${orgId} and actor_id = 'u-1' and seq > (select max(seq) - 4 from audit_log where org_id = ${orgId})`,
      );
    } finally {
      await database.rows(sql`alter table audit_log enable trigger user`);
    }
    const run = await archive.archive(orgId);
    expect(run.segments).toBe(0);
    expect(run.problems).toContainEqual(expect.objectContaining({ kind: 'hash_mismatch' }));
    expect((await archive.verify(orgId)).entries).toBe(5);
  });
});
