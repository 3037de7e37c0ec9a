// `/scim/v2`: SCIM 2.0 for identity providers, in SCIM's media type and error shape. Each
// request carries a connection's bearer token; the connection decides the org.
import { Hono, type Context } from 'hono';
import type { AppEnv } from '../../platform/env';
import { readBodyBytes } from '../../platform/http/body';
import type { RateLimitStore, RateRule } from '../../platform/http/rate-limit';
import { resourceTypes, schemas, serviceProviderConfig } from './discovery';
import { PatchRequest } from './patch';
import { LIST_SCHEMA } from './resources';
import { asScimError, SCIM_MEDIA_TYPE, ScimError } from './scim-error';
import type { Connection, ListQuery, ProvisioningService } from './service';

export const SCIM_BASE = '/scim/v2';

/**
 * Requests per connection token, shared by every instance through the rate-limit store. Entra ID
 * asks a SCIM endpoint to take at least 25 requests a second per provisioning job, and Okta's
 * bulk loads run about 10 requests at once; twice Entra's rate, and a first sync's burst of 600
 * (a few hundred people looked up and made), leave room for both. Past it, 429 with Retry-After,
 * which both providers honour by pausing that job.
 */
export const SCIM_RATE: RateRule = { ratePerSecond: 50, burst: 600 };

type ScimEnv = { Variables: AppEnv['Variables'] & { connection: Connection } };

const answer = (c: Context, body: unknown, status: 200 | 201 = 200) => c.body(JSON.stringify(body), status, { 'content-type': SCIM_MEDIA_TYPE });

async function readScimJson(c: Context<ScimEnv>, maxBytes: number): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(scim\+)?json\b/i.test(type))
    throw new ScimError(415, `Send ${SCIM_MEDIA_TYPE} (or application/json), not "${type.slice(0, 100)}"`, 'invalidSyntax');
  const bytes = await readBodyBytes(c, { maxBytes });
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new ScimError(400, 'The body is not valid JSON', 'invalidSyntax');
  }
}

function listQuery(c: Context): ListQuery {
  const int = (name: string, fallback: number) => {
    const raw = c.req.query(name);
    if (raw === undefined || raw === '') return fallback;
    if (!/^-?\d{1,9}$/.test(raw)) throw new ScimError(400, `${name}: "${raw.slice(0, 50)}" is not an integer`, 'invalidValue');
    return Number(raw);
  };
  return { filter: c.req.query('filter'), startIndex: int('startIndex', 1), count: int('count', 100), excludedAttributes: c.req.query('excludedAttributes') };
}

async function readPatch(c: Context<ScimEnv>, maxBytes: number) {
  const parsed = PatchRequest.safeParse(await readScimJson(c, maxBytes));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ScimError(400, `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'is not a PatchOp'}`, 'invalidSyntax');
  }
  return parsed.data;
}

export function scimRoutes(deps: {
  service: ProvisioningService;
  baseUrl: () => string;
  maxBodyBytes: number;
  limits: RateLimitStore;
  onRateLimited?: (name: string) => void;
}) {
  const { service, maxBodyBytes, limits } = deps;
  const app = new Hono<ScimEnv>();
  app.onError((error, c) => {
    const scim = asScimError(error);
    if (scim.status === 500) c.get('log')?.error({ err: error }, 'scim request failed');
    if (scim.status === 401) c.header('www-authenticate', 'Bearer realm="scim"');
    return c.body(JSON.stringify(scim.toBody()), scim.status, { ...scim.headers, 'content-type': SCIM_MEDIA_TYPE });
  });
  // The token first (an unknown one is refused before it costs a bucket), then its connection's limit.
  app.use(`${SCIM_BASE}/*`, async (c, next) => {
    const connection = await service.authenticate(c.req.header('authorization'));
    const wait = await limits.take(`scim:${connection.id}`, SCIM_RATE, Date.now());
    if (wait > 0) {
      deps.onRateLimited?.('scim');
      throw new ScimError(429, `Too many requests for this connection; retry in ${wait} s`, undefined, { 'retry-after': String(wait) });
    }
    c.set('connection', connection);
    await next();
  });
  const base = deps.baseUrl;
  app.get(`${SCIM_BASE}/ServiceProviderConfig`, (c) => answer(c, serviceProviderConfig(base())));
  app.get(`${SCIM_BASE}/ResourceTypes`, (c) => {
    const all = resourceTypes(base());
    return answer(c, { schemas: [LIST_SCHEMA], totalResults: all.length, startIndex: 1, itemsPerPage: all.length, Resources: all });
  });
  app.get(`${SCIM_BASE}/ResourceTypes/:id`, (c) => {
    const found = resourceTypes(base()).find((r) => r.id === c.req.param('id'));
    if (!found) throw new ScimError(404, `No resource type ${c.req.param('id').slice(0, 100)}`);
    return answer(c, found);
  });
  app.get(`${SCIM_BASE}/Schemas`, (c) => {
    const all = schemas(base());
    return answer(c, { schemas: [LIST_SCHEMA], totalResults: all.length, startIndex: 1, itemsPerPage: all.length, Resources: all });
  });
  app.get(`${SCIM_BASE}/Schemas/:id`, (c) => {
    const found = schemas(base()).find((s) => s.id === c.req.param('id'));
    if (!found) throw new ScimError(404, `No schema ${c.req.param('id').slice(0, 200)}`);
    return answer(c, found);
  });

  app.get(`${SCIM_BASE}/Users`, async (c) => answer(c, await service.listUsers(c.get('connection'), listQuery(c))));
  app.post(`${SCIM_BASE}/Users`, async (c) => answer(c, await service.createUser(c.get('connection'), await readScimJson(c, maxBodyBytes)), 201));
  app.get(`${SCIM_BASE}/Users/:id`, async (c) => answer(c, await service.getUser(c.get('connection'), c.req.param('id'))));
  app.put(`${SCIM_BASE}/Users/:id`, async (c) =>
    answer(c, await service.replaceUser(c.get('connection'), c.req.param('id'), await readScimJson(c, maxBodyBytes))),
  );
  app.patch(`${SCIM_BASE}/Users/:id`, async (c) =>
    answer(c, await service.patchUser(c.get('connection'), c.req.param('id'), await readPatch(c, maxBodyBytes))),
  );
  app.delete(`${SCIM_BASE}/Users/:id`, async (c) => {
    await service.deleteUser(c.get('connection'), c.req.param('id'));
    return c.body(null, 204);
  });

  app.get(`${SCIM_BASE}/Groups`, async (c) => answer(c, await service.listGroups(c.get('connection'), listQuery(c))));
  app.post(`${SCIM_BASE}/Groups`, async (c) => answer(c, await service.createGroup(c.get('connection'), await readScimJson(c, maxBodyBytes)), 201));
  app.get(`${SCIM_BASE}/Groups/:id`, async (c) => {
    const withMembers = !(c.req.query('excludedAttributes') ?? '').toLowerCase().split(',').includes('members');
    return answer(c, await service.getGroup(c.get('connection'), c.req.param('id'), withMembers));
  });
  app.put(`${SCIM_BASE}/Groups/:id`, async (c) =>
    answer(c, await service.replaceGroup(c.get('connection'), c.req.param('id'), await readScimJson(c, maxBodyBytes))),
  );
  app.patch(`${SCIM_BASE}/Groups/:id`, async (c) =>
    answer(c, await service.patchGroup(c.get('connection'), c.req.param('id'), await readPatch(c, maxBodyBytes))),
  );
  app.delete(`${SCIM_BASE}/Groups/:id`, async (c) => {
    await service.deleteGroup(c.get('connection'), c.req.param('id'));
    return c.body(null, 204);
  });
  app.all(`${SCIM_BASE}/*`, (c) => {
    throw new ScimError(404, `No SCIM endpoint ${c.req.method} ${c.req.path.slice(0, 200)}`);
  });
  return app;
}
