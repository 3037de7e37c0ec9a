import { safeStorage } from 'electron';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileKeyVault, type DeviceKeyVault } from '../core/store/identity';
import { writePrivateFile } from '../core/store/private-files';

/**
 * Keeps the device's private key under the OS keychain (Keychain, DPAPI, libsecret) with
 * safeStorage: the plain JWK file the core writes at enrollment is sealed into `<file>.sealed`
 * and removed, so the key on disk is useless without the person's OS login.
 */
export function sealDeviceKey(keyFile: string): 'sealed' | 'already-sealed' | 'unavailable' {
  const sealed = `${keyFile}.sealed`;
  if (!safeStorage.isEncryptionAvailable()) return 'unavailable';
  if (!existsSync(keyFile)) return existsSync(sealed) ? 'already-sealed' : 'unavailable';
  writePrivateFile(sealed, safeStorage.encryptString(readFileSync(keyFile, 'utf8')));
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

/**
 * The core's key vault for the tray app: a new key is sealed with safeStorage straight away
 * (the plain JWK never touches the disk), a plain key left by an earlier version or by the
 * headless agent is sealed on first use, and a system without a keychain (Linux with no secret
 * service) falls back to the core's 0600 file. Use only after the app is ready: safeStorage
 * reports no encryption before that.
 */
export function safeStorageKeyVault(keyFile: string): DeviceKeyVault {
  const sealed = `${keyFile}.sealed`;
  return {
    location: keyFile,
    save(privateJwk) {
      if (!safeStorage.isEncryptionAvailable()) return fileKeyVault(keyFile).save(privateJwk);
      writePrivateFile(sealed, safeStorage.encryptString(privateJwk));
      // A stale plain copy (a re-enrollment) must not outlive the new sealed key.
      rmSync(keyFile, { force: true });
    },
    load() {
      if (existsSync(keyFile)) sealDeviceKey(keyFile);
      return openDeviceKey(keyFile);
    },
  };
}
