import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { symmetricKeyId, type Keyring, type SealedData, type SymmetricKey } from './keyring';

const subkey = (dataKey: Uint8Array, purpose: string) => Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `icarus-nova ${purpose}`, 32));

/**
 * AES-256-GCM for small secrets at rest (TOTP seeds, webhook secrets), under a subkey derived
 * from a data key for one purpose, so the same key never encrypts two kinds of data. The row it
 * belongs to is bound in as associated data: a sealed value copied onto another row fails.
 *
 * Given a keyring, it seals under the newest key as "v2." + key id + "." + base64url(iv 12 |
 * tag 16 | ciphertext) and opens under any key of the ring; "v1." values (sealed before keys had
 * ids, or by a box made from one key) open with the first. Given one key, it seals "v1.".
 */
export function createSecretBox(dataKey: Uint8Array | Keyring<SymmetricKey>, purpose: string) {
  const ring = dataKey instanceof Uint8Array ? undefined : dataKey;
  const all: readonly SymmetricKey[] = dataKey instanceof Uint8Array ? [{ keyId: symmetricKeyId(dataKey), key: Buffer.from(dataKey) }] : dataKey.all;
  const keys = new Map(all.map((k) => [k.keyId, subkey(k.key, purpose)]));
  const firstId = all[0]?.keyId ?? '';
  const sealing = ring ? ring.newest.keyId : firstId;

  const parse = (sealed: string): { keyId: string; body: string } => {
    if (sealed.startsWith('v1.')) return { keyId: firstId, body: sealed.slice(3) };
    const v2 = /^v2\.([0-9a-f]{16})\.(.*)$/s.exec(sealed);
    if (v2?.[1] !== undefined && v2[2] !== undefined) return { keyId: v2[1], body: v2[2] };
    throw new Error('sealed secret has an unknown format');
  };

  return {
    seal(plain: string, boundTo: string): string {
      const key = keys.get(sealing);
      if (!key) throw new Error('no sealing key');
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(boundTo));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      const packed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
      return ring ? `v2.${sealing}.${packed}` : `v1.${packed}`;
    },
    /** Throws when the value was altered, sealed for another row, or under a key not in the ring. */
    open(sealed: string, boundTo: string): string {
      const { keyId, body } = parse(sealed);
      const key = keys.get(keyId);
      if (!key) throw new Error(`sealed secret is under key ${keyId}, which is not in the keyring`);
      const buf = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      decipher.setAAD(Buffer.from(boundTo));
      decipher.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
    },
    /** The id of the key a sealed value is under. */
    keyIdOf(sealed: string): string {
      return parse(sealed).keyId;
    },
    /** Whether a sealed value is under an older key than the one new values are sealed with. */
    needsResealing(sealed: string): boolean {
      return parse(sealed).keyId !== sealing;
    },
  };
}
export type SecretBox = ReturnType<typeof createSecretBox>;

/**
 * Secrets sealed by a box over a keyring, stored one per row, as sealed data for the key rotation
 * job: counted per key (a "v1." value counts as the ring's first key) and re-sealed under the
 * newest, a row only if it still holds what was read.
 */
export function sealedSecrets(deps: {
  what: string;
  box: SecretBox;
  ring: Pick<Keyring<SymmetricKey>, 'ring' | 'first' | 'newest'>;
  /** Rows counted by the key id of "v2." values (null for "v1." ones). */
  keyCounts(): Promise<{ keyId: string | null; n: number }[]>;
  /** Up to `limit` rows whose value does not start with `prefix`, in id order after `after`. */
  notSealedWith(prefix: string, after: string | undefined, limit: number): Promise<{ id: string; sealed: string }[]>;
  /** Replaces a row's value if it is still `before`; whether it did. */
  replace(id: string, before: string, after: string): Promise<boolean>;
}): SealedData {
  const { box, ring } = deps;
  return {
    what: deps.what,
    ring: ring.ring,
    async countByKey() {
      const counts = new Map<string, number>();
      for (const { keyId, n } of await deps.keyCounts()) {
        const id = keyId ?? ring.first.keyId;
        counts.set(id, (counts.get(id) ?? 0) + n);
      }
      return counts;
    },
    async resealBatch(limit, cursor) {
      const rows = await deps.notSealedWith(`v2.${ring.newest.keyId}.`, cursor, limit);
      let resealed = 0;
      let unreadable = 0;
      for (const row of rows) {
        let plain: string;
        try {
          plain = box.open(row.sealed, row.id);
        } catch {
          unreadable++;
          continue;
        }
        if (await deps.replace(row.id, row.sealed, box.seal(plain, row.id))) resealed++;
      }
      const last = rows[rows.length - 1];
      return { resealed, unreadable, cursor: rows.length < limit || !last ? undefined : last.id };
    },
  };
}
