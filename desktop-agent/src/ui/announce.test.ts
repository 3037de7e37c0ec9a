import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { announceScreens, SCREENS_ADDRESS_FILE } from './announce';

const URL_WITH_TOKEN = 'http://127.0.0.1:41234/status.html#token=s3cr3t-session-token-abcdefghijklmnopqrstuvwxyz';

describe('announceScreens (icarus-agent ui)', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'icarus-announce-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('on a terminal: prints the full address, writes no file', () => {
    const data = dir();
    const a = announceScreens(URL_WITH_TOKEN, { isTTY: true, dataDir: data });
    expect(a.line).toContain(URL_WITH_TOKEN);
    expect(a.file).toBeUndefined();
    expect(existsSync(join(data, SCREENS_ADDRESS_FILE))).toBe(false);
  });

  it('not a terminal (systemd, a redirect): the token goes to a 0600 file, the printed line names it and holds no token', () => {
    const data = dir();
    const a = announceScreens(URL_WITH_TOKEN, { isTTY: false, dataDir: data });
    const file = join(data, SCREENS_ADDRESS_FILE);
    expect(a.file).toBe(file);
    expect(a.line).not.toContain('s3cr3t');
    expect(a.line).not.toContain('#token');
    expect(a.line).toContain(file);
    expect(a.line).toContain('http://127.0.0.1:41234/status.html');
    expect(readFileSync(file, 'utf8')).toBe(`${URL_WITH_TOKEN}\n`);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    a.cleanup();
    expect(existsSync(file)).toBe(false);
  });

  it('replaces an old, world-readable file instead of reusing its mode', () => {
    const data = dir();
    const file = join(data, SCREENS_ADDRESS_FILE);
    writeFileSync(file, 'http://127.0.0.1:1/status.html#token=old\n');
    chmodSync(file, 0o644);
    announceScreens(URL_WITH_TOKEN, { isTTY: false, dataDir: data });
    expect(readFileSync(file, 'utf8')).toBe(`${URL_WITH_TOKEN}\n`);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
