import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminTestbed, type AdminTestbed } from '../../../test/support/admin';
import { createTestDevice } from '../../../test/support/device-client';
import { testDatabaseKinds } from '../../../test/support/database';
import { quiet } from '../../../test/support/fuzz';
import { PASSWORD } from '../../../test/support/people';

/** Setting up dozens of devices and sessions: minutes when the shared machine is busy. */
const SETUP_MS = 240_000;

/** Tables a refused request must leave alone (sessions slide with every use; throttles count tries). */
const CHANGING_ON_USE = new Set(['sessions', 'sign_in_failures', 'sign_in_accounts', 'sign_in_known_addresses', 'sign_in_rate']);

/**
 * Every state-changing route outside /api, /v1 and /scim (bearer-token machine routes; these are the forms of the web pages), found by
 * walking the app: sent by a signed-in browser without the CSRF token, each is refused and
 * nothing stored changes.
 */
describe.each(testDatabaseKinds())('CSRF on every form route on %s', (kind) => {
  let bed: AdminTestbed;
  let cookies: { active: string; halfSignedIn: string };
  let ids: { version: string; deviceId: string; tokenId: string; linkToken: string; sessionId: string };

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, 'csrf');
    const { cloud, orgA } = bed;
    const admin = await bed.as('admin');
    cookies = { active: admin.headers.cookie ?? '', halfSignedIn: '' };
    const half = await cloud.cloud.services.auth.signInWithPassword({ email: orgA.people.admin.email, password: PASSWORD });
    cookies.halfSignedIn = `icarus_session=${half.token}`;

    // Real targets, so a route that skipped the check would change something.
    const draft = await admin.send('POST', '/api/admin/policies', {});
    const { id: tokenId, token } = await cloud.cloud.services.devices.createEnrollmentToken({ orgId: orgA.orgId, label: 'csrf', validDays: 1, maxUses: 5 });
    const device = await createTestDevice(cloud.fetchPath, cloud.url, token, 'employee');
    const draftVersion = draft.status === 201 ? String(((await draft.json()) as { version: number }).version) : '2';
    // A live reset link and another live session of the admin: the link and session forms have real targets too.
    const links: string[] = [];
    cloud.cloud.services.account.onMail(async (mail) => {
      links.push(mail.link);
    });
    cloud.cloud.services.account.requestReset(orgA.people.employee.email, '192.0.2.1');
    await cloud.cloud.services.account.settle();
    const other = await cloud.cloud.services.auth.signInWithPassword({ email: orgA.people.employee.email, password: PASSWORD });
    ids = { version: draftVersion, deviceId: device.deviceId, tokenId, linkToken: links[0]?.split('/').pop() ?? '', sessionId: other.session.id };
    // The scheduler claims its ticks (scheduler_runs) and the worker delivers notices on their own clocks: with them
    // running, a tick between the two fingerprints would look like a refused form that changed something.
    await quiet(cloud);
  }, SETUP_MS);
  afterAll(async () => bed?.stop());

  function formRoutes(): { method: string; path: string }[] {
    const seen = new Set<string>();
    return bed.cloud.cloud.app.routes
      .filter(
        (r) =>
          !['GET', 'HEAD', 'OPTIONS', 'ALL'].includes(r.method) && !r.path.startsWith('/api/') && !r.path.startsWith('/v1/') && !r.path.startsWith('/scim/'),
      )
      .map((r) => ({ method: r.method, path: r.path }))
      .filter((r) => (seen.has(`${r.method} ${r.path}`) ? false : (seen.add(`${r.method} ${r.path}`), true)));
  }

  const concrete = (path: string) =>
    path.replace(/:(\w+)(\{[^}]*\})?/g, (_m, name: string) =>
      name === 'version'
        ? ids.version
        : name === 'deviceId'
          ? ids.deviceId
          : name === 'token'
            ? ids.linkToken
            : name === 'sessionId'
              ? ids.sessionId
              : ids.tokenId,
    );

  /** Every stored row, table by table, as one digest per table. */
  async function fingerprint(): Promise<Record<string, string>> {
    const tables = await bed.cloud.database.rows<{ name: string }>(
      sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
    );
    const out: Record<string, string> = {};
    for (const { name } of tables) {
      if (CHANGING_ON_USE.has(name)) continue;
      const [row] = await bed.cloud.database.rows<{ n: number; h: string }>(
        sql`select count(*)::int as n, coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as h from ${sql.identifier(name)} t`,
      );
      out[name] = `${row?.n}:${row?.h}`;
    }
    return out;
  }

  it('finds the form routes of the pages', () => {
    const keys = formRoutes().map((r) => `${r.method} ${r.path}`);
    for (const known of [
      'POST /sign-in',
      'POST /sign-in/forgot',
      'POST /sign-in/invitation/:token',
      'POST /sign-in/reset/:token',
      'POST /sign-out',
      'POST /sign-out/everywhere',
      'POST /account/password',
      'POST /account/sessions/:sessionId/end',
      'POST /account/invitations',
      'POST /account/security/recovery-codes',
      'POST /admin/enrollment-tokens',
      'POST /admin/policies/:version/publish',
      'POST /me/data/erasure',
    ]) {
      expect(keys).toContain(known);
    }
  });

  it('refuses each one without the token and changes nothing stored', async () => {
    const before = await fingerprint();
    const wrong: string[] = [];
    for (const route of formRoutes()) {
      // Each route as the browser that can reach it: signing in (and its forgotten-password and link forms) has no
      // session yet, the code step a half one.
      const presession = route.path.startsWith('/sign-in') && route.path !== '/sign-in/totp';
      const cookie = presession ? '' : route.path === '/sign-in/totp' ? cookies.halfSignedIn : cookies.active;
      const response = await bed.cloud.cloud.app.request(concrete(route.path), {
        method: route.method,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
        body: new URLSearchParams({
          label: 'planted',
          validDays: '5',
          maxUses: '5',
          code: '123456',
          email: 'x@y.example',
          password: PASSWORD,
          current: PASSWORD,
          confirm: PASSWORD,
        }).toString(),
      });
      if (response.status !== 403) wrong.push(`${route.method} ${route.path}: ${response.status}`);
    }
    expect(wrong).toEqual([]);
    expect(await fingerprint()).toEqual(before);
  });

  it('the same form with the token goes through, so the refusal above was the token\u2019s', async () => {
    const admin = await bed.as('admin');
    const before = await fingerprint();
    const response = await bed.cloud.cloud.app.request('/admin/enrollment-tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: admin.headers.cookie ?? '' },
      body: new URLSearchParams({ _csrf: admin.headers['x-csrf-token'] ?? '', label: 'with token', validDays: '5', maxUses: '5' }).toString(),
    });
    expect(response.status).toBe(201);
    expect((await fingerprint()).enrollment_tokens).not.toBe(before.enrollment_tokens);
  });
});
