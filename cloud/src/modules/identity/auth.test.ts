import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthService, SESSION_RULES } from './auth';
import { createSecretBox } from '../../platform/secret-box';
import { createAccountStore } from './account-store';
import { createRecoveryCodes } from './recovery-codes';
import { createSessionStore } from './session-store';
import { createSignInThrottle } from './throttle';
import { createThrottleStore } from './throttle-store';
import { totpCode } from './totp';
import { makeTestOrg, PASSWORD, startPeopleCloud, type PeopleCloud, type TestOrg } from '../../../test/support/people';
import { testDatabaseKinds } from '../../../test/support/database';

describe.each(testDatabaseKinds())('people and access on %s', (kind) => {
  let cloud: PeopleCloud;
  let org: TestOrg;

  beforeAll(async () => {
    // Behind a "proxy", so each call can come from its own address and only the per-address
    // test meets the sign-in rate limit.
    cloud = await startPeopleCloud(kind, { TRUST_PROXY: 'true' });
    org = await makeTestOrg(cloud, 'auth');
  });
  afterAll(async () => cloud?.stopAll());

  interface Call {
    json?: unknown;
    cookie?: string;
    csrf?: string;
    headers?: Record<string, string>;
    body?: string;
  }
  async function call(method: string, path: string, opts: Call = {}) {
    const headers: Record<string, string> = {
      'x-forwarded-for': `10.0.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
      ...opts.headers,
    };
    if (opts.json !== undefined) headers['content-type'] = 'application/json';
    if (opts.cookie) headers.cookie = `icarus_session=${opts.cookie}`;
    if (opts.csrf) headers['x-csrf-token'] = opts.csrf;
    const body = opts.json !== undefined ? JSON.stringify(opts.json) : opts.body;
    return cloud.cloud.app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  }
  function sessionCookieOf(response: Response): string {
    const line = response.headers.getSetCookie().find((l) => l.startsWith('icarus_session='));
    expect(line, 'a session cookie is set').toBeDefined();
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/SameSite=Lax/i);
    return (line ?? '').split(';')[0]?.split('=')[1] ?? '';
  }
  async function signIn(email: string, password = PASSWORD) {
    const response = await call('POST', '/api/session', { json: { email, password } });
    return {
      response,
      cookie: response.status === 201 ? sessionCookieOf(response) : '',
      body: (await response.json()) as { stage: string; csrfToken: string },
    };
  }

  describe('password sign-in', () => {
    it('signs an employee in and /api/me shows who they are', async () => {
      const { response, cookie, body } = await signIn(org.people.employee.email.toUpperCase());
      expect(response.status).toBe(201);
      expect(body.stage).toBe('active');
      const me = await call('GET', '/api/me', { cookie });
      expect(me.status).toBe(200);
      const meBody = (await me.json()) as { user: { email: string; role: string; orgId: string }; csrfToken: string };
      expect(meBody.user).toMatchObject({ email: org.people.employee.email, role: 'employee', orgId: org.orgId });
      expect(meBody.csrfToken).toBe(body.csrfToken);
    });

    it('refuses a wrong password and an unknown email the same way', async () => {
      const wrong = await signIn(org.people.teammate.email, 'nope');
      const unknown = await signIn('nobody@auth.example', 'nope');
      expect(wrong.response.status).toBe(401);
      expect(unknown.response.status).toBe(401);
      const shape = (b: unknown) => ({ ...(b as { error: object }).error, requestId: undefined });
      expect(shape(wrong.body)).toEqual(shape(unknown.body));
    });

    it('slows a guesser at one address after 3 failures, even for the right password, with Retry-After', async () => {
      const email = org.people.outsider.email;
      const from = { 'x-forwarded-for': '192.0.2.44' };
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await call('POST', '/api/session', { json: { email, password: `wrong-${i}` }, headers: from })).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      const slowed = await call('POST', '/api/session', { json: { email, password: PASSWORD }, headers: from });
      expect(slowed.status).toBe(429);
      expect(Number(slowed.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(slowed.headers.get('retry-after'))).toBeLessThanOrEqual(2);
      expect(((await slowed.json()) as { error: { message: string } }).error.message).toMatch(/from your address; try again in \d s/);
      // The holder elsewhere is not slowed by it.
      expect((await signIn(email)).response.status).toBe(201);
    });

    it('signs out: the cookie stops working', async () => {
      const { cookie, body } = await signIn(org.people.manager.email);
      expect((await call('DELETE', '/api/session', { cookie, csrf: body.csrfToken })).status).toBe(204);
      expect((await call('GET', '/api/me', { cookie })).status).toBe(401);
    });

    it('validates the body and names the field', async () => {
      const response = await call('POST', '/api/session', { json: { email: 'not-an-email', password: '' } });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { fields: { path: string }[] } };
      expect(body.error.fields.map((f) => f.path).sort()).toEqual(['email', 'password']);
    });
  });

  describe('per-address limit', () => {
    it('refuses a burst of sign-ins from one address with 429 and Retry-After', async () => {
      // Sent at once, so the bucket cannot refill in between however slow the machine is.
      const responses = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          call('POST', '/api/session', { json: { email: `guess-${i}@auth.example`, password: 'x' }, headers: { 'x-forwarded-for': '203.0.113.9' } }),
        ),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(30);
      expect(statuses.filter((s) => s === 429)).toHaveLength(10);
      const limited = responses.find((r) => r.status === 429);
      expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
      const elsewhere = await call('POST', '/api/session', {
        json: { email: 'guess-x@auth.example', password: 'x' },
        headers: { 'x-forwarded-for': '203.0.113.10' },
      });
      expect(elsewhere.status).toBe(401);
    });
  });

  describe('CSRF', () => {
    it('the sign-out form needs the session token too', async () => {
      const { cookie, body } = await signIn(org.people.teammate.email);
      const form = (fields: Record<string, string>) => ({
        cookie,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
      expect((await call('POST', '/sign-out', form({}))).status).toBe(403);
      expect((await call('GET', '/api/me', { cookie })).status).toBe(200);
      const out = await call('POST', '/sign-out', form({ _csrf: body.csrfToken }));
      expect(out.status).toBe(303);
      expect((await call('GET', '/api/me', { cookie })).status).toBe(401);
    });

    it('refuses a cookie-authenticated write without the token, accepts it with the token', async () => {
      const { cookie, body } = await signIn(org.people.teammate.email);
      const without = await call('POST', '/api/account/totp', { cookie });
      expect(without.status).toBe(403);
      expect(((await without.json()) as { error: { message: string } }).error.message).toMatch(/CSRF/);
      const wrong = await call('POST', '/api/account/totp', { cookie, csrf: 'x'.repeat(43) });
      expect(wrong.status).toBe(403);
      expect((await call('POST', '/api/account/totp', { cookie, csrf: body.csrfToken })).status).toBe(201);
    });

    it('refuses the sign-in form without its double-submit token', async () => {
      const response = await call('POST', '/sign-in', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: org.people.teammate.email, password: PASSWORD }).toString(),
      });
      expect(response.status).toBe(403);
      expect(response.headers.getSetCookie().some((l) => l.startsWith('icarus_session='))).toBe(false);
    });
  });

  describe('TOTP', () => {
    it('an admin with TOTP must give a code before anything else, and a code works once', async () => {
      const { cookie, body } = await signIn(org.people.admin.email);
      expect(body.stage).toBe('needs_totp');
      expect((await call('GET', '/api/audit/verify', { cookie })).status).toBe(401);
      const code = totpCode(org.adminTotpSecret, Date.now());
      expect((await call('POST', '/api/session/totp', { cookie, csrf: body.csrfToken, json: { code } })).status).toBe(200);
      const verify = await call('GET', '/api/audit/verify', { cookie });
      expect(verify.status).toBe(200);
      expect(await verify.json()).toMatchObject({ ok: true });

      // The same code again, on a fresh session, is a replay and is refused.
      const second = await signIn(org.people.admin.email);
      const replay = await call('POST', '/api/session/totp', { cookie: second.cookie, csrf: second.body.csrfToken, json: { code } });
      expect(replay.status).toBe(401);
    });

    it('an admin without TOTP is forced to enrol first, then gets in', async () => {
      const { directory } = cloud.cloud.services;
      const { id } = await directory.createUser({ orgId: org.orgId, email: 'new-admin@auth.example', name: 'New Admin', role: 'admin', password: PASSWORD });
      const { cookie, body } = await signIn('new-admin@auth.example');
      expect(body.stage).toBe('needs_enrollment');
      expect((await call('GET', '/api/audit/verify', { cookie })).status).toBe(403);
      const redirected = await call('GET', '/sign-in/totp', { cookie });
      expect(redirected.status).toBe(303);
      expect(redirected.headers.get('location')).toBe('/account/security');

      const begun = await call('POST', '/api/account/totp', { cookie, csrf: body.csrfToken });
      expect(begun.status).toBe(201);
      const { secret, uri } = (await begun.json()) as { secret: string; uri: string };
      expect(uri).toMatch(/^otpauth:\/\/totp\/Icarus%20Nova:new-admin%40auth\.example\?/);
      expect(uri).toContain(`secret=${secret}`);
      const bad = await call('POST', '/api/account/totp/confirm', { cookie, csrf: body.csrfToken, json: { code: '000000' } });
      expect(bad.status).toBe(400);
      const good = await call('POST', '/api/account/totp/confirm', { cookie, csrf: body.csrfToken, json: { code: totpCode(secret, Date.now()) } });
      expect(good.status).toBe(200);
      expect((await call('GET', '/api/audit/verify', { cookie })).status).toBe(200);
      // Sealed at rest under the newest data key, named in the value: the stored value is not the seed.
      const stored = (await directory.findUser(id))?.totpSecret ?? '';
      expect(stored).toMatch(/^v2\.[0-9a-f]{16}\./);
      expect(stored).not.toContain(secret);
    });

    it('an employee may enrol (offered, not required) and is then asked for a code', async () => {
      const { directory } = cloud.cloud.services;
      await directory.createUser({ orgId: org.orgId, email: 'careful@auth.example', name: 'Careful', role: 'employee', password: PASSWORD });
      const first = await signIn('careful@auth.example');
      expect(first.body.stage).toBe('active');
      const begun = (await (await call('POST', '/api/account/totp', { cookie: first.cookie, csrf: first.body.csrfToken })).json()) as { secret: string };
      const now = Date.now();
      await call('POST', '/api/account/totp/confirm', { cookie: first.cookie, csrf: first.body.csrfToken, json: { code: totpCode(begun.secret, now) } });
      const second = await signIn('careful@auth.example');
      expect(second.body.stage).toBe('needs_totp');
      // The enrolment code was used; the next window's code (window 1) is accepted.
      const next = totpCode(begun.secret, now + 30_000);
      expect((await call('POST', '/api/session/totp', { cookie: second.cookie, csrf: second.body.csrfToken, json: { code: next } })).status).toBe(200);
    });
  });

  describe('pages', () => {
    it('the sign-in page has labelled fields and sends an unsigned-in visitor there', async () => {
      const page = await call('GET', '/sign-in');
      const html = await page.text();
      expect(html).toContain('<label for="email">');
      expect(html).toContain('<label for="password">');
      const security = await call('GET', '/account/security');
      expect(security.status).toBe(303);
      expect(security.headers.get('location')).toBe('/sign-in?next=%2Faccount%2Fsecurity');
    });

    it('signs in through the form with the double-submit token and redirects to a safe next', async () => {
      const page = await call('GET', '/sign-in?next=//evil.example');
      const csrf =
        page.headers
          .getSetCookie()
          .find((l) => l.startsWith('icarus_csrf='))
          ?.split(';')[0]
          ?.split('=')[1] ?? '';
      const html = await page.text();
      expect(html).toContain(`value="${csrf}"`);
      const response = await call('POST', '/sign-in', {
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `icarus_csrf=${csrf}` },
        body: new URLSearchParams({ email: org.people.teammate.email, password: PASSWORD, _csrf: csrf, next: '//evil.example' }).toString(),
      });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/');
      expect(response.headers.getSetCookie().some((l) => l.startsWith('icarus_session='))).toBe(true);
    });
  });

  describe('session lifetime', () => {
    it('slides with use, ends after the idle timeout, and never outlives the hard cap', async () => {
      let clock = Date.now();
      const { directory, audit } = cloud.cloud.services;
      const totpBox = createSecretBox(Buffer.alloc(32, 7), 'totp-secrets');
      const now = () => new Date(clock);
      const throttle = createSignInThrottle({ store: createThrottleStore(cloud.database), now });
      const recovery = createRecoveryCodes(createAccountStore(cloud.database), now);
      const auth = createAuthService({ directory, audit, totpBox, recovery, store: createSessionStore(cloud.database), throttle, now });
      const { token } = await auth.signInWithPassword({ email: org.people.teammate.email, password: PASSWORD });
      // Used every 11 hours: each use pushes the 12-hour idle expiry forward.
      for (let i = 0; i < 3; i++) {
        clock += 11 * 3600_000;
        expect(await auth.resolve(token)).toBeDefined();
      }
      clock += SESSION_RULES.idleMs + 1;
      expect(await auth.resolve(token)).toBeUndefined();

      const second = await auth.signInWithPassword({ email: org.people.teammate.email, password: PASSWORD });
      const created = clock;
      while (clock - created < SESSION_RULES.absoluteMs - 11 * 3600_000) {
        clock += 11 * 3600_000;
        expect(await auth.resolve(second.token)).toBeDefined();
      }
      clock = created + SESSION_RULES.absoluteMs + 1;
      expect(await auth.resolve(second.token)).toBeUndefined();

      // The purge drops what expired; a live session stays.
      const live = await auth.signInWithPassword({ email: org.people.teammate.email, password: PASSWORD });
      const third = await auth.signInWithPassword({ email: org.people.teammate.email, password: PASSWORD });
      clock += SESSION_RULES.idleMs / 2;
      expect(await auth.resolve(live.token)).toBeDefined();
      clock += SESSION_RULES.idleMs / 2 + 120_000;
      const purged = await auth.purgeExpired();
      expect(purged.sessions).toBeGreaterThanOrEqual(1);
      expect(await auth.resolve(live.token)).toBeDefined();
      expect(await auth.resolve(third.token)).toBeUndefined();
    });

    it('marks the cookie Secure when the request came over https', async () => {
      const response = await cloud.cloud.app.request('https://icarus.example/api/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: org.people.teammate.email, password: PASSWORD }),
      });
      expect(response.status).toBe(201);
      expect(response.headers.getSetCookie().find((l) => l.startsWith('icarus_session='))).toMatch(/;\s*Secure/i);
    });
  });

  describe('OpenAPI', () => {
    it('documents the people-and-access routes and the session cookie', async () => {
      const doc = (await (await call('GET', '/openapi.json')).json()) as {
        paths: Record<string, unknown>;
        components: { securitySchemes: Record<string, { name?: string }> };
      };
      for (const p of ['/api/session', '/api/me', '/api/account/totp', '/api/directory/import', '/api/audit/verify'])
        expect(Object.keys(doc.paths)).toContain(p);
      expect(doc.components.securitySchemes.csrf?.name).toBe('X-CSRF-Token');
    });
  });
});
