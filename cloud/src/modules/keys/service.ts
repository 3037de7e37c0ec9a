import { exportJWK } from 'jose';
import type { Logger } from 'pino';
import { AppError } from '../../platform/errors';
import type { Keyring, SealedData, SigningKey, SymmetricKey } from '../../platform/keyring';
import type { Secrets } from '../../platform/secrets';
import type { KeysStore } from './store';

/** How often the re-encryption job counts what is still sealed under older keys (a full read). */
export const COUNT_EVERY_MS = 10 * 60_000;

export type RingName = 'title' | 'token' | 'receipt' | 'audit';
export const RING_VARIABLES: Record<RingName, string> = {
  title: 'TITLE_KEY',
  token: 'TOKEN_SECRET',
  receipt: 'RECEIPT_SIGNING_KEY',
  audit: 'AUDIT_SIGNING_KEY',
};

export interface KeyStatus {
  ring: RingName;
  keyId: string;
  /** `current`: new writes use it; `previous`: configured, still read; `retired`: refused. */
  state: 'current' | 'previous' | 'retired';
  configured: boolean;
  firstSeenAt: Date | null;
  retiredAt: Date | null;
  /** What still needs the key, in words; empty when it could be retired. */
  neededBy: string[];
}

export interface KeysDeps {
  store: KeysStore;
  secrets: Secrets;
  /** Everything sealed under the title ring (titles, TOTP seeds, …); asked when needed, as modules made later provide them. */
  sealed: () => readonly SealedData[];
  accessTokenTtlSeconds: number;
  logger: Logger;
  onResealed?: (what: string, n: number) => void;
  onPending?: (what: string, n: number) => void;
  now?: () => Date;
}

export function createKeysService(deps: KeysDeps) {
  const { store, secrets } = deps;
  const now = deps.now ?? (() => new Date());
  const rings: Record<RingName, Keyring<SymmetricKey> | Keyring<SigningKey>> = {
    title: secrets.titleKeys,
    token: secrets.tokenKeys,
    receipt: secrets.receiptKeys,
    audit: secrets.auditKeys,
  };
  const isSigning = (ring: RingName) => ring === 'receipt' || ring === 'audit';

  async function register(): Promise<void> {
    const rows: { ring: string; keyId: string; publicJwk: Record<string, unknown> | null }[] = [];
    for (const ring of ['title', 'token'] as const) for (const k of rings[ring].all) rows.push({ ring, keyId: k.keyId, publicJwk: null });
    for (const ring of ['receipt', 'audit'] as const) {
      for (const k of secrets[`${ring}Keys`].all) rows.push({ ring, keyId: k.keyId, publicJwk: { ...(await exportJWK(k.publicKey)) } });
    }
    await store.register(rows);
  }

  /** Per key of each ring (configured or known from before), its state and what still needs it. */
  async function status(): Promise<KeyStatus[]> {
    const known = await store.known();
    const counts = await Promise.all(deps.sealed().map(async (s) => ({ what: s.what, counts: await s.countByKey() })));
    const out: KeyStatus[] = [];
    for (const ring of Object.keys(rings) as RingName[]) {
      const keys = rings[ring];
      const ids = [...new Set([...keys.all.map((k) => k.keyId), ...known.filter((k) => k.ring === ring).map((k) => k.keyId)])];
      const newestSeen = known.find((k) => k.ring === ring && k.keyId === keys.newest.keyId)?.firstSeenAt ?? null;
      for (const keyId of ids) {
        const row = known.find((k) => k.ring === ring && k.keyId === keyId);
        const configured = keys.byId(keyId) !== undefined;
        const neededBy: string[] = [];
        if (keyId === keys.newest.keyId)
          neededBy.push(
            `new ${ring === 'title' ? 'titles and sealed secrets' : ring === 'token' ? 'access tokens' : `${ring} signatures`} (it is the newest key)`,
          );
        else if (ring === 'title') {
          for (const c of counts) {
            const n = c.counts.get(keyId) ?? 0;
            if (n > 0) neededBy.push(`${n} ${c.what}`);
          }
        } else if (ring === 'token') {
          // Tokens signed with an older key live at most one lifetime after the newest came in.
          const until = new Date((newestSeen ?? now()).getTime() + deps.accessTokenTtlSeconds * 1000 + 60_000);
          if (until > now()) neededBy.push(`device access tokens it signed, valid until ${until.toISOString()}`);
        }
        out.push({
          ring,
          keyId,
          state: row?.retiredAt ? 'retired' : keyId === keys.newest.keyId ? 'current' : 'previous',
          configured,
          firstSeenAt: row?.firstSeenAt ?? null,
          retiredAt: row?.retiredAt ?? null,
          neededBy: row?.retiredAt ? [] : neededBy,
        });
      }
    }
    return out;
  }

  // Where each kind's walk is: a run of the job goes on where the last one stopped.
  const cursors = new Map<string, string | undefined>();
  // What each kind held under older keys when last counted: a count reads every sealed value (all
  // stored titles), so it is taken when a walk starts or ends, and otherwise every COUNT_EVERY_MS.
  const counted = new Map<string, { atMs: number; left: number }>();

  /**
   * One batch of each sealed kind; how many values it re-sealed, and how many each kind still
   * holds under older keys. With one title key there is nothing older to re-seal from, and a kind
   * counted clean recently is not walked again until its next count: the job costs nothing then.
   */
  async function reencryptBatch(limit = 500): Promise<{ resealed: number; pending: Record<string, number> }> {
    let resealed = 0;
    const pending: Record<string, number> = {};
    if (rings.title.all.length < 2) return { resealed, pending };
    for (const source of deps.sealed()) {
      const last = counted.get(source.what);
      const nowMs = now().getTime();
      if (last && last.left === 0 && nowMs - last.atMs < COUNT_EVERY_MS) {
        pending[source.what] = 0;
        continue;
      }
      const batch = await source.resealBatch(limit, cursors.get(source.what));
      cursors.set(source.what, batch.cursor);
      resealed += batch.resealed;
      if (batch.resealed > 0) deps.onResealed?.(source.what, batch.resealed);
      let left: number;
      if (!last || batch.cursor === undefined || nowMs - last.atMs >= COUNT_EVERY_MS) {
        const counts = await source.countByKey();
        left = [...counts.entries()].filter(([k]) => k !== rings.title.newest.keyId).reduce((sum, [, n]) => sum + n, 0);
        counted.set(source.what, { atMs: nowMs, left });
      } else {
        left = Math.max(0, last.left - batch.resealed);
        counted.set(source.what, { atMs: last.atMs, left });
      }
      deps.onPending?.(source.what, left);
      pending[source.what] = left;
    }
    return { resealed, pending };
  }

  /** Re-seals everything under the newest key, batch after batch, telling `progress` after each. */
  async function reencryptAll(progress: (p: { what: string; resealed: number; unreadable: number }) => void, limit = 500) {
    for (const source of deps.sealed()) {
      let cursor: string | undefined;
      let resealed = 0;
      let unreadable = 0;
      do {
        const batch = await source.resealBatch(limit, cursor);
        resealed += batch.resealed;
        unreadable += batch.unreadable;
        cursor = batch.cursor;
        deps.onResealed?.(source.what, batch.resealed);
        progress({ what: source.what, resealed, unreadable });
      } while (cursor !== undefined);
    }
  }

  return {
    register,
    status,
    reencryptBatch,
    reencryptAll,
    /**
     * Retires a key that nothing needs any more: refused, saying what still does, while it is the
     * newest, seals data, or signed tokens not yet expired. A retired signing key's public key
     * stays listed (receipts and checkpoints it signed still verify).
     */
    async retire(ring: RingName, keyId: string): Promise<KeyStatus> {
      const key = (await status()).find((k) => k.ring === ring && k.keyId === keyId);
      if (!key) throw new AppError('not_found', `No ${ring} key ${keyId} is configured or known`, [{ path: 'keyId', problem: 'unknown key' }]);
      if (key.state === 'retired') return key;
      if (key.neededBy.length > 0) {
        throw new AppError('conflict', `The ${ring} key ${keyId} is still needed by: ${key.neededBy.join('; ')}`, [
          { path: 'keyId', problem: `still needed by ${key.neededBy.join('; ')}` },
        ]);
      }
      await store.retire(ring, keyId, now());
      deps.logger.info({ ring, keyId, signing: isSigning(ring) }, 'key retired');
      return { ...key, state: 'retired', retiredAt: now(), neededBy: [] };
    },
    /** Every public key of the ring ever seen, so /v1/receipt-keys and /v1/audit-keys still list those no longer configured. */
    async knownPublicKeys(ring: 'receipt' | 'audit'): Promise<{ keyId: string; jwk: Record<string, unknown> }[]> {
      return (await store.known()).filter((k) => k.ring === ring && k.publicJwk !== null).map((k) => ({ keyId: k.keyId, jwk: k.publicJwk ?? {} }));
    },
  };
}
export type KeysService = ReturnType<typeof createKeysService>;
