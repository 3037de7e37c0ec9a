// The cloud as its container image, built from the repository's Dockerfile and run here with
// podman: ready, a device enrolls and syncs a batch, and `podman stop` ends it gracefully.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../../cloud/test/support/database';
import { createTestDevice, makeSpans } from '../../cloud/test/support/device-client';
import { totpCode } from '../../cloud/src/modules/identity';
import { buildCloudImage, podman, requirePodman } from '../helpers/podman';
import { freePort } from '../helpers/ports';

const IMAGE = 'localhost/icarus-cloud:e2e';

beforeAll(async () => {
  requirePodman();
  // The first build on a machine makes the base image and installs dependencies (minutes);
  // later ones reuse podman's layer cache.
  await buildCloudImage(IMAGE);
}, 1_200_000);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.each(testDatabaseKinds())('the cloud container on %s', (kind) => {
  const name = `icarus-e2e-${randomBytes(4).toString('hex')}`;
  const volume = `${name}-data`;
  let testDb: TestDatabase;
  let url: string;
  let logs = '';
  let secrets = '';
  let migrated = '';

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // Settings reach the container as environment, nothing is baked into the image: on
    // PostgreSQL it runs in production mode with its keys given; on PGlite the embedded
    // database and generated keys live in the DATA_DIR volume.
    const env: Record<string, string> = { PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: url, LOG_LEVEL: 'info' };
    const mounts: string[] = [];
    if (testDb.databaseUrl) {
      const receiptKey = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      Object.assign(env, {
        NODE_ENV: 'production',
        DATABASE_URL: testDb.databaseUrl,
        TITLE_KEY: randomBytes(32).toString('base64'),
        TOKEN_SECRET: randomBytes(32).toString('base64'),
      });
      // The receipt key as a secret file, as compose and Kubernetes mount it: NAME_FILE names it.
      secrets = mkdtempSync(join(tmpdir(), 'icarus-e2e-secrets-'));
      writeFileSync(join(secrets, 'receipt_signing_key'), receiptKey, { mode: 0o444 });
      env.RECEIPT_SIGNING_KEY_FILE = '/run/secrets/receipt_signing_key';
      mounts.push('-v', `${join(secrets, 'receipt_signing_key')}:/run/secrets/receipt_signing_key:ro`);
    } else {
      env.NODE_ENV = 'development';
    }
    // `-e NAME` passes the value from podman's environment, so keys never appear on a command line.
    Object.assign(process.env, env);
    if (testDb.databaseUrl) {
      // The one-shot migration compose and the Kubernetes Job run before any cloud process.
      migrated = await podman(['run', '--rm', '--network=host', '-e', 'DATABASE_URL', IMAGE, 'node', '--import', 'tsx', 'cloud/scripts/migrate.ts']);
    }
    await podman(['run', '-d', '--name', name, '--network=host', '-v', `${volume}:/data`, ...mounts, ...Object.keys(env).flatMap((k) => ['-e', k]), IMAGE]);
    for (const k of Object.keys(env)) delete process.env[k];
  }, 240_000);

  afterAll(async () => {
    await podman(['rm', '-f', '-t', '0', name]).catch(() => '');
    await podman(['volume', 'rm', '-f', volume]).catch(() => '');
    await testDb?.drop();
    if (secrets) rmSync(secrets, { recursive: true, force: true });
  });

  it('becomes ready, enrolls a device and stores its batch', async () => {
    const ready = await waitFor(
      '/readyz',
      async () => {
        const response = await fetch(`${url}/readyz`);
        return response.status === 200 ? ((await response.json()) as { database: string }) : undefined;
      },
      150_000,
    ); // the first start compiles the sources (tsx) and migrates, on a busy 2-core machine
    expect(ready.database).toBe(kind === 'postgres' ? 'postgres' : 'pglite');
    // On PostgreSQL the image's one-shot migration (what compose and the Kubernetes Job run)
    // went first, and the cloud read its receipt key from a secret file (RECEIPT_SIGNING_KEY_FILE).
    if (kind === 'postgres') expect(migrated).toMatch(/^schema current: \d+ migrations applied/);
    // The health check the image declares answers too.
    await podman(['healthcheck', 'run', name]);

    // An admin: production makes no demo, so IT creates the first one inside the container; a
    // development start prints the demo admin's password once.
    let email = 'admin@demo.icarus.local';
    let password = '';
    if (kind === 'postgres') {
      email = 'it@acme.test';
      const made = await podman([
        'exec',
        name,
        'node',
        '--import',
        'tsx',
        'cloud/scripts/admin.ts',
        'create-admin',
        '--email',
        email,
        '--name',
        'Ida Admin',
        '--org',
        'Acme',
      ]);
      password = /Admin sign-in: \S+ \/ (\S+)/.exec(made)?.[1] ?? '';
    } else {
      logs = await waitFor('the demo admin in the logs', async () => {
        const out = await podman(['logs', name]);
        return /Admin sign-in: \S+ \/ \S+/.test(out) ? out : undefined;
      });
      password = /Admin sign-in: \S+ \/ (\S+)/.exec(logs)?.[1] ?? '';
    }
    expect(password).not.toBe('');
    // The admin signs in, sets up the second factor, and makes a per-person enrollment token
    // for their own laptop (as IT deploys one by MDM), so the device speaks for them.
    const session = await signInWithSecondFactor(url, email, password);
    const me = (await (await fetch(`${url}/api/me`, { headers: session.headers })).json()) as { user: { userId: string } };
    const made = await fetch(`${url}/api/admin/enrollment-tokens`, {
      method: 'POST',
      headers: { ...session.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'Ida laptop', validDays: 1, maxUses: 1, userId: me.user.userId }),
    });
    expect(made.status, await made.clone().text()).toBe(201);
    const token = ((await made.json()) as { token: string }).token;
    const device = await createTestDevice((path, init) => fetch(`${url}${path}`, init), url, token);
    expect((await device.consent(['app_usage'])).status).toBe(201);
    const response = await device.ingest(makeSpans(25), { gzip: true });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ accepted: 25, duplicates: 0, rejected: [] });
  }, 240_000);

  it('runs as a non-root user', async () => {
    expect(await podman(['exec', name, 'id', '-u'])).toBe('10001');
  });

  it('stops gracefully on `podman stop` within seconds, exit code 0', async () => {
    const started = Date.now();
    // A 20 s grace period: a container that ignored SIGTERM would take all of it and be killed (137).
    await podman(['stop', '-t', '20', name], { timeoutMs: 60_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeLessThan(10);
    expect(await podman(['inspect', '--format', '{{.State.ExitCode}}', name])).toBe('0');
    expect(await podman(['logs', name])).toMatch(/shutting down/);
  }, 60_000);
});

/** Password, then TOTP enrolment with a code computed from the secret the server hands out: an active admin session. */
async function signInWithSecondFactor(url: string, email: string, password: string): Promise<{ headers: Record<string, string> }> {
  const started = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  expect(started.status, await started.clone().text()).toBe(201);
  const cookie = started.headers.get('set-cookie')?.split(';')[0] ?? '';
  const { csrfToken } = (await started.json()) as { csrfToken: string };
  const headers = { cookie, 'x-csrf-token': csrfToken };
  const begun = await fetch(`${url}/api/account/totp`, { method: 'POST', headers });
  expect(begun.status, await begun.clone().text()).toBe(201);
  const { secret } = (await begun.json()) as { secret: string };
  const confirmed = await fetch(`${url}/api/account/totp/confirm`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ code: totpCode(secret, Date.now()) }),
  });
  expect(confirmed.status, await confirmed.clone().text()).toBe(200);
  return { headers };
}
