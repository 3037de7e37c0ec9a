import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, type TestDevice } from '../../../test/support/device-client';
import {
  contentType,
  encoding,
  fuzzRoute,
  fuzzTimeout,
  headerValue,
  hostileString,
  nastyStrings,
  nearValidBody,
  queryString,
  unlimited,
  type FuzzRequest,
} from '../../../test/support/fuzz';
import { defaultPolicy } from '../consent';

/**
 * The admin APIs under arbitrary input, as a signed-in admin with a CSRF token: policy drafts
 * and their steps, enrollment tokens, device assignment and revocation, category rules, the
 * directory import, and the notification endpoints. Never a 5xx; a refusal names the bad field
 * and changes nothing stored but the audit log.
 */
const RUNS = 70;

describe.each(testDatabaseKinds())('admin APIs under fuzzing on %s', (kind) => {
  let bed: AdminTestbed;
  let admin: Caller;
  let device: TestDevice;
  /** Ids the paths may name: rows of this org, another org's, and none at all. */
  let ids: string[];

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, 'fuzz', { NOTIFY_POLL_MS: '60000' }, { rateLimits: unlimited });
    admin = await bed.as('admin');
    const token = await bed.cloud.tokenFor(bed.orgA.people.employee.id, bed.orgA.orgId);
    device = await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, token);
    const { people } = bed.orgA;
    ids = [people.employee.id, people.manager.id, bed.orgB.people.employee.id, bed.orgA.teamId, device.deviceId, '00000000-0000-0000-0000-000000000000'];
  });
  afterAll(async () => bed?.stop());

  /** The admin's session and CSRF token mostly; sometimes none, another's, or a wrong one. */
  const credentials = () =>
    fc.oneof(
      { weight: 12, arbitrary: fc.constant(admin.headers) },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.constant({}),
          fc.constant({ cookie: admin.headers.cookie }),
          headerValue.map((v) => ({ cookie: admin.headers.cookie, 'x-csrf-token': v })),
          headerValue.map((v) => ({ cookie: `icarus_session=${v}`, 'x-csrf-token': admin.headers['x-csrf-token'] })),
        ),
      },
    );

  const withBody = (method: string, path: fc.Arbitrary<string>, body: fc.Arbitrary<string>, type = 'application/json'): fc.Arbitrary<FuzzRequest> =>
    fc
      .record({ path, body, type: contentType(type), encoding, auth: credentials() })
      .map(({ path, body, type, encoding, auth }) => ({ method, path, headers: { ...auth, 'content-type': type }, body, encoding }));

  /** A path parameter: a real id, a version number, or anything at all (kept a valid URL segment). */
  const param = () =>
    fc.oneof(
      fc.constantFrom(...ids),
      fc.constantFrom('1', '2', '3', '0', '-1', '1.5', '1e3', '999999999999', 'NaN', '%201'),
      hostileString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd')).slice(0, 2000) || 'x'),
    );

  it(
    'policy drafts and their steps: never a 5xx, a refusal changes nothing',
    async () => {
      const content = fc.record({
        ...Object.fromEntries(Object.entries(defaultPolicy('Org fuzz')).map(([k, v]) => [k, fc.constant(v)])),
        purpose: fc.string({ minLength: 1, maxLength: 200 }),
        titleMode: fc.constantFrom('full', 'redacted', 'hashed'),
        redactionRules: fc.array(
          fc.record({ pattern: fc.constantFrom('secret', '\\d{4}', '(a+)+$', '(?<n>x)', '[a-'), replacement: fc.string({ maxLength: 10 }) }),
          {
            maxLength: 2,
          },
        ),
        minGroupSize: fc.integer({ min: 5, max: 8 }),
        retentionDays: fc.integer({ min: 1, max: 400 }),
      });
      const steps = fc
        .record({ version: param(), step: fc.constantFrom('submit', 'reopen', 'approve', 'publish'), auth: credentials() })
        .map(({ version, step, auth }): FuzzRequest => ({ method: 'POST', path: `/api/admin/policies/${version}/${step}`, headers: { ...auth } }));
      const requests = fc.oneof(
        withBody('POST', fc.constant('/api/admin/policies'), nearValidBody(content)),
        withBody(
          'PUT',
          param().map((v) => `/api/admin/policies/${v}`),
          nearValidBody(content),
        ),
        steps,
        fc
          .record({ id: param(), auth: credentials() })
          .map(({ id, auth }): FuzzRequest => ({ method: 'GET', path: `/api/admin/people/${id}/consent-history`, headers: auth })),
      );
      await fuzzRoute(bed.cloud, 'policy drafts', requests, RUNS);
    },
    fuzzTimeout(RUNS),
  );

  it(
    'enrollment tokens and devices: never a 5xx, a refusal changes nothing',
    async () => {
      const token = fc.record({
        label: fc.string({ minLength: 1, maxLength: 30 }),
        validDays: fc.oneof(fc.integer({ min: 1, max: 365 }), fc.constantFrom('7', '1.5')),
        maxUses: fc.integer({ min: 1, max: 100 }),
        teamId: fc.constantFrom(bed.orgA.teamId, bed.orgB.teamId, null, ''),
        userId: fc.constantFrom(bed.orgA.people.employee.id, bed.orgB.people.employee.id, null, ''),
      });
      const assignment = fc.record({
        userId: fc.constantFrom(bed.orgA.people.employee.id, bed.orgA.people.teammate.id, bed.orgB.people.employee.id, null, ''),
      });
      const requests = fc.oneof(
        withBody('POST', fc.constant('/api/admin/enrollment-tokens'), nearValidBody(token)),
        withBody(
          'POST',
          fc.oneof(fc.constant(device.deviceId), param()).map((id) => `/api/admin/devices/${id}/assign`),
          nearValidBody(assignment),
        ),
        fc
          .record({ id: param(), what: fc.constantFrom('devices', 'enrollment-tokens'), auth: credentials() })
          .filter(({ id }) => id !== device.deviceId)
          .map(({ id, what, auth }): FuzzRequest => ({ method: 'POST', path: `/api/admin/${what}/${id}/revoke`, headers: auth })),
      );
      await fuzzRoute(bed.cloud, 'tokens and devices', requests, RUNS);
    },
    fuzzTimeout(RUNS),
  );

  it(
    'category rules: never a 5xx, a refusal changes nothing',
    async () => {
      const rule = fc.record({
        app: fc.constantFrom('Code', '^Slack$', '(?i)term.*', '(a+)+$', 'x{2,3}'),
        title: fc.option(fc.constantFrom('standup', '\\bPR\\b'), { nil: undefined }),
        category: fc.string({ minLength: 1, maxLength: 20 }),
        productivity: fc.constantFrom('productive', 'neutral', 'unproductive'),
      });
      const body = fc.record({ rules: fc.array(rule, { minLength: 1, maxLength: 4 }) }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
      await fuzzRoute(bed.cloud, 'category rules', withBody('PUT', fc.constant('/api/categories/rules'), nearValidBody(body)), RUNS);
    },
    fuzzTimeout(RUNS),
  );

  it(
    'directory import: never a 5xx, a refusal changes nothing',
    async () => {
      const cell = fc.oneof(
        { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
        { weight: 2, arbitrary: fc.constantFrom(...nastyStrings) },
        { weight: 2, arbitrary: hostileString },
      );
      const quote = (v: string) => (/[",\r\n]/.test(v) || v.trim() !== v ? `"${v.replace(/"/g, '""')}"` : v);
      const valid = <T>(right: fc.Arbitrary<T>) => fc.oneof({ weight: 12, arbitrary: right }, { weight: 1, arbitrary: cell });
      const row = fc.record({
        email: valid(
          fc.oneof(fc.stringMatching(/^[a-z]{1,8}@[a-z]{1,8}\.example$/), fc.constantFrom(bed.orgA.people.employee.email, bed.orgB.people.employee.email)),
        ),
        name: valid(fc.stringMatching(/^[A-Za-z][A-Za-z .'-]{0,19}$/)),
        osUser: valid(fc.stringMatching(/^[a-z]{0,8}$/)),
        team: valid(fc.constantFrom('Sales', 'Support', 'New team', '')),
        managerEmail: valid(fc.constantFrom('', bed.orgA.people.manager.email)),
        role: valid(fc.constantFrom('', 'employee', 'manager', 'admin', 'auditor')),
      });
      const header = fc.oneof(
        { weight: 5, arbitrary: fc.constant('email,name,osUser,team,managerEmail,role') },
        { weight: 1, arbitrary: fc.constantFrom('email,name', 'Email,Full Name,Username', 'name', '', 'email,email,name', 'email,name,bogus') },
      );
      const csv = fc
        .record({
          header,
          rows: fc.array(row, { minLength: 1, maxLength: 4 }),
          raw: fc.option(fc.constantFrom('"unterminated', '\ufeff', '\r\n\r\n', 'a,"b"c', '\u0000'), { nil: undefined }),
        })
        .map(({ header, rows, raw }) => [header, ...rows.map((r) => Object.values(r).map(quote).join(',')), raw ?? ''].join('\n'))
        // Now and then a NUL in every cell of the last row: any column that lets one through is found at once.
        .chain((text) =>
          fc.oneof(
            { weight: 4, arbitrary: fc.constant(text) },
            { weight: 1, arbitrary: fc.constant(text.replace(/([^,\n]+)(?=,|$)/g, (cell) => `${cell}\u0000`)) },
          ),
        );
      const requests = fc
        .record({
          body: csv,
          type: contentType('text/csv'),
          query: queryString({ dryRun: fc.constantFrom('true', 'false', 'TRUE', '1', '') }, fc.record({ dryRun: fc.constantFrom('true', 'false') })),
          encoding,
          auth: credentials(),
        })
        .map(({ body, type, query, encoding, auth }): FuzzRequest => ({
          method: 'POST',
          path: '/api/directory/import',
          query,
          headers: { ...auth, 'content-type': type },
          body,
          encoding,
        }));
      await fuzzRoute(bed.cloud, 'directory import', requests, RUNS);
    },
    fuzzTimeout(RUNS),
  );

  it(
    'notification preferences and webhooks: never a 5xx, a refusal changes nothing',
    async () => {
      const event = fc.constantFrom('consent.granted', 'consent.withdrawn', 'policy.published', 'device.silent', 'report.weekly', 'erasure.completed');
      const preferences = fc.record({
        preferences: fc.array(fc.record({ event, channel: fc.constantFrom('email', 'agent'), enabled: fc.boolean() }), { minLength: 1, maxLength: 3 }),
      });
      const webhook = fc.record({
        url: fc.oneof(
          fc.webUrl({ validSchemes: ['https'] }),
          fc.constantFrom('http://127.0.0.1:1/hook', 'https://[::1]/x', 'https://example.com/%00', 'javascript:alert(1)'),
        ),
        events: fc.uniqueArray(event, { minLength: 1, maxLength: 3 }),
      });
      const requests = fc.oneof(
        withBody('PUT', fc.constant('/api/me/notifications'), nearValidBody(preferences)),
        withBody('POST', fc.constant('/api/notifications/webhooks'), nearValidBody(webhook)),
        fc
          .record({ id: param(), auth: credentials() })
          .map(({ id, auth }): FuzzRequest => ({ method: 'DELETE', path: `/api/notifications/webhooks/${id}`, headers: auth })),
      );
      await fuzzRoute(bed.cloud, 'notifications', requests, RUNS);
    },
    fuzzTimeout(RUNS),
  );
});
