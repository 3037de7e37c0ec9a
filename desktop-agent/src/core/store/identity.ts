import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import { z } from 'zod';
import { Ed25519PublicJwk } from '@icarus/shared';

const PrivateJwk = z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), d: z.string() });

/**
 * Makes the device's Ed25519 key pair and writes the private half to `file`, readable by the
 * user alone (0600); only the public half ever leaves the device. The Electron shell will move
 * the private key into safeStorage.
 */
export async function createDeviceKey(file: string): Promise<Ed25519PublicJwk> {
  const { privateKey, publicKey } = await generateKeyPair('Ed25519', { extractable: true });
  const priv = PrivateJwk.parse(await exportJWK(privateKey));
  writeFileSync(file, JSON.stringify(priv), { mode: 0o600, flag: 'w' });
  chmodSync(file, 0o600); // the mode above is masked by umask and ignored for an existing file
  return Ed25519PublicJwk.parse({ kty: 'OKP', crv: 'Ed25519', x: priv.x });
}

export async function loadDeviceKey(file: string): Promise<CryptoKey> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the device key ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = PrivateJwk.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`the device key ${file} is not an Ed25519 private JWK`);
  const key = await importJWK({ ...parsed.data, alg: 'EdDSA' }, 'EdDSA');
  if (key instanceof Uint8Array) throw new Error(`the device key ${file} is not an asymmetric key`);
  return key;
}
