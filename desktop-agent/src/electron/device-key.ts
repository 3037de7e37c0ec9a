import { safeStorage } from 'electron';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Keeps the device's private key under the OS keychain (Keychain, DPAPI, libsecret) with
 * safeStorage: the plain JWK file the core writes at enrollment is sealed into `<file>.sealed`
 * and removed, so the key on disk is useless without the person's OS login.
 */
export function sealDeviceKey(keyFile: string): 'sealed' | 'already-sealed' | 'unavailable' {
  const sealed = `${keyFile}.sealed`;
  if (!safeStorage.isEncryptionAvailable()) return 'unavailable';
  if (!existsSync(keyFile)) return existsSync(sealed) ? 'already-sealed' : 'unavailable';
  writeFileSync(sealed, safeStorage.encryptString(readFileSync(keyFile, 'utf8')), { mode: 0o600 });
  // Only remove the plain copy once the sealed one opens to the same bytes.
  if (openDeviceKey(keyFile) !== readFileSync(keyFile, 'utf8')) throw new Error(`sealing ${keyFile} did not round-trip; plain key kept`);
  rmSync(keyFile);
  return 'sealed';
}

/** The private JWK text, from the sealed file (or the plain one on systems without a keychain). */
export function openDeviceKey(keyFile: string): string {
  const sealed = `${keyFile}.sealed`;
  if (existsSync(sealed)) return safeStorage.decryptString(readFileSync(sealed));
  return readFileSync(keyFile, 'utf8');
}
