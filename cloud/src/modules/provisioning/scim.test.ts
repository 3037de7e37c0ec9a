// SCIM provisioning over HTTP, in request sequences modelled on Entra ID's and Okta's documented
// provisioning flows, on every database driver: people and teams made, changed and deprovisioned,
// with a real device bound to the person.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, makeSpans } from '../../../test/support/device-client';

const SCIM_JSON = 'application/scim+json';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

type Json = Record<string, unknown> & { id?: string };

describe.each(testDatabaseKinds())('SCIM 2.0 provisioning (%s)', (kind) => {
  let bed: AdminTestbed;
  let admin: Caller;
  let token: string;
  let connectionId: string;

  const scim = async (method: string, path: string, body?: unknown, bearer = token) => {
    const res = await bed.cloud.fetchPath(`/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': SCIM_JSON } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), body: (text ? JSON.parse(text) : {}) as Json };
  };
  const person = async (userId: string) => {
    const rows = await bed.cloud.database.rows<{
      email: string;
      name: string;
      team_id: string | null;
      deactivated_at: string | null;
      password_hash: string | null;
      sso_only: boolean;
    }>(sql`select email, name, team_id, deactivated_at, password_hash, sso_only from users where id = ${userId}`);
    return rows[0];
  };
  const audited = async (action: string) =>
    bed.cloud.database.rows<{ actor_type: string; actor_id: string; details: Record<string, unknown> }>(
      sql`select actor_type, actor_id, details from audit_log where org_id = ${bed.orgA.orgId} and action = ${action} order by seq`,
    );

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `scim-${kind}`);
    admin = await bed.as('admin');
    const made = await admin.send('POST', '/api/admin/provisioning/connections', { name: 'Entra ID' });
    expect(made.status).toBe(201);
    const body = (await made.json()) as { id: string; token: string; scimUrl: string };
    expect(body.token).toMatch(/^icn_scim_/);
    expect(body.scimUrl).toMatch(/^http:\/\/[^/]+\/scim\/v2$/);
    token = body.token;
    connectionId = body.id;
  }, 180_000);
  afterAll(async () => bed?.stop());

  it('keeps the token only as a hash and lists it without the secret', async () => {
    const stored = await bed.cloud.database.rows<{ token_hash: string }>(sql`select token_hash from scim_connections where id = ${connectionId}`);
    expect(stored[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(token);
    const listed = await (await admin.get('/api/admin/provisioning/connections')).text();
    expect(listed).toContain('Entra ID');
    expect(listed).not.toContain(token);
    const employee = await bed.as('employee');
    expect((await employee.send('POST', '/api/admin/provisioning/connections', { name: 'x' })).status).toBe(403);
  });

  it('answers discovery in the SCIM media type, and refuses a missing or wrong token in the SCIM error shape', async () => {
    const config = await scim('GET', '/ServiceProviderConfig');
    expect(config.status).toBe(200);
    expect(config.type).toContain(SCIM_JSON);
    expect(config.body.patch).toEqual({ supported: true });
    const types = await scim('GET', '/ResourceTypes');
    expect((types.body.Resources as Json[]).map((r) => r.id)).toEqual(['User', 'Group']);
    const schemas = await scim('GET', '/Schemas');
    expect((schemas.body.Resources as Json[]).map((r) => r.id)).toContain(USER);
    for (const bearer of ['', 'icn_scim_not-a-real-token', 'Bearer']) {
      const refused = await scim('GET', '/Users', undefined, bearer);
      expect(refused.status).toBe(401);
      expect(refused.type).toContain(SCIM_JSON);
      expect(refused.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
    }
    const unknown = await scim('GET', '/Nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.body.status).toBe('404');
  });

  it('runs the Entra ID flow: test connection, create user and group, add member, change attributes, deprovision with "Replace" and "False"', async () => {
    // "Test connection" asks for a user that cannot exist and expects an empty list.
    const probe = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "8b0d1f2e-0000-4000-8000-non-existent"')}`);
    expect(probe.status).toBe(200);
    expect(probe.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, Resources: [] });
    // Entra matches by userName first, then creates.
    expect((await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "ada@contoso.example"')}`)).body.totalResults).toBe(0);
    const created = await scim('POST', '/Users', {
      schemas: [USER, ENTERPRISE],
      externalId: 'ada-object-id',
      userName: 'ada@contoso.example',
      active: true,
      displayName: 'Ada Lovelace',
      emails: [{ primary: true, type: 'work', value: 'Ada@Contoso.example' }],
      name: { formatted: 'Ada Lovelace', familyName: 'Lovelace', givenName: 'Ada' },
      [ENTERPRISE]: { department: 'Engineering', employeeNumber: '42' },
      password: 'the IdP must never set this',
    });
    expect(created.status).toBe(201);
    expect(created.type).toContain(SCIM_JSON);
    const adaId = String(created.body.id);
    expect(created.body).toMatchObject({
      userName: 'ada@contoso.example',
      externalId: 'ada-object-id',
      active: true,
      emails: [{ value: 'ada@contoso.example', primary: true }],
    });
    expect((created.body.meta as Json).location).toMatch(new RegExp(`/scim/v2/Users/${adaId}$`));
    const stored = await person(adaId);
    expect(stored).toMatchObject({ email: 'ada@contoso.example', name: 'Ada Lovelace', password_hash: null, sso_only: true });
    // Found again by userName, by externalId, and with value-path filters, in any case.
    for (const filter of [
      'userName eq "ADA@contoso.example"',
      'externalId eq "ada-object-id"',
      'emails[type eq "work" and value co "contoso"]',
      'userName sw "ada@" and active eq true',
    ]) {
      const found = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect(found.body.totalResults, filter).toBe(1);
    }
    expect((await scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "ADA-OBJECT-ID"')}`)).body.totalResults).toBe(0);

    const group = await scim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      externalId: 'eng-object-id',
      displayName: 'Engineering',
      members: [],
    });
    expect(group.status).toBe(201);
    const groupId = String(group.body.id);
    const add = await scim('PATCH', `/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: [{ value: adaId }] }] });
    expect(add.status).toBe(200);
    expect((await person(adaId))?.team_id).toBe(groupId);
    const withAda = await scim('GET', `/Groups?filter=${encodeURIComponent(`members[value eq "${adaId}"]`)}&excludedAttributes=members`);
    expect(withAda.body.totalResults).toBe(1);
    expect((withAda.body.Resources as Json[])[0]?.members).toBeUndefined();
    expect(((await scim('GET', `/Users/${adaId}`)).body.groups as Json[])[0]).toMatchObject({ value: groupId, display: 'Engineering' });

    const changed = await scim('PATCH', `/Users/${adaId}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'displayName', value: 'Ada King' },
        { op: 'Add', path: 'emails[type eq "work"].value', value: 'ada.king@contoso.example' },
        { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Research' },
      ],
    });
    expect(changed.status).toBe(200);
    expect(await person(adaId)).toMatchObject({ email: 'ada.king@contoso.example', name: 'Ada King' });

    // Deprovisioning as Entra sends it: a capitalised op and the boolean as a string.
    const off = await scim('PATCH', `/Users/${adaId}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect((await person(adaId))?.deactivated_at).not.toBeNull();
    // Her userName is still the one Entra knows, though her email changed: found by either lookup.
    const filtered = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "ada@contoso.example"')}`);
    expect((await scim('GET', `/Users?filter=${encodeURIComponent('emails.value eq "ada.king@contoso.example"')}`)).body.totalResults).toBe(1);
    expect((filtered.body.Resources as Json[])[0]).toMatchObject({ id: adaId, active: false });
    const done = await audited('scim.user_deprovisioned');
    expect(done.at(-1)).toMatchObject({
      actor_type: 'system',
      actor_id: `scim:${connectionId}`,
      details: { userId: adaId, data: 'keep', connection: 'Entra ID' },
    });

    // Entra deletes after the soft delete: the resource is gone, the person stays deactivated.
    expect((await scim('DELETE', `/Users/${adaId}`)).status).toBe(204);
    expect((await scim('GET', `/Users/${adaId}`)).status).toBe(404);
    expect((await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "ada@contoso.example"')}`)).body.totalResults).toBe(0);
    expect((await scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "ada-object-id"')}`)).body.totalResults).toBe(0);
    expect((await person(adaId))?.deactivated_at).not.toBeNull();
  });

  it('runs the Okta flow: paged lookup, create, rename and membership by PATCH, deactivation by PUT', async () => {
    const look = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "grace@okta.example"')}&startIndex=1&count=100`);
    expect(look.body).toMatchObject({ totalResults: 0, startIndex: 1, itemsPerPage: 0 });
    const body = {
      schemas: [USER],
      userName: 'grace@okta.example',
      name: { givenName: 'Grace', familyName: 'Hopper' },
      emails: [{ primary: true, value: 'grace@okta.example', type: 'work' }],
      displayName: 'Grace Hopper',
      locale: 'en-US',
      externalId: '00u1okta',
      groups: [],
      password: 'okta-can-sync-passwords',
      active: true,
    };
    const created = await scim('POST', '/Users', body);
    expect(created.status).toBe(201);
    const graceId = String(created.body.id);
    expect((await person(graceId))?.password_hash).toBeNull();
    expect((await scim('POST', '/Users', body)).body).toMatchObject({ status: '409', scimType: 'uniqueness' });

    const group = await scim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Compilers',
      members: [{ value: graceId, display: 'Grace' }],
    });
    const groupId = String(group.body.id);
    expect((await person(graceId))?.team_id).toBe(groupId);
    const renamed = await scim('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { id: groupId, displayName: 'Compilers EU' } }],
    });
    expect(renamed.body.displayName).toBe('Compilers EU');
    const removed = await scim('PATCH', `/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${graceId}"]` }] });
    expect(removed.body.members).toEqual([]);
    expect((await person(graceId))?.team_id).toBeNull();

    const put = await scim('PUT', `/Users/${graceId}`, { ...body, active: false });
    expect(put.status).toBe(200);
    expect(put.body.active).toBe(false);
    expect((await person(graceId))?.deactivated_at).not.toBeNull();
    const back = await scim('PATCH', `/Users/${graceId}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: true } }] });
    expect(back.body.active).toBe(true);
    expect((await person(graceId))?.deactivated_at).toBeNull();
  });

  it('refuses bad input naming the attribute, in the SCIM error shape, and changes nothing', async () => {
    const before = await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from users where org_id = ${bed.orgA.orgId}`);
    const cases: [string, string, unknown, number, string, RegExp][] = [
      ['GET', `/Users?filter=${encodeURIComponent('userName eq')}`, undefined, 400, 'invalidFilter', /filter/],
      ['POST', '/Users', { schemas: [USER], emails: [{ value: 'x@y.example' }] }, 400, 'invalidValue', /userName: is required/],
      ['POST', '/Users', { schemas: [USER], userName: 'not-an-email' }, 400, 'invalidValue', /emails: no email address/],
      ['POST', '/Users', { schemas: [USER], userName: 'z@y.example', active: 'maybe' }, 400, 'invalidValue', /active: is not a boolean/],
      ['POST', '/Groups', { displayName: 'Ghosts', members: [{ value: '00000000-0000-4000-8000-000000000000' }] }, 400, 'invalidValue', /members:/],
      [
        'PATCH',
        `/Users/${bed.orgA.people.employee.id}`,
        { schemas: [PATCH], Operations: [{ op: 'move', path: 'active' }] },
        400,
        'invalidSyntax',
        /Operations\.0\.op/,
      ],
      ['PATCH', `/Users/${bed.orgA.people.employee.id}`, { schemas: [PATCH], Operations: [{ op: 'remove' }] }, 400, 'noTarget', /remove needs a path/],
    ];
    for (const [method, path, body, status, scimType, detail] of cases) {
      const res = await scim(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(res.body.scimType, `${method} ${path}`).toBe(scimType);
      expect(String(res.body.detail)).toMatch(detail);
    }
    // Another org's person is not found, whatever its id.
    expect((await scim('GET', `/Users/${bed.orgB.people.employee.id}`)).status).toBe(404);
    const after = await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from users where org_id = ${bed.orgA.orgId}`);
    expect(after).toEqual(before);
    expect((await person(bed.orgA.people.employee.id))?.deactivated_at).toBeNull();
  });

  it('deprovisioning unbinds the person’s device (it is told at its next sync) and erases their data when the org says so', async () => {
    const setting = await admin.send('PUT', '/api/admin/provisioning/settings', { deprovisionedData: 'erase' });
    expect(setting.status).toBe(200);
    const created = await scim('POST', '/Users', { schemas: [USER], userName: 'linus@contoso.example', externalId: 'linus-oid' });
    const linusId = String(created.body.id);
    const enroll = await bed.cloud.tokenFor(linusId, bed.orgA.orgId);
    const device = await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, enroll, 'linus');
    expect((await device.consent(['app_usage'])).status).toBe(201);
    const first = (await (await device.ingest(makeSpans(3))).json()) as { accepted: number };
    expect(first.accepted).toBe(3);

    const off = await scim('PATCH', `/Users/${linusId}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect(off.status).toBe(200);
    await bed.cloud.cloud.services.rights.idle();
    const spans = await bed.cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from spans where user_id = ${linusId}`);
    expect(spans[0]?.n).toBe(0);
    const erasure = await bed.cloud.database.rows<{ via: string; state: string }>(sql`select via, state from erasure_requests where user_id = ${linusId}`);
    expect(erasure).toEqual([{ via: 'directory', state: 'completed' }]);

    const next = (await (await device.ingest(makeSpans(2))).json()) as {
      accepted: number;
      rejected: { reason: string }[];
      directives: { type: string; reason?: string }[];
    };
    expect(next.accepted).toBe(0);
    expect(next.rejected.map((r) => r.reason)).toEqual(['device_unbound', 'device_unbound']);
    // (The person's notice that the erasure finished may come first, as a message.)
    const told = next.directives.filter((d) => d.type !== 'message');
    expect(told.map((d) => d.type)).toEqual(['erase_local', 'binding_ended']);
    expect(told[1]?.reason).toMatch(/removed from the organisation's directory/);
    const binding = (await (await bed.cloud.fetchPath('/v1/devices/binding', { headers: { authorization: `Bearer ${device.accessToken}` } })).json()) as {
      boundTo: unknown;
    };
    expect(binding.boundTo).toBeNull();
    const unbound = await audited('device.unbound');
    expect(unbound.at(-1)).toMatchObject({ actor_type: 'system', actor_id: expect.stringMatching(/^scim:/) });
    await admin.send('PUT', '/api/admin/provisioning/settings', { deprovisionedData: 'keep' });
  });

  it('a provisioned person never gets a password: not offered an invitation, treated as single sign-on, no password stored', async () => {
    const created = await scim('POST', '/Users', { schemas: [USER], userName: 'ken@contoso.example' });
    const kenId = String(created.body.id);
    const pending = (await (await admin.get('/api/invitations/pending')).json()) as { people: { id: string }[] };
    expect(pending.people.map((p) => p.id)).not.toContain(kenId);
    expect(await bed.cloud.cloud.services.account.usesSso({ userId: kenId, orgId: bed.orgA.orgId })).toBe(true);
    expect(await bed.cloud.cloud.services.account.usesSso({ userId: bed.orgA.people.employee.id, orgId: bed.orgA.orgId })).toBe(false);
    await expect(bed.cloud.cloud.services.directory.setPassword(kenId, 'a long enough password')).rejects.toThrow(/identity provider/);
    expect((await person(kenId))?.password_hash).toBeNull();
  });

  it('the admin page makes a connection and shows its token once, and the API is documented', async () => {
    const page = await admin.get('/admin/provisioning');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/scim/v2');
    const csrf = admin.headers['x-csrf-token'] ?? '';
    const made = await bed.cloud.fetchPath('/admin/provisioning/connections', {
      method: 'POST',
      headers: { cookie: admin.headers.cookie ?? '', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, name: 'Okta (page)' }).toString(),
    });
    expect(made.status).toBe(201);
    const shown = /icn_scim_[\w-]+/.exec(await made.text())?.[0] ?? '';
    expect((await scim('GET', '/Users?count=1', undefined, shown)).status).toBe(200);
    expect(await (await admin.get('/admin/provisioning')).text()).not.toContain(shown);
    const doc = (await (await bed.cloud.fetchPath('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>;
    };
    for (const path of ['/scim/v2/Users', '/scim/v2/Users/{id}', '/scim/v2/Groups/{id}', '/api/admin/provisioning/connections']) {
      for (const operation of Object.values(doc.paths[path] ?? {})) {
        expect(operation.operationId, path).toBeDefined();
        expect(operation.security, path).toBeDefined();
      }
    }
    expect(Object.keys(doc.paths['/scim/v2/Users/{id}'] ?? {}).sort()).toEqual(['delete', 'get', 'patch', 'put']);
  });

  it('a revoked token stops working at once, and the revocation is audited', async () => {
    const made = (await (await admin.send('POST', '/api/admin/provisioning/connections', { name: 'Okta' })).json()) as { id: string; token: string };
    expect((await scim('GET', '/Users', undefined, made.token)).status).toBe(200);
    expect((await admin.send('POST', `/api/admin/provisioning/connections/${made.id}/revoke`)).status).toBe(204);
    expect((await scim('GET', '/Users', undefined, made.token)).status).toBe(401);
    expect((await admin.send('POST', `/api/admin/provisioning/connections/${made.id}/revoke`)).status).toBe(404);
    expect((await audited('scim.connection_revoked')).at(-1)?.details).toMatchObject({ connectionId: made.id });
  });
});
