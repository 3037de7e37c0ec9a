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
  /** The device is not bound to a person (by pairing code or IT), so it speaks for no one. */
  'device_unbound',
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

/**
 * A device's public key as a JWK. What WebCrypto's `exportKey('jwk')` writes is accepted as it
 * comes: `alg` "Ed25519" (RFC 9864's name) as well as "EdDSA", `ext`, and `key_ops` ["verify"].
 */
export const Ed25519PublicJwk = z.strictObject({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a base64url Ed25519 public key'),
  kid: safeText(z.string().max(128)).optional(),
  alg: z.enum(['EdDSA', 'Ed25519']).optional(),
  use: z.literal('sig').optional(),
  ext: z.boolean().optional(),
  key_ops: z.array(z.literal('verify')).max(1).optional(),
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

/**
 * A one-time pairing code as a person reads it from the web app: 8 characters of an alphabet
 * without look-alikes (no 0/O, 1/I/L, U). Spaces, dashes and case are forgiven.
 */
export const PAIRING_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
export const PAIRING_CODE_LENGTH = 8;

export function normalizePairingCode(input: string): string {
  return input.replace(/[\s-]/g, '').toUpperCase();
}

export const PairRequest = z.strictObject({
  code: z
    .string()
    .max(64)
    .transform(normalizePairingCode)
    .pipe(
      z.string().regex(new RegExp(`^[${PAIRING_CODE_ALPHABET}]{${PAIRING_CODE_LENGTH}}$`), `${PAIRING_CODE_LENGTH} characters from ${PAIRING_CODE_ALPHABET}`),
    ),
});
export type PairRequest = z.infer<typeof PairRequest>;

/** The person a device is bound to, by their proof or IT's; null while it speaks for no one. */
export const BoundPerson = z.strictObject({ name: z.string(), email: z.string() });
export type BoundPerson = z.infer<typeof BoundPerson>;

/** Who this device speaks for (GET WIRE_PATHS.binding, and the answer to a pairing). */
export const DeviceBinding = z.strictObject({
  deviceId: z.uuid(),
  /** The OS account the agent enrolled under: a hint for the person and IT, never a credential. */
  osUser: z.string(),
  boundTo: BoundPerson.nullable(),
  boundAt: z.iso.datetime().nullable(),
  method: z.enum(['pairing_code', 'it_assignment', 'enrollment_token']).nullable(),
});
export type DeviceBinding = z.infer<typeof DeviceBinding>;

export const WIRE_PATHS = {
  enroll: '/v1/devices/enroll',
  token: '/v1/devices/token',
  pair: '/v1/devices/pair',
  binding: '/v1/devices/binding',
  policy: '/v1/policy',
  consent: '/v1/consent',
  /** A consent for a past period of imported history (POST), and the device's import grants (GET). */
  consentImports: '/v1/consent/imports',
  ingest: '/v1/ingest',
  receiptKeys: '/v1/receipt-keys',
} as const;

/** POST: withdraws one import grant (`:id`); the history it brought in is erased, rollups follow. */
export const IMPORT_WITHDRAW_PATH = '/v1/consent/imports/:id/withdraw';
export const importWithdrawPath = (id: string) => IMPORT_WITHDRAW_PATH.replace(':id', encodeURIComponent(id));
