import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { symmetricKeyring } from '../../platform/keyring';
import { createTitleCipher } from './title-cipher';

const TITLE = 'Q3 layoffs - draft.docx - Word';
const KEY_A = Buffer.alloc(32, 9);
const KEY_B = Buffer.alloc(32, 7);
/** iv | tag | ciphertext after the 20-byte header (magic and key id). */
const HEADER = 20;

/** A title sealed as before keys had ids: iv | tag | ciphertext, no header. */
function sealedWithoutId(key: Buffer, plain: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

describe('title cipher (AES-256-GCM at rest)', () => {
  const cipher = createTitleCipher(symmetricKeyring('title', [KEY_A]));

  it('encrypting the same title twice gives different IVs and different ciphertexts', () => {
    const a = cipher.encrypt(TITLE);
    const b = cipher.encrypt(TITLE);
    // A repeated IV under GCM would leak the XOR of titles.
    expect(a.subarray(HEADER, HEADER + 12).equals(b.subarray(HEADER, HEADER + 12))).toBe(false);
    expect(a.subarray(HEADER + 28).equals(b.subarray(HEADER + 28))).toBe(false);
    expect(cipher.decrypt(a)).toBe(TITLE);
    expect(cipher.decrypt(b)).toBe(TITLE);
    expect(cipher.decrypt(cipher.encrypt(''))).toBe('');
  });

  it('never stores the title in clear, and a thousand encryptions never repeat an IV', () => {
    const ivs = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const sealed = cipher.encrypt(TITLE);
      expect(sealed.includes(Buffer.from(TITLE))).toBe(false);
      ivs.add(sealed.subarray(HEADER, HEADER + 12).toString('hex'));
    }
    expect(ivs.size).toBe(1000);
  });

  it('refuses a changed byte and another key', () => {
    const sealed = cipher.encrypt(TITLE);
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(() => cipher.decrypt(tampered)).toThrow();
    expect(() => createTitleCipher(symmetricKeyring('title', [KEY_B])).decrypt(sealed)).toThrow();
    expect(() => createTitleCipher(symmetricKeyring('title', [Buffer.alloc(16)]))).toThrow(/32 bytes/);
  });

  it('after a rotation: seals under the newest key, opens titles of the older one and those sealed before keys had ids', () => {
    const before = sealedWithoutId(KEY_A, 'Old title');
    const underA = cipher.encrypt('Title under A');
    const rotated = createTitleCipher(symmetricKeyring('title', [KEY_A, KEY_B]));
    const underB = rotated.encrypt('Title under B');
    expect(rotated.keyIdOf(underB)).toBe(symmetricKeyring('title', [KEY_B]).newest.keyId);
    expect(rotated.keyIdOf(underA)).toBe(rotated.keys.first.keyId);
    expect(rotated.keyIdOf(before)).toBe(rotated.keys.first.keyId);
    expect([rotated.decrypt(before), rotated.decrypt(underA), rotated.decrypt(underB)]).toEqual(['Old title', 'Title under A', 'Title under B']);
    // Without A in the ring (retired), what A sealed no longer opens; B's still does.
    const onlyB = createTitleCipher(symmetricKeyring('title', [KEY_B]));
    expect(() => onlyB.decrypt(underA)).toThrow();
    expect(() => onlyB.decrypt(before)).toThrow();
    expect(onlyB.decrypt(underB)).toBe('Title under B');
  });
});
