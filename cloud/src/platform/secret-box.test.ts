import { describe, expect, it } from 'vitest';
import { symmetricKeyring } from './keyring';
import { createSecretBox } from './secret-box';

describe('secret box', () => {
  const box = createSecretBox(Buffer.alloc(32, 1), 'totp-secrets');
  it('round-trips, and refuses another row, another purpose, or a changed byte', () => {
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.open(sealed, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(() => box.open(sealed, 'user-2')).toThrow();
    expect(() => createSecretBox(Buffer.alloc(32, 1), 'other').open(sealed, 'user-1')).toThrow();
    // The next-to-last character always changes (it carries six bits of the tag; the random IV made it 'A' one time in 64).
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.slice(-1)}`;
    expect(() => box.open(flipped, 'user-1')).toThrow();
  });
});

describe('secret box over a keyring', () => {
  const [a, b] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
  it('seals under the newest key with its id, opens values of older keys and v1 values as the first key', () => {
    const v1 = createSecretBox(a, 'totp-secrets').seal('SEED-BEFORE', 'user-1');
    expect(v1).toMatch(/^v1\./);
    const onlyA = createSecretBox(symmetricKeyring('title', [a]), 'totp-secrets');
    const underA = onlyA.seal('SEED-A', 'user-1');
    expect(underA).toMatch(/^v2\.[0-9a-f]{16}\./);
    expect(onlyA.open(v1, 'user-1')).toBe('SEED-BEFORE');
    expect(onlyA.needsResealing(underA)).toBe(false);

    const rotated = createSecretBox(symmetricKeyring('title', [a, b]), 'totp-secrets');
    const underB = rotated.seal('SEED-B', 'user-1');
    expect(rotated.keyIdOf(underB)).toBe(symmetricKeyring('title', [b]).newest.keyId);
    expect([rotated.open(v1, 'user-1'), rotated.open(underA, 'user-1'), rotated.open(underB, 'user-1')]).toEqual(['SEED-BEFORE', 'SEED-A', 'SEED-B']);
    expect([rotated.needsResealing(v1), rotated.needsResealing(underA), rotated.needsResealing(underB)]).toEqual([true, true, false]);
    expect(() => rotated.open(underB, 'user-2')).toThrow();

    // A retired key has left the ring: what it sealed is refused, naming the key.
    const onlyB = createSecretBox(symmetricKeyring('title', [b]), 'totp-secrets');
    expect(() => onlyB.open(underA, 'user-1')).toThrow(/not in the keyring/);
    expect(onlyB.open(underB, 'user-1')).toBe('SEED-B');
  });
});
