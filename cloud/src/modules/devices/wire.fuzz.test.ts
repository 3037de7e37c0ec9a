import fc from 'fast-check';
import { exportJWK, generateKeyPair } from 'jose';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_DIFF_PATH, WIRE_PATHS, type Ed25519PublicJwk } from '@icarus/shared';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, type TestDevice } from '../../../test/support/device-client';
import {
  contentType,
  encoding,
  fuzzRoute,
  fuzzRuns,
  fuzzTimeout,
  headerValue,
  hostileString,
  nearValidBody,
  queryString,
  unlimited,
  type FuzzRequest,
} from '../../../test/support/fuzz';

/**
 * The device wire API under arbitrary input: enrollment, tokens, ingest, consent, pairing,
 * policy and the device's own data. Bodies near valid ones (each built from what the shared
 * schema accepts, then mutated), arbitrary content types, encodings, credentials and query
 * strings. Never a 5xx; a refusal names the bad field and changes nothing stored.
 */
const RUNS = 60;

const instant = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((t) => new Date(t).toISOString());
const span = fc.oneof(
  fc.record({
    id: fc.constant(null).map(() => uuidv7()),
    start: instant,
    durationMs: fc.integer({ min: 0, max: 3_600_000 }),
    app: fc.string({ minLength: 1, maxLength: 30 }),
    title: fc.option(fc.string({ maxLength: 60 }), { nil: undefined }),
  }),
  fc.record({ id: fc.constant(null).map(() => uuidv7()), start: instant, durationMs: fc.integer({ min: 0, max: 3_600_000 }), idle: fc.constant(true) }),
);
const status = fc.record({
  agentVersion: fc.string({ maxLength: 10 }),
  pendingSpans: fc.nat(),
  droppedSpans: fc.nat(),
  captureSources: fc.array(
    fc.record({ name: fc.constantFrom('x11', 'idle'), ok: fc.boolean(), problem: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }) }),
    {
      maxLength: 3,
    },
  ),
});
const scopes = fc.subarray(['app_usage', 'idle', 'window_titles']);
const stripUndefined = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe.each(testDatabaseKinds())('device wire API under fuzzing on %s', (kind) => {
  let cloud: TestCloud;
  let bound: TestDevice;
  let unbound: TestDevice;
  let personalToken: string;
  const keys: Ed25519PublicJwk[] = [];
  const assertions: string[] = [];

  beforeAll(async () => {
    cloud = await startTestCloud(kind, { NOTIFY_POLL_MS: '60000' }, { rateLimits: unlimited });
    personalToken = (await cloud.personToken('fuzz')).token;
    bound = await createTestDevice(cloud.fetchPath, cloud.url, personalToken);
    unbound = await createTestDevice(cloud.fetchPath, cloud.url, cloud.enrollmentToken, 'nobody');
    expect((await bound.consent(['app_usage', 'idle'])).status).toBe(201);
    for (let i = 0; i < 8; i++) {
      const jwk = await exportJWK((await generateKeyPair('EdDSA', { crv: 'Ed25519' })).publicKey);
      keys.push({ kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) });
    }
    // Each assertion is good once: later uses of the same one are replays the server refuses.
    for (let i = 0; i < Math.min(fuzzRuns(RUNS), 400); i++) assertions.push(await (i % 2 ? unbound : bound).assertion());
  });
  afterAll(async () => cloud?.stopAll());

  /** Mostly the bound device's token; sometimes the unbound one's, a broken one, another scheme or none. */
  const authorization = () =>
    fc.oneof(
      { weight: 10, arbitrary: fc.constant(`Bearer ${bound.accessToken}`) },
      { weight: 2, arbitrary: fc.constant(`Bearer ${unbound.accessToken}`) },
      {
        weight: 3,
        arbitrary: fc.oneof(
          fc.constant(undefined),
          fc.constantFrom('Bearer', 'Bearer ', 'bearer x', 'Basic YTpi', `Bearer ${bound.accessToken}x`, `Bearer ${bound.accessToken.slice(0, -2)}AA`),
          fc.constant(`Bearer eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ sub: bound.deviceId })).toString('base64url')}.`),
          headerValue.map((v) => `Bearer ${v}`),
          headerValue,
        ),
      },
    );

  const jsonPost = (path: string, body: fc.Arbitrary<unknown>, auth?: fc.Arbitrary<string | undefined>): fc.Arbitrary<FuzzRequest> =>
    fc
      .record({ body: nearValidBody(body), type: contentType('application/json'), encoding, auth: auth ?? fc.constant(undefined) })
      .map(({ body, type, encoding, auth }) => ({ method: 'POST', path, headers: { 'content-type': type, authorization: auth }, body, encoding }));

  it(
    'enrollment: never a 5xx, a refusal changes nothing',
    async () => {
      const valid = fc.record({
        enrollmentToken: fc.oneof(fc.constant(cloud.enrollmentToken), fc.constant(personalToken), fc.constant(`icn_enr_${'A'.repeat(32)}`)),
        deviceName: fc.string({ minLength: 1, maxLength: 30 }),
        platform: fc.constantFrom('linux', 'darwin', 'win32'),
        osUser: fc.string({ minLength: 1, maxLength: 30 }),
        publicKeyJwk: fc.constantFrom(...keys),
        agentVersion: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
      });
      await fuzzRoute(cloud, 'enroll', jsonPost(WIRE_PATHS.enroll, valid.map(stripUndefined)), RUNS);
    },
    fuzzTimeout(RUNS),
  );

  it(
    'access tokens: never a 5xx, a refusal changes nothing',
    async () => {
      const valid = fc.record({ assertion: fc.constantFrom(...assertions) });
      await fuzzRoute(cloud, 'token', jsonPost(WIRE_PATHS.token, valid), RUNS);
    },
    fuzzTimeout(RUNS),
  );

  it(
    'ingest: never a 5xx, a refusal changes nothing',
    async () => {
      const valid = fc
        .record({
          batchId: fc.constant(null).map(() => uuidv7()),
          deviceId: fc.option(fc.constant(bound.deviceId), { nil: undefined }),
          spans: fc.array(span, { minLength: 1, maxLength: 5 }),
          status: fc.option(status, { nil: undefined }),
        })
        .map(stripUndefined);
      await fuzzRoute(cloud, 'ingest', jsonPost(WIRE_PATHS.ingest, valid, authorization()), RUNS * 2);
    },
    fuzzTimeout(RUNS * 2),
  );

  it(
    'consent and pairing: never a 5xx, a refusal changes nothing',
    async () => {
      const decision = fc
        .record({
          policyVersion: fc.constantFrom(1, 2),
          scopes,
          decision: fc.constantFrom('granted', 'declined', 'withdrawn'),
          method: fc.option(fc.constantFrom('tray-dialog', 'terminal', 'web'), { nil: undefined }),
          agentVersion: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
        })
        .map(stripUndefined);
      const pairing = fc.record({ code: fc.oneof(fc.stringMatching(/^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{8}$/), fc.constant('ABCD-2345')) });
      const requests = fc.oneof(jsonPost(WIRE_PATHS.consent, decision, authorization()), jsonPost(WIRE_PATHS.pair, pairing, authorization()));
      await fuzzRoute(cloud, 'consent and pair', requests, RUNS);
    },
    fuzzTimeout(RUNS),
  );

  it(
    'reads and the device’s own data: never a 5xx, a refusal changes nothing',
    async () => {
      const iso = fc.oneof(instant, fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-01-01T00:00:00+14:00'), hostileString);
      const reads: [string, Record<string, fc.Arbitrary<string>>][] = [
        [WIRE_PATHS.policy, {}],
        [POLICY_DIFF_PATH, { from: fc.integer({ min: -2, max: 3 }).map(String), to: fc.integer({ min: -2, max: 3 }).map(String) }],
        [WIRE_PATHS.binding, {}],
        [WIRE_PATHS.receiptKeys, {}],
        ['/v1/me/spans', { from: iso, to: iso, limit: fc.integer({ min: -1, max: 6000 }).map(String) }],
        ['/v1/me/viewers', {}],
        ['/v1/me/export', { format: fc.constantFrom('json', 'csv', 'xml') }],
        ['/v1/me/erasures', {}],
      ];
      const get = fc
        .record({ at: fc.constantFrom(...reads), auth: authorization() })
        .chain(({ at: [path, params], auth }) =>
          queryString(params).map((query): FuzzRequest => ({ method: 'GET', path, query, headers: { authorization: auth } })),
        );
      // Erasure is last of all: an accepted one empties the person's data for the cases after it.
      const erasure = jsonPost('/v1/me/erasure', fc.record({ eraseLocal: fc.boolean() }), authorization());
      await fuzzRoute(cloud, 'device reads', fc.oneof({ weight: 9, arbitrary: get }, { weight: 1, arbitrary: erasure }), RUNS * 2);
    },
    fuzzTimeout(RUNS * 2),
  );
});
