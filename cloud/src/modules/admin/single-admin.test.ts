import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyContent } from '@icarus/shared';
import { defaultPolicy } from '../consent';
import { testDatabaseKinds } from '../../../test/support/database';
import { PASSWORD } from '../../../test/support/people';
import { ADMIN_API } from './api';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';

const at = (path: string, version: number) => path.replace(':version', String(version));

/**
 * An organisation with one admin and no works council has nobody to approve its policy: the admin
 * may publish their own version after confirming that nobody else reviewed it, and it says so
 * in the audit log and on the version. A second admin, a works-council member or the
 * works-council setting take that away again.
 */
describe.each(testDatabaseKinds())('publishing without review in a single-admin organisation on %s', (kind) => {
  let bed: AdminTestbed;
  let admin: Caller;
  let retention = 31;

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `solo-${kind}`);
    admin = await bed.as('admin');
  }, 120_000);
  afterAll(async () => bed?.stop());

  /** A new version, different from the one in force, submitted for review by the only admin. */
  async function submitted(): Promise<number> {
    const content: PolicyContent = { ...defaultPolicy('Solo org'), retentionDays: retention++ };
    const created = await admin.send('POST', ADMIN_API.policies, content);
    expect(created.status, await created.clone().text()).toBe(201);
    const { version } = (await created.json()) as { version: number };
    expect((await admin.send('POST', at(ADMIN_API.submit, version))).status).toBe(200);
    return version;
  }
  const publishForm = (version: number, fields: Record<string, string>) =>
    bed.cloud.fetchPath(`/admin/policies/${version}/publish`, {
      method: 'POST',
      headers: { ...admin.headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
  const inForce = async () => (await bed.cloud.cloud.services.consent.currentPolicy(bed.orgA.orgId)).version;

  it('publishes only after the admin confirms that nobody else reviewed it, and records that it was not reviewed', async () => {
    const version = await submitted();
    const before = await inForce();
    const page = await (await admin.get(`/admin/policies/${version}`)).text();
    expect(page).toContain('aria-label="Publish without review"');
    expect(page).toContain('I confirm that nobody else reviewed this version');

    const plain = await publishForm(version, {});
    expect(plain.status).toBe(409);
    expect(await plain.text()).toContain('Not approved yet');
    const unticked = await publishForm(version, { withoutReview: 'yes' });
    expect(unticked.status).toBe(400);
    expect(await unticked.text()).toContain('Confirmation: tick the box to confirm that nobody else reviewed this version');
    expect(await inForce(), 'nothing published yet').toBe(before);

    const confirmed = await publishForm(version, { withoutReview: 'yes', confirm: 'yes' });
    expect(confirmed.status).toBe(303);
    expect(await inForce()).toBe(version);
    const [entry] = await bed.cloud.database.rows<{ details: { version: number; withoutReview: boolean; approvedBy: string[] } }>(
      sql`select details from audit_log where org_id = ${bed.orgA.orgId} and action = 'policy.published' order by seq desc limit 1`,
    );
    expect(entry?.details).toMatchObject({ version, withoutReview: true, approvedBy: [] });
    expect(await (await admin.get(`/admin/policies/${version}`)).text()).toContain('Published without review');
    expect(await (await admin.get('/admin/policies')).text()).toContain('published, without review');
  });

  it('refuses it again once a second admin exists, and whenever works-council approval is on', async () => {
    const { directory } = bed.cloud.cloud.services;
    const second = await directory.createUser({
      orgId: bed.orgA.orgId,
      email: `second-${kind}@solo.example`,
      name: 'Second Admin',
      role: 'admin',
      password: PASSWORD,
    });
    const version = await submitted();
    const before = await inForce();
    expect(await (await admin.get(`/admin/policies/${version}`)).text()).not.toContain('Publish without review');
    const refused = await publishForm(version, { withoutReview: 'yes', confirm: 'yes' });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('It cannot be published without review: another admin can review it, so they must approve it');

    // The second admin leaves; the organisation turns on works-council approval: still refused.
    await bed.cloud.database.rows(sql`update users set deactivated_at = now() where id = ${second.id}`);
    await bed.cloud.database.rows(sql`update orgs set works_council_required = true where id = ${bed.orgA.orgId}`);
    const council = await publishForm(version, { withoutReview: 'yes', confirm: 'yes' });
    expect(council.status).toBe(409);
    expect(await council.text()).toContain('works-council approval is required');
    expect(await inForce(), 'nothing published').toBe(before);
  });
});
