// The employee notice on the wire: a device bound to a person reads the notice in force and records
// the person's acknowledgment, which the admin's tracking counts like one given on the web; bad
// input is refused naming the field, and nothing stored changes.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTICE_PATHS } from '@icarus/shared';
import { startAdminTestbed, type AdminTestbed } from '../../../test/support/admin';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice } from '../../../test/support/device-client';
import { defaultPolicy } from '../consent';

type Device = Awaited<ReturnType<typeof createTestDevice>>;
interface Notice {
  version: number;
  hash: string;
  title: string;
  sections: { title: string; paragraphs: string[] }[];
  acknowledgedAt: string | null;
}

describe.each(testDatabaseKinds())('the employee notice on the device (%s)', (kind) => {
  let bed: AdminTestbed;
  let device: Device;
  let unbound: Device;

  const call = (d: Device, method: string, path: string, body?: unknown) =>
    bed.cloud.fetchPath(path, {
      method,
      headers: { authorization: `Bearer ${d.accessToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const rows = () => bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from notice_acknowledgments`);

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `notice-${kind}`);
    const employee = bed.orgA.people.employee;
    device = await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, await bed.cloud.tokenFor(employee.id, bed.orgA.orgId), 'employee');
    unbound = await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, bed.cloud.enrollmentToken, 'nobody');
  }, 180_000);
  afterAll(async () => bed?.stop());

  it('serves the notice of the version in force, as the pack has it, not yet acknowledged', async () => {
    const res = await call(device, 'GET', NOTICE_PATHS.notice);
    expect(res.status).toBe(200);
    const notice = (await res.json()) as Notice;
    const policy = await bed.cloud.cloud.services.consent.currentPolicy(bed.orgA.orgId);
    expect(notice).toMatchObject({ version: policy.version, hash: policy.hash, title: 'Notice to employees of electronic monitoring', acknowledgedAt: null });
    expect(notice.sections.map((s) => s.title)).toEqual(['What is recorded', 'Who sees it', 'How long it is kept', 'What is never recorded', 'Your choices']);
    expect(notice.sections[0]?.paragraphs.join(' ')).toContain('in the agent on your computer');
  });

  it('refuses bad input naming the field, a hash of other text, and a computer bound to nobody; nothing is stored', async () => {
    const { version } = (await (await call(device, 'GET', NOTICE_PATHS.notice)).json()) as Notice;
    const bad = await call(device, 'POST', NOTICE_PATHS.acknowledgment, { version: 'one', hash: 'x', extra: true });
    expect(bad.status).toBe(400);
    const paths = ((await bad.json()) as { error: { fields: { path: string }[] } }).error.fields.map((f) => f.path).sort();
    expect(paths).toEqual(['extra', 'version']);
    const missing = await call(device, 'POST', NOTICE_PATHS.acknowledgment, { version });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(await missing.json())).toContain('"hash"');
    const otherText = await call(device, 'POST', NOTICE_PATHS.acknowledgment, { version, hash: 'f'.repeat(64) });
    expect(otherText.status).toBe(409);
    expect(((await otherText.json()) as { error: { fields: { path: string }[] } }).error.fields[0]?.path).toBe('hash');
    const asText = await bed.cloud.fetchPath(NOTICE_PATHS.acknowledgment, {
      method: 'POST',
      headers: { authorization: `Bearer ${device.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'version=1',
    });
    expect(asText.status).toBe(415);
    for (const [method, path, body] of [
      ['GET', NOTICE_PATHS.notice, undefined],
      ['POST', NOTICE_PATHS.acknowledgment, { version, hash: 'x' }],
    ] as const) {
      const refused = await call(unbound, method, path, body);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('device_unbound');
    }
    const noToken = await bed.cloud.fetchPath(NOTICE_PATHS.notice);
    expect(noToken.status).toBe(401);
    expect((await rows())[0]?.n).toBe(0);
  });

  it('records the acknowledgment once, audited as the device, and the admin’s tracking counts it', async () => {
    const notice = (await (await call(device, 'GET', NOTICE_PATHS.notice)).json()) as Notice;
    const first = await call(device, 'POST', NOTICE_PATHS.acknowledgment, { version: notice.version, hash: notice.hash });
    expect(first.status).toBe(201);
    const done = (await first.json()) as { version: number; acknowledgedAt: string; first: boolean };
    expect(done).toMatchObject({ version: notice.version, first: true });
    const again = await call(device, 'POST', NOTICE_PATHS.acknowledgment, { version: notice.version, hash: notice.hash });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ version: notice.version, acknowledgedAt: done.acknowledgedAt, first: false });
    expect(((await (await call(device, 'GET', NOTICE_PATHS.notice)).json()) as Notice).acknowledgedAt).toBe(done.acknowledgedAt);

    const audited = await bed.cloud.database.rows<{ actor_type: string; actor_id: string; via: string }>(
      sql`select actor_type, actor_id, details->>'via' as via from audit_log where action = 'notice.acknowledged'`,
    );
    expect(audited).toEqual([{ actor_type: 'device', actor_id: device.deviceId, via: 'device' }]);
    // The admin's pack and CSV count it like one given on the web.
    const admin = await bed.as('admin');
    expect(await (await admin.get('/audit/compliance/pack')).text()).toMatch(/acknowledged by 1 of \d+ people/);
    const csv = await (await admin.get(`/audit/compliance/acknowledgments.csv?version=${notice.version}`)).text();
    const line = csv.split('\r\n').find((l) => l.includes(bed.orgA.people.employee.id));
    expect(line?.split(',')[4]).toBe('yes');
    // And the web shows the person it is done.
    expect(await (await (await bed.as('employee')).get('/me/data/notice')).text()).toContain('You acknowledged this notice');
  });

  it('a newly published version has a new notice to acknowledge; the old one is refused with the version in force', async () => {
    const before = (await (await call(device, 'GET', NOTICE_PATHS.notice)).json()) as Notice;
    const content = { ...defaultPolicy(`Org ${bed.orgA.orgId}`), retentionDays: 30 };
    const published = await bed.cloud.cloud.services.consent.publish(bed.orgA.orgId, content, { type: 'system', id: 'test' });
    const after = (await (await call(device, 'GET', NOTICE_PATHS.notice)).json()) as Notice;
    expect(after).toMatchObject({ version: published.version, acknowledgedAt: null });
    expect(after.sections.find((s) => s.title === 'How long it is kept')?.paragraphs.join(' ')).toContain('30 days');
    const stale = await call(device, 'POST', NOTICE_PATHS.acknowledgment, { version: before.version, hash: before.hash });
    expect(stale.status).toBe(409);
    expect(await stale.text()).toContain(`policy version ${published.version} is in force now`);
    expect((await rows())[0]?.n).toBe(1);
  });
});
