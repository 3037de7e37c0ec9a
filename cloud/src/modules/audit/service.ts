import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import { AppError } from '../../platform/errors';
import { hashAuditRow, walkChain, type ChainProblem, type ChainReference } from './chain';
import type { Checkpoint, CheckpointRejection, Checkpoints, CheckpointSigner, WalkSinceCheckpoint } from './checkpoints';
import { GENESIS_HASH, type AuditFilter, type AuditStore, type StoredAuditEvent } from './store';

export { hashAuditRow } from './chain';

export interface AuditEvent {
  orgId: string;
  actorType: 'user' | 'device' | 'system';
  actorId: string;
  action: string;
  /** People whose personal data the action read or changed. */
  subjectUserIds?: string[];
  details?: Record<string, unknown>;
}

/** A checkpoint the chain was held against: the newest stored one, or one the verifier kept. */
export interface CheckedCheckpoint extends Omit<Checkpoint, 'jws'> {
  source: 'stored' | 'supplied';
  jws: string;
}

export interface ChainVerification {
  /** No finding of any kind. */
  ok: boolean;
  /** Entries found intact before the first changed row or broken link. */
  checked: number;
  entries: number;
  lastSeq: number | null;
  /** The first row whose hash or link does not match. */
  brokenAt?: { seq: number; reason: 'hash_mismatch' | 'link_mismatch' };
  lastHash: string;
  /** Every finding, each kind on its own (see ChainProblem); stored checkpoints that do not verify as `checkpoint_forged`. */
  problems: (ChainProblem | { kind: 'checkpoint_forged'; checkpointSeq: number })[];
  checkpoints: CheckedCheckpoint[];
}

/** What the walk since the newest valid checkpoint found (`verifySinceCheckpoint`). */
export interface SinceCheckpointVerification {
  ok: boolean;
  /** Entries in the chain, counting those the checkpoint signed. */
  entries: number;
  /** Entries read: from the checkpoint's own entry to the head. */
  walked: number;
  problems: ChainVerification['problems'];
  checkpoint: { seq: number; size: number; at: string } | null;
}

/** The newest scheduled walk of the whole chain, as its audit entry ('audit.chain_verified') recorded it. */
export interface RecordedFullVerification {
  /** When the entry was recorded, right after the walk. */
  at: string;
  ok: boolean;
  entries: number;
  /** Entries found intact before the first changed row or broken link. */
  checked: number;
  /** The findings (at most FULL_PROBLEMS_KEPT), and how many there were. */
  problems: ChainVerification['problems'];
  problemCount: number;
}

/** The action of the entry the scheduled whole-chain walk records. */
export const CHAIN_VERIFIED_ACTION = 'audit.chain_verified';
/** Who records it. */
export const CHAIN_VERIFIER = 'chain-verification';
/** Findings kept in the entry: enough to read where it broke, without one entry the size of the log. */
const FULL_PROBLEMS_KEPT = 50;

const ProblemSchema = z.union([
  z.object({ kind: z.enum(['hash_mismatch', 'link_mismatch']), seq: z.int() }),
  z.object({ kind: z.literal('truncated'), checkpointSeq: z.int(), lastSeq: z.int().nullable() }),
  z.object({ kind: z.literal('rechained'), checkpointSeq: z.int(), foundHash: z.string().nullable() }),
  z.object({ kind: z.literal('checkpoint_forged'), checkpointSeq: z.int() }),
]);

export const SinceCheckpointVerificationSchema = z.object({
  ok: z.boolean(),
  entries: z.int().describe('Entries in the chain, counting those the checkpoint signed'),
  walked: z.int().describe("Entries read now: from the checkpoint's own entry to the head"),
  problems: z.array(ProblemSchema),
  checkpoint: z
    .object({ seq: z.int(), size: z.int(), at: z.string() })
    .nullable()
    .describe('The checkpoint walked from; null: none yet, the whole chain was walked'),
});

export const RecordedFullVerificationSchema = z.object({
  at: z.iso.datetime().describe('When the scheduled walk of the whole chain recorded its result'),
  ok: z.boolean(),
  entries: z.int(),
  checked: z.int(),
  problems: z.array(ProblemSchema).describe('The findings, at most 50'),
  problemCount: z.int(),
});

/** The same shape as a schema, for the OpenAPI document. */
export const ChainVerificationSchema = z.object({
  ok: z.boolean(),
  checked: z.int(),
  entries: z.int(),
  lastSeq: z.int().nullable(),
  brokenAt: z.object({ seq: z.int(), reason: z.enum(['hash_mismatch', 'link_mismatch']) }).optional(),
  lastHash: z.string(),
  problems: z.array(ProblemSchema),
  checkpoints: z.array(
    z.object({
      source: z.enum(['stored', 'supplied']),
      org: z.string(),
      seq: z.int(),
      size: z.int(),
      hash: z.string(),
      at: z.string(),
      kid: z.string(),
      jws: z.string(),
    }),
  ),
});

const REJECTION_WORDS: Record<CheckpointRejection, string> = {
  not_a_checkpoint: 'is not an audit checkpoint (a compact JWS from a compliance report or audit export)',
  other_key: "is signed with another key than this server's audit key (/v1/audit-keys)",
  bad_signature: "does not verify with this server's audit key (/v1/audit-keys)",
};

export function createAuditService(deps: {
  store: AuditStore;
  checkpoints: Checkpoints;
  signer: CheckpointSigner;
  /** Public keys of the audit ring seen before, listed (retired) once no longer configured. */
  knownPublicKeys?: () => Promise<{ keyId: string; jwk: Record<string, unknown> }[]>;
}) {
  const { store, checkpoints, signer } = deps;
  async function record(event: AuditEvent): Promise<void> {
    await store.append(event.orgId, (prevHash) => {
      const row = {
        id: uuidv7(),
        orgId: event.orgId,
        at: new Date(),
        actorType: event.actorType,
        actorId: event.actorId,
        action: event.action,
        subjectUserIds: event.subjectUserIds ?? [],
        details: event.details ?? {},
      };
      return { ...row, prevHash, hash: hashAuditRow(prevHash, row) };
    });
  }

  /**
   * Recomputes every hash of the org's chain in order, reading in pages, and holds it against
   * the newest stored checkpoint and against `supplied` (a checkpoint's JWS the verifier kept
   * outside, since the tables themselves can be rewritten). A supplied checkpoint that is not
   * ours or not this org's is refused as bad input naming `checkpoint`.
   */
  async function verify(orgId: string, options: { supplied?: string | undefined } = {}): Promise<ChainVerification> {
    const used: CheckedCheckpoint[] = [];
    if (options.supplied !== undefined) {
      const opened = await signer.open(options.supplied.trim());
      if ('rejected' in opened) {
        const problem = REJECTION_WORDS[opened.rejected];
        throw new AppError('validation_failed', `Invalid checkpoint: ${problem}`, [{ path: 'checkpoint', problem }]);
      }
      if (opened.checkpoint.org !== orgId) {
        const problem = "is another organisation's checkpoint";
        throw new AppError('validation_failed', `Invalid checkpoint: ${problem}`, [{ path: 'checkpoint', problem }]);
      }
      used.push({ ...opened.checkpoint, source: 'supplied' });
    }
    const stored = await checkpoints.latestStored(orgId);
    if (stored.checkpoint) used.unshift({ ...stored.checkpoint, source: 'stored' });
    const references: ChainReference[] = used.map((c) => ({ seq: c.seq, size: c.size, hash: c.hash }));
    const walk = await walkChain(store.pages(orgId, 2000), { prevHash: GENESIS_HASH, entries: 0 }, references);
    // The same checkpoint stored and supplied is one finding, not two.
    const seen = new Set<string>();
    const problems: ChainVerification['problems'] = [
      ...walk.problems.filter((p) => {
        const key = JSON.stringify(p);
        return !seen.has(key) && !!seen.add(key);
      }),
      ...stored.forged.map((seq) => ({ kind: 'checkpoint_forged' as const, checkpointSeq: seq })),
    ];
    return {
      ok: problems.length === 0,
      checked: walk.checked,
      entries: walk.entries,
      lastSeq: walk.lastSeq,
      ...(walk.brokenAt ? { brokenAt: walk.brokenAt } : {}),
      lastHash: walk.lastHash,
      problems,
      checkpoints: used,
    };
  }

  /** What a walk since the newest valid checkpoint found, forged checkpoints among the findings. */
  function sinceCheckpoint({ last, forged, walk }: WalkSinceCheckpoint): SinceCheckpointVerification {
    const problems: ChainVerification['problems'] = [...walk.problems, ...forged.map((seq) => ({ kind: 'checkpoint_forged' as const, checkpointSeq: seq }))];
    return {
      ok: problems.length === 0,
      entries: walk.entries,
      walked: walk.entries - (last ? last.size - 1 : 0),
      problems,
      checkpoint: last ? { seq: last.seq, size: last.size, at: last.at } : null,
    };
  }

  return {
    record,

    /** Newest first; the viewer pages with `beforeSeq`. Callers check roles and org. */
    search: (orgId: string, filter: AuditFilter, page: { beforeSeq?: number | undefined; limit: number }) => store.search(orgId, filter, page),

    /** Every matching event, newest first, read a page at a time (CSV export). */
    async *matching(orgId: string, filter: AuditFilter, max: number): AsyncGenerator<StoredAuditEvent[]> {
      let beforeSeq: number | undefined;
      let left = max;
      while (left > 0) {
        const page = await store.search(orgId, filter, { beforeSeq, limit: Math.min(1000, left) });
        if (page.length === 0) return;
        yield page;
        left -= page.length;
        beforeSeq = page[page.length - 1]?.seq;
      }
    },

    /** Reads and changes of the person's data by other users, newest first (who viewed my data). */
    eventsAboutSubject: (orgId: string, subjectUserId: string, limit: number) => store.eventsAboutSubject(orgId, subjectUserId, limit),

    personalDataAccess: (orgId: string, from: Date, to: Date) => store.personalDataAccess(orgId, from, to),

    verify,

    /**
     * The chain since the newest valid stored checkpoint: its entry still has the signed hash and
     * count, and every entry after it hashes and links (the whole chain when none is stored yet).
     * What a glance needs (the admin home) at the cost of the entries since the last scheduled
     * checkpoint, not of the whole log; `verify` walks everything. Signs nothing.
     */
    verifySinceCheckpoint: async (orgId: string): Promise<SinceCheckpointVerification> => sinceCheckpoint(await checkpoints.walkSinceLatest(orgId)),

    /**
     * `verifySinceCheckpoint`, then the head signed from that same walk (`checkpoint`): what the
     * compliance report states and carries, for one read of the entries since the checkpoint. The
     * statement says what was proved from the checkpoint before the one it signs.
     */
    async verifyAndCheckpoint(orgId: string): Promise<{ sinceCheckpoint: SinceCheckpointVerification; checkpoint: Checkpoint | null }> {
      const walked = await checkpoints.walkSinceLatest(orgId);
      const { checkpoint } = await checkpoints.checkpoint(orgId, walked);
      return { sinceCheckpoint: sinceCheckpoint(walked), checkpoint };
    },

    /**
     * Walks the whole chain of every org with entries (`verify`) and records the result in the
     * org's own log as an 'audit.chain_verified' entry: the scheduled job, so that reading the
     * report does not walk the whole log. The entry is chained like any other: changing it
     * afterwards is itself found.
     */
    async verifyAllChains(): Promise<{ verified: number; withProblems: string[] }> {
      let verified = 0;
      const withProblems: string[] = [];
      for (const orgId of await checkpoints.orgIds()) {
        const result = await verify(orgId);
        await record({
          orgId,
          actorType: 'system',
          actorId: CHAIN_VERIFIER,
          action: CHAIN_VERIFIED_ACTION,
          details: {
            ok: result.ok,
            entries: result.entries,
            checked: result.checked,
            problems: result.problems.slice(0, FULL_PROBLEMS_KEPT),
            problemCount: result.problems.length,
          },
        });
        verified++;
        if (!result.ok) withProblems.push(orgId);
      }
      return { verified, withProblems };
    },

    /** The newest recorded whole-chain walk of the org (null: never yet). */
    async lastFullVerification(orgId: string): Promise<RecordedFullVerification | null> {
      const [entry] = await store.search(orgId, { action: CHAIN_VERIFIED_ACTION }, { limit: 1 });
      if (!entry) return null;
      const parsed = RecordedFullVerificationSchema.omit({ at: true }).safeParse(entry.details);
      // An entry that does not read as one (written by hand into the table) says nothing was verified.
      if (!parsed.success) return { at: entry.at.toISOString(), ok: false, entries: 0, checked: 0, problems: [], problemCount: 1 };
      return { at: entry.at.toISOString(), ...parsed.data };
    },

    /** The newest valid stored checkpoint, signing nothing. */
    latestCheckpoint: async (orgId: string): Promise<Checkpoint | null> => (await checkpoints.latestStored(orgId)).checkpoint ?? null,

    /** Signs the org's head if it moved since the last checkpoint (see Checkpoints.checkpoint). */
    checkpoint: (orgId: string) => checkpoints.checkpoint(orgId),

    /** A checkpoint of every org with entries: the scheduled job. */
    async checkpointAll(): Promise<{ checkpointed: number; withProblems: string[] }> {
      let checkpointed = 0;
      const withProblems: string[] = [];
      for (const orgId of await checkpoints.orgIds()) {
        const result = await checkpoints.checkpoint(orgId);
        if (result.problems.length > 0) withProblems.push(orgId);
        else if (result.checkpoint) checkpointed++;
      }
      return { checkpointed, withProblems };
    },

    /** Every audit key's public half as a JWKS (current and retired). */
    checkpointKeys: async () => signer.jwks((await deps.knownPublicKeys?.()) ?? []),
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
