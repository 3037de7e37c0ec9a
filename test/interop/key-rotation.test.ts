// Key rotation end to end, with real restarts on one database: keys added to every ring, new
// data written under the newest, everything old read back (titles, TOTP sign-in, a device's
// access token until it expires, receipts by the agent's verifier), re-encryption to the newest
// key, retirement refused while something needs a key and allowed after, and a retired key refused.
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConsentResponse, WIRE_PATHS } from '@icarus/shared';
import { verifyReceipt } from '../../desktop-agent/src/core/consent/service';
import { ApiClient } from '../../desktop-agent/src/core/sync/http';
import { startCloud, type RunningCloud } from '../../cloud/src/start';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../../cloud/test/support/database';
import { createTestDevice, makeSpans } from '../../cloud/test/support/device-client';
import { defaultPolicy } from '../../cloud/src/modules/consent';
import { newTotpSecret, totpCode } from '../../cloud/src/modules/identity';

const b64 = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe.each(testDatabaseKinds())('key rotation on %s', (kind) => {
  let testDb: TestDatabase;
  let cloud: RunningCloud | undefined;
  afterAll(async () => {
    await cloud?.close();
    await testDb?.drop();
  });

  it('rotates every ring, reads everything back, re-encrypts, and retires only what nothing needs', { timeout: 240_000 }, async () => {
    testDb = await createTestDatabase(kind);
    const dataDir = testDb.databaseUrl ? testDb.dataDir : mkdtempSync(join(tmpdir(), 'icarus-keys-'));
    const [receipt1, receipt2] = [pem(), pem()];
    const serve = async (keys: Record<string, string>) => {
      await cloud?.close();
      cloud = await startCloud({
        env: {
          PORT: '0',
          HOST: '127.0.0.1',
          DATA_DIR: dataDir,
          LOG_LEVEL: 'silent',
          NODE_ENV: 'test',
          ROLES: 'api,scheduler',
          WEBHOOK_ALLOW_HOSTS: '127.0.0.1:9',
          ...(testDb.databaseUrl ? { DATABASE_URL: testDb.databaseUrl } : {}),
          ...keys,
        },
        silent: true,
      });
      return cloud;
    };
    const first = { TITLE_KEY: b64(1), TOKEN_SECRET: b64(2), RECEIPT_SIGNING_KEY: receipt1 };
    const rotated = { TITLE_KEY: `${b64(1)},${b64(11)}`, TOKEN_SECRET: `${b64(2)},${b64(12)}`, RECEIPT_SIGNING_KEY: `${receipt1}\n${receipt2}` };

    // Before: one key per ring. A person with a device, titles, a receipt and a TOTP seed.
    let c = await serve(first);
    const { directory, devices, auth } = c.cloud.services;
    const orgId = c.bootstrap.orgId;
    const person = await directory.createUser({
      orgId,
      email: 'rota@people.test',
      name: 'Rota',
      role: 'employee',
      osUser: 'rota',
      password: 'correct horse battery',
    });
    const withTitles = defaultPolicy('Demo Org');
    withTitles.scopes.push({ scope: 'window_titles', purpose: 'Window titles, to tell documents apart.', legalBasis: 'consent' });
    withTitles.titleMode = 'full';
    await c.cloud.services.consent.publish(orgId, withTitles, { type: 'system', id: 'test' });
    const token = (await devices.createEnrollmentToken({ orgId, userId: person.id, label: 'rota', validDays: 1, maxUses: 5 })).token;
    const baseUrl = c.url;
    const device = await createTestDevice((path, init) => fetch(`${cloud?.url ?? baseUrl}${path}`, init), baseUrl, token, 'rota');
    const consented = await device.consent(['app_usage', 'window_titles']);
    expect(consented.status).toBe(201);
    const { receipt: oldReceipt } = ConsentResponse.parse(await consented.json());
    expect((await device.ingest(makeSpans(3, { title: 'Before rotation' }))).status).toBe(200);
    const seed = newTotpSecret();
    await auth.storeTotpSecret(person.id, seed);
    // A webhook endpoint: its signing secret is sealed under the data key too.
    await c.cloud.services.notifications.addWebhook({ userId: person.id, orgId }, { url: 'http://127.0.0.1:9/hook', events: ['consent.withdrawn'] });

    // Rotate: every ring gets a newer key after the old one. The device keeps its old access token.
    c = await serve(rotated);
    const status = await c.cloud.services.keys.status();
    const byRing = (ring: string) => status.filter((k) => k.ring === ring);
    expect(byRing('title').map((k) => k.state)).toEqual(['previous', 'current']);
    const [oldTitleKey, newTitleKey] = byRing('title');
    expect(oldTitleKey?.neededBy).toEqual(expect.arrayContaining(['3 window titles', '1 TOTP seeds', '1 webhook secrets']));

    // The old token still works (it names the old key), new titles go under the new key.
    const ingested = await device.ingest(makeSpans(2, { title: 'After rotation' }));
    expect(ingested.status).toBe(200);
    const titles = async () => (await c.cloud.services.ingestion.spansOfUser(orgId, person.id, undefined, 100)).map((s) => s.title).sort();
    expect(await titles()).toEqual(['After rotation', 'After rotation', 'Before rotation', 'Before rotation', 'Before rotation']);

    // Receipts: the new one is signed with the new key; both verify with the agent's verifier.
    const newDecision = await device.consent(['app_usage', 'window_titles']);
    const { receipt: newReceipt } = ConsentResponse.parse(await newDecision.json());
    const jwks = (await (await fetch(`${c.url}${WIRE_PATHS.receiptKeys}`)).json()) as JSONWebKeySet & { keys: { kid: string; status?: string }[] };
    expect(jwks.keys.map((k) => (k as { status?: string }).status)).toEqual(['current', 'retired']);
    expect((await compactVerify(newReceipt.jws, createLocalJWKSet(jwks))).protectedHeader.kid).toBe(jwks.keys[0]?.kid);
    const api = new ApiClient(c.url);
    await expect(verifyReceipt(api, oldReceipt)).resolves.toBeUndefined();
    await expect(verifyReceipt(api, newReceipt)).resolves.toBeUndefined();

    // TOTP sign-in with the seed sealed under the old key.
    // Each sign-in uses a later 30 s step (a used step is refused as a replay); one step ahead is accepted.
    let step = 0;
    const signIn = async () => {
      const at = Date.now() + 30_000 * step++;
      const started = await c.cloud.services.auth.signInWithPassword({ email: 'rota@people.test', password: 'correct horse battery', orgId });
      await c.cloud.services.auth.verifyTotp(started.session.id, totpCode(seed, at));
    };
    await expect(signIn()).resolves.toBeUndefined();

    // Retiring the old title key is refused while it seals data, saying what.
    await expect(c.cloud.services.keys.retire('title', oldTitleKey?.keyId ?? '')).rejects.toThrow(
      /still needed by: 3 window titles; 1 TOTP seeds; 1 webhook secrets/,
    );
    await expect(c.cloud.services.keys.retire('title', newTitleKey?.keyId ?? '')).rejects.toThrow(/newest key/);

    // Re-encrypt: batch by batch, as the worker does, until nothing is under the old key.
    const metrics = c.cloud.services.metrics;
    let pending: Record<string, number> = {};
    for (let i = 0; i < 5; i++) pending = (await c.cloud.services.keys.reencryptBatch(2)).pending;
    expect(pending).toEqual({ 'window titles': 0, 'TOTP seeds': 0, 'webhook secrets': 0 });
    const exposition = await metrics.registry.metrics();
    expect(exposition).toContain('icarus_key_rotation_pending_values{data="window titles"} 0');
    expect(exposition).toContain('icarus_key_rotation_resealed_total{data="window titles"} 3');
    expect(exposition).toContain('icarus_key_rotation_resealed_total{data="TOTP seeds"} 1');
    expect(exposition).toContain('icarus_key_rotation_resealed_total{data="webhook secrets"} 1');
    const after = await c.cloud.services.keys.status();
    expect(after.find((k) => k.keyId === oldTitleKey?.keyId)?.neededBy).toEqual([]);

    // Retire the old title key and the old receipt key; the token key waits for tokens to expire.
    await c.cloud.services.keys.retire('title', oldTitleKey?.keyId ?? '');
    const oldReceiptKey = after.find((k) => k.ring === 'receipt' && k.state === 'previous');
    await c.cloud.services.keys.retire('receipt', oldReceiptKey?.keyId ?? '');
    const oldTokenKey = after.find((k) => k.ring === 'token' && k.state === 'previous');
    await expect(c.cloud.services.keys.retire('token', oldTokenKey?.keyId ?? '')).rejects.toThrow(/device access tokens it signed, valid until/);

    // Restart with the retired keys removed from config: everything still reads.
    c = await serve({ TITLE_KEY: b64(11), TOKEN_SECRET: rotated.TOKEN_SECRET, RECEIPT_SIGNING_KEY: receipt2 });
    expect(await titles()).toEqual(['After rotation', 'After rotation', 'Before rotation', 'Before rotation', 'Before rotation']);
    await expect(signIn()).resolves.toBeUndefined();
    // The old receipt still verifies: its public key stays listed, as retired.
    const listed = (await (await fetch(`${c.url}${WIRE_PATHS.receiptKeys}`)).json()) as { keys: { kid: string; status: string }[] };
    expect(listed.keys.map((k) => [k.kid, k.status])).toEqual([
      [jwks.keys[0]?.kid, 'current'],
      [oldReceiptKey?.keyId, 'retired'],
    ]);
    await expect(verifyReceipt(new ApiClient(c.url), oldReceipt)).resolves.toBeUndefined();
    expect((await device.ingest(makeSpans(1, { title: 'Old token still' }))).status).toBe(200);

    // A retired key put back as the newest is refused at start, naming the variable.
    await cloud?.close();
    cloud = undefined;
    await expect(serve({ ...rotated, TITLE_KEY: `${b64(11)},${b64(1)}` })).rejects.toThrow(/TITLE_KEY: its newest key [0-9a-f]{16} is retired/);
  });
});
