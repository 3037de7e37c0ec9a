// Walking an org's chain in order: recomputing each hash, checking each link, and holding the
// entries against checkpoints signed earlier. Pure: rows in, findings out.
import { createHash } from 'node:crypto';
import { canonicalJson } from '@icarus/shared';
import type { StoredAuditEvent } from './store';

/** The exact bytes each row's hash covers; the verifier recomputes the same. */
export function hashAuditRow(prevHash: string, row: Omit<StoredAuditEvent, 'seq' | 'prevHash' | 'hash'>): string {
  const content = canonicalJson({
    id: row.id,
    orgId: row.orgId,
    at: row.at.toISOString(),
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    subjectUserIds: row.subjectUserIds,
    details: row.details,
  });
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

/**
 * What a walk can find, each kind on its own:
 * - `hash_mismatch`: the row's content no longer gives its hash (a row changed in place);
 * - `link_mismatch`: the row does not name the previous row's hash (a row removed or put in before it);
 * - `truncated`: the chain ends before the entry a checkpoint signed (the newest rows deleted);
 * - `rechained`: the entry at a checkpoint's seq has another hash or count than was signed, or is
 *   gone while later ones remain (rows changed and every hash after them recomputed).
 */
export type ChainProblem =
  | { kind: 'hash_mismatch' | 'link_mismatch'; seq: number }
  | { kind: 'truncated'; checkpointSeq: number; lastSeq: number | null }
  | { kind: 'rechained'; checkpointSeq: number; foundHash: string | null };

/** A signed head to hold the chain against: the entry at `seq` is the `size`th of the org and has `hash`. */
export interface ChainReference {
  seq: number;
  size: number;
  hash: string;
}

export interface ChainWalk {
  /** Entries read and found intact before the first changed row or broken link. */
  checked: number;
  /** Entries read, counting from the org's first (or from `start.entries`). */
  entries: number;
  lastSeq: number | null;
  lastHash: string;
  brokenAt?: { seq: number; reason: 'hash_mismatch' | 'link_mismatch' };
  problems: ChainProblem[];
}

/** More findings than this say nothing more: the first ones locate the damage. */
const MAX_ROW_PROBLEMS = 50;

/**
 * Walks rows in seq order. `start.prevHash` is the hash the first row must link to (undefined:
 * take the first row's own link, for a walk that starts at a checkpoint's entry), `start.entries`
 * how many entries come before it. After a break each row is checked against its stored
 * predecessor, so one changed or deleted row is one finding, not all that follow.
 */
export async function walkChain(
  pages: AsyncIterable<StoredAuditEvent[]>,
  start: { prevHash: string | undefined; entries: number },
  references: readonly ChainReference[],
): Promise<ChainWalk> {
  const pending = [...references].sort((a, b) => a.seq - b.seq);
  const problems: ChainProblem[] = [];
  let rowProblems = 0;
  let prevHash = start.prevHash;
  let entries = start.entries;
  let checked = 0;
  let lastSeq: number | null = null;
  let brokenAt: ChainWalk['brokenAt'];
  const rowProblem = (seq: number, reason: 'hash_mismatch' | 'link_mismatch') => {
    brokenAt ??= { seq, reason };
    if (rowProblems++ < MAX_ROW_PROBLEMS) problems.push({ kind: reason, seq });
  };

  for await (const page of pages) {
    for (const row of page) {
      while (pending[0] && pending[0].seq < row.seq) {
        problems.push({ kind: 'rechained', checkpointSeq: pending[0].seq, foundHash: null });
        pending.shift();
      }
      if (prevHash !== undefined && row.prevHash !== prevHash) rowProblem(row.seq, 'link_mismatch');
      if (hashAuditRow(row.prevHash, row) !== row.hash) rowProblem(row.seq, 'hash_mismatch');
      entries++;
      if (!brokenAt) checked++;
      while (pending[0] && pending[0].seq === row.seq) {
        const reference = pending[0];
        if (reference.hash !== row.hash || reference.size !== entries) problems.push({ kind: 'rechained', checkpointSeq: reference.seq, foundHash: row.hash });
        pending.shift();
      }
      prevHash = row.hash;
      lastSeq = row.seq;
    }
  }
  for (const reference of pending) problems.push({ kind: 'truncated', checkpointSeq: reference.seq, lastSeq });
  return { checked, entries, lastSeq, lastHash: prevHash ?? '', brokenAt, problems };
}
