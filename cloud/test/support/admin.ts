// Test-only: a cloud with two orgs (one person per role each, a published default policy),
// and a caller per person that sends the session cookie and CSRF header on every request.
import { sql } from 'drizzle-orm';
import type { SignedInUser } from '../../src/platform/env';
import { defaultPolicy } from '../../src/modules/consent/default-policy';
import { makeTestOrg, PASSWORD, type TestOrg } from './people';
import { totpCode } from '../../src/modules/identity/totp';
import { startTestCloud, type TestCloud } from './cloud';
import type { TestDatabaseKind } from './database';

export type Person = SignedInUser['role'] | 'teammate' | 'outsider';

export interface Caller {
  get(path: string): Promise<Response>;
  send(method: string, path: string, body?: unknown): Promise<Response>;
  headers: Record<string, string>;
}

export interface AdminTestbed {
  cloud: TestCloud;
  orgA: TestOrg;
  orgB: TestOrg;
  as(person: Person, org?: TestOrg): Promise<Caller>;
  stop(): Promise<void>;
}

export async function startAdminTestbed(
  kind: TestDatabaseKind,
  tag: string,
  env: Record<string, string> = {},
  options: Parameters<typeof startTestCloud>[2] = {},
): Promise<AdminTestbed> {
  const cloud = await startTestCloud(kind, env, options);
  const orgA = await makeTestOrg(cloud, `${tag}-a`);
  const orgB = await makeTestOrg(cloud, `${tag}-b`);
  for (const org of [orgA, orgB]) await cloud.cloud.services.consent.publish(org.orgId, defaultPolicy(`Org ${org.orgId}`), { type: 'system', id: 'test' });

  async function as(person: Person, org: TestOrg = orgA): Promise<Caller> {
    const { auth } = cloud.cloud.services;
    const who = org.people[person];
    const started = await auth.signInWithPassword({ email: who.email, password: PASSWORD });
    if (person === 'admin') {
      // Replay protection refuses a TOTP step used before; tests sign admins in many times a step.
      await cloud.database.rows(sql`update users set totp_last_step = null where id = ${who.id}`);
      await auth.verifyTotp(started.session.id, totpCode(org.adminTotpSecret, Date.now()));
    }
    const headers = { cookie: `icarus_session=${started.token}`, 'x-csrf-token': started.session.csrfSecret };
    return {
      headers,
      get: (path) => cloud.fetchPath(path, { headers }),
      send: (method, path, body) =>
        cloud.fetchPath(path, { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) }),
    };
  }

  return { cloud, orgA, orgB, as, stop: () => cloud.stopAll() };
}
