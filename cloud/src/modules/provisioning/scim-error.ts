// The SCIM error shape (RFC 7644 §3.12): what an identity provider reads, unlike the rest of the
// API's `{"error": …}` body.
import { AppError } from '../../platform/errors';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCIM_MEDIA_TYPE = 'application/scim+json';

/** The `scimType` values of RFC 7644 Table 9 that this server answers with. */
export type ScimType = 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue';

export class ScimError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 501 | 503,
    message: string,
    readonly scimType?: ScimType,
    /** Headers the answer carries (Retry-After on a 429). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  toBody() {
    return { schemas: [SCIM_ERROR_SCHEMA], status: String(this.status), ...(this.scimType ? { scimType: this.scimType } : {}), detail: this.message };
  }
}

/** Any error a SCIM route meets, in SCIM's shape: the app's own errors keep their status and words. */
export function asScimError(error: unknown): ScimError {
  if (error instanceof ScimError) return error;
  if (error instanceof AppError) {
    const scimType = error.code === 'conflict' ? 'uniqueness' : error.code === 'validation_failed' || error.code === 'bad_request' ? 'invalidValue' : undefined;
    const status = error.status === 408 || error.status === 503 ? 503 : error.status;
    return new ScimError(status, error.message, scimType, error.headers);
  }
  return new ScimError(500, 'The server could not complete this request');
}
