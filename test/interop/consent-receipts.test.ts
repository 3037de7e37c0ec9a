/**
 * Consent receipts against the official Kantara Consent Receipt v1.1 JSON schema (vendored
 * unchanged in test/fixtures, with its source and licence), validated by ajv's draft-04 class:
 * Kantara's own example as the control, then receipts the real cloud signs. The JWS verifies
 * with jose alone and with the agent's verifier, and a receipt in the shape signed before these
 * field names still verifies and parses.
 */
import Ajv from 'ajv-draft-04';
import { CompactSign, compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsentReceipt, ConsentResponse, LegacyReceiptPayload, ReceiptPayload, WIRE_PATHS, receiptFacts } from '@icarus/shared';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { testDatabaseKinds } from '../../cloud/test/support/database';
import { createTestDevice } from '../../cloud/test/support/device-client';
import { verifyReceipt } from '../../desktop-agent/src/core/consent/service';
import { ApiClient } from '../../desktop-agent/src/core/sync/http';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/kantara-consent-receipt-v1.1/${name}`, import.meta.url), 'utf8');
// The published schema opens with `//` comment lines; everything else is parsed as published.
const schema: unknown = JSON.parse(
  fixture('kantara-consent-receipt-v1_1-schema.json')
    .split('\n')
    .filter((line) => !/^\s*\/\//.test(line))
    .join('\n'),
);
const example: unknown = JSON.parse(fixture('kantara-consent-receipt-v1_1-example.json'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema as object);
const problems = (value: unknown) => (validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`));

describe('the Kantara v1.1 schema, as vendored', () => {
  it("accepts Kantara's own example (the control) and refuses it with an ISO time or without a jurisdiction", () => {
    expect(problems(example)).toEqual([]);
    const { jurisdiction: _dropped, ...noJurisdiction } = example as Record<string, unknown>;
    expect(problems(noJurisdiction)).toEqual(["/ must have required property 'jurisdiction'"]);
    expect(problems({ ...(example as object), consentTimestamp: '2017-11-13T17:00:00Z' })).toEqual(['/consentTimestamp must be integer']);
  });
});

describe.each(testDatabaseKinds())('consent receipts on %s', (kind) => {
  let cloud: TestCloud;
  // The deployment's receipt key, set as an operator would, so the test can sign as the server did.
  const receiptKey = generateKeyPairSync('ed25519').privateKey;
  beforeAll(async () => {
    cloud = await startTestCloud(kind, {
      JURISDICTION: 'DE',
      CONSENT_LANGUAGE: 'de',
      STORAGE_LOCATIONS: 'EU (Frankfurt),EU (Dublin)',
      RECEIPT_SIGNING_KEY: receiptKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
  });
  afterAll(async () => cloud?.stopAll());

  const receiptKeys = async () => (await (await cloud.fetchPath(WIRE_PATHS.receiptKeys)).json()) as JSONWebKeySet;

  it('signs receipts that pass the Kantara schema and carry the ISO/IEC TS 27560 record fields', async () => {
    const person = await cloud.personToken('Kantara Person');
    const device = await createTestDevice(cloud.fetchPath, cloud.url, person.token);
    const answer = await device.consent(['app_usage']);
    expect(answer.status).toBe(201);
    const { receipt } = ConsentResponse.parse(await answer.json());
    expect(problems(receipt.payload)).toEqual([]);
    const payload = ReceiptPayload.parse(receipt.payload);
    expect(payload).toMatchObject({
      version: 'KI-CR-v1.1.0',
      jurisdiction: 'DE',
      language: 'de',
      piiPrincipalId: person.userId,
      recordId: payload.consentReceiptID,
      storageLocations: ['EU (Frankfurt)', 'EU (Dublin)'],
      sensitive: false,
      spiCat: [],
      policyUrl: payload.policy.url,
    });
    // Epoch seconds of the decision, as the schema says.
    expect(Math.abs(payload.consentTimestamp - Date.now() / 1000)).toBeLessThan(120);
    const purposes = payload.services.flatMap((s) => s.purposes);
    expect(purposes.map((p) => [p.scope, p.granted])).toEqual(
      expect.arrayContaining([
        ['app_usage', true],
        ['idle', false],
      ]),
    );

    // The JWS verifies with jose alone against the published keys, and fails on one changed byte.
    const keys = createLocalJWKSet(await receiptKeys());
    const { payload: signed, protectedHeader } = await compactVerify(receipt.jws, keys);
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'consent-receipt+jws' });
    expect(JSON.parse(new TextDecoder().decode(signed))).toEqual(receipt.payload);
    const [head, body = '', signature] = receipt.jws.split('.');
    const tampered = `${head}.${body.slice(0, 10)}${body[10] === 'A' ? 'B' : 'A'}${body.slice(11)}.${signature}`;
    await expect(compactVerify(tampered, keys)).rejects.toThrow();
    // And with the agent's own verifier, which also compares the payload shown with the one signed.
    const api = new ApiClient(cloud.url);
    await expect(verifyReceipt(api, receipt)).resolves.toBeUndefined();
    await expect(verifyReceipt(api, { ...receipt, payload: { ...payload, jurisdiction: 'US' } })).rejects.toThrow(/differs/);
  });

  it('still verifies and reads a receipt signed in the shape used before (ISO time, receiptId, purposes)', async () => {
    // What the server signed before receipts took the schema's field names, under the same key.
    const legacy = LegacyReceiptPayload.parse({
      version: 'KI-CR-v1.1.0',
      receiptId: '019a1c2e-0000-7000-8000-00000000c0de',
      consentTimestamp: '2026-11-20T08:30:00.000Z',
      collectionMethod: 'terminal',
      decision: 'granted',
      principal: { userId: null, osUser: 'alice', deviceId: '019a1c2e-0000-7000-8000-0000000000d1' },
      controller: { name: 'Demo GmbH', contact: 'privacy@demo.example', orgId: cloud.bootstrap.orgId },
      policy: { version: 1, url: `${cloud.url}/privacy/policy/1`, hash: 'a'.repeat(64), titleMode: 'redacted' },
      purposes: [
        {
          scope: 'app_usage',
          purpose: 'Team reports',
          legalBasis: 'consent',
          piiCategories: ['application usage'],
          fieldsCollected: ['app'],
          onDeviceTransform: 'none',
          granted: true,
          termination: 'raw data deleted after 90 days',
          thirdPartyDisclosure: false,
        },
      ],
      scopesGranted: ['app_usage'],
      retentionDays: 90,
      visibility: { managersSeeIndividuals: false, minGroupSize: 5, summary: 'Managers see team totals.' },
      agentVersion: '0.9.0',
    });
    const [published] = (await receiptKeys()).keys;
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(legacy)))
      .setProtectedHeader({ alg: 'EdDSA', kid: published?.kid ?? '', typ: 'consent-receipt+jws' })
      .sign(receiptKey);
    // As the agent stores and re-reads it, then verifies it against today's /v1/receipt-keys.
    const kept = ConsentReceipt.parse(JSON.parse(JSON.stringify({ jws, payload: legacy })));
    await expect(verifyReceipt(new ApiClient(cloud.url), kept)).resolves.toBeUndefined();
    expect(receiptFacts(kept.payload)).toMatchObject({ receiptId: legacy.receiptId, consentAt: '2026-11-20T08:30:00.000Z' });
    // It is what the issue found: the old shape fails the schema, which the new shape fixes.
    expect(problems(legacy).length).toBeGreaterThanOrEqual(9);
  });
});
