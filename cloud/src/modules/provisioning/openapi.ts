import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { errorResponses, json } from '../../platform/openapi';
import { ConnectionInput, PROVISIONING_API, SettingsInput } from './admin-routes';
import { SCIM_BASE } from './routes';
import { SCIM_MEDIA_TYPE } from './scim-error';

const ScimErrorBody = z.object({
  schemas: z.array(z.literal('urn:ietf:params:scim:api:messages:2.0:Error')),
  status: z.string().describe('The HTTP status, as a string'),
  scimType: z.enum(['invalidFilter', 'tooMany', 'uniqueness', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue']).optional(),
  detail: z.string(),
});
const scim = (schema: z.ZodType) => ({ content: { [SCIM_MEDIA_TYPE]: { schema } } });
const scimErrors = (statuses: Record<number, string>) =>
  Object.fromEntries(Object.entries(statuses).map(([status, description]) => [status, { description, ...scim(ScimErrorBody) }]));
const Resource = z.record(z.string(), z.unknown()).describe('A SCIM resource (RFC 7643): User or Group');
const ListResponse = z.object({
  schemas: z.array(z.string()),
  totalResults: z.int(),
  startIndex: z.int(),
  itemsPerPage: z.int(),
  Resources: z.array(Resource),
});
const PatchOp = z.object({
  schemas: z.array(z.string()).describe('urn:ietf:params:scim:api:messages:2.0:PatchOp'),
  Operations: z.array(z.object({ op: z.string().describe('add, replace or remove, in any case'), path: z.string().optional(), value: z.unknown().optional() })),
});
const Connection = z.object({
  id: z.uuid(),
  name: z.string(),
  tokenHint: z.string(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});

/** Documents `/scim/v2` (SCIM media type and error shape) and the admin API for its connections. */
export function documentProvisioningApi(app: OpenAPIHono<AppEnv>) {
  const registry = app.openAPIRegistry;
  registry.registerComponent('securitySchemes', 'scim', { type: 'http', scheme: 'bearer', description: 'A SCIM connection token (icn_scim_…)' });
  const security = [{ scim: [] }];
  const common = scimErrors({
    401: 'Missing, unknown or revoked SCIM token',
    429: 'Too many requests for this connection (50 a second, bursts of 600); wait the seconds of Retry-After',
    500: 'The server could not complete the request',
  });
  const lookup = scimErrors({ 404: 'No such resource in this organisation' });
  const write = scimErrors({
    400: 'Invalid body, filter, path or value; `scimType` says which',
    409: 'Another user has that email, or another group that name (uniqueness)',
    413: 'Body over the size limit',
    415: 'Not application/scim+json or application/json',
  });
  const id = z.object({ id: z.string() });
  const list = z.object({
    filter: z.string().optional().describe('eq, ne, co, sw, ew, gt, ge, lt, le, pr, and, or, not and value paths such as members[value eq "…"]'),
    startIndex: z.string().optional(),
    count: z.string().optional(),
    excludedAttributes: z.string().optional(),
  });
  const ok = (description: string, schema: z.ZodType) => ({ description, ...scim(schema) });

  for (const [path, operationId, summary] of [
    ['ServiceProviderConfig', 'scimServiceProviderConfig', 'What this SCIM server supports'],
    ['ResourceTypes', 'scimResourceTypes', 'The resource types: User and Group'],
    ['Schemas', 'scimSchemas', 'The schemas of the attributes kept'],
  ] as const) {
    registry.registerPath({
      method: 'get',
      path: `${SCIM_BASE}/${path}`,
      operationId,
      summary,
      tags: ['SCIM'],
      security,
      responses: { 200: ok(summary, Resource), ...common },
    });
  }
  for (const [path, operationId] of [
    ['ResourceTypes/{id}', 'scimResourceType'],
    ['Schemas/{id}', 'scimSchema'],
  ] as const) {
    registry.registerPath({
      method: 'get',
      path: `${SCIM_BASE}/${path}`,
      operationId,
      summary: `One of ${path.split('/')[0]}`,
      tags: ['SCIM'],
      security,
      request: { params: id },
      responses: { 200: ok('Found', Resource), ...common, ...lookup },
    });
  }
  for (const kind of ['Users', 'Groups'] as const) {
    const one = kind.slice(0, -1);
    registry.registerPath({
      method: 'get',
      path: `${SCIM_BASE}/${kind}`,
      operationId: `scimList${kind}`,
      summary: `${kind}, filtered and paged`,
      tags: ['SCIM'],
      security,
      request: { query: list },
      responses: { 200: ok('A list response', ListResponse), ...common, ...write },
    });
    registry.registerPath({
      method: 'post',
      path: `${SCIM_BASE}/${kind}`,
      operationId: `scimCreate${one}`,
      summary: `Create a ${one.toLowerCase()}`,
      tags: ['SCIM'],
      security,
      request: { body: { required: true, ...scim(Resource) } },
      responses: { 201: ok('Created', Resource), ...common, ...write },
    });
    registry.registerPath({
      method: 'get',
      path: `${SCIM_BASE}/${kind}/{id}`,
      operationId: `scimGet${one}`,
      summary: `One ${one.toLowerCase()}`,
      tags: ['SCIM'],
      security,
      request: { params: id },
      responses: { 200: ok('Found', Resource), ...common, ...lookup },
    });
    registry.registerPath({
      method: 'put',
      path: `${SCIM_BASE}/${kind}/{id}`,
      operationId: `scimReplace${one}`,
      summary: `Replace a ${one.toLowerCase()}`,
      tags: ['SCIM'],
      security,
      request: { params: id, body: { required: true, ...scim(Resource) } },
      responses: { 200: ok('Replaced', Resource), ...common, ...lookup, ...write },
    });
    registry.registerPath({
      method: 'patch',
      path: `${SCIM_BASE}/${kind}/{id}`,
      operationId: `scimPatch${one}`,
      summary: `Change a ${one.toLowerCase()} (RFC 7644 §3.5.2)`,
      tags: ['SCIM'],
      security,
      request: { params: id, body: { required: true, ...scim(PatchOp) } },
      responses: { 200: ok('Changed', Resource), ...common, ...lookup, ...write },
    });
    registry.registerPath({
      method: 'delete',
      path: `${SCIM_BASE}/${kind}/{id}`,
      operationId: `scimDelete${one}`,
      summary: kind === 'Users' ? 'Delete a user: deprovisioned, and gone from SCIM' : 'Delete a group: its people leave the team',
      tags: ['SCIM'],
      security,
      request: { params: id },
      responses: { 204: { description: 'Deleted' }, ...common, ...lookup },
    });
  }

  const session = [{ session: [] }];
  const writeSession = [{ session: [], csrf: [] }];
  const errors = errorResponses({
    400: 'Invalid input; `fields` names each problem',
    401: 'Not signed in',
    403: 'Not an admin, or the CSRF token is missing',
    404: 'No such connection in this organisation',
  });
  const Created = Connection.pick({ id: true, name: true, createdAt: true }).extend({
    token: z.string().describe('Shown once; kept only as a hash'),
    scimUrl: z.string(),
  });
  registry.registerPath({
    method: 'get',
    path: PROVISIONING_API.connections,
    operationId: 'listScimConnections',
    summary: 'SCIM connections of the org',
    tags: ['Provisioning'],
    security: session,
    responses: { 200: { description: 'Connections', ...json(z.object({ scimUrl: z.string(), connections: z.array(Connection) })) }, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: PROVISIONING_API.connections,
    operationId: 'createScimConnection',
    summary: 'A new SCIM connection and its bearer token (shown once)',
    tags: ['Provisioning'],
    security: writeSession,
    request: { body: { required: true, ...json(ConnectionInput) } },
    responses: { 201: { description: 'Made', ...json(Created) }, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: PROVISIONING_API.revoke.replace(':connectionId', '{connectionId}'),
    operationId: 'revokeScimConnection',
    summary: 'Revoke a SCIM connection: its token stops working at once',
    tags: ['Provisioning'],
    security: writeSession,
    request: { params: z.object({ connectionId: z.uuid() }) },
    responses: { 204: { description: 'Revoked' }, ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: PROVISIONING_API.settings,
    operationId: 'getProvisioningSettings',
    summary: 'What happens to a deprovisioned person’s data',
    tags: ['Provisioning'],
    security: session,
    responses: { 200: { description: 'The setting', ...json(SettingsInput) }, ...errors },
  });
  registry.registerPath({
    method: 'put',
    path: PROVISIONING_API.settings,
    operationId: 'setProvisioningSettings',
    summary: 'Keep or erase a deprovisioned person’s data',
    tags: ['Provisioning'],
    security: writeSession,
    request: { body: { required: true, ...json(SettingsInput) } },
    responses: { 200: { description: 'Saved', ...json(SettingsInput) }, ...errors },
  });
}
