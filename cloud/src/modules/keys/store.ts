import { and, eq, isNotNull } from 'drizzle-orm';
import type { Database } from '../../platform/db/client';
import { keyringKeys } from './tables';

export interface KnownKey {
  ring: string;
  keyId: string;
  firstSeenAt: Date;
  retiredAt: Date | null;
  publicJwk: Record<string, unknown> | null;
}

export function createKeysStore(database: Database) {
  const { db } = database;
  return {
    /** Records keys not seen before; a key seen before keeps its first sighting. */
    async register(keys: { ring: string; keyId: string; publicJwk: Record<string, unknown> | null }[]): Promise<void> {
      if (keys.length === 0) return;
      await db.insert(keyringKeys).values(keys).onConflictDoNothing();
    },
    async known(): Promise<KnownKey[]> {
      return db.select().from(keyringKeys);
    },
    async retired(): Promise<KnownKey[]> {
      return db.select().from(keyringKeys).where(isNotNull(keyringKeys.retiredAt));
    },
    async retire(ring: string, keyId: string, at: Date): Promise<void> {
      await db
        .update(keyringKeys)
        .set({ retiredAt: at })
        .where(and(eq(keyringKeys.ring, ring), eq(keyringKeys.keyId, keyId)));
    },
  };
}
export type KeysStore = ReturnType<typeof createKeysStore>;
