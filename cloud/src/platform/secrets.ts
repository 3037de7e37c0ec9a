import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Config } from './config';

export interface Secrets {
  titleKey: Buffer;
  tokenSecret: Uint8Array;
  receiptPrivateKey: KeyObject;
  receiptPublicKey: KeyObject;
  /** Key id of the receipt key, stable across restarts: the first 16 hex of its SHA-256. */
  receiptKeyId: string;
  /** Signs audit chain checkpoints; only the process holds it, never the database. */
  auditPrivateKey: KeyObject;
  auditPublicKey: KeyObject;
  auditKeyId: string;
}

/** PKCS#8 DER of an Ed25519 private key is this prefix and the 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The audit key when none is configured: an Ed25519 seed derived from the receipt key's by HKDF-SHA256. */
function derivedAuditKey(receiptKey: KeyObject): KeyObject {
  const seed = Buffer.from(receiptKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  const derived = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), 'icarus-nova audit checkpoint key v1', 32));
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, derived]), format: 'der', type: 'pkcs8' });
}

const keyIdOf = (publicKey: KeyObject) =>
  createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

const SecretsFile = z.object({
  titleKey: z.string(),
  tokenSecret: z.string(),
  receiptSigningKey: z.string(),
});

/**
 * Keys come from config in production. For a development start with none set, they are
 * made once and kept in DATA_DIR/secrets.json (mode 0600) so restarts keep titles readable.
 */
export function loadSecrets(config: Config): Secrets {
  let titleKey = config.TITLE_KEY;
  let tokenSecret = config.TOKEN_SECRET;
  let receiptPem = config.RECEIPT_SIGNING_KEY;
  if (!titleKey || !tokenSecret || !receiptPem) {
    const stored = config.DATA_DIR === ':memory:' ? generated() : storedOrGenerated(resolve(config.DATA_DIR));
    titleKey ??= stored.titleKey;
    tokenSecret ??= stored.tokenSecret;
    receiptPem ??= stored.receiptSigningKey;
  }
  const receiptPrivateKey = createPrivateKey(receiptPem);
  if (receiptPrivateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error('Invalid configuration:\n  RECEIPT_SIGNING_KEY: must be an Ed25519 key');
  }
  const receiptPublicKey = createPublicKey(receiptPrivateKey);
  const auditPrivateKey = config.AUDIT_SIGNING_KEY ? createPrivateKey(config.AUDIT_SIGNING_KEY) : derivedAuditKey(receiptPrivateKey);
  if (auditPrivateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error('Invalid configuration:\n  AUDIT_SIGNING_KEY: must be an Ed25519 key');
  }
  const auditPublicKey = createPublicKey(auditPrivateKey);
  return {
    titleKey: Buffer.from(titleKey, 'base64'),
    tokenSecret: new Uint8Array(Buffer.from(tokenSecret, 'base64')),
    receiptPrivateKey,
    receiptPublicKey,
    receiptKeyId: keyIdOf(receiptPublicKey),
    auditPrivateKey,
    auditPublicKey,
    auditKeyId: keyIdOf(auditPublicKey),
  };
}

function generated(): z.infer<typeof SecretsFile> {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    titleKey: randomBytes(32).toString('base64'),
    tokenSecret: randomBytes(32).toString('base64'),
    receiptSigningKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function storedOrGenerated(dataDir: string): z.infer<typeof SecretsFile> {
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    const parsed = SecretsFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file} is not a valid secrets file; fix or remove it`);
    return parsed.data;
  }
  mkdirSync(dataDir, { recursive: true });
  const fresh = generated();
  writeFileSync(file, JSON.stringify(fresh, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return fresh;
}
