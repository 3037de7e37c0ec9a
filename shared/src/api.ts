import { z } from 'zod';
import { Platform } from './scopes';
import { Directive } from './directive';
import { RejectReason } from './span';
import { safeText } from './text';

export const ApiErrorCode = z.enum([
  'bad_request',
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'request_timeout',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'internal',
]);
export type ApiErrorCode = z.infer<typeof ApiErrorCode>;

export const FieldProblem = z.strictObject({ path: z.string(), problem: z.string() });
export type FieldProblem = z.infer<typeof FieldProblem>;

export const ApiError = z.strictObject({
  error: z.strictObject({
    code: ApiErrorCode,
    message: z.string(),
    fields: z.array(FieldProblem).optional(),
    requestId: z.string().optional(),
  }),
});
export type ApiError = z.infer<typeof ApiError>;

export const Ed25519PublicJwk = z.strictObject({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a base64url Ed25519 public key'),
  kid: safeText(z.string().max(128)).optional(),
  alg: z.literal('EdDSA').optional(),
  use: z.literal('sig').optional(),
});
export type Ed25519PublicJwk = z.infer<typeof Ed25519PublicJwk>;

export const EnrollRequest = z.strictObject({
  enrollmentToken: safeText(z.string().min(16).max(256)),
  deviceName: safeText(z.string().min(1).max(200)),
  platform: Platform,
  osUser: safeText(z.string().min(1).max(200)),
  publicKeyJwk: Ed25519PublicJwk,
  agentVersion: safeText(z.string().max(64)).optional(),
});
export type EnrollRequest = z.infer<typeof EnrollRequest>;

export const EnrollResponse = z.strictObject({ deviceId: z.uuid(), orgId: z.uuid() });
export type EnrollResponse = z.infer<typeof EnrollResponse>;

export const TokenRequest = z.strictObject({ assertion: safeText(z.string().min(20).max(4096)) });
export type TokenRequest = z.infer<typeof TokenRequest>;

export const TokenResponse = z.strictObject({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.int(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

/** Longest lifetime the server accepts for a device's signed assertion. */
export const MAX_ASSERTION_LIFETIME_S = 300;

export const IngestResult = z.strictObject({
  accepted: z.int().min(0),
  duplicates: z.int().min(0),
  rejected: z.array(z.strictObject({ id: z.string(), reason: RejectReason })),
  directives: z.array(Directive),
});
export type IngestResult = z.infer<typeof IngestResult>;

export const WIRE_PATHS = {
  enroll: '/v1/devices/enroll',
  token: '/v1/devices/token',
  policy: '/v1/policy',
  consent: '/v1/consent',
  ingest: '/v1/ingest',
  receiptKeys: '/v1/receipt-keys',
} as const;
