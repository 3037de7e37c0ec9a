/**
 * cloud/scripts/migrate.ts, what the compose one-shot service and the Kubernetes Job run, and its
 * --wait mode, what each pod's init container runs: new pods wait for the Job, never race it.
 * The script serves PostgreSQL deployments only (PGlite migrates inside its one process).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../../cloud/test/support/database';

const script = new URL('../../cloud/scripts/migrate.ts', import.meta.url).pathname;
const shipped = (
  JSON.parse(readFileSync(new URL('../../cloud/src/platform/db/migrations/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] }
).entries.length;

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  void done.then(() => clearTimeout(timer));
  return { child, done, exited: () => child.exitCode !== null };
}

describe('migrate.ts refuses what it cannot use, naming it', () => {
  it('needs a postgres:// DATABASE_URL and a whole number of seconds for --wait', async () => {
    const none = await run([], {}).done;
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/DATABASE_URL: required/);
    const other = await run([], { DATABASE_URL: 'mysql://db/x' }).done;
    expect(other.stderr).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    const badWait = await run(['--wait', 'soon'], { DATABASE_URL: 'postgres://127.0.0.1:1/x' }).done;
    expect(badWait.code).toBe(1);
    expect(badWait.stderr).toMatch(/--wait: a whole number of seconds/);
  }, 60_000);
});

describe.each(testDatabaseKinds().filter((k) => k === 'postgres'))('migrate.ts on %s', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('holds a waiting pod until the migration has run, then lets it start', async () => {
    const env = { DATABASE_URL: db.databaseUrl ?? '' };
    const waiting = run(['--wait', '80'], env);
    // An empty database: the init container keeps waiting.
    await new Promise((r) => setTimeout(r, 4000));
    expect(waiting.exited()).toBe(false);

    const migrated = await run([], env).done;
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(new RegExp(`schema current: ${shipped} migrations applied`));

    const released = await waiting.done;
    expect(released.code).toBe(0);
    expect(released.stdout).toBe(`schema current: ${shipped} of ${shipped} migrations applied\n`);

    // A second run finds nothing to do.
    const again = await run([], env).done;
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`schema current: ${shipped} migrations applied`));
  }, 120_000);

  it('gives up waiting after the time it was given, saying how far the schema is', async () => {
    const other = await createTestDatabase('postgres');
    try {
      const r = await run(['--wait', '2'], { DATABASE_URL: other.databaseUrl ?? '' }).done;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`not current after 2 s \\(0 of ${shipped} migrations applied\\)`));
    } finally {
      await other.drop();
    }
  }, 60_000);
});
