import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, resolveConfig } from './config';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function files(managed?: object, user?: object) {
  const dir = mkdtempSync(join(tmpdir(), 'icarus-config-'));
  dirs.push(dir);
  const env: NodeJS.ProcessEnv = {
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    ICARUS_MANAGED_CONFIG: join(dir, 'managed.json'),
    ICARUS_CONFIG: join(dir, 'user.json'),
  };
  if (managed) writeFileSync(join(dir, 'managed.json'), JSON.stringify(managed));
  if (user) writeFileSync(join(dir, 'user.json'), JSON.stringify(user));
  return env;
}

describe('agent config', () => {
  it('takes the managed file over flags, flags over env, env over the user file', () => {
    const env = files({ server: 'https://managed.example' }, { server: 'https://user.example', deviceName: 'user-name', syncIntervalMs: 5000 });
    env.ICARUS_SERVER = 'https://env.example';
    env.ICARUS_DEVICE_NAME = 'env-name';
    env.ICARUS_SYNC_INTERVAL_MS = '7000';
    const config = resolveConfig({ server: 'https://flag.example', deviceName: 'flag-name' }, env);
    expect(config.server).toBe('https://managed.example');
    expect(config.deviceName).toBe('flag-name');
    expect(config.syncIntervalMs).toBe(7000);
    expect(config.managedKeys).toEqual(['server']);
    expect(config.dataDir).toBe(join(env.XDG_DATA_HOME ?? '', 'icarus-nova'));
  });

  it('names the key and where it came from when a value is bad', () => {
    expect(() => resolveConfig({}, { ...files(), ICARUS_SAMPLE_INTERVAL_MS: '5' })).toThrow(/the environment: ICARUS_SAMPLE_INTERVAL_MS: /);
    expect(() => resolveConfig({ server: 'ftp://x' }, files())).toThrow(/the command line: --server: /);
    expect(() => resolveConfig({}, files({ captureBackend: 'magic' }))).toThrow(/managed config .*managed\.json: captureBackend: /);
    expect(() => resolveConfig({}, files(undefined, { serverr: 'https://typo' }))).toThrow(ConfigError);
    expect(() => resolveConfig({}, files(undefined, { serverr: 'https://typo' }))).toThrow(/user config .*: serverr: /);
  });
});

describe('dependency direction', () => {
  it('core never imports electron, the CLI or the shells', () => {
    const root = fileURLToPath(new URL('.', import.meta.url));
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) {
          const text = readFileSync(path, 'utf8');
          for (const m of text.matchAll(/from '([^']+)'/g)) {
            const spec = m[1] ?? '';
            if (spec === 'electron' || /^\.\.\/(\.\.\/)*(cli|electron|preload|ui)\b/.test(spec)) offenders.push(`${path}: ${spec}`);
          }
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});

describe('update settings', () => {
  it('reads the trusted update keys as JSON from the environment and refuses what is not a public key', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n';
    const config = resolveConfig(
      {},
      { ...files(), ICARUS_UPDATE_URL: 'https://updates.example/manifest.json', ICARUS_UPDATE_KEYS: JSON.stringify({ 'release-2026': pem }) },
    );
    expect(config.updateUrl).toBe('https://updates.example/manifest.json');
    expect(config.updateKeys).toEqual({ 'release-2026': pem });
    expect(() => resolveConfig({}, { ...files(), ICARUS_UPDATE_KEYS: 'not json' })).toThrow(/ICARUS_UPDATE_KEYS: /);
    expect(() => resolveConfig({ updateKeys: '{"k":"secret"}' }, files())).toThrow(/--update-keys\.k: .*must start with "-----BEGIN PUBLIC KEY-----"/);
  });
});
