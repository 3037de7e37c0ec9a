import { createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Config } from './config';
import { createKeyring, publicKeyId, symmetricKeyId, type Keyring, type SigningKey, type SymmetricKey } from './keyring';

export interface Secrets {
  /** Window titles at rest, and the data key of sealed secrets (TOTP seeds, webhook secrets; a subkey per purpose). */
  titleKeys: Keyring<SymmetricKey>;
  /** Device access tokens (HS256, `kid` in the header), pairing codes and sign-in state cookies. */
  tokenKeys: Keyring<SymmetricKey>;
  /** Consent receipts (Ed25519 JWS); every public key is listed at /v1/receipt-keys. */
  receiptKeys: Keyring<SigningKey>;
  /** Audit chain checkpoints; only the process holds them, never the database. */
  auditKeys: Keyring<SigningKey>;
}

/** PKCS#8 DER of an Ed25519 private key is this prefix and the 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The audit key when none is configured: an Ed25519 seed derived from the receipt key's by HKDF-SHA256. */
function derivedAuditKey(receiptKey: KeyObject): KeyObject {
  const seed = Buffer.from(receiptKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  const derived = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), 'icarus-nova audit checkpoint key v1', 32));
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, derived]), format: 'der', type: 'pkcs8' });
}

const SecretsFile = z.object({
  titleKey: z.string(),
  tokenSecret: z.string(),
  receiptSigningKey: z.string(),
});

/** One or more base64 keys, comma-separated, oldest first (config has checked each is 32 bytes). */
const symmetricRing = (ring: string, value: string) =>
  createKeyring(
    ring,
    value.split(',').map((b64) => {
      const key = Buffer.from(b64.trim(), 'base64');
      return { keyId: symmetricKeyId(key), key };
    }),
  );

/** One or more PKCS#8 PEM blocks in one value, oldest first. */
export function pemBlocks(value: string): string[] {
  return value.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/g) ?? [];
}

function signingRing(ring: string, variable: string, privateKeys: KeyObject[]) {
  return createKeyring(
    ring,
    privateKeys.map((privateKey) => {
      if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`Invalid configuration:\n  ${variable}: must be an Ed25519 key`);
      const publicKey = createPublicKey(privateKey);
      return { keyId: publicKeyId(publicKey), privateKey, publicKey };
    }),
  );
}

/**
 * Keys come from config in production. For a development start with none set, they are
 * made once and kept in DATA_DIR/secrets.json (mode 0600) so restarts keep titles readable.
 * Each variable may hold several keys, oldest first: the newest writes, the others still read.
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
  const receiptKeys = signingRing(
    'receipt',
    'RECEIPT_SIGNING_KEY',
    pemBlocks(receiptPem).map((pem) => createPrivateKey(pem)),
  );
  // Unset, each receipt key derives its audit key, so the audit ring rotates with the receipt ring.
  const auditKeys = signingRing(
    'audit',
    'AUDIT_SIGNING_KEY',
    config.AUDIT_SIGNING_KEY
      ? pemBlocks(config.AUDIT_SIGNING_KEY).map((pem) => createPrivateKey(pem))
      : receiptKeys.all.map((k) => derivedAuditKey(k.privateKey)),
  );
  return {
    titleKeys: symmetricRing('title', titleKey),
    tokenKeys: symmetricRing('token', tokenSecret),
    receiptKeys,
    auditKeys,
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
