import { sql } from 'drizzle-orm';
import { compactVerify, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIRE_PATHS, type PolicyContent, type ReceiptPayload } from '@icarus/shared';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice } from '../../../test/support/device-client';
import { defaultPolicy } from './default-policy';
import { diffPolicies } from './diff';
import { grantedAt, inForce } from './service';

/** Enrolling devices and deciding: minutes when the shared machine is busy. */
const SETUP_MS = 240_000;

describe('policy diff', () => {
  const base: PolicyContent = { ...defaultPolicy('Acme'), redactionRules: [{ pattern: '\\S+@\\S+', replacement: '[email]' }], reviewBeforeSendMinutes: 60 };
  const withBasis = (legalBasis: 'consent' | 'legitimate_interest'): PolicyContent => ({
    ...base,
    scopes: base.scopes.map((s) => (s.scope === 'app_usage' ? { ...s, legalBasis } : s)),
  });
  it.each([
    ['a longer retention', { ...base, retentionDays: 365 }],
    ['a new scope', { ...base, scopes: [...base.scopes, { scope: 'window_titles', purpose: 'Titles.', legalBasis: 'consent' }] }],
    ['managers seeing individuals', { ...base, managersSeeIndividuals: true }],
    ['a scope moved off consent', withBasis('legitimate_interest')],
    ['a redaction rule dropped', { ...base, redactionRules: [] }],
    ['a shorter review before send', { ...base, reviewBeforeSendMinutes: 0 }],
  ] satisfies [string, PolicyContent][])('marks %s as asking more, and the version as widening', (_what, next) => {
    const diff = diffPolicies({ version: 1, content: base }, { version: 2, content: next });
    expect(diff.changes.filter((c) => c.widens)).toHaveLength(1);
    expect(diff.widens).toBe(true);
    const back = diffPolicies({ version: 2, content: next }, { version: 3, content: base });
    expect(back.changes.some((c) => c.widens)).toBe(false);
    expect(back.widens).toBe(false);
  });

  it('lists nothing for the same content, and only wording for a purpose edit', () => {
    expect(diffPolicies({ version: 1, content: base }, { version: 2, content: { ...base } }).changes).toEqual([]);
    const edit = diffPolicies({ version: 1, content: base }, { version: 2, content: { ...base, purpose: 'Reworded.' } });
    expect(edit.changes.map((c) => c.field)).toEqual(['purpose']);
    expect(edit.widens).toBe(false);
  });
});

describe.each(testDatabaseKinds())('consent decisions on %s', (kind) => {
  let cloud: TestCloud;
  beforeAll(async () => {
    cloud = await startTestCloud(kind);
  }, SETUP_MS);
  afterAll(async () => cloud?.stopAll());

  const decisionsOf = async (deviceId: string) =>
    (await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from consent_records where device_id = ${deviceId}`))[0]?.n ?? -1;

  it('returns a receipt that verifies with the published key and says what was granted', async () => {
    const device = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('consent-person')).token);
    const response = await device.consent(['app_usage']);
    expect(response.status).toBe(201);
    const { receipt } = (await response.json()) as { receipt: { jws: string; payload: ReceiptPayload } };
    const keys = (await (await cloud.fetchPath(WIRE_PATHS.receiptKeys)).json()) as { keys: { kid: string; x: string; kty: string; crv: string }[] };
    const [jwk] = keys.keys;
    if (!jwk) throw new Error('a published key expected');
    const { payload, protectedHeader } = await compactVerify(receipt.jws, await importJWK(jwk, 'EdDSA'));
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: jwk.kid });
    const signed: unknown = JSON.parse(new TextDecoder().decode(payload));
    expect(signed).toEqual(receipt.payload);
    expect(receipt.payload).toMatchObject({
      decision: 'granted',
      scopesGranted: ['app_usage'],
      principal: { deviceId: device.deviceId },
      policy: { version: 1 },
    });
    expect(receipt.payload.services[0]?.purposes.find((p) => p.scope === 'idle')?.granted).toBe(false);
    // A changed byte of the payload no longer verifies.
    const [head, body, signature] = receipt.jws.split('.');
    const tampered = `${head}.${(body ?? '').slice(0, -2)}${(body ?? '').at(-2) === 'A' ? 'B' : 'A'}${(body ?? '').slice(-1)}.${signature}`;
    await expect(compactVerify(tampered, await importJWK(jwk, 'EdDSA'))).rejects.toThrow();
  });

  it('refuses a scope the policy does not offer and a stale policy version, naming the field, storing nothing', async () => {
    const device = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('consent-person')).token);
    const unknown = await device.consent(['app_usage', 'window_titles']);
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: { fields: [{ path: 'scopes.1' }] } });
    const stale = await device.consent(['app_usage'], 'granted', 99);
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ error: { fields: [{ path: 'policyVersion' }] } });
    expect(await decisionsOf(device.deviceId)).toBe(0);
  });

  it('the timeline grants each scope from its decision on, and a withdrawal ends it', async () => {
    const device = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('consent-person')).token);
    const before = Date.now() - 1;
    expect((await device.consent(['app_usage', 'idle'])).status).toBe(201);
    await new Promise((r) => setTimeout(r, 20));
    const between = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    expect((await device.consent(['idle'], 'withdrawn')).status).toBe(201);
    const after = Date.now() + 1;
    const bound = await cloud.cloud.services.devices.requireActive(device.deviceId);
    const timeline = inForce(await cloud.cloud.services.consent.timeline(device.deviceId), bound.bindingId);
    expect(grantedAt(timeline, before)).toBeUndefined();
    expect([...(grantedAt(timeline, between) ?? [])].sort()).toEqual(['app_usage', 'idle']);
    expect([...(grantedAt(timeline, after) ?? [])]).toEqual(['app_usage']);
  });

  it('serves the diff from the version a device decided on, widening when retention grows', async () => {
    const device = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('consent-person')).token);
    const { orgId } = cloud.bootstrap;
    const current = await cloud.cloud.services.consent.currentPolicy(orgId);
    await cloud.cloud.services.consent.publish(
      orgId,
      { ...current.content, retentionDays: current.content.retentionDays + 30 },
      { type: 'system', id: 'test' },
    );
    const token = (await (
      await cloud.fetchPath(WIRE_PATHS.token, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ assertion: await device.assertion() }),
      })
    ).json()) as { accessToken: string };
    const diff = await cloud.fetchPath(`/v1/policy/diff?from=${current.version}`, { headers: { authorization: `Bearer ${token.accessToken}` } });
    expect(diff.status).toBe(200);
    expect(await diff.json()).toMatchObject({
      fromVersion: current.version,
      toVersion: current.version + 1,
      widens: true,
      changes: [{ field: 'retentionDays', widens: true }],
    });
  });
});
