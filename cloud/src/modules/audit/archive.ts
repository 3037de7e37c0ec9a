// The audit chain copied out of the database, in sealed segments, to the object store: each run
// signs a checkpoint of the org's head (only when the chain since the last one verifies), writes
// the entries since the last archived segment up to that checkpoint as JSON-lines segments, and
// then the checkpoint's JWS beside them. The archive verifies on its own, with the audit public
// key alone: every hash and link recomputed from the genesis, segment to segment, and held
// against every archived checkpoint, so it stays evidence after the database is gone or rewritten.
//
//   audit/<org>/segments/<first seq>-<last seq>.jsonl   a header line, then one entry per line
//   audit/<org>/checkpoints/<seq>.jws                  the signed checkpoint that seals up to seq
import { z } from 'zod';
import type { ObjectStore } from '../../platform/object-store';
import { walkChain, type ChainProblem, type ChainReference } from './chain';
import type { Checkpoints, CheckpointSigner } from './checkpoints';
import { GENESIS_HASH, type AuditStore, type StoredAuditEvent } from './store';

const SEGMENT_FORMAT = 'icarus-nova-audit-segment-1';
const pad = (seq: number) => String(seq).padStart(16, '0');

const SegmentHeader = z.strictObject({
  format: z.literal(SEGMENT_FORMAT),
  org: z.uuid(),
  firstSeq: z.int().min(1),
  lastSeq: z.int().min(1),
  /** Entries of the org before this segment's first, and the hash the first links to. */
  entriesBefore: z.int().min(0),
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  rows: z.int().min(1),
});

const SegmentRow = z.strictObject({
  seq: z.int(),
  id: z.string(),
  orgId: z.string(),
  at: z.iso.datetime(),
  actorType: z.enum(['user', 'device', 'system']),
  actorId: z.string(),
  action: z.string(),
  subjectUserIds: z.array(z.string()),
  details: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});

export interface ArchiveRun {
  /** Segments written by this run, and the entries in them. */
  segments: number;
  entries: number;
  /** The checkpoint that seals the archive now (null: the org has no entries). */
  sealedSeq: number | null;
  /** Findings in the online chain: nothing is archived or signed over a changed chain. */
  problems: ChainProblem[];
}

export interface ArchiveVerification {
  ok: boolean;
  segments: number;
  entries: number;
  lastSeq: number | null;
  checkpoints: number;
  problems: (
    | ChainProblem
    | { kind: 'segment_unreadable'; key: string; problem: string }
    | { kind: 'segment_gap'; key: string; expectedPrevHash: string }
    | { kind: 'checkpoint_rejected'; key: string; reason: string }
  )[];
}

export function createAuditArchive(deps: {
  store: AuditStore;
  checkpoints: Checkpoints;
  signer: CheckpointSigner;
  objects: ObjectStore;
  segmentRows?: number;
}) {
  const { store, checkpoints, signer, objects } = deps;
  const segmentRows = deps.segmentRows ?? 50_000;
  const segmentsOf = async (orgId: string) => (await objects.list(`audit/${orgId}/segments/`)).filter((o) => o.key.endsWith('.jsonl'));

  async function readSegment(key: string): Promise<{ header: z.infer<typeof SegmentHeader>; rows: StoredAuditEvent[] }> {
    const text = (await objects.get(key))?.toString('utf8');
    if (text === undefined) throw new Error('is missing');
    const [first, ...lines] = text.split('\n').filter((l) => l.length > 0);
    const header = SegmentHeader.parse(JSON.parse(first ?? 'null'));
    const rows = lines.map((line) => {
      const row = SegmentRow.parse(JSON.parse(line));
      return { ...row, at: new Date(row.at) } as StoredAuditEvent;
    });
    if (rows.length !== header.rows) throw new Error(`holds ${rows.length} entries, its header says ${header.rows}`);
    return { header, rows };
  }

  const api = {
    /** Archives the org's entries up to a freshly signed checkpoint (the daily job, per org). */
    async archive(orgId: string): Promise<ArchiveRun> {
      const sealed = await checkpoints.checkpoint(orgId);
      if (sealed.problems.length > 0) return { segments: 0, entries: 0, sealedSeq: null, problems: sealed.problems };
      const head = sealed.checkpoint;
      if (!head) return { segments: 0, entries: 0, sealedSeq: null, problems: [] };
      const existing = await segmentsOf(orgId);
      let entriesBefore = 0;
      let prevHash = GENESIS_HASH;
      let fromSeq = 0;
      const last = existing.at(-1);
      if (last) {
        const { header, rows } = await readSegment(last.key);
        entriesBefore = header.entriesBefore + header.rows;
        prevHash = rows.at(-1)?.hash ?? header.prevHash;
        fromSeq = header.lastSeq + 1;
      }
      let segments = 0;
      let entries = 0;
      let batch: StoredAuditEvent[] = [];
      const flush = async () => {
        const firstRow = batch[0];
        const lastRow = batch.at(-1);
        if (!firstRow || !lastRow) return;
        const header: z.infer<typeof SegmentHeader> = {
          format: SEGMENT_FORMAT,
          org: orgId,
          firstSeq: firstRow.seq,
          lastSeq: lastRow.seq,
          entriesBefore,
          prevHash,
          rows: batch.length,
        };
        const body = [JSON.stringify(header), ...batch.map((r) => JSON.stringify({ ...r, at: r.at.toISOString() }))].join('\n') + '\n';
        await objects.put(`audit/${orgId}/segments/${pad(firstRow.seq)}-${pad(lastRow.seq)}.jsonl`, body, { contentType: 'application/x-ndjson' });
        segments++;
        entries += batch.length;
        entriesBefore += batch.length;
        prevHash = lastRow.hash;
        batch = [];
      };
      outer: for await (const page of store.pages(orgId, 2000, fromSeq)) {
        for (const row of page) {
          if (row.seq > head.seq) break outer;
          batch.push(row);
          if (batch.length >= segmentRows) await flush();
        }
      }
      await flush();
      await objects.put(`audit/${orgId}/checkpoints/${pad(head.seq)}.jws`, head.jws, { contentType: 'application/jose' });
      return { segments, entries, sealedSeq: head.seq, problems: [] };
    },

    /** Verifies the org's archive from the object store alone (see the top of this file). */
    async verify(orgId: string): Promise<ArchiveVerification> {
      const problems: ArchiveVerification['problems'] = [];
      const references: ChainReference[] = [];
      const checkpointObjects = (await objects.list(`audit/${orgId}/checkpoints/`)).filter((o) => o.key.endsWith('.jws'));
      for (const object of checkpointObjects) {
        const opened = await signer.open((await objects.get(object.key))?.toString('utf8').trim() ?? '');
        if ('rejected' in opened) problems.push({ kind: 'checkpoint_rejected', key: object.key, reason: opened.rejected });
        else if (opened.checkpoint.org !== orgId) problems.push({ kind: 'checkpoint_rejected', key: object.key, reason: 'another_org' });
        else references.push({ seq: opened.checkpoint.seq, size: opened.checkpoint.size, hash: opened.checkpoint.hash });
      }
      const keys = (await segmentsOf(orgId)).map((o) => o.key);
      const segments: StoredAuditEvent[][] = [];
      let expectedPrev = GENESIS_HASH;
      let expectedBefore = 0;
      for (const key of keys) {
        try {
          const { header, rows } = await readSegment(key);
          if (header.org !== orgId) throw new Error('is of another organisation');
          if (header.prevHash !== expectedPrev || header.entriesBefore !== expectedBefore)
            problems.push({ kind: 'segment_gap', key, expectedPrevHash: expectedPrev });
          segments.push(rows);
          expectedPrev = rows.at(-1)?.hash ?? expectedPrev;
          expectedBefore = header.entriesBefore + header.rows;
        } catch (error) {
          problems.push({ kind: 'segment_unreadable', key, problem: error instanceof Error ? error.message.slice(0, 200) : String(error) });
        }
      }
      async function* pages() {
        for (const rows of segments) yield rows;
      }
      const walk = await walkChain(pages(), { prevHash: GENESIS_HASH, entries: 0 }, references);
      problems.push(...walk.problems);
      return { ok: problems.length === 0, segments: keys.length, entries: walk.entries, lastSeq: walk.lastSeq, checkpoints: references.length, problems };
    },

    /** Every org with entries, archived in turn. */
    async archiveAll(): Promise<{ archived: number; withProblems: string[] }> {
      let archived = 0;
      const withProblems: string[] = [];
      for (const orgId of await checkpoints.orgIds()) {
        const run = await api.archive(orgId);
        if (run.problems.length > 0) withProblems.push(orgId);
        else archived += run.entries;
      }
      return { archived, withProblems };
    },
  };
  return api;
}
export type AuditArchive = ReturnType<typeof createAuditArchive>;
