import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_API } from '../admin';
import { testDatabaseKinds } from '../../../test/support/database';
import { startAdminTestbed, type AdminTestbed } from '../../../test/support/admin';
import { compareVersions } from './fleet-search';

const KEY = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' });

/**
 * A fleet of 1,000: 100 on an older agent (0.9.0 against 0.10.0, so versions compare as numbers),
 * 20 silent for three days, 7 dropping spans, 3 failing capture, one revoked, one enrolled just now,
 * every tenth bound to the employee.
 */
async function seedFleet(bed: AdminTestbed) {
  const orgId = bed.orgA.orgId;
  const owner = bed.orgA.people.employee.id;
  await bed.cloud.database.rows(sql`
    insert into devices (id, org_id, user_id, enrollment_token_id, name, platform, os_user, public_key_jwk, agent_version, status, enrolled_at, last_seen_at, revoked_at)
    select gen_random_uuid(), ${orgId}::uuid,
      case when i % 10 = 0 then ${owner}::uuid end,
      gen_random_uuid(),
      'laptop-' || lpad(i::text, 4, '0'),
      case when i % 3 = 0 then 'win32' when i % 3 = 1 then 'darwin' else 'linux' end,
      'user' || i,
      ${KEY}::jsonb,
      case when i <= 100 then '0.9.0' else '0.10.0' end,
      jsonb_build_object(
        'agentVersion', case when i <= 100 then '0.9.0' else '0.10.0' end,
        'pendingSpans', 0,
        'droppedSpans', case when i between 200 and 206 then 12 else 0 end,
        'captureSources', case when i between 300 and 302 then '[{"name":"x11","ok":false,"problem":"no display"}]'::jsonb else '[{"name":"x11","ok":true}]'::jsonb end),
      now() - interval '30 days' + i * interval '1 minute',
      case when i between 500 and 519 then now() - interval '3 days' else now() - interval '5 minutes' end,
      case when i = 999 then now() end
    from generate_series(1, 999) as i`);
  await bed.cloud.database.rows(sql`
    insert into devices (id, org_id, enrollment_token_id, name, platform, os_user, public_key_jwk, enrolled_at)
    values (gen_random_uuid(), ${orgId}::uuid, gen_random_uuid(), 'new-laptop', 'win32', 'newcomer', ${KEY}::jsonb, now())`);
}

describe.each(testDatabaseKinds())('the fleet at 1,000 devices on %s', (kind) => {
  let bed: AdminTestbed;
  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `fleet-search-${kind}`);
    await seedFleet(bed);
  });
  afterAll(async () => bed?.stop());

  const search = (q: Partial<Parameters<AdminTestbed['cloud']['cloud']['services']['devices']['searchFleet']>[1]> = {}) =>
    bed.cloud.cloud.services.devices.searchFleet(bed.orgA.orgId, { state: 'active', sort: 'enrolled', descending: true, offset: 0, limit: 50, ...q });

  it('summarises health: versions (numerically newest), silent, dropping spans, failing capture, unbound', async () => {
    const summary = await bed.cloud.cloud.services.devices.fleetSummary(bed.orgA.orgId);
    expect(summary).toMatchObject({ active: 999, revoked: 1, silent: 21, dropping: 7, failing: 3, newestVersion: '0.10.0', outdated: 101 });
    expect(summary.versions).toEqual([
      { version: '0.10.0', devices: 898 },
      { version: '0.9.0', devices: 100 },
      { version: null, devices: 1 },
    ]);
    expect(summary.unbound).toBe(999 - 99);
    expect(summary.platforms).toEqual(['darwin', 'linux', 'win32']);
    expect(compareVersions('0.10.0', '0.9.2')).toBeGreaterThan(0);
  });

  it('pages in the database: the newest enrollment first, pages never overlap, the count is of all matches', async () => {
    const first = await search();
    expect(first.total).toBe(999);
    expect(first.rows).toHaveLength(50);
    expect(first.rows[0]?.name).toBe('new-laptop');
    const second = await search({ offset: 50 });
    expect(new Set([...first.rows, ...second.rows].map((d) => d.id)).size).toBe(100);
    const byName = await search({ sort: 'name', descending: false, limit: 3 });
    expect(byName.rows.map((d) => d.name)).toEqual(['laptop-0001', 'laptop-0002', 'laptop-0003']);
    // Never-synced devices sort last whichever way.
    const bySync = await search({ sort: 'lastSync', descending: true, offset: 990 });
    expect(bySync.rows[bySync.rows.length - 1]?.name).toBe('new-laptop');
  });

  it('filters by health, platform, state and text (name, OS account, id prefix, owner)', async () => {
    expect((await search({ health: 'silent' })).total).toBe(21);
    expect((await search({ health: 'dropping' })).rows.map((d) => d.name)).toContain('laptop-0203');
    expect((await search({ health: 'failing' })).total).toBe(3);
    expect((await search({ health: 'outdated' })).total).toBe(101);
    expect((await search({ health: 'silent', platform: 'win32' })).total).toBe(8);
    expect((await search({ state: 'revoked' })).rows.map((d) => d.name)).toEqual(['laptop-0999']);
    expect((await search({ text: 'NEWCOMER' })).rows.map((d) => d.name)).toEqual(['new-laptop']);
    expect((await search({ text: '0_1' })).total).toBe(0);
    const one = (await search({ text: 'laptop-0512' })).rows[0];
    expect((await search({ text: one?.id.slice(0, 13) ?? 'none' })).rows.map((d) => d.id)).toContain(one?.id);
    expect((await search({ text: 'nobody-matches', ownerIds: [bed.orgA.people.employee.id] })).total).toBe(99);
  });

  it('the admin API finds a silent device by owner name and says a bad filter in words, naming the field', async () => {
    const admin = await bed.as('admin');
    const found = (await (await admin.get(`${ADMIN_API.devices}?q=employee&health=silent`)).json()) as {
      total: number;
      devices: { owner: { name: string } }[];
    };
    expect(found.total).toBe(2);
    expect(found.devices.every((d) => d.owner.name === 'employee')).toBe(true);
    const bad = await admin.get(`${ADMIN_API.devices}?health=sleepy&page=x`);
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { fields: { path: string; problem: string }[] } };
    expect(body.error.fields).toEqual([
      { path: 'health', problem: 'choose one of: silent, dropping, failing, outdated, unbound' },
      { path: 'page', problem: 'the page must be a whole number' },
    ]);
    // The page's revoke asks first: a post without the confirmation is sent to the question and revokes nothing.
    const target = (await search({ text: 'laptop-0042' })).rows[0]?.id ?? '';
    const post = (fields: Record<string, string>) =>
      bed.cloud.fetchPath(`/admin/devices/${target}/revoke`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: admin.headers['cookie'] ?? '', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: admin.headers['x-csrf-token'] ?? '', ...fields }).toString(),
      });
    const unconfirmed = await post({});
    expect([unconfirmed.status, unconfirmed.headers.get('location')]).toEqual([303, `/admin/devices/${target}/revoke`]);
    expect((await search({ text: 'laptop-0042' })).total).toBe(1);
    expect(await (await admin.get(`/admin/devices/${target}/revoke`)).text()).toContain('Yes, revoke laptop-0042');
    expect((await post({ confirm: 'revoke' })).status).toBe(303);
    expect((await search({ text: 'laptop-0042' })).total).toBe(0);
    const page = await admin.get('/admin/devices?health=sleepy');
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('choose one of: silent, dropping, failing, outdated, unbound');
  });
});
