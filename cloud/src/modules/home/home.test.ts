import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminTestbed, type AdminTestbed } from '../../../test/support/admin';
import { testDatabaseKinds } from '../../../test/support/database';
import { defaultPolicy } from '../consent';

/** `/` for each role, and what a browser gets where there is no page or no permission. */
describe.each(testDatabaseKinds())('home pages and error pages on %s', (kind) => {
  let bed: AdminTestbed;

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, 'home');
  }, 120_000);
  afterAll(async () => bed?.stop());

  const page = async (response: Response) => ({ status: response.status, type: response.headers.get('content-type') ?? '', html: await response.text() });

  it('sends a signed-out visitor to sign in and back, the query kept', async () => {
    const home = await bed.cloud.fetchPath('/', { redirect: 'manual' });
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/sign-in');
    const report = await bed.cloud.fetchPath('/reports/team?teamId=x&from=2026-11-02&to=2026-11-08', { redirect: 'manual' });
    expect(report.headers.get('location')).toBe(`/sign-in?next=${encodeURIComponent('/reports/team?teamId=x&from=2026-11-02&to=2026-11-08')}`);
  });

  it('a session that ended mid-report goes to sign-in saying so, and back with the filters', async () => {
    const manager = await bed.as('manager');
    const token = /icarus_session=([^;]+)/.exec(manager.headers.cookie ?? '')?.[1] ?? '';
    await bed.cloud.cloud.services.auth.signOutEverywhere(bed.orgA.people.manager.id);
    const path = `/reports/team?teamId=${bed.orgA.teamId}&from=2026-11-02`;
    const answer = await bed.cloud.fetchPath(path, { headers: { cookie: `icarus_session=${token}` }, redirect: 'manual' });
    expect(answer.headers.get('location')).toBe(`/sign-in?next=${encodeURIComponent(path)}&why=expired`);
    const signIn = await page(await bed.cloud.fetchPath(answer.headers.get('location') ?? ''));
    expect(signIn.html).toContain('Your session ended. Sign in again to go back to where you were.');
    expect(signIn.html).toContain(`name="next" value="${path.replace(/&/g, '&amp;')}"`);
  });

  it('gives each role its home', async () => {
    const employee = await page(await (await bed.as('employee')).get('/'));
    expect(employee.status).toBe(200);
    expect(employee.html).toContain('Your week');
    expect(employee.html).toContain('<a href="/me/data">My data</a>');

    const manager = await page(await (await bed.as('manager')).get('/'));
    expect(manager.html).toContain('<h1>Your teams</h1>');
    expect(manager.html).toContain(`/reports/team?teamId=${bed.orgA.teamId}`);
    expect(manager.html).toContain('Sales');
    expect(manager.html).not.toContain('Support');

    // One person without a password: the admin's list names them and offers the invitation only with mail.
    await bed.cloud.cloud.services.directory.createUser({ orgId: bed.orgA.orgId, email: 'nopass@home-a.example', name: 'Nopass Person', role: 'employee' });
    const admin = await page(await (await bed.as('admin')).get('/'));
    expect(admin.html).toContain('<h1>Your organisation</h1>');
    expect(admin.html).toContain('The audit chain is intact');
    expect(admin.html).toMatch(/1 person in the directory cannot sign in yet \(Nopass Person\)/);
    expect(admin.html).toContain('configure SMTP_URL');

    const auditor = await page(await (await bed.as('auditor')).get('/'));
    expect(auditor.html).toContain('<h1>Audit and compliance</h1>');
  });

  it('the admin home checks the audit chain from its last signed checkpoint on, says so, and finds an entry changed after it', async () => {
    const { audit } = bed.cloud.cloud.services;
    const orgId = bed.orgA.orgId;
    const signed = (await audit.checkpoint(orgId)).checkpoint;
    if (!signed) throw new Error('no checkpoint signed');
    for (let i = 0; i < 3; i++) await audit.record({ orgId, actorType: 'system', actorId: 'home-test', action: 'directory.import', details: { i } });
    const admin = await bed.as('admin');
    const intact = await page(await admin.get('/'));
    expect(intact.html).toMatch(
      new RegExp(`intact since its last signed checkpoint \\(\\d{4}-\\d{2}-\\d{2} [\\d:]+ UTC, entry ${signed.size}\\): \\d+ newer entries checked`),
    );
    expect(intact.html).toContain('<a href="/audit/verify">Verify the whole chain</a>');

    // An entry after the checkpoint edited in place by a database superuser: found on the next visit.
    const [newest] = await bed.cloud.database.rows<{ seq: number; action: string }>(
      sql`select seq, action from audit_log where org_id = ${orgId} and action = 'directory.import' order by seq desc limit 1`,
    );
    const edit = async (action: string) => {
      await bed.cloud.database.rows(sql`alter table audit_log disable trigger user`);
      await bed.cloud.database.rows(sql`update audit_log set action = ${action} where seq = ${newest?.seq ?? 0}`);
      await bed.cloud.database.rows(sql`alter table audit_log enable trigger user`);
    };
    await edit('edited');
    expect((await page(await admin.get('/'))).html).toContain('The audit chain does not verify</strong> (hash_mismatch)');
    await edit(newest?.action ?? '');
    expect((await page(await admin.get('/'))).html).toContain('intact since its last signed checkpoint');
  });

  it('the admin home names a policy version awaiting approval and a broken audit chain', async () => {
    const admin = await bed.as('admin');
    const created = await admin.send('POST', '/api/admin/policies', { ...defaultPolicy('Org home'), retentionDays: 60 });
    expect(created.status).toBe(201);
    const draft = (await created.json()) as { version: number };
    expect((await admin.send('POST', `/api/admin/policies/${draft.version}/submit`, {})).status).toBe(200);
    const before = await page(await admin.get('/'));
    expect(before.html).toContain(`<a href="/admin/policies/${draft.version}">version ${draft.version}</a>`);
    // A database superuser edits a row: the home page says so.
    await bed.cloud.database.rows(sql`alter table audit_log disable trigger user`);
    await bed.cloud.database.rows(
      sql`update audit_log set action = 'edited' where seq = (select max(seq) from audit_log where org_id = ${bed.orgA.orgId}) and org_id = ${bed.orgA.orgId}`,
    );
    await bed.cloud.database.rows(sql`alter table audit_log enable trigger user`);
    const after = await page(await admin.get('/'));
    expect(after.html).toContain('The audit chain does not verify');
  });

  it('answers an unknown page and a page of another role as HTML in the shell, /api and /v1 as JSON', async () => {
    const manager = await bed.as('manager');
    const missing = await page(await manager.get('/no/such/page'));
    expect(missing.status).toBe(404);
    expect(missing.type).toMatch(/^text\/html/);
    expect(missing.html).toContain('<h1>Page not found</h1>');
    expect(missing.html).toContain('<nav class="main" aria-label="Main">');
    const forbidden = await page(await manager.get('/admin/devices'));
    expect(forbidden.status).toBe(403);
    expect(forbidden.html).toContain('<h1>You cannot open this page</h1>');
    expect(forbidden.html).toContain('This needs the role admin; you are manager');

    const nobody = await page(await bed.cloud.fetchPath('/no/such/page'));
    expect(nobody.status).toBe(404);
    expect(nobody.html).toContain('<a href="/sign-in">Sign in</a>');

    for (const path of ['/api/no-such-thing', '/v1/no-such-thing']) {
      const answer = await manager.get(path);
      expect(answer.status, path).toBe(404);
      expect(answer.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(((await answer.json()) as { error: { code: string } }).error.code, path).toBe('not_found');
    }
  });
});
