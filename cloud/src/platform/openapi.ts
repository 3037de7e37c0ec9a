import type { OpenAPIHono } from '@hono/zod-openapi';
// Loaded for its effect: it gives zod schemas `.openapi()` (examples), which this file uses as it
// loads, whoever imports it first (a module's tests may load it before app.ts does).
import '@hono/zod-openapi';
import { z } from 'zod';
import {
  ApiError,
  ConsentDecision,
  ConsentResponse,
  DeviceBinding,
  EnrollRequest,
  EnrollResponse,
  IngestBatch,
  IngestResult,
  PairRequest,
  Policy,
  TokenRequest,
  TokenResponse,
  WIRE_PATHS,
  IMPORT_WITHDRAW_PATH,
  ImportConsentRequest,
  ImportConsentResponse,
  ImportGrantList,
} from '@icarus/shared';
import type { AppEnv } from './env';

type Registry = OpenAPIHono<AppEnv>['openAPIRegistry'];
type RouteConfig = Parameters<Registry['registerPath']>[0];

/**
 * Who may call an operation, as the document says it: a public operation says so with an
 * empty list (`[]`), not by leaving security out. Writes with a session also carry the CSRF
 * header.
 */
export const SECURITY = {
  public: [],
  device: [{ device: [] }],
  session: [{ session: [] }],
  sessionWrite: [{ session: [], csrf: [] }],
  /** Report reads: a session, or an API token with the report's scope (`Authorization: Bearer icn_api_…`). */
  sessionOrApiToken: [{ session: [] }, { apiToken: [] }],
} as const satisfies Record<string, readonly Record<string, readonly string[]>[]>;

/** The security schemes every operation names; the session cookie's name comes from the identity module. */
export function registerSecuritySchemes(app: OpenAPIHono<AppEnv>, sessionCookie: string) {
  const registry = app.openAPIRegistry;
  registry.registerComponent('securitySchemes', 'device', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Access token from `POST /v1/devices/token`',
  });
  registry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: sessionCookie,
    description: 'Session cookie set by `POST /api/session`',
  });
  registry.registerComponent('securitySchemes', 'apiToken', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'icn_api_…',
    description: 'An API token from `POST /api/account/api-tokens` (shown once): report reads only, within its scopes and teams',
  });
  registry.registerComponent('securitySchemes', 'csrf', {
    type: 'apiKey',
    in: 'header',
    name: 'X-CSRF-Token',
    description: 'The `csrfToken` of `GET /api/me`, on every POST, PUT, PATCH and DELETE',
  });
}

/**
 * One documented operation. `operationId` and `security` are required here so a new route
 * cannot be documented without them; `path` is written as the router has it (`:id`), and
 * path parameters without a schema of their own are documented as strings.
 */
export type Operation = Omit<RouteConfig, 'operationId' | 'security' | 'path' | 'method'> & {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  operationId: string;
  security: (typeof SECURITY)[keyof typeof SECURITY];
};

/** The router's `/a/:id{[0-9]+}` as OpenAPI writes it, `/a/{id}`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');

export function documentOperations(app: OpenAPIHono<AppEnv>, operations: readonly Operation[]) {
  for (const op of operations) {
    const names = [...op.path.matchAll(/:(\w+)/g)].map((m) => m[1] ?? '');
    const params = op.request?.params ?? (names.length > 0 ? z.object(Object.fromEntries(names.map((n) => [n, z.string()]))) : undefined);
    app.openAPIRegistry.registerPath({
      ...op,
      security: op.security.map((s) => Object.fromEntries(Object.entries(s).map(([name, scopes]) => [name, [...scopes]]))),
      path: openApiPath(op.path),
      ...(params || op.request ? { request: { ...op.request, ...(params ? { params } : {}) } } : {}),
    });
  }
}

/** A JSON request or response body in the OpenAPI document. */
export const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

/** A CSV answer (RFC 4180: CRLF line ends; `?bom=1` puts a UTF-8 BOM first, for Excel). */
export const csvResponse = (description: string) => ({
  description,
  content: { 'text/csv': { schema: z.string(), example: 'name,team\r\nZoë Åberg,Sales\r\n' } },
});

/**
 * Error responses, all in the shared error shape; each API says in its own words when a
 * status happens (a 403 means something else for a device than for a manager).
 */
export function errorResponses<S extends number>(descriptions: Record<S, string>): Record<S, { description: string } & ReturnType<typeof json>> {
  const out = {} as Record<S, { description: string } & ReturnType<typeof json>>;
  for (const [status, description] of Object.entries<string>(descriptions)) out[Number(status) as S] = { description, ...json(ApiError) };
  return out;
}

const errors = errorResponses({
  400: 'Invalid input; `fields` names each problem',
  401: 'Missing, expired, forged or replayed credentials',
  403: 'Device revoked, acting for another device, or (device_unbound) bound to no person',
  413: 'Body over the size limit',
  415: 'Not application/json, or an unsupported Content-Encoding',
  429: 'Rate limited; see Retry-After',
});

/** The JWKS a public key endpoint answers (RFC 7517). */
const Jwks = z.object({
  keys: z.array(z.looseObject({ kty: z.string(), kid: z.string().optional(), crv: z.string().optional(), x: z.string().optional() })),
});
const jwks = {
  description: 'JWKS',
  content: {
    'application/json': {
      schema: Jwks,
      example: { keys: [{ kty: 'OKP', crv: 'Ed25519', kid: 'receipt-2026-01', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] },
    },
  },
};

/** Documents the wire API from the same zod schemas the handlers validate with. */
export function documentWireApi(app: OpenAPIHono<AppEnv>) {
  const tags = ['device'];
  documentOperations(app, [
    {
      operationId: 'enrollDevice',
      method: 'post',
      path: WIRE_PATHS.enroll,
      summary: 'Enroll a device with an enrollment token',
      tags,
      security: SECURITY.public,
      request: { body: { required: true, ...json(EnrollRequest) } },
      responses: { 201: { description: 'Enrolled', ...json(EnrollResponse) }, ...errors },
    },
    {
      operationId: 'issueDeviceToken',
      method: 'post',
      path: WIRE_PATHS.token,
      summary: 'Exchange a device-signed JWT assertion (EdDSA) for an access token',
      tags,
      security: SECURITY.public,
      request: { body: { required: true, ...json(TokenRequest) } },
      responses: { 200: { description: 'Access token', ...json(TokenResponse) }, ...errors },
    },
    {
      operationId: 'pairDevice',
      method: 'post',
      path: WIRE_PATHS.pair,
      summary: 'Bind this device to the person whose one-time pairing code (from the web app) it presents',
      tags,
      security: SECURITY.device,
      request: { body: { required: true, ...json(PairRequest) } },
      responses: { 200: { description: 'Who the device speaks for now', ...json(DeviceBinding) }, ...errors },
    },
    {
      operationId: 'getDeviceBinding',
      method: 'get',
      path: WIRE_PATHS.binding,
      summary: 'Who this device speaks for (null until paired or assigned by IT)',
      tags,
      security: SECURITY.device,
      responses: { 200: { description: 'The binding in force', ...json(DeviceBinding) }, ...errors },
    },
    {
      operationId: 'getPolicy',
      method: 'get',
      path: WIRE_PATHS.policy,
      summary: "The org's current policy version",
      tags,
      security: SECURITY.device,
      responses: { 200: { description: 'Current policy', ...json(Policy) }, ...errors },
    },
    {
      operationId: 'recordConsent',
      method: 'post',
      path: WIRE_PATHS.consent,
      summary: 'Record a consent decision (grant, decline, withdraw); returns a signed receipt',
      tags,
      security: SECURITY.device,
      request: { body: { required: true, ...json(ConsentDecision) } },
      responses: { 201: { description: 'Signed receipt', ...json(ConsentResponse) }, ...errors },
    },
    {
      operationId: 'grantImportConsent',
      method: 'post',
      path: WIRE_PATHS.consentImports,
      summary:
        'Consent to store imported history (ActivityWatch) of the past period [from, to) for the named scopes; returns the grant and its signed receipt, which states the period and that it is an import',
      tags,
      security: SECURITY.device,
      request: { body: { required: true, ...json(ImportConsentRequest) } },
      responses: {
        201: { description: 'The grant and its receipt; send the history in batches naming `importGrantId`', ...json(ImportConsentResponse) },
        ...errorResponses({
          400: 'Invalid body (a scope the policy does not offer, `from` older than the retention window, `to` in the future); `fields` names each problem',
          401: 'Missing, expired or forged credentials',
          403: 'Device revoked, or bound to no person',
          409: 'Not the current policy version',
        }),
      },
    },
    {
      operationId: 'listImportConsents',
      method: 'get',
      path: WIRE_PATHS.consentImports,
      summary: 'The import grants the person bound to this device made on it, withdrawn ones included',
      tags,
      security: SECURITY.device,
      responses: { 200: { description: 'The grants, oldest first', ...json(ImportGrantList) }, ...errors },
    },
    {
      operationId: 'withdrawImportConsent',
      method: 'post',
      path: IMPORT_WITHDRAW_PATH,
      summary: 'Withdraw an import grant: its own signed receipt, and the history it brought in erased (rollups follow); asked again, the same receipt',
      tags,
      security: SECURITY.device,
      request: { params: z.strictObject({ id: z.uuid() }) },
      responses: {
        200: { description: 'The withdrawn grant, the withdrawal receipt and how many stored spans were erased', ...json(ImportConsentResponse) },
        ...errorResponses({
          401: 'Missing, expired or forged credentials',
          403: 'Device revoked, or bound to no person',
          404: 'No such import grant on this device',
        }),
      },
    },
    {
      operationId: 'ingestSpans',
      method: 'post',
      path: WIRE_PATHS.ingest,
      summary: 'Send a batch of spans (gzip accepted); each span id is stored once',
      tags,
      security: SECURITY.device,
      request: { body: { required: true, ...json(IngestBatch) } },
      responses: { 200: { description: 'Per-span outcome and directives', ...json(IngestResult) }, ...errors },
    },
    {
      operationId: 'getReceiptKeys',
      method: 'get',
      path: WIRE_PATHS.receiptKeys,
      summary: 'JWKS with the public key that signs consent receipts',
      tags: ['keys'],
      security: SECURITY.public,
      responses: { 200: jwks },
    },
    {
      operationId: 'getAuditKeys',
      method: 'get',
      path: '/v1/audit-keys',
      summary: 'JWKS with the public key that signs audit chain checkpoints',
      tags: ['keys'],
      security: SECURITY.public,
      responses: { 200: jwks },
    },
  ]);
}
