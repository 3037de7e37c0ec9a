/**
 * The tray app's device key vault over a fake safeStorage (electron is never loaded under Node):
 * a new key is only ever written sealed, a plain key is sealed on first use, and without a
 * keychain the core's 0600 file is used. Enrollment and token signing go through it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uuidv7 } from 'uuidv7';
import { createDeviceKey, loadDeviceKey } from '../core/store/identity';
import { TokenSource } from '../core/sync/auth';

const keychain = vi.hoisted(() => ({ available: true }));
// A reversible stand-in for the OS keychain: what matters is that the bytes on disk are not the JWK.
vi.mock('electron', () => ({
  safeStorage: {
    isEncryptionAvailable: () => keychain.available,
    encryptString: (text: string) => Buffer.from(`sealed:${Buffer.from(text).toString('base64')}`),
    decryptString: (data: Buffer) => Buffer.from(data.toString().replace(/^sealed:/, ''), 'base64').toString(),
  },
}));

const { safeStorageKeyVault } = await import('./device-key');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'icarus-key-'));
  keychain.available = true;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('safeStorageKeyVault', () => {
  it('writes a new key only sealed, and signs with it', async () => {
    const file = join(dir, 'device-key.jwk');
    const vault = safeStorageKeyVault(file);
    const publicJwk = await createDeviceKey(vault);
    expect(existsSync(file)).toBe(false);
    const sealed = readFileSync(`${file}.sealed`, 'utf8');
    expect(sealed).toMatch(/^sealed:/);
    expect(sealed).not.toContain(publicJwk.x);
    expect(statSync(`${file}.sealed`).mode & 0o777).toBe(0o600);
    // The core signs its token assertions with the key from the vault.
    const device = { deviceId: uuidv7(), orgId: uuidv7(), serverUrl: 'http://127.0.0.1:9', keyFile: vault.location, enrolledMs: 0 };
    const assertion = await new TokenSource(device, undefined, vault).assertion();
    expect(assertion.split('.')).toHaveLength(3);
  });

  it('seals a plain key left on disk on first use, and opens it the same', async () => {
    const file = join(dir, 'device-key.jwk');
    await createDeviceKey(file);
    const plain = readFileSync(file, 'utf8');
    const vault = safeStorageKeyVault(file);
    expect(await vault.load()).toBe(plain);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.sealed`)).toBe(true);
    await expect(loadDeviceKey(vault)).resolves.toBeDefined();
  });

  it('falls back to the 0600 file where no keychain is available', async () => {
    keychain.available = false;
    const file = join(dir, 'device-key.jwk');
    const vault = safeStorageKeyVault(file);
    await createDeviceKey(vault);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(`${file}.sealed`)).toBe(false);
    await expect(loadDeviceKey(vault)).resolves.toBeDefined();
  });
});
