import type { OpenAPIHono } from '@hono/zod-openapi';
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
} from '@icarus/shared';
import type { z } from 'zod';
import type { AppEnv } from './env';

/** A JSON request or response body in the OpenAPI document. */
export const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

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

/** Documents the wire API from the same zod schemas the handlers validate with. */
export function documentWireApi(app: OpenAPIHono<AppEnv>) {
  const registry = app.openAPIRegistry;
  registry.registerComponent('securitySchemes', 'device', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const device = [{ device: [] }];
  registry.registerPath({
    method: 'post',
    path: WIRE_PATHS.enroll,
    summary: 'Enroll a device with an enrollment token',
    request: { body: { required: true, ...json(EnrollRequest) } },
    responses: { 201: { description: 'Enrolled', ...json(EnrollResponse) }, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: WIRE_PATHS.token,
    summary: 'Exchange a device-signed JWT assertion (EdDSA) for an access token',
    request: { body: { required: true, ...json(TokenRequest) } },
    responses: { 200: { description: 'Access token', ...json(TokenResponse) }, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: WIRE_PATHS.pair,
    summary: 'Bind this device to the person whose one-time pairing code (from the web app) it presents',
    security: device,
    request: { body: { required: true, ...json(PairRequest) } },
    responses: { 200: { description: 'Who the device speaks for now', ...json(DeviceBinding) }, ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: WIRE_PATHS.binding,
    summary: 'Who this device speaks for (null until paired or assigned by IT)',
    security: device,
    responses: { 200: { description: 'The binding in force', ...json(DeviceBinding) }, ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: WIRE_PATHS.policy,
    summary: "The org's current policy version",
    security: device,
    responses: { 200: { description: 'Current policy', ...json(Policy) }, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: WIRE_PATHS.consent,
    summary: 'Record a consent decision (grant, decline, withdraw); returns a signed receipt',
    security: device,
    request: { body: { required: true, ...json(ConsentDecision) } },
    responses: { 201: { description: 'Signed receipt', ...json(ConsentResponse) }, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: WIRE_PATHS.ingest,
    summary: 'Send a batch of spans (gzip accepted); each span id is stored once',
    security: device,
    request: { body: { required: true, ...json(IngestBatch) } },
    responses: { 200: { description: 'Per-span outcome and directives', ...json(IngestResult) }, ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: WIRE_PATHS.receiptKeys,
    summary: 'JWKS with the public key that signs consent receipts',
    responses: { 200: { description: 'JWKS' } },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/audit-keys',
    summary: 'JWKS with the public key that signs audit chain checkpoints',
    responses: { 200: { description: 'JWKS' } },
  });
}
