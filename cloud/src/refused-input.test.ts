import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '@icarus/shared';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../test/support/admin';
import { testDatabaseKinds } from '../test/support/database';

/**
 * Inputs the fuzz tests of the public APIs found answered with a 500 (or, for one, with the
 * process running out of memory): each is now a 400 naming the field, and nothing is stored.
 */
describe.each(testDatabaseKinds())('input once answered with a 5xx, on %s', (kind) => {
  let bed: AdminTestbed;
  let admin: Caller;
  let manager: Caller;

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, 'refused');
    admin = await bed.as('admin');
    manager = await bed.as('manager');
  });
  afterAll(async () => bed?.stop());

  const count = async (table: string) => (await bed.cloud.database.rows<{ n: number }>(sql.raw(`select count(*)::int as n from ${table}`)))[0]?.n;
  async function refused(res: Response, field: string) {
    expect(res.status).toBe(400);
    const { error } = ApiError.parse(await res.json());
    expect(error.fields?.map((f) => f.path)).toContain(field);
    return error;
  }

  it('a team report for the last days of year 9999 is refused, not computed until memory runs out', async () => {
    const { teamId } = bed.orgA;
    await refused(await manager.get(`/api/reports/team-summary?teamId=${teamId}&from=9999-12-01&to=9999-12-31`), 'from');
    await refused(await manager.get(`/api/reports/team-trend?teamId=${teamId}&from=9999-12-01&to=9999-12-31`), 'from');
    // The cloud still answers.
    expect((await manager.get(`/api/reports/team-summary?teamId=${teamId}`)).status).toBe(200);
  });

  it('a report or compliance range in year 0 (no PostgreSQL date) is refused naming the end given', async () => {
    await refused(await admin.get('/api/compliance/report.csv?from=0000-01-01&to=0000-01-01'), 'from');
    await refused(await admin.get('/api/reports/org-trend?to=0000-01-10'), 'to');
    await refused(await admin.get(`/api/reports/person?userId=${bed.orgA.people.employee.id}&from=0001-01-01&to=0001-01-28`), 'from');
  });

  it('audit filters with a NUL or an instant in year 0 are refused naming the filter', async () => {
    await refused(await admin.get('/api/audit/events?actor=%00'), 'actor');
    await refused(await admin.get('/api/audit/export.csv?actor=a%00b'), 'actor');
    await refused(await admin.get('/api/audit/events?from=0000-01-01T00:00:00Z'), 'from');
    await refused(await admin.get('/api/audit/events?to=0000-01-01'), 'to');
  });

  it('own spans asked for from year 0 are refused naming from', async () => {
    const employee = await bed.as('employee');
    await refused(await employee.get('/api/me/spans?from=0000-01-01T00:00:00Z&to=0000-01-02T00:00:00Z'), 'from');
  });

  it('an enrollment token labelled with a NUL is refused naming label, and no token is made', async () => {
    const before = await count('enrollment_tokens');
    await refused(await admin.send('POST', '/api/admin/enrollment-tokens', { label: 'laptops\u0000', validDays: 1, maxUses: 1 }), 'label');
    expect(await count('enrollment_tokens')).toBe(before);
  });

  it('a directory import with a NUL in a name or team is refused on its line, in the dry run too, and imports no one', async () => {
    const before = { users: await count('users'), teams: await count('teams') };
    for (const dryRun of ['true', 'false']) {
      for (const [csv, field] of [
        ['email,name\nnul@refused.example,A\u0000b\n', 'line 2: name'],
        ['email,name,team\nnul@refused.example,Ab,T\u0000x\n', 'line 2: team'],
      ] as const) {
        const res = await bed.cloud.fetchPath(`/api/directory/import?dryRun=${dryRun}`, {
          method: 'POST',
          headers: { ...admin.headers, 'content-type': 'text/csv' },
          body: csv,
        });
        await refused(res, field);
      }
    }
    expect({ users: await count('users'), teams: await count('teams') }).toEqual(before);
  });

  it('notification preferences naming one event and channel twice are refused naming the second, and none are saved', async () => {
    const employee = await bed.as('employee');
    const before = await count('notification_preferences');
    const pref = { event: 'device.silent', channel: 'agent', enabled: true };
    const error = await refused(
      await employee.send('PUT', '/api/me/notifications', { preferences: [pref, { ...pref, enabled: false }] }),
      'preferences.1.event',
    );
    expect(error.code).toBe('validation_failed');
    expect(await count('notification_preferences')).toBe(before);
  });
});
