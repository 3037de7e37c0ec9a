import { generateKeyPairSync } from 'node:crypto';
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
    expect(one.auditKeyId).toBe(two.auditKeyId);
    expect(one.auditKeyId).not.toBe(one.receiptKeyId);
    expect(one.auditPublicKey.export({ format: 'jwk' })).toEqual(two.auditPublicKey.export({ format: 'jwk' }));
  });

  it('is AUDIT_SIGNING_KEY when given, and must be Ed25519', () => {
    const given = pem('ed25519');
    const secrets = loadSecrets(parseConfig({ ...base, AUDIT_SIGNING_KEY: given }));
    expect(secrets.auditPrivateKey.export({ type: 'pkcs8', format: 'pem' }).toString()).toBe(given);
    expect(() => loadSecrets(parseConfig({ ...base, AUDIT_SIGNING_KEY: pem('x25519') }))).toThrow(/AUDIT_SIGNING_KEY: must be an Ed25519 key/);
    expect(() => parseConfig({ ...base, AUDIT_SIGNING_KEY: 'not a pem' })).toThrow(/AUDIT_SIGNING_KEY/);
  });
});
