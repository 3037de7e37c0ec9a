// `npm run admin -- backup | backups | restore` as real processes: the operator's restore drill.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud } from '../src/start';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../test/support/database';

const script = new URL('./admin.ts', import.meta.url).pathname;
const tsx = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;

describe.each(testDatabaseKinds())('npm run admin -- backup and restore on %s', (kind) => {
  let source: TestDatabase;
  let target: TestDatabase;
  let folder: string;
  let env: Record<string, string>;
  const admin = (extra: Record<string, string>, ...args: string[]) =>
    spawnSync(tsx, [script, ...args], { env: { ...process.env, ...env, ...extra }, encoding: 'utf8', timeout: 120_000 });

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'icarus-backup-cli-'));
    source = await createTestDatabase(kind);
    target = await createTestDatabase(kind);
    env = {
      DATA_DIR: join(folder, 'data'),
      OBJECT_STORE_URL: `file://${join(folder, 'objects')}`,
      BACKUP_KEY: randomBytes(32).toString('base64'),
      TITLE_KEY: randomBytes(32).toString('base64'),
      TOKEN_SECRET: randomBytes(32).toString('base64'),
      RECEIPT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      LOG_LEVEL: 'silent',
      ...(source.databaseUrl ? { DATABASE_URL: source.databaseUrl } : {}),
    };
    // A first start makes the demo org, its policy and their audit rows; then the server stops.
    const cloud = await startCloud({ env: { ...env, PORT: '0', HOST: '127.0.0.1' }, silent: true });
    await cloud.close();
  }, 120_000);
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('backs up, lists the backup, restores it into a new database that serves, and refuses without BACKUP_KEY', async () => {
    const refused = admin({ BACKUP_KEY: '' }, 'backup');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('BACKUP_KEY: must be set');

    const made = admin({}, 'backup');
    expect(made.status, made.stderr).toBe(0);
    const id = /Backup (\S+) written to /.exec(made.stdout)?.[1] ?? '';
    expect(id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);

    const listed = admin({}, 'backups');
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(id);

    const where = kind === 'postgres' ? ['--target-database-url', target.databaseUrl!] : ['--target-data-dir', join(folder, 'restored')];
    const noTarget = admin({}, 'restore', '--backup', 'latest');
    expect(noTarget.status).toBe(2);
    expect(noTarget.stderr).toContain('--target-database-url or --target-data-dir');

    const restored = admin({}, 'restore', '--backup', 'latest', ...where);
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`Restored backup ${id}`);

    // Restoring over it again is refused: the target is not empty any more.
    const again = admin({}, 'restore', '--backup', id, ...where);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/is not empty|holds a database already/);

    const served = await startCloud({
      env: {
        ...env,
        PORT: '0',
        HOST: '127.0.0.1',
        ...(kind === 'postgres' ? { DATABASE_URL: target.databaseUrl! } : { DATA_DIR: join(folder, 'restored') }),
      },
      silent: true,
    });
    try {
      const org = await served.cloud.services.directory.firstOrg();
      expect(org).toBeDefined();
      expect((await served.cloud.services.audit.verify(org!.id)).ok).toBe(true);
    } finally {
      await served.close();
    }
  }, 300_000);

  it('archives the audit chain to the object store and verifies the archive', async () => {
    const archived = admin({}, 'audit-archive');
    expect(archived.status, archived.stderr).toBe(0);
    const line = /^"(.+)": (\d+) entries archived in (\d+) segments/m.exec(archived.stdout);
    expect(Number(line?.[2])).toBeGreaterThan(0);
    const verified = admin({}, 'verify-audit-archive', '--org', line?.[1] ?? '');
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`"${line?.[1]}": verifies: ${line?.[2]} entries`);
    const unnamed = admin({}, 'verify-audit-archive');
    expect(unnamed.status).toBe(2);
    expect(unnamed.stderr).toContain('--org: name the organisation');
  }, 300_000);
});
