import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreError } from './db';
import { AgentStore } from './store';
import { createDeviceKey, loadDeviceKey } from './identity';
import { defaultDataDir } from './paths';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'icarus-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 10, 25, 9);
const span = (i: number, extra: object = {}) => ({
  id: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`,
  start: T0 + i * 1000,
  durationMs: 1000,
  app: 'Editor',
  ...extra,
});

describe('AgentStore', () => {
  it('creates the file in WAL mode with the schema version set, and reopens it', () => {
    const dir = tempDir();
    const store = AgentStore.open(dir);
    store.spans.insert([span(1)], T0);
    store.close();
    const raw = new Database(join(dir, 'agent.db'));
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(2);
    raw.close();
    const again = AgentStore.open(dir);
    expect(again.spans.everything()).toHaveLength(1);
    again.close();
  });

  it('refuses a damaged file with an error naming it, and leaves the file as it was', () => {
    const dir = tempDir();
    const file = join(dir, 'agent.db');
    const garbage = Buffer.from('this is not an sqlite database, but someone put it here'.repeat(100));
    writeFileSync(file, garbage);
    expect(() => AgentStore.open(dir)).toThrow(StoreError);
    expect(() => AgentStore.open(dir)).toThrow(new RegExp(`${file}.*damaged.*left in place`));
    expect(readFileSync(file)).toEqual(garbage);
  });

  it('refuses a file another process holds locked, naming it, without touching it', () => {
    const dir = tempDir();
    AgentStore.open(dir).close();
    const file = join(dir, 'agent.db');
    const holder = new Database(file);
    holder.exec('BEGIN EXCLUSIVE');
    holder.prepare("INSERT INTO settings (key, value) VALUES ('x', '1')").run();
    const before = statSync(file).size;
    const attempt = () => AgentStore.open(dir);
    expect(attempt).toThrow(new RegExp(`${file} is locked by another process`));
    holder.exec('ROLLBACK');
    holder.close();
    expect(statSync(file).size).toBe(before);
  });

  it('batches oldest first, keeps a batch id until settled, and resends the same batch after a crash', () => {
    const store = AgentStore.open(tempDir());
    store.spans.insert([span(3), span(1), span(2)], T0);
    const first = store.spans.nextBatch(2, Infinity);
    expect(first?.spans.map((s) => s.start)).toEqual([T0 + 1000, T0 + 2000]);
    // No answer came (crash, timeout): the same batch, same id, same spans.
    expect(store.spans.nextBatch(2, Infinity)).toEqual(first);
    store.spans.settleBatch(first?.batchId ?? '', new Map([[span(2).id, 'no_consent']]), T0 + 10_000);
    const second = store.spans.nextBatch(2, Infinity);
    expect(second?.spans.map((s) => s.id)).toEqual([span(3).id]);
    expect(second?.batchId).not.toBe(first?.batchId);
    expect(store.spans.everything().find((s) => s.id === span(2).id)?.rejectedReason).toBe('no_consent');
    store.close();
  });

  it("sends an import's history in batches of its own naming the grant, keeps it past local retention until sent, and a live withdrawal leaves it", () => {
    const store = AgentStore.open(tempDir());
    const grant = '019a0000-0000-7000-8000-0000000000bb';
    store.spans.insert([span(2), span(4)], T0);
    store.spans.insert([span(1), span(3)], T0, grant);
    const first = store.spans.nextBatch(10, Infinity);
    expect([first?.importGrantId, first?.spans.map((s) => s.id)]).toEqual([grant, [span(1).id, span(3).id]]);
    store.spans.settleBatch(first?.batchId ?? '', new Map(), T0);
    const second = store.spans.nextBatch(10, Infinity);
    expect([second?.importGrantId, second?.spans.map((s) => s.id)]).toEqual([null, [span(2).id, span(4).id]]);
    store.spans.settleBatch(second?.batchId ?? '', new Map(), T0);
    store.spans.insert([span(5)], T0, grant);
    expect(store.spans.purgeScopes(['app_usage'])).toBe(0);
    expect(store.spans.deleteImported(grant)).toBe(3);
    expect(store.spans.everything().map((s) => s.id)).toEqual([span(2).id, span(4).id]);
    // Unsent imported history waits for its sync past local retention; sent spans age out as ever.
    store.spans.insert([span(6)], T0, grant);
    expect(store.spans.enforceRetention(T0 + 30 * 86_400_000, 1)).toBe(0);
    expect(store.spans.everything().map((s) => s.id)).toEqual([span(6).id]);
    store.close();
  });

  it('holds spans for review: only those that ended before the cut-off go', () => {
    const store = AgentStore.open(tempDir());
    store.spans.insert([span(1), span(100)], T0);
    expect(store.spans.nextBatch(10, T0 + 50_000)?.spans.map((s) => s.id)).toEqual([span(1).id]);
    store.close();
  });

  it('drops and counts unsent spans past local retention; forget and withdrawal remove unsent data', () => {
    const store = AgentStore.open(tempDir());
    store.spans.insert([span(1), span(2), span(3, { title: 'secret' }), span(4, { app: undefined, idle: true })], T0);
    expect(store.spans.enforceRetention(T0 + 86_400_000 + 1500, 1)).toBe(1);
    expect(store.spans.droppedCount()).toBe(1);
    expect(store.spans.forget(span(2).id)).toBe(1);
    expect(store.spans.purgeScopes(['window_titles'])).toBe(1);
    expect(store.spans.everything().find((s) => s.id === span(3).id)?.title).toBeUndefined();
    expect(store.spans.purgeScopes(['idle'])).toBe(1);
    expect(store.spans.everything().map((s) => s.id)).toEqual([span(3).id]);
    store.close();
  });

  it('keeps the private key in its own file readable by the user alone', async () => {
    const file = join(tempDir(), 'device-key.jwk');
    const jwk = await createDeviceKey(file);
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('"d"');
    await expect(loadDeviceKey(file)).resolves.toBeDefined();
  });

  it('defaults to the per-user app-data folder of each OS', () => {
    expect(defaultDataDir('linux', { HOME: '/home/a', XDG_DATA_HOME: '/x' })).toBe('/x/icarus-nova');
    expect(defaultDataDir('linux', { HOME: '/home/a' })).toBe('/home/a/.local/share/icarus-nova');
    expect(defaultDataDir('darwin', { HOME: '/Users/a' })).toBe('/Users/a/Library/Application Support/Icarus Nova');
    expect(defaultDataDir('win32', { HOME: 'C:\\Users\\a', APPDATA: 'C:\\Users\\a\\AppData\\Roaming' })).toMatch(/Roaming.Icarus Nova$/);
  });
});
