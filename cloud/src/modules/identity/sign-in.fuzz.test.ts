import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import {
  contentType,
  encoding,
  fuzzRoute,
  fuzzTimeout,
  headerValue,
  hostileString,
  nearValidBody,
  nearValidForm,
  unlimited,
  type FuzzRequest,
} from '../../../test/support/fuzz';
import { makeTestOrg, PASSWORD, type TestOrg } from '../../../test/support/people';
import { totpCode } from './totp';

/**
 * Sign-in under arbitrary input: the JSON and form sign-in, and the second factor, with
 * arbitrary bodies, content types, cookies and CSRF tokens. Never a 5xx; a refusal changes
 * nothing stored but the audit log and the failure count that leads to a lockout.
 */
const RUNS = 80;

describe.each(testDatabaseKinds())('sign-in under fuzzing on %s', (kind) => {
  let cloud: TestCloud;
  let org: TestOrg;
  /** An admin's session waiting for the second factor, and its CSRF token. */
  let pending: { cookie: string; csrf: string };

  beforeAll(async () => {
    cloud = await startTestCloud(kind, { NOTIFY_POLL_MS: '60000' }, { rateLimits: unlimited });
    org = await makeTestOrg(cloud, 'fuzz');
    const started = await cloud.cloud.services.auth.signInWithPassword({ email: org.people.admin.email, password: PASSWORD });
    pending = { cookie: `icarus_session=${started.token}`, csrf: started.session.csrfSecret };
  });
  afterAll(async () => cloud?.stopAll());

  const email = () =>
    fc.oneof(fc.constantFrom(org.people.employee.email, org.people.admin.email, org.people.employee.email.toUpperCase(), 'nobody@fuzz.example'));
  const password = fc.oneof(fc.constant(PASSWORD), fc.string({ maxLength: 20 }));

  it(
    'POST /api/session: never a 5xx, a refusal changes nothing',
    async () => {
      const valid = fc.record({ email: email(), password });
      const requests = fc
        .record({ body: nearValidBody(valid), type: contentType('application/json'), encoding })
        .map(({ body, type, encoding }): FuzzRequest => ({ method: 'POST', path: '/api/session', headers: { 'content-type': type }, body, encoding }));
      await fuzzRoute(cloud, 'api sign-in', requests, RUNS);
    },
    fuzzTimeout(RUNS),
  );

  it(
    'POST /sign-in (the form): never a 5xx, a refusal changes nothing',
    async () => {
      const csrf = 'c'.repeat(32);
      const valid = fc.record({
        email: email(),
        password,
        _csrf: fc.constantFrom(csrf, 'wrong'),
        next: fc.constantFrom('/', '/reports/team', '//evil.example', '/\t/evil.example', 'https://evil.example', '/%0d%0aSet-Cookie:x=1'),
      });
      const requests = fc
        .record({
          body: nearValidForm(valid),
          type: contentType('application/x-www-form-urlencoded'),
          cookie: fc.oneof(
            fc.constant(`icarus_csrf=${csrf}`),
            fc.constant(undefined),
            headerValue.map((v) => `icarus_csrf=${v}`),
            headerValue,
          ),
          encoding,
        })
        .map(({ body, type, cookie, encoding }): FuzzRequest => ({
          method: 'POST',
          path: '/sign-in',
          headers: { 'content-type': type, cookie },
          body,
          encoding,
        }));
      await fuzzRoute(cloud, 'form sign-in', requests, RUNS);
    },
    fuzzTimeout(RUNS),
  );

  it(
    'the second factor (JSON and form): never a 5xx, a refusal changes nothing',
    async () => {
      const code = fc.oneof(
        fc.constant(null).map(() => totpCode(org.adminTotpSecret, Date.now())),
        fc.stringMatching(/^\d{6}$/),
        fc.constantFrom(' 123456 ', '000000', '1234567', '１２３４５６'),
        hostileString,
      );
      const csrfHeader = fc.oneof({ weight: 5, arbitrary: fc.constant(pending.csrf) }, { weight: 1, arbitrary: fc.oneof(fc.constant(undefined), headerValue) });
      const cookie = fc.oneof({ weight: 5, arbitrary: fc.constant(pending.cookie) }, { weight: 1, arbitrary: fc.oneof(fc.constant(undefined), headerValue) });
      const json = fc
        .record({ body: nearValidBody(fc.record({ code })), type: contentType('application/json'), csrf: csrfHeader, cookie, encoding })
        .map(({ body, type, csrf, cookie, encoding }): FuzzRequest => ({
          method: 'POST',
          path: '/api/session/totp',
          headers: { 'content-type': type, 'x-csrf-token': csrf, cookie },
          body,
          encoding,
        }));
      const form = fc
        .record({ body: nearValidForm(fc.record({ code, _csrf: fc.constant(pending.csrf) })), type: contentType('application/x-www-form-urlencoded'), cookie })
        .map(({ body, type, cookie }): FuzzRequest => ({ method: 'POST', path: '/sign-in/totp', headers: { 'content-type': type, cookie }, body }));
      await fuzzRoute(cloud, 'second factor', fc.oneof(json, form), RUNS);
    },
    fuzzTimeout(RUNS),
  );
});
