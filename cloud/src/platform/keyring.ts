import { createHash, type KeyObject } from 'node:crypto';
import { exportJWK } from 'jose';

/**
 * Keys of one kind, oldest first: new writes use the newest, and whatever was sealed or signed
 * under an older one stays readable while that key is in the ring. Data written before keys
 * had ids (no id on it) is read with the first.
 */
export interface Keyring<K> {
  /** What the keys are for, as operators name it: `title`, `token`, `receipt`, `audit`. */
  readonly ring: string;
  readonly first: K;
  readonly newest: K;
  readonly all: readonly K[];
  byId(keyId: string): K | undefined;
}

export interface SymmetricKey {
  keyId: string;
  key: Buffer;
}

export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function createKeyring<K extends { keyId: string }>(ring: string, keys: readonly K[]): Keyring<K> {
  const [first] = keys;
  const newest = keys[keys.length - 1];
  if (!first || !newest) throw new Error(`the ${ring} keyring holds no key`);
  const byId = new Map(keys.map((k) => [k.keyId, k]));
  if (byId.size !== keys.length) throw new Error(`the ${ring} keyring names one key twice`);
  return { ring, first, newest, all: keys, byId: (keyId) => byId.get(keyId) };
}

/**
 * The id of a symmetric key: 16 hex of a SHA-256 over a fixed label and the key, stable across
 * restarts and saying nothing of the key. Always 16 characters (the sealed formats rely on it).
 */
export function symmetricKeyId(key: Uint8Array): string {
  return createHash('sha256').update('icarus-nova key id\0').update(key).digest('hex').slice(0, KEY_ID_LENGTH);
}

/** The id of a public key: the first 16 hex of the SHA-256 of its SPKI (receipt and audit keys have always had this id). */
export function publicKeyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, KEY_ID_LENGTH);
}

export const KEY_ID_LENGTH = 16;

/** A ring of the given symmetric keys, oldest first. */
export function symmetricKeyring(ring: string, keys: readonly Uint8Array[]): Keyring<SymmetricKey> {
  return createKeyring(
    ring,
    keys.map((k) => ({ keyId: symmetricKeyId(k), key: Buffer.from(k) })),
  );
}

/**
 * A signing ring's public keys as a JWKS, newest first: `status` is `current` for the key that
 * signs now and `retired` for older ones, which still verify what they signed (a verifier picks
 * by `kid`). `alsoRetired` adds keys no longer configured, kept so old signatures still verify.
 */
export async function publicJwks(keys: Keyring<SigningKey>, alsoRetired: readonly { keyId: string; jwk: Record<string, unknown> }[] = []) {
  const configured = await Promise.all(
    [...keys.all].reverse().map(async (k) => ({
      ...(await exportJWK(k.publicKey)),
      kid: k.keyId,
      alg: 'EdDSA',
      use: 'sig',
      status: k.keyId === keys.newest.keyId ? 'current' : 'retired',
    })),
  );
  const known = new Set(keys.all.map((k) => k.keyId));
  const dropped = alsoRetired.filter((r) => !known.has(r.keyId)).map((r) => ({ ...r.jwk, kid: r.keyId, alg: 'EdDSA', use: 'sig', status: 'retired' }));
  return { keys: [...configured, ...dropped] };
}

/**
 * Values a module keeps sealed under a ring (titles, TOTP seeds, webhook secrets): what the
 * re-encryption job and `keys status` read and re-seal through.
 */
export interface SealedData {
  /** What it is, in words: "window titles", "TOTP seeds". */
  what: string;
  ring: string;
  /** How many values each key seals now. */
  countByKey(): Promise<Map<string, number>>;
  /**
   * Re-seals up to `limit` values not under the ring's newest key, walking on from `cursor`;
   * returns how many it re-sealed, how many it could not open, and the cursor to go on from
   * (undefined when it has been through them all).
   */
  resealBatch(limit: number, cursor: string | undefined): Promise<{ resealed: number; unreadable: number; cursor: string | undefined }>;
}
