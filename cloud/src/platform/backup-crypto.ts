// Backups are encrypted as a stream of AES-256-GCM chunks under a key derived per backup from
// BACKUP_KEY (HKDF-SHA256 with a random salt in the header), so a backup of any size streams
// through with bounded memory and every chunk is authenticated as it is read.
//
//   header: "ICNBAK1\n" (8 bytes) | salt (16 bytes)
//   chunk:  ciphertext length (uint32 BE) | ciphertext | GCM tag (16 bytes)
//
// Chunk i's nonce is 4 zero bytes and i as a uint64 (unique: the key is new for every backup); its
// additional data is the header, i, and whether it is the last chunk, so chunks cannot be
// reordered, dropped, or cut off at a chunk boundary without the decryption failing.
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export const MAGIC = Buffer.from('ICNBAK1\n');
const SALT_BYTES = 16;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + SALT_BYTES;
export const CHUNK_BYTES = 1024 * 1024;

export class BackupCryptoError extends Error {}

/** A short public fingerprint of the backup key, kept in the manifest to tell "another key" from "damaged". */
export function backupKeyId(key: Buffer): string {
  return createHash('sha256')
    .update(Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'icarus-nova backup key id', 32)))
    .digest('hex')
    .slice(0, 16);
}

function derive(key: Buffer, salt: Buffer, purpose: string): Buffer {
  if (key.length !== 32) throw new BackupCryptoError('BACKUP_KEY must be 32 bytes');
  return Buffer.from(hkdfSync('sha256', key, salt, `icarus-nova backup ${purpose}`, 32));
}

/** HMAC-SHA256 of the manifest's canonical text under a key derived from BACKUP_KEY: a manifest cannot be edited to match a swapped object. */
export function manifestMac(key: Buffer, text: string): string {
  return createHmac('sha256', derive(key, Buffer.alloc(0), 'manifest'))
    .update(text)
    .digest('hex');
}

function chunkAad(header: Buffer, index: bigint, last: boolean): Buffer {
  const aad = Buffer.alloc(header.length + 9);
  header.copy(aad, 0);
  aad.writeBigUInt64BE(index, header.length);
  aad[header.length + 8] = last ? 1 : 0;
  return aad;
}

function nonceOf(index: bigint): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(index, 4);
  return nonce;
}

/** A Transform from plain bytes to the encrypted format above. */
export function encryptStream(key: Buffer): Transform {
  const salt = randomBytes(SALT_BYTES);
  const header = Buffer.concat([MAGIC, salt]);
  const chunkKey = derive(key, salt, 'chunks');
  let index = 0n;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const seal = (plain: Buffer, last: boolean): Buffer => {
    const cipher = createCipheriv('aes-256-gcm', chunkKey, nonceOf(index));
    cipher.setAAD(chunkAad(header, index, last));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    index++;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    return Buffer.concat([length, body, cipher.getAuthTag()]);
  };
  return new Transform({
    construct(callback) {
      this.push(header);
      callback();
    },
    transform(data: Buffer, _encoding, callback: TransformCallback) {
      pending.push(data);
      pendingBytes += data.length;
      // Keep at least one byte back: the last chunk is sealed in flush, marked as the last.
      while (pendingBytes > CHUNK_BYTES) {
        const all = Buffer.concat(pending);
        this.push(seal(all.subarray(0, CHUNK_BYTES), false));
        pending = [all.subarray(CHUNK_BYTES)];
        pendingBytes = all.length - CHUNK_BYTES;
      }
      callback();
    },
    flush(callback: TransformCallback) {
      this.push(seal(Buffer.concat(pending), true));
      pending = [];
      callback();
    },
  });
}

/** A Transform from the encrypted format back to plain bytes; it fails on any change, reordering or truncation. */
export function decryptStream(key: Buffer): Transform {
  let buffered: Buffer = Buffer.alloc(0);
  let header: Buffer | undefined;
  let chunkKey: Buffer | undefined;
  let index = 0n;
  let ended = false;
  return new Transform({
    transform(data: Buffer, _encoding, callback: TransformCallback) {
      buffered = buffered.length === 0 ? data : Buffer.concat([buffered, data]);
      try {
        if (!header) {
          if (buffered.length < HEADER_BYTES) return callback();
          if (!buffered.subarray(0, MAGIC.length).equals(MAGIC)) throw new BackupCryptoError('not an Icarus Nova backup (its header is wrong)');
          header = Buffer.from(buffered.subarray(0, HEADER_BYTES));
          chunkKey = derive(key, header.subarray(MAGIC.length), 'chunks');
          buffered = buffered.subarray(HEADER_BYTES);
        }
        while (buffered.length >= 4) {
          const length = buffered.readUInt32BE(0);
          if (length > CHUNK_BYTES) throw new BackupCryptoError('the backup is damaged (a chunk is longer than any written)');
          if (buffered.length < 4 + length + TAG_BYTES) break;
          if (ended) throw new BackupCryptoError('the backup is damaged (data after its last chunk)');
          const body = buffered.subarray(4, 4 + length);
          const tag = buffered.subarray(4 + length, 4 + length + TAG_BYTES);
          buffered = buffered.subarray(4 + length + TAG_BYTES);
          this.push(open(body, tag));
        }
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      if (!header) return callback(new BackupCryptoError('the backup is empty or cut short (no header)'));
      if (buffered.length > 0 && !ended) return callback(new BackupCryptoError('the backup is cut short (its last chunk is incomplete)'));
      if (buffered.length > 0) return callback(new BackupCryptoError('the backup is damaged (data after its last chunk)'));
      if (!ended) return callback(new BackupCryptoError('the backup is cut short (its last chunk is missing)'));
      callback();
    },
  });

  function open(body: Buffer, tag: Buffer): Buffer {
    if (!header || !chunkKey) throw new BackupCryptoError('no header');
    // A chunk is the last one if it authenticates as such; try that reading only when the other fails.
    for (const last of [false, true]) {
      const decipher = createDecipheriv('aes-256-gcm', chunkKey, nonceOf(index));
      decipher.setAAD(chunkAad(header, index, last));
      decipher.setAuthTag(tag);
      try {
        const plain = Buffer.concat([decipher.update(body), decipher.final()]);
        index++;
        if (last) ended = true;
        return plain;
      } catch {
        // the other reading, or the error below
      }
    }
    throw new BackupCryptoError(`the backup does not decrypt with this BACKUP_KEY, or chunk ${index} was changed`);
  }
}
