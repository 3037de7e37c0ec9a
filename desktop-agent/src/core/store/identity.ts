import { readFileSync } from 'node:fs';
import { writePrivateFile } from './private-files';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import { z } from 'zod';
import { Ed25519PublicJwk } from '@icarus/shared';

const PrivateJwk = z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), d: z.string() });

/**
 * Where the device's private key (a JWK, as text) is kept. The headless agent uses a file; the
 * tray app supplies its own that seals the key with the OS keychain (Electron's safeStorage), so
 * core never needs to know how.
 */
export interface DeviceKeyVault {
  /** Where the key is, for messages and the device record (a file path, or a sealed file's). */
  readonly location: string;
  save(privateJwk: string): void | Promise<void>;
  load(): string | Promise<string>;
}

/** The private key in a plain file readable by the user alone (0600). */
export function fileKeyVault(file: string): DeviceKeyVault {
  return {
    location: file,
    save(privateJwk) {
      writePrivateFile(file, privateJwk);
    },
    load: () => readFileSync(file, 'utf8'),
  };
}

const vaultOf = (where: string | DeviceKeyVault): DeviceKeyVault => (typeof where === 'string' ? fileKeyVault(where) : where);

/**
 * Makes the device's Ed25519 key pair and hands the private half to the vault (a file path means
 * a 0600 file); only the public half ever leaves the device.
 */
export async function createDeviceKey(where: string | DeviceKeyVault): Promise<Ed25519PublicJwk> {
  const { privateKey } = await generateKeyPair('Ed25519', { extractable: true });
  const priv = PrivateJwk.parse(await exportJWK(privateKey));
  await vaultOf(where).save(JSON.stringify(priv));
  return Ed25519PublicJwk.parse({ kty: 'OKP', crv: 'Ed25519', x: priv.x });
}

export async function loadDeviceKey(where: string | DeviceKeyVault): Promise<CryptoKey> {
  const vault = vaultOf(where);
  let text: string;
  try {
    text = await vault.load();
  } catch (error) {
    throw new Error(`cannot read the device key ${vault.location}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`the device key ${vault.location} is not JSON`);
  }
  const parsed = PrivateJwk.safeParse(json);
  if (!parsed.success) throw new Error(`the device key ${vault.location} is not an Ed25519 private JWK`);
  const key = await importJWK({ ...parsed.data, alg: 'EdDSA' }, 'EdDSA');
  if (key instanceof Uint8Array) throw new Error(`the device key ${vault.location} is not an asymmetric key`);
  return key;
}
