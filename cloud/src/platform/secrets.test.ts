import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';
import { loadSecrets } from './secrets';

const pem = (type: 'ed25519' | 'x25519') =>
  generateKeyPairSync(type as 'ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();

describe('the audit checkpoint key', () => {
  const base = {
    DATA_DIR: ':memory:',
    TITLE_KEY: Buffer.alloc(32, 1).toString('base64'),
    TOKEN_SECRET: Buffer.alloc(32, 2).toString('base64'),
    RECEIPT_SIGNING_KEY: pem('ed25519'),
  };

  it('is derived from the receipt key when none is given: the same on every start, and not the receipt key', () => {
    const one = loadSecrets(parseConfig(base));
    const two = loadSecrets(parseConfig(base));
    expect(one.auditKeys.newest.keyId).toBe(two.auditKeys.newest.keyId);
    expect(one.auditKeys.newest.keyId).not.toBe(one.receiptKeys.newest.keyId);
    expect(one.auditKeys.newest.publicKey.export({ format: 'jwk' })).toEqual(two.auditKeys.newest.publicKey.export({ format: 'jwk' }));
  });

  it('is AUDIT_SIGNING_KEY when given, and must be Ed25519', () => {
    const given = pem('ed25519');
    const secrets = loadSecrets(parseConfig({ ...base, AUDIT_SIGNING_KEY: given }));
    expect(secrets.auditKeys.newest.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()).toBe(given);
    expect(() => loadSecrets(parseConfig({ ...base, AUDIT_SIGNING_KEY: pem('x25519') }))).toThrow(/AUDIT_SIGNING_KEY: must be an Ed25519 key/);
    expect(() => parseConfig({ ...base, AUDIT_SIGNING_KEY: 'not a pem' })).toThrow(/AUDIT_SIGNING_KEY/);
  });
});

describe('keyrings from config', () => {
  const [k1, k2] = [Buffer.alloc(32, 1).toString('base64'), Buffer.alloc(32, 3).toString('base64')];
  const [r1, r2] = [pem('ed25519'), pem('ed25519')];

  it('one key per variable is a ring of one, whose id stays what it was (the receipt kid agents know)', () => {
    const one = loadSecrets(parseConfig({ DATA_DIR: ':memory:', TITLE_KEY: k1, TOKEN_SECRET: k2, RECEIPT_SIGNING_KEY: r1 }));
    expect(one.titleKeys.all).toHaveLength(1);
    expect(one.titleKeys.first).toBe(one.titleKeys.newest);
    const spki = createPublicKey(r1).export({ type: 'spki', format: 'der' });
    expect(one.receiptKeys.newest.keyId).toBe(createHash('sha256').update(spki).digest('hex').slice(0, 16));
  });

  it('several keys, oldest first: comma-separated base64, PEM blocks one after another; the newest writes', () => {
    const ring = loadSecrets(
      parseConfig({ DATA_DIR: ':memory:', TITLE_KEY: `${k1}, ${k2}`, TOKEN_SECRET: `${k1},${k2}`, RECEIPT_SIGNING_KEY: `${r1}\n${r2}` }),
    );
    expect(ring.titleKeys.all.map((k) => k.key.toString('base64'))).toEqual([k1, k2]);
    expect(ring.titleKeys.newest.key.toString('base64')).toBe(k2);
    expect(ring.tokenKeys.first.key.toString('base64')).toBe(k1);
    expect(ring.receiptKeys.all).toHaveLength(2);
    expect(ring.receiptKeys.newest.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()).toBe(r2);
    // Unset, the audit ring follows the receipt ring key for key.
    expect(ring.auditKeys.all).toHaveLength(2);
    expect(new Set([...ring.auditKeys.all, ...ring.receiptKeys.all].map((k) => k.keyId)).size).toBe(4);
  });

  it('refuses a bad key in the list naming the variable, and the same key twice', () => {
    expect(() => parseConfig({ TITLE_KEY: `${k1},c2hvcnQ=` })).toThrow(/TITLE_KEY: must be 32 bytes/);
    expect(() => parseConfig({ RECEIPT_SIGNING_KEY: `${r1}\nnot a pem` })).toThrow(/RECEIPT_SIGNING_KEY/);
    expect(() => loadSecrets(parseConfig({ DATA_DIR: ':memory:', TITLE_KEY: `${k1},${k1}`, TOKEN_SECRET: k2, RECEIPT_SIGNING_KEY: r1 }))).toThrow(
      /names one key twice/,
    );
  });
});
