// Signed checkpoints of an org's chain, in the manner of Certificate Transparency's signed tree
// heads: "the entry at seq is the size-th of this org and has this hash", signed with the audit
// key, which only the process holds. A copy kept outside the database (compliance report,
// export) lets a verifier find rows deleted or re-chained later, even by a database superuser.
import { CompactSign, compactVerify } from 'jose';
import { publicJwks, type Keyring, type SigningKey } from '../../platform/keyring';
import { z } from 'zod';
import type { CheckpointStore, StoredCheckpoint } from './checkpoint-store';
import { walkChain, type ChainProblem, type ChainWalk } from './chain';
import { GENESIS_HASH, type AuditStore } from './store';

export const CHECKPOINT_JWS_TYPE = 'audit-checkpoint+jws';

/** The signed statement. `kid` names the key, as the JWS header does. */
export const CheckpointStatement = z.strictObject({
  org: z.uuid(),
  seq: z.int().min(1),
  size: z.int().min(1),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.iso.datetime({ offset: false }),
  kid: z.string().min(1),
});
export type CheckpointStatement = z.infer<typeof CheckpointStatement>;
export interface Checkpoint extends CheckpointStatement {
  jws: string;
}

/** Checkpoints are signed with the newest key; those of older keys of the ring still verify. */
export type AuditKeys = Keyring<SigningKey>;

/** Why a checkpoint cannot be used; undefined when it is a valid statement signed by our key. */
export type CheckpointRejection = 'not_a_checkpoint' | 'other_key' | 'bad_signature';

export function createCheckpointSigner(keys: AuditKeys) {
  const signing = keys.newest;
  return {
    keyId: signing.keyId,
    async sign(statement: Omit<CheckpointStatement, 'kid'>): Promise<Checkpoint> {
      const full: CheckpointStatement = { ...statement, kid: signing.keyId };
      const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(full)))
        .setProtectedHeader({ alg: 'EdDSA', kid: signing.keyId, typ: CHECKPOINT_JWS_TYPE })
        .sign(signing.privateKey);
      return { ...full, jws };
    },

    /** Opens a compact JWS: our key, our type, a well-formed statement, or the reason it is not one. */
    async open(jws: string): Promise<{ checkpoint: Checkpoint } | { rejected: CheckpointRejection }> {
      const [encodedHeader = ''] = jws.split('.');
      let header: unknown;
      try {
        header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
      } catch {
        return { rejected: 'not_a_checkpoint' };
      }
      const parsedHeader = z.object({ alg: z.literal('EdDSA'), kid: z.string(), typ: z.literal(CHECKPOINT_JWS_TYPE) }).safeParse(header);
      if (!parsedHeader.success) return { rejected: 'not_a_checkpoint' };
      const key = keys.byId(parsedHeader.data.kid);
      if (!key) return { rejected: 'other_key' };
      let payload: Uint8Array;
      try {
        payload = (await compactVerify(jws, key.publicKey, { algorithms: ['EdDSA'] })).payload;
      } catch {
        return { rejected: 'bad_signature' };
      }
      let statement: unknown;
      try {
        statement = JSON.parse(new TextDecoder().decode(payload));
      } catch {
        return { rejected: 'not_a_checkpoint' };
      }
      const parsed = CheckpointStatement.safeParse(statement);
      if (!parsed.success || parsed.data.kid !== key.keyId) return { rejected: 'not_a_checkpoint' };
      return { checkpoint: { ...parsed.data, jws } };
    },

    /** Every public key of the ring (current and retired) as a JWKS, for verifiers outside (`/v1/audit-keys`). */
    async jwks(alsoKnown: readonly { keyId: string; jwk: Record<string, unknown> }[] = []) {
      return publicJwks(keys, alsoKnown);
    },
  };
}
export type CheckpointSigner = ReturnType<typeof createCheckpointSigner>;

/** The newest valid checkpoint, the stored ones that claim our key but do not verify, and the walk from it. */
export interface WalkSinceCheckpoint {
  last: Checkpoint | undefined;
  forged: number[];
  walk: ChainWalk;
}

/** How many stored checkpoints are looked through for the newest valid one. */
const LOOK_BACK = 20;

export function createCheckpoints(deps: { store: AuditStore; checkpoints: CheckpointStore; signer: CheckpointSigner; now: () => Date }) {
  const { store, checkpoints, signer } = deps;

  /**
   * The newest stored checkpoint that our key signed, and the seqs of stored ones that claim our
   * key but do not verify (or do not match their own columns): forged rows. Checkpoints of an
   * earlier key are passed over.
   */
  async function latestStored(orgId: string): Promise<{ checkpoint: Checkpoint | undefined; forged: number[] }> {
    const forged: number[] = [];
    for (const row of await checkpoints.recent(orgId, LOOK_BACK)) {
      const opened = await signer.open(row.jws);
      if ('rejected' in opened) {
        if (opened.rejected !== 'other_key') forged.push(row.seq);
        continue;
      }
      const c = opened.checkpoint;
      if (c.org !== orgId || c.seq !== row.seq || c.hash !== row.hash || c.size !== row.size) {
        forged.push(row.seq);
        continue;
      }
      return { checkpoint: c, forged };
    }
    return { checkpoint: undefined, forged };
  }

  /**
   * The newest valid stored checkpoint (and the forged ones passed over) with the walk from its
   * entry to the head: hashes, links, and the checkpoint's own entry unchanged (the whole chain
   * from genesis when none is stored yet).
   */
  async function walkSinceLatest(orgId: string): Promise<WalkSinceCheckpoint> {
    const { checkpoint: last, forged } = await latestStored(orgId);
    const walk = last
      ? await walkChain(store.pages(orgId, 2000, last.seq), { prevHash: undefined, entries: last.size - 1 }, [last])
      : await walkChain(store.pages(orgId, 2000), { prevHash: GENESIS_HASH, entries: 0 }, []);
    return { last, forged, walk };
  }

  return {
    latestStored,
    walkSinceLatest,

    /**
     * Signs the org's current head, extending the newest valid checkpoint: the entries since it
     * are walked (`walkSinceLatest`, or the walk the caller just made, so a report that states
     * the walk and signs its head reads the entries once), and a new statement is signed only
     * when that walk finds nothing. A head already signed is answered as it is. When the walk
     * finds a problem, nothing is signed (a tampered chain is never blessed) and the last good
     * checkpoint is answered with the problems.
     */
    async checkpoint(orgId: string, walked?: WalkSinceCheckpoint): Promise<{ checkpoint: Checkpoint | null; problems: ChainProblem[] }> {
      const { last, walk } = walked ?? (await walkSinceLatest(orgId));
      if (walk.problems.length > 0 || walk.lastSeq === null) return { checkpoint: last ?? null, problems: walk.problems };
      if (last && walk.lastSeq === last.seq) return { checkpoint: last, problems: [] };
      const signed = await signer.sign({ org: orgId, seq: walk.lastSeq, size: walk.entries, hash: walk.lastHash, at: deps.now().toISOString() });
      const row: StoredCheckpoint = {
        orgId,
        seq: signed.seq,
        size: signed.size,
        hash: signed.hash,
        signedAt: new Date(signed.at),
        keyId: signed.kid,
        jws: signed.jws,
      };
      await checkpoints.insert(row);
      return { checkpoint: signed, problems: [] };
    },

    orgIds: () => checkpoints.orgIds(),
  };
}
export type Checkpoints = ReturnType<typeof createCheckpoints>;
