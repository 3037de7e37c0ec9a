import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_ROLES, ROUTE_ACCESS } from '../../../test/support/route-access';
import { makeTestOrg, PASSWORD, startPeopleCloud, type PeopleCloud, type TestOrg } from '../../../test/support/people';
import { testDatabaseKinds } from '../../../test/support/database';
import { totpCode } from './totp';

/**
 * Every /api route registered on the app, with every role, a half-signed-in admin, an
 * admin of another org, and nobody. Routes added later by other modules are walked too.
 */
type Caller = (typeof ALL_ROLES)[number] | 'admin_without_code' | 'other_org_admin' | 'anonymous';
const CALLERS: Caller[] = [...ALL_ROLES, 'admin_without_code', 'other_org_admin', 'anonymous'];

describe.each(testDatabaseKinds())('role x route matrix on %s', (kind) => {
  let cloud: PeopleCloud;
  let orgA: TestOrg;
  let orgB: TestOrg;
  const sessions = new Map<Caller, { cookie: string; csrf: string }>();

  async function signIn(caller: Exclude<Caller, 'anonymous'>): Promise<{ cookie: string; csrf: string }> {
    const { auth } = cloud.cloud.services;
    const org = caller === 'other_org_admin' ? orgB : orgA;
    const role = caller === 'other_org_admin' || caller === 'admin_without_code' ? 'admin' : caller;
    const started = await auth.signInWithPassword({ email: org.people[role].email, password: PASSWORD });
    if (role === 'admin' && caller !== 'admin_without_code') {
      // Replay protection refuses a step used before; this test signs admins in many times
      // within one step, so it forgets the last used step first.
      await cloud.database.rows(sql`update users set totp_last_step = null where id = ${org.people.admin.id}`);
      await auth.verifyTotp(started.session.id, totpCode(org.adminTotpSecret, Date.now()));
    }
    return { cookie: `icarus_session=${started.token}`, csrf: started.session.csrfSecret };
  }

  function apiRoutes(): { method: string; path: string }[] {
    const seen = new Set<string>();
    return cloud.cloud.app.routes
      .filter((r) => r.path.startsWith('/api/') && r.method !== 'ALL')
      .map((r) => ({ method: r.method, path: r.path }))
      .filter((r) => (seen.has(`${r.method} ${r.path}`) ? false : (seen.add(`${r.method} ${r.path}`), true)));
  }

  /** Path parameters point at org A's rows, so the other org's admin is asking for foreign data. */
  function concrete(path: string): string {
    return path.replace(/:(\w+)(\{[^}]*\})?/g, (_m, name: string) => {
      if (/team/i.test(name)) return orgA.teamId;
      if (/org/i.test(name)) return orgA.orgId;
      return orgA.people.employee.id;
    });
  }

  async function call(method: string, path: string, caller: Caller, fresh = false, query = '') {
    const headers: Record<string, string> = {};
    if (caller !== 'anonymous') {
      let session = sessions.get(caller);
      if (!session || fresh) session = await signIn(caller);
      if (!fresh) sessions.set(caller, session);
      headers.cookie = session.cookie;
      headers['x-csrf-token'] = session.csrf;
    }
    const write = !['GET', 'HEAD', 'OPTIONS'].includes(method);
    if (write) headers['content-type'] = 'application/json';
    return cloud.cloud.app.request(`${concrete(path)}${query}`, { method, headers, ...(write ? { body: '{}' } : {}) });
  }

  /** Org A's ids and emails in a response, other than those the request itself named. */
  function leakedFrom(requested: string, text: string): string[] {
    const people = Object.values(orgA.people);
    const marks = [orgA.orgId, orgA.teamId, orgA.otherTeamId, ...people.map((p) => p.id), ...people.map((p) => p.email)];
    return marks.filter((mark) => !requested.includes(mark) && text.includes(mark));
  }

  // Nine sign-ins (argon2) and every route times every caller: minutes on a busy 2-core machine.
  beforeAll(async () => {
    cloud = await startPeopleCloud(kind);
    orgA = await makeTestOrg(cloud, 'org-a');
    orgB = await makeTestOrg(cloud, 'org-b');
    for (const caller of CALLERS) if (caller !== 'anonymous') sessions.set(caller, await signIn(caller));
  }, 180_000);
  afterAll(async () => cloud?.stopAll());

  describe('role x route matrix', () => {
    it('finds the API routes to walk', () => {
      const keys = apiRoutes().map((r) => `${r.method} ${r.path}`);
      for (const known of Object.keys(ROUTE_ACCESS)) expect(keys).toContain(known);
    });

    it('every caller gets what its role allows on every /api route', async () => {
      const failures: string[] = [];
      for (const route of apiRoutes()) {
        const key = `${route.method} ${route.path}`;
        const rule = ROUTE_ACCESS[key];
        for (const caller of CALLERS) {
          const response = await call(route.method, route.path, caller, rule !== undefined && 'endsSession' in rule);
          const status = response.status;
          const text = await response.text();
          let expected: string;
          let ok: boolean;
          if (rule && 'public' in rule) {
            expected = 'not 401/403';
            ok = status !== 401 && status !== 403;
          } else if (caller === 'anonymous') {
            expected = '401';
            ok = status === 401;
          } else if (caller === 'admin_without_code') {
            // Only the routes that finish signing in, read "me" or sign out accept a half session.
            const exempt = ['POST /api/session/totp', 'GET /api/me', 'DELETE /api/session'].includes(key);
            expected = exempt ? 'not 401/403' : '401';
            ok = exempt ? status !== 401 && status !== 403 : status === 401;
          } else if (caller === 'other_org_admin') {
            // Another org's admin: may call the route for its own org, never see org A's rows,
            // whether it names org A's ids in the path or (for reads) in the query.
            const hasParams = route.path.includes(':');
            let leaked = leakedFrom(concrete(route.path), text);
            if (route.method === 'GET') {
              const query = `?teamId=${orgA.teamId}&userId=${orgA.people.employee.id}`;
              const probe = await call(route.method, route.path, caller, false, query);
              leaked = [...leaked, ...leakedFrom(`${concrete(route.path)}${query}`, await probe.text())];
            }
            expected = hasParams ? '403/404 and nothing of org A' : 'nothing of org A';
            ok = leaked.length === 0 && (!hasParams || status === 403 || status === 404);
            if (leaked.length > 0) expected += ` (leaked ${leaked.join(', ')})`;
          } else if (rule && 'roles' in rule) {
            const allowed = rule.roles.includes(caller);
            expected = allowed ? 'not 401/403' : '403';
            ok = allowed ? status !== 401 && status !== 403 : status === 403;
          } else {
            // Not in ROUTE_ACCESS: its roles are its module's business; signed in must not be 401.
            expected = 'not 401';
            ok = status !== 401;
          }
          if (!ok) failures.push(`${key} as ${caller}: got ${status}, expected ${expected}: ${text.slice(0, 160)}`);
        }
      }
      expect(failures).toEqual([]);
    }, 180_000);

    it('a closed route refuses JSON-API callers with the shared error shape', async () => {
      const response = await call('GET', '/api/audit/verify', 'employee');
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: { code: 'forbidden' } });
    });
  });
});
