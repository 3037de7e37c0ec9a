// The command line that makes a production install's first admin and resets a lost password,
// run as a real process against the same database a production server then starts on.
// Each test starts several processes and servers: minutes on a loaded 2-core machine.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '../src/start';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../test/support/database';

const script = new URL('./admin.ts', import.meta.url).pathname;
const tsx = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
const SLOW_MS = 240_000;

describe.each(testDatabaseKinds())('npm run admin on %s', (kind) => {
  let testDb: TestDatabase;
  let env: Record<string, string>;
  const admin = (...args: string[]) => spawnSync(tsx, [script, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  const serve = () => startCloud({ env: { ...env, PORT: '0', HOST: '127.0.0.1' }, silent: true });
  const signIn = (cloud: RunningCloud, email: string, password: string) =>
    fetch(`${cloud.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    const dataDir = mkdtempSync(join(tmpdir(), 'icarus-admin-'));
    const receiptKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    // PostgreSQL runs as production does; PGlite (a folder) as a development install without the demo.
    env = testDb.databaseUrl
      ? {
          NODE_ENV: 'production',
          DATABASE_URL: testDb.databaseUrl,
          DATA_DIR: dataDir,
          TITLE_KEY: Buffer.alloc(32, 3).toString('base64'),
          TOKEN_SECRET: Buffer.alloc(32, 4).toString('base64'),
          RECEIPT_SIGNING_KEY: receiptKey,
          LOG_LEVEL: 'silent',
        }
      : { DATA_DIR: dataDir, DEMO_SEED: 'false', LOG_LEVEL: 'silent' };
  });
  afterAll(async () => testDb?.drop());

  it(
    'a fresh start makes no demo; create-admin makes the organisation and its admin, who can sign in',
    async () => {
      let cloud = await serve();
      expect(cloud.bootstrap).toMatchObject({ created: false, orgId: '' });
      expect(await cloud.cloud.services.directory.firstOrg()).toBeUndefined();
      await cloud.close();

      const refused = admin('create-admin', '--email', 'it@acme.test', '--name', 'Ida Admin');
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain('--org: there is no organisation yet');

      const made = admin('create-admin', '--email', 'IT@acme.test', '--name', 'Ida Admin', '--org', 'Acme', '--time-zone', 'Europe/Vienna');
      expect(made.status, made.stderr).toBe(0);
      const password = /Admin sign-in: it@acme\.test \/ (\S+)/.exec(made.stdout)?.[1] ?? '';
      expect(password.length).toBeGreaterThanOrEqual(16);

      cloud = await serve();
      try {
        const org = await cloud.cloud.services.directory.firstOrg();
        expect(org).toMatchObject({ name: 'Acme', timeZone: 'Europe/Vienna' });
        expect((await cloud.cloud.services.consent.currentPolicy(org?.id ?? '')).version).toBe(1);
        const session = await signIn(cloud, 'it@acme.test', password);
        expect(session.status).toBe(201);
        expect(await session.json()).toMatchObject({ stage: 'needs_enrollment' });
        expect((await signIn(cloud, 'it@acme.test', 'wrong password')).status).toBe(401);
        const audited = await cloud.cloud.services.audit.verify(org?.id ?? '');
        expect(audited.ok).toBe(true);
      } finally {
        await cloud.close();
      }
    },
    SLOW_MS,
  );

  it(
    'reset-password prints a new password once; the old one stops working and sessions end',
    async () => {
      let cloud = await serve();
      const before = admin('reset-password', '--email', 'nobody@acme.test');
      expect(before.status).toBe(2);
      expect(before.stderr).toContain('--email: nobody is registered as nobody@acme.test');
      await cloud.close();

      const first = admin('reset-password', '--email', 'it@acme.test');
      expect(first.status, first.stderr).toBe(0);
      const oldPassword = /New password for it@acme\.test: (\S+)/.exec(first.stdout)?.[1] ?? '';
      cloud = await serve();
      const session = await signIn(cloud, 'it@acme.test', oldPassword);
      expect(session.status).toBe(201);
      const cookie = session.headers.get('set-cookie')?.split(';')[0] ?? '';
      await cloud.close();

      const second = admin('reset-password', '--email', 'it@acme.test');
      expect(second.status, second.stderr).toBe(0);
      const newPassword = /New password for it@acme\.test: (\S+)/.exec(second.stdout)?.[1] ?? '';
      cloud = await serve();
      try {
        expect((await signIn(cloud, 'it@acme.test', oldPassword)).status).toBe(401);
        expect((await signIn(cloud, 'it@acme.test', newPassword)).status).toBe(201);
        // The session made with the old password was ended by the reset.
        const me = await fetch(`${cloud.url}/api/me`, { headers: { cookie } });
        expect(me.status).toBe(401);
      } finally {
        await cloud.close();
      }
    },
    SLOW_MS,
  );
  it(
    'reset-password needs --org when the email is a person in two organisations, and resets only that one',
    async () => {
      let cloud = await serve();
      const { directory } = cloud.cloud.services;
      const beta = await directory.createOrg({ name: 'Beta', timeZone: 'UTC' });
      await directory.createUser({ orgId: beta.id, email: 'IT@acme.test', name: 'Ida at Beta', role: 'employee', password: 'a beta password' });
      await cloud.close();

      const ambiguous = admin('reset-password', '--email', 'it@acme.test');
      expect(ambiguous.status).toBe(2);
      expect(ambiguous.stderr).toContain('--org: it@acme.test is registered in 2 organisations ("Acme", "Beta"); name one');
      const unknownOrg = admin('reset-password', '--email', 'it@acme.test', '--org', 'Gamma');
      expect(unknownOrg.status).toBe(2);
      expect(unknownOrg.stderr).toContain('--org: there is no organisation "Gamma"');

      const reset = admin('reset-password', '--email', 'it@acme.test', '--org', 'beta');
      expect(reset.status, reset.stderr).toBe(0);
      const password = /New password for it@acme\.test in "Beta": (\S+)/.exec(reset.stdout)?.[1] ?? '';
      cloud = await serve();
      try {
        const session = await signIn(cloud, 'it@acme.test', password);
        expect(session.status).toBe(201);
        const me = await fetch(`${cloud.url}/api/me`, { headers: { cookie: session.headers.get('set-cookie')?.split(';')[0] ?? '' } });
        expect(await me.json()).toMatchObject({ user: { orgId: beta.id, name: 'Ida at Beta' } });
        expect((await signIn(cloud, 'it@acme.test', 'a beta password')).status).toBe(401);
      } finally {
        await cloud.close();
      }
    },
    SLOW_MS,
  );
});
