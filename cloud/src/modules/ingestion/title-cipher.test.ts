import { describe, expect, it } from 'vitest';
import { createTitleCipher } from './title-cipher';

const TITLE = 'Q3 layoffs - draft.docx - Word';

describe('title cipher (AES-256-GCM at rest)', () => {
  const cipher = createTitleCipher(Buffer.alloc(32, 9));

  it('encrypting the same title twice gives different IVs and different ciphertexts', () => {
    const a = cipher.encrypt(TITLE);
    const b = cipher.encrypt(TITLE);
    // iv (12) | tag (16) | ciphertext: a repeated IV under GCM would leak the XOR of titles.
    expect(a.subarray(0, 12).equals(b.subarray(0, 12))).toBe(false);
    expect(a.subarray(28).equals(b.subarray(28))).toBe(false);
    expect(a.equals(b)).toBe(false);
    expect(cipher.decrypt(a)).toBe(TITLE);
    expect(cipher.decrypt(b)).toBe(TITLE);
  });

  it('never stores the title in clear, and a thousand encryptions never repeat an IV', () => {
    const ivs = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const sealed = cipher.encrypt(TITLE);
      expect(sealed.includes(Buffer.from(TITLE))).toBe(false);
      ivs.add(sealed.subarray(0, 12).toString('hex'));
    }
    expect(ivs.size).toBe(1000);
  });

  it('refuses a changed byte and another key', () => {
    const sealed = cipher.encrypt(TITLE);
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(() => cipher.decrypt(tampered)).toThrow();
    expect(() => createTitleCipher(Buffer.alloc(32, 8)).decrypt(sealed)).toThrow();
    expect(() => createTitleCipher(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});
