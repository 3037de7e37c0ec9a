import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPeople, record, noonDaysAgo } from '../../../test/support/activity';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';
import { testDatabaseKinds } from '../../../test/support/database';

/** Setting up devices and sessions is slow when the shared machine is busy. */
const SETUP_MS = 240_000;
const HOUR = 3_600_000;

/**
 * API tokens through a real HTTP server: what a BI tool sends (`Authorization: Bearer icn_api_…`),
 * and what it gets: its creator's view, narrowed to its scopes and teams, for as long as the
 * creator may still read reports.
 */
describe.each(testDatabaseKinds())('API tokens on %s', (kind) => {
  let bed: AdminTestbed;
  let manager: Caller;
  let admin: Caller;
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  const read = (token: string, path: string) => bed.cloud.fetchPath(path, bearer(token));
  async function make(caller: Caller, body: Record<string, unknown>): Promise<{ token: string; id: string }> {
    const made = await caller.send('POST', '/api/account/api-tokens', body);
    expect(made.status, await made.clone().text()).toBe(201);
    const json = (await made.json()) as { token: string; apiToken: { id: string } };
    return { token: json.token, id: json.apiToken.id };
  }
  const summaryOf = (teamId: string) => `/api/reports/team-summary?teamId=${teamId}`;

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, 'apitok');
    manager = await bed.as('manager');
    admin = await bed.as('admin');
    // Two active people in the manager's team: fewer than k = 5, so the team is hidden.
    const people = await addPeople(bed.cloud, { teamId: bed.orgA.teamId, count: 2, orgId: bed.orgA.orgId, consentFrom: noonDaysAgo(10) });
    await record(bed.cloud, people, [{ at: noonDaysAgo(2), ms: HOUR }]);
  }, SETUP_MS);
  afterAll(() => bed?.stop());

  it('is shown once as icn_api_ with 256 random bits, and only its hash is stored', async () => {
    const { token, id } = await make(manager, { name: 'Power BI', scopes: ['reports:team'] });
    expect(token).toMatch(/^icn_api_[A-Za-z0-9_-]{43}$/);
    const list = await (await manager.get('/api/account/api-tokens')).json();
    expect(JSON.stringify(list)).not.toContain(token.slice(8));
    const [row] = await bed.cloud.database.rows<{ token_hash: string; expires_at: Date; created_at: Date }>(
      sql`select token_hash, expires_at, created_at from api_tokens where id = ${id}`,
    );
    expect(row?.token_hash).not.toContain(token.slice(8));
    const days = (new Date(row?.expires_at ?? 0).getTime() - new Date(row?.created_at ?? 0).getTime()) / 86_400_000;
    expect(days).toBe(90);
  });

  it('reads what its creator reads, suppressed the same way, and the read is audited as the token of its creator', async () => {
    const { token, id } = await make(manager, { name: 'Tableau', scopes: ['reports:team'] });
    const byToken = await read(token, summaryOf(bed.orgA.teamId));
    expect(byToken.status).toBe(200);
    const tokenBody = (await byToken.json()) as { status: string };
    const sessionBody = await (await manager.get(summaryOf(bed.orgA.teamId))).json();
    expect(tokenBody.status).toBe('hidden');
    expect(tokenBody).toEqual(sessionBody);
    const entries = await bed.cloud.database.rows<{ actor_id: string; details: { apiTokenId?: string } }>(
      sql`select actor_id, details from audit_log where org_id = ${bed.orgA.orgId} and action = 'report.team_summary.viewed'`,
    );
    const viaToken = entries.filter((e) => e.details.apiTokenId === id);
    expect(viaToken).toHaveLength(1);
    expect(viaToken[0]?.actor_id).toBe(bed.orgA.people.manager.id);
    const [used] = await bed.cloud.database.rows<{ last_used_at: Date | null }>(sql`select last_used_at from api_tokens where id = ${id}`);
    expect(used?.last_used_at).not.toBeNull();
  });

  it('cannot be given more than its creator sees, and reads only within its scopes and teams', async () => {
    expect((await manager.send('POST', '/api/account/api-tokens', { name: 'x', scopes: ['reports:org'] })).status).toBe(403);
    const wider = await manager.send('POST', '/api/account/api-tokens', { name: 'x', scopes: ['reports:team'], teamIds: [bed.orgA.otherTeamId] });
    expect(wider.status).toBe(403);
    expect(JSON.stringify(await wider.json())).toContain('teamIds');
    expect((await manager.send('POST', '/api/account/api-tokens', { name: 'x', scopes: ['reports:team'], expiresInDays: 366 })).status).toBe(400);

    const { token } = await make(manager, { name: 'team only', scopes: ['reports:team'] });
    expect((await read(token, summaryOf(bed.orgA.otherTeamId))).status).toBe(403);
    expect((await read(token, `/api/reports/export.csv?teamId=${bed.orgA.teamId}`)).status).toBe(403);

    // An admin's token limited to one team reads that team and no other, and no org report.
    const limited = await make(admin, { name: 'one team', scopes: ['reports:team'], teamIds: [bed.orgA.teamId] });
    expect((await read(limited.token, summaryOf(bed.orgA.teamId))).status).toBe(200);
    expect((await read(limited.token, summaryOf(bed.orgA.otherTeamId))).status).toBe(403);
    expect((await read(limited.token, '/api/reports/org-trend')).status).toBe(403);
    const org = await make(admin, { name: 'org', scopes: ['reports:org'] });
    expect((await read(org.token, '/api/reports/org-trend')).status).toBe(200);
  });

  it('is never a session and never writes', async () => {
    const { token } = await make(admin, { name: 'everything', scopes: ['reports:team', 'reports:org', 'reports:export'] });
    const write = await bed.cloud.fetchPath('/api/admin/enrollment-tokens', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'sneaky', validDays: 1, maxUses: 1 }),
    });
    expect(write.status).toBe(403);
    expect((await read(token, '/api/me')).status).toBe(403);
    expect((await read(token, '/api/account/api-tokens')).status).toBe(403);
    expect((await read(token, '/api/audit/events')).status).toBe(403);
    // Pages ignore it: the sign-in page, as for anyone without a session.
    const page = await bed.cloud.fetchPath('/reports/team', { ...bearer(token), redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toMatch(/^\/sign-in/);
  });

  it('exports CSV through the HTTP server, audited as the token', async () => {
    const { token, id } = await make(manager, { name: 'script', scopes: ['reports:export'] });
    const csv = await read(token, `/api/reports/export.csv?teamId=${bed.orgA.teamId}&bom=1`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const bytes = new Uint8Array(await csv.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder().decode(bytes.slice(3));
    expect(text.startsWith('day,app,category,productivity,people,active_ms,idle_ms,spans\r\n')).toBe(true);
    // Two people are fewer than k: no team-level row is sent.
    expect(text.split('\r\n').filter(Boolean)).toHaveLength(1);
    const entries = await bed.cloud.database.rows<{ actor_id: string }>(
      sql`select actor_id from audit_log where action = 'report.csv.exported' and details->>'apiTokenId' = ${id}`,
    );
    expect(entries.map((e) => e.actor_id)).toEqual([bed.orgA.people.manager.id]);
  });

  it('stops working when expired, revoked, or its creator loses the role or is deactivated', async () => {
    const path = summaryOf(bed.orgA.teamId);
    const expired = await make(manager, { name: 'expired', scopes: ['reports:team'], expiresInDays: 1 });
    expect((await read(expired.token, path)).status).toBe(200);
    await bed.cloud.database.rows(sql`update api_tokens set expires_at = now() - interval '1 second' where id = ${expired.id}`);
    const refused = await read(expired.token, path);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('Bearer');

    const revoked = await make(manager, { name: 'revoked', scopes: ['reports:team'] });
    expect((await manager.send('DELETE', `/api/account/api-tokens/${revoked.id}`)).status).toBe(204);
    expect((await read(revoked.token, path)).status).toBe(401);
    expect((await manager.send('DELETE', `/api/account/api-tokens/${revoked.id}`)).status).toBe(404);

    const demoted = await make(manager, { name: 'demoted', scopes: ['reports:team'] });
    const managerId = bed.orgA.people.manager.id;
    await bed.cloud.database.rows(sql`update users set role = 'employee' where id = ${managerId}`);
    try {
      expect((await read(demoted.token, path)).status).toBe(401);
    } finally {
      await bed.cloud.database.rows(sql`update users set role = 'manager' where id = ${managerId}`);
    }
    expect((await read(demoted.token, path)).status).toBe(200);
    // No longer manager of the team: the token no longer reads it.
    await bed.cloud.database.rows(sql`delete from team_managers where user_id = ${managerId}`);
    try {
      expect((await read(demoted.token, path)).status).toBe(403);
    } finally {
      await bed.cloud.database.rows(sql`insert into team_managers (team_id, user_id) values (${bed.orgA.teamId}, ${managerId})`);
    }
    await bed.cloud.database.rows(sql`update users set deactivated_at = now() where id = ${managerId}`);
    try {
      expect((await read(demoted.token, path)).status).toBe(401);
    } finally {
      await bed.cloud.database.rows(sql`update users set deactivated_at = null where id = ${managerId}`);
    }
    const audited = await bed.cloud.database.rows<{ n: number }>(
      sql`select count(*)::int as n from audit_log where action = 'api_token.revoked' and details->>'apiTokenId' = ${revoked.id}`,
    );
    expect(audited[0]?.n).toBe(1);
  });

  it('is rate limited per token', async () => {
    const { token } = await make(manager, { name: 'busy', scopes: ['reports:team'] });
    const statuses: number[] = [];
    for (let i = 0; i < 70; i++) statuses.push((await read(token, '/api/reports/teams')).status);
    expect(statuses.slice(0, 50).every((s) => s === 200)).toBe(true);
    expect(statuses).toContain(429);
  });
});
