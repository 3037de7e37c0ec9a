import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KEY_ID_LENGTH, type Keyring, type SymmetricKey } from '../../platform/keyring';

/** Opens a title sealed with a key id: "INK" and format byte 1, then the 16-character key id. */
const MAGIC = Buffer.from([0x49, 0x4e, 0x4b, 0x01]);
const HEADER = MAGIC.length + KEY_ID_LENGTH;
export const TITLE_MAGIC = MAGIC;
export const TITLE_HEADER_BYTES = HEADER;

function seal(key: Buffer, plain: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, buf: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
  decipher.setAuthTag(buf.subarray(12, 28));
  return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
}

/**
 * AES-256-GCM for window titles at rest under the title keyring: header (magic | key id) then
 * iv (12) | tag (16) | ciphertext. Titles sealed before keys had ids have no header and open
 * with the ring's first key.
 */
export function createTitleCipher(keys: Keyring<SymmetricKey>) {
  for (const k of keys.all) if (k.key.length !== 32) throw new Error('title key must be 32 bytes');
  return {
    /** The ring itself: its first, newest and every key. */
    keys,
    encrypt(plain: string): Buffer {
      return Buffer.concat([MAGIC, Buffer.from(keys.newest.keyId, 'latin1'), seal(keys.newest.key, plain)]);
    },
    /** The id of the key a sealed title is under (the first key's for one without a header). */
    keyIdOf(sealed: Uint8Array): string {
      const buf = Buffer.from(sealed);
      return buf.length >= HEADER + 28 && buf.subarray(0, MAGIC.length).equals(MAGIC)
        ? buf.subarray(MAGIC.length, HEADER).toString('latin1')
        : keys.first.keyId;
    },
    decrypt(sealed: Uint8Array): string {
      const buf = Buffer.from(sealed);
      if (buf.length >= HEADER + 28 && buf.subarray(0, MAGIC.length).equals(MAGIC)) {
        const keyId = buf.subarray(MAGIC.length, HEADER).toString('latin1');
        const key = keys.byId(keyId);
        if (key) {
          try {
            return open(key.key, buf.subarray(HEADER));
          } catch {
            // One headerless title in 2^32 starts with these bytes by chance: it opens below.
          }
        }
      }
      return open(keys.first.key, buf);
    },
  };
}
export type TitleCipher = ReturnType<typeof createTitleCipher>;
