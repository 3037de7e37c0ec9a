import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestOrg, startPeopleCloud, type PeopleCloud, type TestOrg } from '../../../test/support/people';
import { testDatabaseKinds } from '../../../test/support/database';
import { totpCode } from '../identity';
import { parseCsv } from './csv';

describe('parseCsv', () => {
  it('handles a BOM, CRLF, quoted commas, quotes and line breaks, and keeps line numbers', () => {
    const text = '\uFEFFemail,name\r\n"a@x.example","Doe, Jane"\r\n\r\nb@x.example,"Say ""hi""\nthere"\r\nc@x.example,  Spaced  \r\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['email', 'name'] },
      { line: 2, fields: ['a@x.example', 'Doe, Jane'] },
      { line: 4, fields: ['b@x.example', 'Say "hi"\nthere'] },
      { line: 6, fields: ['c@x.example', 'Spaced'] },
    ]);
  });

  it('reports an unclosed quote with its line', () => {
    expect(() => parseCsv('email,name\na@x.example,"open\n')).toThrow(/line 2/);
  });
});

describe.each(testDatabaseKinds())('directory import on %s', (kind) => {
  let cloud: PeopleCloud;
  let org: TestOrg;
  let adminCookie = '';
  let csrf = '';

  beforeAll(async () => {
    cloud = await startPeopleCloud(kind);
    org = await makeTestOrg(cloud, 'import');
    const app = cloud.cloud.app;
    const signIn = await app.request('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: org.people.admin.email, password: 'correct horse battery staple' }),
    });
    adminCookie = signIn.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    csrf = ((await signIn.json()) as { csrfToken: string }).csrfToken;
    await app.request('/api/session/totp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: adminCookie, 'x-csrf-token': csrf },
      body: JSON.stringify({ code: totpCode(org.adminTotpSecret, Date.now()) }),
    });
  });
  afterAll(async () => cloud?.stopAll());

  const upload = (csv: string, dryRun: boolean) =>
    cloud.cloud.app.request(`/api/directory/import?dryRun=${dryRun}`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', cookie: adminCookie, 'x-csrf-token': csrf },
      body: csv,
    });
  const count = async (table: string) => {
    const [row] = await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)} where org_id = ${org.orgId}`);
    return row?.n ?? 0;
  };

  describe('POST /api/directory/import', () => {
    it('reports every bad row by line and field, and imports nothing', async () => {
      const before = await count('users');
      const csv = [
        'email,name,osUser,team,managerEmail,role',
        'lea@import.example,Lea,lea,Field,,',
        'not-an-email,Bad Email,,Field,,',
        'max@import.example,,max,Field,lea@import.example,',
        'lea@import.example,Lea Again,,Field,,',
        'kim@import.example,Kim,,Field,ghost@import.example,boss',
        'short@import.example,Short',
      ].join('\r\n');
      for (const dryRun of [true, false]) {
        const response = await upload(csv, dryRun);
        expect(response.status).toBe(400);
        const body = (await response.json()) as { error: { message: string; fields: { path: string; problem: string }[] } };
        expect(body.error.message).toMatch(/nothing was imported/);
        const paths = body.error.fields.map((f) => f.path);
        expect(paths).toEqual(expect.arrayContaining(['line 3: email', 'line 4: name', 'line 6: role', 'line 7: row']));
        expect(paths.some((p) => p.startsWith('line 2'))).toBe(false);
      }
      // Cross-row problems are found once every row is valid on its own.
      const crossRow = await upload(
        ['email,name,managerEmail', 'lea@import.example,Lea,', 'lea@import.example,Lea 2,', 'kim@import.example,Kim,ghost@import.example'].join('\n'),
        true,
      );
      const fields = ((await crossRow.json()) as { error: { fields: { path: string; problem: string }[] } }).error.fields;
      expect(fields).toEqual([
        { path: 'line 3: email', problem: 'duplicate of line 2' },
        { path: 'line 4: managerEmail', problem: 'no such person in this file or the directory' },
      ]);
      expect(await count('users')).toBe(before);
    });

    it('a good file: the dry run counts and writes nothing, the real run imports and is audited', async () => {
      const csv = [
        '\uFEFFEmail,Name,OS User,Team,Manager Email',
        'boss@import.example,"Boss, The",boss,Field,',
        'ann@import.example,Ann,ann,Field,boss@import.example',
        'ben@import.example,Ben,BEN,Field,boss@import.example',
        `${org.people.employee.email},Renamed Employee,emp,Sales,boss@import.example`,
      ].join('\r\n');
      const before = await count('users');
      const dry = await upload(csv, true);
      expect(dry.status).toBe(200);
      expect(await dry.json()).toEqual({ dryRun: true, rows: 4, teamsCreated: 1, usersCreated: 3, usersUpdated: 1, managerAssignments: 2 });
      expect(await count('users')).toBe(before);

      const real = await upload(csv, false);
      expect(real.status).toBe(201);
      expect(await count('users')).toBe(before + 3);
      const { directory } = cloud.cloud.services;
      const boss = await directory.findUserByEmail(org.orgId, 'boss@import.example');
      expect(boss).toMatchObject({ name: 'Boss, The', role: 'manager' });
      const ann = await directory.findUserByEmail(org.orgId, 'ann@import.example');
      expect(ann?.managerId).toBe(boss?.id);
      expect((await directory.findUser(org.people.employee.id))?.name).toBe('Renamed Employee');
      const managed = await directory.managedTeamIds(boss?.id ?? '');
      expect(managed).toHaveLength(2);
      expect(managed).toContain(org.teamId);

      const audit = await cloud.database.rows<{ action: string; subjects: number }>(
        sql`select action, jsonb_array_length(subject_user_ids) as subjects from audit_log where org_id = ${org.orgId} and action like 'directory.import%' order by seq`,
      );
      expect(audit.map((a) => a.action)).toContain('directory.import.dry_run');
      expect(audit.at(-1)).toEqual({ action: 'directory.import', subjects: 4 });
      expect((await cloud.cloud.services.audit.verify(org.orgId)).ok).toBe(true);

      // Importing the same file again changes nothing new: upsert by email.
      const again = await upload(csv, false);
      expect(await again.json()).toMatchObject({ usersCreated: 0, usersUpdated: 4, teamsCreated: 0 });
    });

    it('a file of 9,000 people (more than one statement carries) imports whole, each with their team and manager', async () => {
      const lines = ['email,name,team,managerEmail,role', 'lead@big.example,Lead,Big 0,,manager'];
      for (let i = 0; i < 9_000; i++) lines.push(`p${i}@big.example,Person ${i},Big ${i % 30},lead@big.example,employee`);
      const before = await count('users');
      const real = await upload(lines.join('\n'), false);
      expect(real.status).toBe(201);
      expect(await real.json()).toMatchObject({ usersCreated: 9_001, teamsCreated: 30 });
      expect(await count('users')).toBe(before + 9_001);
      const { directory } = cloud.cloud.services;
      const lead = await directory.findUserByEmail(org.orgId, 'lead@big.example');
      const [managed] = await cloud.database.rows<{ n: number }>(
        sql`select count(*)::int as n from users where org_id = ${org.orgId} and manager_id = ${lead?.id ?? ''}::uuid`,
      );
      expect(managed?.n).toBe(9_000);
      const last = await directory.findUserByEmail(org.orgId, 'p8999@big.example');
      const [history] = await cloud.database.rows<{ n: number }>(
        sql`select count(*)::int as n from team_memberships where org_id = ${org.orgId} and team_id is not null and user_id in (select id from users where email like '%@big.example')`,
      );
      expect(history?.n).toBe(9_001);
      expect(last?.teamId).not.toBeNull();
    }, 120_000);

    it('an email another org has is a new person here, and the answer says nothing of that org', async () => {
      const { directory } = cloud.cloud.services;
      const other = await directory.createOrg({ name: 'Other Org', timeZone: 'UTC' });
      await directory.createUser({ orgId: other.id, email: 'Shared@Import.example', name: 'Theirs', role: 'employee' });
      await directory.createUser({ orgId: other.id, email: 'their-boss@import.example', name: 'Their Boss', role: 'manager' });
      const csv = 'email,name\nshared@import.example,Ours';
      const dry = await upload(csv, true);
      expect(dry.status).toBe(200);
      expect(await dry.json()).toMatchObject({ usersCreated: 1, usersUpdated: 0 });
      expect((await upload(csv, false)).status).toBe(201);
      expect((await directory.findUserByEmail(org.orgId, 'shared@import.example'))?.name).toBe('Ours');
      expect((await directory.findUserByEmail(other.id, 'shared@import.example'))?.name).toBe('Theirs');
      // Another org's manager is no one here: the same answer as for an address nobody has.
      const managed = await upload('email,name,managerEmail\nnew@import.example,New,their-boss@import.example', true);
      const body = (await managed.json()) as { error: { fields: { path: string; problem: string }[] } };
      expect(body.error.fields).toEqual([{ path: 'line 2: managerEmail', problem: 'no such person in this file or the directory' }]);
      expect(JSON.stringify(body)).not.toMatch(/other org|another org/i);
    });

    it('only an admin may import', async () => {
      const signIn = await cloud.cloud.app.request('/api/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: org.people.manager.email, password: 'correct horse battery staple' }),
      });
      const cookie = signIn.headers.getSetCookie()[0]?.split(';')[0] ?? '';
      const token = ((await signIn.json()) as { csrfToken: string }).csrfToken;
      const response = await cloud.cloud.app.request('/api/directory/import?dryRun=true', {
        method: 'POST',
        headers: { 'content-type': 'text/csv', cookie, 'x-csrf-token': token },
        body: 'email,name\nx@import.example,X',
      });
      expect(response.status).toBe(403);
    });
  });
});
