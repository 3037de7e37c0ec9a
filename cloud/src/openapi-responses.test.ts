// The OpenAPI document against what the API really answers: a walk of every documented GET under
// /v1, /api and /scim and the main POST, PUT and PATCH flows, against a seeded cloud (two orgs, a
// person per role, a bound device with consent and spans, a SCIM connection, an API token), each
// answer's status looked up in the document and its JSON body validated against the schema there
// with ajv (JSON Schema 2020-12, which OpenAPI 3.1 uses).
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTICE_PATHS } from '@icarus/shared';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../test/support/admin';
import { testDatabaseKinds } from '../test/support/database';
import { createTestDevice, makeSpans } from '../test/support/device-client';
import { defaultPolicy } from './modules/consent';

type Schema = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

/**
 * Documented operations this walk does not carry to a successful answer, each with why (every
 * operation is sent at least once, refused, by the sweep). Everything else documented under /v1,
 * /api and /scim answers 2xx at least once in the walk, its body checked (the last test says so).
 */
const NOT_WALKED: Record<string, string> = {
  'POST /v1/devices/pair': 'needs a pairing code shown once on the web; covered by the pairing tests',
  'POST /api/me/devices/{deviceId}/disown': 'unbinds the walk’s device, which later steps need',
  'POST /api/session/totp': 'needs a TOTP code of the moment; the admin testbed signs admins in through the service',
  'POST /api/account/totp': 'replaces the admin’s second factor mid-walk',
  'POST /api/account/totp/confirm': 'needs the code of a secret just made',
  'POST /api/account/password': 'changes the password the walk signs in with',
  'POST /api/directory/import': 'a CSV body; covered by the directory import tests',
  'POST /api/admin/policies/{version}/submit': 'the review flow needs a second admin or council member; covered by the policy tests',
  'POST /api/admin/policies/{version}/reopen': 'as submit',
  'POST /api/admin/policies/{version}/approve': 'as submit',
  'POST /api/admin/policies/{version}/publish': 'as submit',
  'POST /api/admin/enrollment-tokens/{tokenId}/revoke': 'one-way; covered by the enrollment token tests',
  'POST /api/admin/devices/{deviceId}/revoke': 'revokes the walk’s device',
  'POST /api/admin/devices/{deviceId}/assign': 'rebinds the walk’s device',
  'DELETE /api/account/api-tokens/{id}': 'revokes the walk’s API token',
  'DELETE /api/notifications/webhooks/{id}': 'the walk’s endpoint is refused at creation (no public https host here)',
  'POST /api/notifications/webhooks/{id}/test': 'as above',
  'POST /api/notifications/webhooks/{id}/enable': 'as above; covered by the disabled-webhooks browser test',
  'POST /api/admin/provisioning/connections/{connectionId}/revoke': 'revokes the walk’s SCIM token',
  'DELETE /scim/v2/Users/{id}': 'deprovisions; covered by the SCIM tests',
  'DELETE /scim/v2/Groups/{id}': 'covered by the SCIM tests',
  'POST /v1/me/erasure': 'erases the walk’s data; covered by the rights tests',
  'POST /api/me/erasure': 'as above',
  'POST /api/invitations': 'the test cloud has no mail server (SMTP_URL), so it answers 409, as documented; covered by the invitation tests',
  'POST /api/notifications/webhooks': 'no public https host is reachable here (answered 400 naming the url, as documented); covered by the webhook tests',
  'GET /api/reports/person': 'the default policy lets no one see individual activity (answered 403, as documented); covered by the reporting tests',
};

describe.each(testDatabaseKinds())('OpenAPI responses match the document (%s)', (kind) => {
  let bed: AdminTestbed;
  let doc: Document;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  const mismatches: string[] = [];
  const walked = new Set<string>();
  let templates: { method: string; template: string; pattern: RegExp; literal: number }[] = [];

  /** The document's operation for a request: the template that matches with the most literal characters. */
  function operationOf(method: string, path: string): string | undefined {
    const bare = path.split('?')[0] ?? path;
    const found = templates.filter((t) => t.method === method && t.pattern.test(bare)).sort((a, b) => b.literal - a.literal)[0];
    return found && `${method} ${found.template}`;
  }

  function validatorFor(key: string, schema: Schema): ValidateFunction {
    let v = validators.get(key);
    if (!v) {
      // The document's component references, made local to each compiled schema.
      const local = (s: unknown): Schema => JSON.parse(JSON.stringify(s).replaceAll('"#/components/schemas/', '"#/$defs/')) as Schema;
      v = ajv.compile({ ...local(schema), $defs: local(doc.components?.schemas ?? {}) });
      validators.set(key, v);
    }
    return v;
  }

  /** Looks the answer up in the document and validates its JSON body; what differs is collected. */
  async function check(method: string, path: string, response: Response): Promise<void> {
    const key = operationOf(method, path);
    if (!key) {
      mismatches.push(`${method} ${path}: not in the document`);
      return;
    }
    if (response.status < 300) walked.add(key);
    const [, template] = key.split(' ');
    const op = doc.paths[template ?? '']?.[method.toLowerCase()];
    const documented = op?.responses[String(response.status)] ?? op?.responses.default;
    if (!documented) {
      mismatches.push(`${key}: answered ${response.status}, which the document does not list (${Object.keys(op?.responses ?? {}).join(', ')})`);
      return;
    }
    const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const text = await response.text();
    if (!/json$/.test(type)) {
      if (text.length > 0 && documented.content && !documented.content[type])
        mismatches.push(`${key} ${response.status}: answered ${type}, documented ${Object.keys(documented.content).join(', ')}`);
      return;
    }
    const schema = documented.content?.[type]?.schema;
    if (!schema) {
      mismatches.push(`${key} ${response.status}: a ${type} body, but the document gives no schema for it`);
      return;
    }
    const validate = validatorFor(`${key} ${response.status} ${type}`, schema);
    if (!validate(JSON.parse(text))) {
      const errors = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
      mismatches.push(`${key} ${response.status}: ${errors.join('; ')}`);
    }
  }

  /** fetch by path, every answer checked (the device client's enroll, token, policy, consent and ingest too). */
  const checkedFetch = async (path: string, init: RequestInit = {}) => {
    const response = await bed.cloud.fetchPath(path, init);
    await check((init.method ?? 'GET').toUpperCase(), path, response.clone());
    return response;
  };
  const send = (headers: Record<string, string>, method: string, path: string, body?: unknown, type = 'application/json') =>
    checkedFetch(path, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': type }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const as = (caller: Caller) => ({
    get: (path: string) => send(caller.headers, 'GET', path),
    send: (method: string, path: string, body?: unknown) => send(caller.headers, method, path, body ?? {}),
  });

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `openapi-${kind}`);
    doc = (await (await bed.cloud.fetchPath('/openapi.json')).json()) as Document;
    templates = Object.entries(doc.paths).flatMap(([template, ops]) =>
      Object.keys(ops).map((m) => ({
        method: m.toUpperCase(),
        template,
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
        literal: template.replace(/\{[^}]+\}/g, '').length,
      })),
    );
  }, 180_000);
  afterAll(async () => bed?.stop());

  it('answers every walked request as the document says', { timeout: 240_000 }, async () => {
    const { orgA } = bed;
    const admin = as(await bed.as('admin'));
    const manager = as(await bed.as('manager'));
    const employee = as(await bed.as('employee'));
    const auditor = as(await bed.as('auditor'));
    const today = new Date().toISOString().slice(0, 10);
    const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
    const range = `from=${weekAgo}&to=${today}`;

    // The device: enroll, token, policy, consent and ingest, every answer checked.
    const device = await createTestDevice(checkedFetch, bed.cloud.url, await bed.cloud.tokenFor(orgA.people.employee.id, orgA.orgId), 'employee');
    expect((await device.consent(['app_usage', 'idle'])).status).toBe(201);
    const spans = makeSpans(5);
    expect((await device.ingest(spans)).status).toBe(200);
    const bearer = { authorization: `Bearer ${device.accessToken}` };
    const dev = {
      get: (path: string) => send(bearer, 'GET', path),
      send: (method: string, path: string, body: unknown) => send(bearer, method, path, body),
    };
    for (const path of ['/v1/devices/binding', '/v1/policy', '/v1/receipt-keys', '/v1/audit-keys', '/v1/policy/diff?from=1', NOTICE_PATHS.notice])
      await dev.get(path);
    for (const path of ['/v1/me/spans', '/v1/me/viewers', '/v1/me/export?format=json', '/v1/me/erasures']) await dev.get(path);
    const notice = (await (await bed.cloud.fetchPath(NOTICE_PATHS.notice, { headers: bearer })).json()) as { version: number; hash: string };
    await dev.send('POST', NOTICE_PATHS.acknowledgment, { version: notice.version, hash: notice.hash });
    await dev.send('POST', NOTICE_PATHS.acknowledgment, { version: 'x' });
    await dev.send('POST', '/v1/ingest', { batchId: uuidv7(), spans: [{ id: 'not-a-uuid' }] });
    // An import of past history under its own consent: granted, listed, refused, withdrawn.
    const policy = (await (await bed.cloud.fetchPath('/v1/policy', { headers: bearer })).json()) as { version: number };
    const importRequest = {
      policyVersion: policy.version,
      scopes: ['app_usage'],
      from: new Date(Date.now() - 3 * 86_400_000).toISOString(),
      to: new Date(Date.now() - 2 * 86_400_000).toISOString(),
      source: 'activitywatch',
      preview: { spans: 3, activeMs: 3_600_000, idleMs: 0, apps: 2, titles: false },
    };
    const granted = (await (await dev.send('POST', '/v1/consent/imports', importRequest)).json()) as { grant?: { id: string } };
    await dev.send('POST', '/v1/consent/imports', { ...importRequest, to: importRequest.from });
    await dev.get('/v1/consent/imports');
    if (granted.grant) await dev.send('POST', `/v1/consent/imports/${granted.grant.id}/withdraw`, {});

    // Sessions and accounts.
    await send({}, 'POST', '/api/session', { email: orgA.people.employee.email, password: 'wrong password' });
    await send({}, 'POST', '/api/session', { email: orgA.people.employee.email, password: 'correct horse battery staple' });
    for (const path of [
      '/api/me',
      '/api/account/sessions',
      '/api/me/devices',
      '/api/me/notifications',
      '/api/me/spans',
      '/api/me/viewers',
      '/api/me/export?format=json',
      '/api/me/erasures',
    ])
      await employee.get(path);
    await employee.send('PUT', '/api/me/notifications', { preferences: [{ event: 'report.weekly', channel: 'email', enabled: false }] });
    await employee.send('POST', '/api/me/pairing-codes');
    await employee.get('/api/admin/policies');

    // Admin: policies, people, devices, tokens, audit, compliance, notifications, provisioning.
    const policies = (await (await bed.cloud.fetchPath('/api/admin/policies', { headers: (await bed.as('admin')).headers })).json()) as {
      policies?: { version: number }[];
    };
    const version = policies.policies?.[0]?.version ?? 1;
    for (const path of [
      '/api/admin/policies',
      `/api/admin/policies/${version}`,
      `/api/admin/people/${orgA.people.employee.id}/consent-history`,
      '/api/admin/enrollment-tokens',
      '/api/admin/devices',
      '/api/invitations/pending',
      '/api/audit/events',
      '/api/audit/verify',
      '/api/audit/export.csv',
      '/api/compliance/report',
      '/api/compliance/report.csv',
      '/api/notifications/webhooks',
      '/api/notifications/deliveries',
      '/api/categories/rules',
      '/api/admin/provisioning/connections',
      '/api/admin/provisioning/settings',
      '/api/account/api-tokens',
      '/api/reports/consent-coverage',
      '/api/reports/device-health',
      '/api/reports/org-trend?' + range,
      '/api/reports/team-comparison?' + range,
      '/api/reports/exports',
      '/api/admin/policies/999',
    ])
      await admin.get(path);
    const draft = await admin.send('POST', '/api/admin/policies', { ...defaultPolicy('Org walk'), retentionDays: 60 });
    const drafted = (await draft.clone().json()) as { version?: number };
    if (drafted.version) await admin.send('PUT', `/api/admin/policies/${drafted.version}`, { ...defaultPolicy('Org walk'), retentionDays: 45 });
    await admin.send('POST', '/api/admin/enrollment-tokens', { label: 'walk', validDays: 1, maxUses: 1 });
    await admin.send('PUT', '/api/categories/rules', { rules: [{ app: '^Editor$', category: 'Writing', productivity: 'productive' }] });
    await admin.send('POST', '/api/invitations', { userIds: [orgA.people.teammate.id] });
    await admin.send('POST', '/api/notifications/webhooks', { url: 'https://hooks.example.invalid/walk', events: ['device.silent'] });
    await admin.send('PUT', '/api/admin/provisioning/settings', { deprovisionedData: 'keep' });
    await admin.get('/api/admin/working-week');
    await admin.send('PUT', '/api/admin/working-week', { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:30' });
    await admin.send('PUT', '/api/admin/working-week', { days: [], start: '18:00', end: '08:00' });
    const exportJob = (await (await admin.send('POST', '/api/reports/exports', { level: 'team', teamId: orgA.teamId, from: weekAgo, to: today })).json()) as {
      id?: string;
    };
    if (exportJob.id) {
      // The worker writes it; its state is read until done, then it is downloaded.
      const deadline = Date.now() + 30_000;
      let state = '';
      while (!['done', 'failed'].includes(state) && Date.now() < deadline) {
        state = ((await (await admin.get(`/api/reports/exports/${exportJob.id}`)).json()) as { state: string }).state;
        if (state === 'queued' || state === 'running') await new Promise((r) => setTimeout(r, 200));
      }
      await admin.get(`/api/reports/exports/${exportJob.id}/download`);
    }
    const report = (await (await auditor.get('/api/compliance/report')).json()) as { checkpoint: { jws: string } | null };
    if (report.checkpoint) await admin.send('POST', '/api/audit/verify', { checkpoint: report.checkpoint.jws });

    // Reports, by session and by API token.
    const team = `teamId=${orgA.teamId}`;
    for (const path of [
      '/api/reports/teams',
      `/api/reports/team-summary?${team}&${range}`,
      `/api/reports/team-apps?${team}&${range}`,
      `/api/reports/team-people?${team}`,
      `/api/reports/team-trend?${team}&${range}`,
      `/api/reports/person?userId=${orgA.people.employee.id}&${range}`,
      `/api/reports/export.csv?${team}&${range}`,
      `/api/reports/team-summary?teamId=nope`,
    ])
      await manager.get(path);
    const made = (await (await manager.send('POST', '/api/account/api-tokens', { name: 'walk', scopes: ['reports:team'] })).json()) as { token?: string };
    await send({ authorization: `Bearer ${made.token ?? ''}` }, 'GET', `/api/reports/team-summary?${team}&${range}`);

    // SCIM: discovery, users and groups made, read, changed.
    const connection = (await (await admin.send('POST', '/api/admin/provisioning/connections', { name: 'Walk IdP' })).json()) as { token?: string };
    const scim = { authorization: `Bearer ${connection.token ?? ''}` };
    const scimSend = (method: string, path: string, body?: unknown) => send(scim, method, `/scim/v2${path}`, body, 'application/scim+json');
    for (const path of [
      '/ServiceProviderConfig',
      '/ResourceTypes',
      '/ResourceTypes/User',
      '/Schemas',
      '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User',
      '/Users',
      '/Groups',
      '/Users/nope',
    ])
      await scimSend('GET', path);
    const userBody = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: `walk-${kind}@scim.example`,
      name: { givenName: 'Walk', familyName: 'Er' },
      emails: [{ value: `walk-${kind}@scim.example`, type: 'work', primary: true }],
      active: true,
    };
    const user = (await (await scimSend('POST', '/Users', userBody)).json()) as { id?: string };
    await scimSend('GET', `/Users/${user.id ?? ''}`);
    await scimSend('PUT', `/Users/${user.id ?? ''}`, { ...userBody, name: { givenName: 'Walk', familyName: 'Ed' } });
    await scimSend('PATCH', `/Users/${user.id ?? ''}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', path: 'displayName', value: 'Walked' }],
    });
    const group = (await (
      await scimSend('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Walkers ${kind}` })
    ).json()) as {
      id?: string;
    };
    await scimSend('GET', `/Groups/${group.id ?? ''}`);
    await scimSend('PUT', `/Groups/${group.id ?? ''}`, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: `Walkers ${kind}`,
      members: [{ value: user.id }],
    });
    await scimSend('PATCH', `/Groups/${group.id ?? ''}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: `members[value eq "${user.id ?? ''}"]` }],
    });
    await scimSend('POST', '/Users', { schemas: [] });

    expect(mismatches).toEqual([]);
  });

  it('answers refusals as documented: every operation without credentials, and as an employee with an unknown id and field', { timeout: 120_000 }, async () => {
    const employee = await bed.as('employee');
    const gets = Object.entries(doc.paths).flatMap(([template, ops]) => ('get' in ops && /^\/(v1|api|scim)\//.test(template) ? [template] : []));
    for (const template of gets) {
      const path = template.replace(/\{[^}]+\}/g, uuidv7());
      await send({}, 'GET', path);
      await send(employee.headers, 'GET', path);
    }
    // And every write: without credentials, then as an employee with a field no operation takes.
    const writes = Object.entries(doc.paths).flatMap(([template, ops]) =>
      /^\/(v1|api|scim)\//.test(template)
        ? Object.keys(ops)
            .filter((m) => m !== 'get')
            .map((m) => [m.toUpperCase(), template] as const)
        : [],
    );
    for (const [method, template] of writes) {
      const path = template.replace(/\{[^}]+\}/g, uuidv7());
      await send({}, method, path, {});
      await send(employee.headers, method, path, { unknownField: true });
    }
    expect(mismatches).toEqual([]);
  });

  it('would notice a body that differs from the document, or a status it does not list', async () => {
    const before = mismatches.length;
    await check('GET', '/api/me', Response.json({ userId: 42 }));
    await check('GET', '/api/me', Response.json({}, { status: 418 }));
    await check('POST', NOTICE_PATHS.acknowledgment, Response.json({ version: 1, acknowledgedAt: 'yesterday', first: true }, { status: 201 }));
    const found = mismatches.splice(before);
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^GET \/api\/me 200: /);
    expect(found[1]).toContain('answered 418, which the document does not list');
    expect(found[2]).toMatch(/acknowledgedAt must match format "date-time"/);
  });

  it('carried every documented operation to a successful answer, but those named with a reason', () => {
    const documented = Object.entries(doc.paths).flatMap(([template, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${template}`));
    const left = documented.filter((op) => /^(GET|POST|PUT|PATCH|DELETE) \/(v1|api|scim)\//.test(op) && !walked.has(op) && !(op in NOT_WALKED));
    expect(left).toEqual([]);
    // A reason for an operation that is walked, or no longer documented, is stale.
    expect(Object.keys(NOT_WALKED).filter((op) => walked.has(op) || !documented.includes(op))).toEqual([]);
  });
});
