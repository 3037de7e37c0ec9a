/**
 * What the agent writes is readable by its user alone, even in a data folder that already
 * existed with looser modes (an earlier agent, a package script, a copy): the real bundled
 * agent, real SQLite files, checked with stat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';
import { enrollOffline, lockHolderPid } from './agent-offline';

const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe('file modes in the data folder', () => {
  let bundle: Awaited<ReturnType<typeof agentBundle>>;
  let home: AgentHome;

  beforeAll(async () => {
    bundle = await agentBundle();
    home = agentHome(bundle.file, process.env, { ICARUS_CAPTURE_BACKEND: 'get-windows' });
  });
  afterAll(() => {
    home.cleanup();
    bundle.remove();
  });

  it('a folder and database that already exist world-readable become 0700 and 0600, key and lock files too', async () => {
    const dir = home.dataDir;
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    // A database left by something that did not care (the default umask): 0644.
    const old = new Database(join(dir, 'agent.db'));
    old.pragma('journal_mode = WAL');
    old.close();
    chmodSync(join(dir, 'agent.db'), 0o644);
    expect(mode(join(dir, 'agent.db'))).toBe('644');

    await enrollOffline(dir); // the device key, written as the CLI's enroll writes it
    const status = await home.cli(['status']);
    expect(status.code).toBe(0);
    expect(mode(dir)).toBe('700');
    expect(mode(join(dir, 'agent.db'))).toBe('600');
    expect(mode(join(dir, 'device-key.jwk'))).toBe('600');

    const agent = home.start();
    await lockHolderPid(dir);
    for (const f of ['agent.db', 'agent.db-wal', 'agent.db-shm', 'agent.lock', 'agent.lock.holder']) expect([f, mode(join(dir, f))]).toEqual([f, '600']);
    expect(await agent.stop()).toBe(0);
  });
});
