// Test-only helpers for the people-and-access tests: an org with one person per role,
// and a cookie-keeping client that follows redirects the way a browser does.
import { sql } from 'drizzle-orm';
import type { RunningCloud } from '../../src/start';
import { startTestCloud, type TestCloud } from './cloud';
import type { TestDatabaseKind } from './database';
import type { SignedInUser } from '../../src/platform/env';
import { newTotpSecret } from '../../src/modules/identity/totp';

export const PASSWORD = 'correct horse battery staple';

export interface TestOrg {
  orgId: string;
  teamId: string;
  otherTeamId: string;
  people: Record<SignedInUser['role'] | 'teammate' | 'outsider', { id: string; email: string }>;
  adminTotpSecret: string;
}

/** The people tests' cloud is the ordinary test cloud: one way to start one, on any driver. */
export type PeopleCloud = TestCloud;

export function startPeopleCloud(kind?: TestDatabaseKind, env: Record<string, string> = {}): Promise<PeopleCloud> {
  return startTestCloud(kind, env);
}

/**
 * An org with a manager of one team, an employee and a teammate in it, an outsider in
 * another team, an admin (TOTP set up) and an auditor. Emails carry `tag` to stay unique.
 */
export async function makeTestOrg(cloud: Pick<RunningCloud, 'cloud' | 'database'>, tag: string): Promise<TestOrg> {
  const { directory } = cloud.cloud.services;
  const org = await directory.createOrg({ name: `Org ${tag}`, timeZone: 'UTC' });
  const team = await directory.createTeam(org.id, 'Sales');
  const other = await directory.createTeam(org.id, 'Support');
  const person = async (role: SignedInUser['role'], name: string, teamId: string | null) => {
    const email = `${name}@${tag}.example`;
    const { id } = await directory.createUser({ orgId: org.id, email, name, role, teamId, password: PASSWORD });
    return { id, email };
  };
  const manager = await person('manager', 'manager', team.id);
  const employee = await person('employee', 'employee', team.id);
  const teammate = await person('employee', 'teammate', team.id);
  const outsider = await person('employee', 'outsider', other.id);
  const admin = await person('admin', 'admin', null);
  const auditor = await person('auditor', 'auditor', null);
  // The directory assigns managers only through import; tests set it up directly.
  await cloud.database.rows(sql`insert into team_managers (team_id, user_id) values (${team.id}, ${manager.id})`);
  const adminTotpSecret = newTotpSecret();
  await cloud.cloud.services.auth.storeTotpSecret(admin.id, adminTotpSecret);
  return { orgId: org.id, teamId: team.id, otherTeamId: other.id, people: { manager, employee, teammate, outsider, admin, auditor }, adminTotpSecret };
}

/** A tiny browser: one cookie jar per origin, manual redirects so each hop can be checked. */
export class CookieClient {
  private jars = new Map<string, Map<string, string>>();

  cookie(origin: string, name: string): string | undefined {
    return this.jars.get(origin)?.get(name);
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const jar = this.jars.get(target.origin) ?? new Map<string, string>();
    this.jars.set(target.origin, jar);
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  }

  /** Follows redirects (GET after 302/303) until a non-redirect response; returns it and the URL. */
  async follow(url: string, init: RequestInit = {}, hops = 20): Promise<{ response: Response; url: string }> {
    let current = url;
    let response = await this.fetch(current, init);
    for (let i = 0; i < hops && response.status >= 300 && response.status < 400; i++) {
      const location = response.headers.get('location');
      if (!location) break;
      current = new URL(location, current).href;
      response = await this.fetch(current);
    }
    return { response, url: current };
  }
}
