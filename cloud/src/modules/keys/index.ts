// The keys module: which keys each ring holds and has held, re-encryption of sealed data under the
// newest key (a worker job), and retirement of keys nothing needs any more.
import type { Logger } from 'pino';
import type { Database } from '../../platform/db/client';
import { ConfigError } from '../../platform/config';
import { createKeyring, type Keyring, type SealedData } from '../../platform/keyring';
import type { Secrets } from '../../platform/secrets';
import { createKeysService, RING_VARIABLES, type RingName } from './service';
import { createKeysStore } from './store';

/** How often a worker re-seals one batch of each kind while anything is under an older key. */
export const REENCRYPT_EVERY_MS = 30_000;

export function createKeysModule(deps: {
  database: Database;
  secrets: Secrets;
  sealed: () => readonly SealedData[];
  accessTokenTtlSeconds: number;
  logger: Logger;
  onResealed?: (what: string, n: number) => void;
  onPending?: (what: string, n: number) => void;
  everyMs?: number;
}) {
  const service = createKeysService({ ...deps, store: createKeysStore(deps.database) });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = service
      .reencryptBatch()
      .then(() => undefined)
      .catch((err: unknown) => deps.logger.error({ err }, 'key rotation: re-encryption batch failed'));
  };
  return {
    service,
    /** Records the configured keys (first sighting, public keys); every process does this at start. */
    register: service.register,
    /** The worker's re-encryption job: a batch now, then one every REENCRYPT_EVERY_MS. */
    start() {
      if (timer) return;
      tick();
      timer = setInterval(tick, deps.everyMs ?? REENCRYPT_EVERY_MS).unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
export type KeysModule = ReturnType<typeof createKeysModule>;
export type { KeysService, KeyStatus, RingName } from './service';
export { RING_VARIABLES } from './service';

/**
 * The secrets without the keys retired in the database: a retired key is refused even while it
 * is still configured. A ring whose newest key was retired cannot start: a newer key is needed.
 */
export async function withoutRetiredKeys(database: Database, secrets: Secrets): Promise<Secrets> {
  const retired = new Set((await createKeysStore(database).retired()).map((k) => `${k.ring}:${k.keyId}`));
  if (retired.size === 0) return secrets;
  const prune = <K extends { keyId: string }>(ring: RingName, keys: Keyring<K>): Keyring<K> => {
    if (retired.has(`${ring}:${keys.newest.keyId}`)) {
      throw new ConfigError(`Invalid configuration:\n  ${RING_VARIABLES[ring]}: its newest key ${keys.newest.keyId} is retired; add a new key after it`);
    }
    return createKeyring(
      keys.ring,
      keys.all.filter((k) => !retired.has(`${ring}:${k.keyId}`)),
    );
  };
  return {
    titleKeys: prune('title', secrets.titleKeys),
    tokenKeys: prune('token', secrets.tokenKeys),
    receiptKeys: prune('receipt', secrets.receiptKeys),
    auditKeys: prune('audit', secrets.auditKeys),
  };
}
