import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for small secrets at rest (TOTP seeds), under a subkey derived from a data
 * key for one purpose, so the same key never encrypts two kinds of data. The row it
 * belongs to is bound in as associated data: a sealed value copied onto another row fails.
 * Format: "v1." + base64url(iv 12 | tag 16 | ciphertext).
 */
export function createSecretBox(dataKey: Uint8Array, purpose: string) {
  const key = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `icarus-nova ${purpose}`, 32));
  return {
    seal(plain: string, boundTo: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(boundTo));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
    },
    /** Throws when the value was altered, sealed for another row, or under another key. */
    open(sealed: string, boundTo: string): string {
      if (!sealed.startsWith('v1.')) throw new Error('sealed secret has an unknown format');
      const buf = Buffer.from(sealed.slice(3), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      decipher.setAAD(Buffer.from(boundTo));
      decipher.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}
export type SecretBox = ReturnType<typeof createSecretBox>;
