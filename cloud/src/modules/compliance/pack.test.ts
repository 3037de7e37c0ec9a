import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminTestbed, type AdminTestbed } from '../../../test/support/admin';
import { testDatabaseKinds } from '../../../test/support/database';
import { defaultPolicy } from '../consent';

describe.each(testDatabaseKinds())('compliance pack on %s', (kind) => {
  let bed: AdminTestbed;
  beforeAll(async () => {
    bed = await startAdminTestbed(kind, 'pack', { SMTP_URL: 'smtp://mailer:s3cret-pw@mail.pack.example:587' });
  }, 120_000);
  afterAll(async () => bed?.stop());

  it('writes the DPIA, record, notice and one annex per scope from the policy in force, with the configured processors', async () => {
    const admin = await bed.as('admin');
    const page = await admin.get('/audit/compliance/pack');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Data protection impact assessment (draft, GDPR Art. 35)');
    expect(html).toContain('Record of processing activities (draft, GDPR Art. 30(1))');
    expect(html).toContain('Notice to employees of electronic monitoring');
    expect(html).toContain('Works agreement annex: Application usage (draft, BetrVG §87(1) no. 6)');
    expect(html).toContain('Activity records are kept 90 days on the server');
    expect(html).toContain('Figures about fewer than 5 people are withheld');
    expect(html).toContain('not legal advice');
    expect(html).toContain('Art. 5(1)(f)');

    const md = await admin.get('/audit/compliance/pack.md');
    expect(md.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(md.headers.get('content-disposition')).toContain('compliance-pack-v1.md');
    const text = await md.text();
    expect(text).toContain('| Processors | ');
    expect(text).toContain('mail.pack.example:587');
    expect(text).not.toContain('s3cret-pw');
    expect(text).not.toContain('mailer');
  });

  it('tracks who acknowledged the notice of the version in force, once each, and exports it as one CSV table', async () => {
    const employee = await bed.as('employee');
    const before = await (await employee.get('/me/data/notice')).text();
    expect(before).toContain('Notice to employees of electronic monitoring');
    expect(before).toContain('I have read this notice');
    expect(before).not.toContain('Record of processing');
    expect(await (await employee.get('/me/data')).text()).toContain('href="/me/data/notice"');

    const ack = (version: string, who = employee) =>
      bed.cloud.fetchPath('/me/data/notice', {
        method: 'POST',
        redirect: 'manual',
        headers: { ...who.headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ version, _csrf: who.headers['x-csrf-token'] ?? '' }).toString(),
      });
    const bad = await ack('one');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('version');
    expect((await ack('1')).status).toBe(303);
    const after = await (await employee.get('/me/data/notice')).text();
    expect(after).toContain('You acknowledged this notice (policy version 1)');
    expect(after).not.toContain('I have read this notice');
    expect((await ack('1')).status).toBe(303);
    const events = await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from audit_log where action = 'notice.acknowledged'`);
    expect(events[0]?.n).toBe(1);

    const admin = await bed.as('admin');
    expect(await (await admin.get('/audit/compliance/pack')).text()).toMatch(/acknowledged by 1 of \d+ people/);
    const csv = await admin.get('/audit/compliance/acknowledgments.csv?version=1');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const body = await csv.text();
    expect(body.endsWith('\r\n')).toBe(true);
    const lines = body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('policy_version,user_id,name,email,acknowledged,acknowledged_at');
    const byUser = new Map(lines.slice(1).map((l) => [l.split(',')[1], l.split(',')]));
    expect(byUser.get(bed.orgA.people.employee.id)?.[4]).toBe('yes');
    expect(byUser.get(bed.orgA.people.employee.id)?.[5]).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(byUser.get(bed.orgA.people.manager.id)?.[4]).toBe('no');
    const members = await bed.cloud.database.rows<{ n: number }>(
      sql`select count(*)::int as n from users where org_id = ${bed.orgA.orgId} and deactivated_at is null`,
    );
    expect(lines).toHaveLength(1 + (members[0]?.n ?? 0));
    expect((await (await bed.as('employee')).get('/audit/compliance/acknowledgments.csv')).status).toBe(403);
  });

  it('makes a new pack when a policy is published, keeps the old one readable and lists what changed', async () => {
    const admin = await bed.as('admin');
    const content = { ...defaultPolicy(`Org ${bed.orgA.orgId}`), retentionDays: 30, minGroupSize: 8 };
    const published = await bed.cloud.cloud.services.consent.publish(bed.orgA.orgId, content, { type: 'system', id: 'test' });

    const now = await (await admin.get('/audit/compliance/pack')).text();
    expect(now).toContain(`policy version ${published.version} (in force)`);
    expect(now).toContain('Activity records are kept 30 days on the server');
    expect(now).toContain(`/audit/compliance/pack/diff?from=1&amp;to=${published.version}`);
    const old = await (await admin.get('/audit/compliance/pack.md?version=1')).text();
    expect(old).toContain('kept 90 days');
    expect(old).not.toContain('kept 30 days');

    const diff = await (await admin.get(`/audit/compliance/pack/diff?from=1&to=${published.version}`)).text();
    expect(diff).toMatch(/Removed: <\/span>Activity records are kept 90 days/);
    expect(diff).toMatch(/Added: <\/span>Activity records are kept 30 days/);
    expect(diff).toMatch(/Added: <\/span>Figures about fewer than 8 people/);
    expect(diff).not.toMatch(/(Added|Removed): <\/span>It never records keystrokes/);

    // The new version's notice is to be acknowledged anew; a page still showing the old one is refused.
    const employee = await bed.as('employee');
    expect(await (await employee.get('/me/data/notice')).text()).toContain('I have read this notice');
    const stale = await bed.cloud.fetchPath('/me/data/notice', {
      method: 'POST',
      redirect: 'manual',
      headers: { ...employee.headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ version: '1', _csrf: employee.headers['x-csrf-token'] ?? '' }).toString(),
    });
    expect(stale.status).toBe(409);
    expect(await (await admin.get(`/audit/compliance/acknowledgments.csv?version=${published.version}`)).text()).not.toContain(',yes,');
  });

  it('is for admins and auditors only, and names the field of a bad or unknown version', async () => {
    expect((await (await bed.as('auditor')).get('/audit/compliance/pack')).status).toBe(200);
    expect((await (await bed.as('employee')).get('/audit/compliance/pack')).status).toBe(403);
    const admin = await bed.as('admin');
    const bad = await admin.get('/audit/compliance/pack.md?version=abc');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('version');
    const unknown = await admin.get('/audit/compliance/pack.md?version=99');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('No published policy version 99');
    const otherOrg = await bed.as('admin', bed.orgB);
    expect(await (await otherOrg.get('/audit/compliance/pack.md')).text()).not.toContain(bed.orgA.orgId);
  });
});
