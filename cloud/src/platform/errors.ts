import type { ApiError, ApiErrorCode, FieldProblem } from '@icarus/shared';
import type { ZodError } from 'zod';

const STATUS: Record<ApiErrorCode, 400 | 401 | 403 | 404 | 408 | 409 | 413 | 415 | 429 | 500 | 503> = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  request_timeout: 408,
  unsupported_media_type: 415,
  rate_limited: 429,
  device_unbound: 403,
  internal: 500,
  unavailable: 503,
};

/** The one error type: handlers throw it, the app's onError renders the shared shape. */
export class AppError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly fields?: FieldProblem[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  get status() {
    return STATUS[this.code];
  }

  static fromZod(error: ZodError, where = 'body'): AppError {
    const fields = error.issues.slice(0, 50).flatMap((issue) => {
      // A key may be the empty string ({"": 1}); it is named as "" so the path still names something.
      const at = (path: PropertyKey[]) => (path.length > 0 ? path.map((key) => (key === '' ? '""' : String(key))).join('.') : where);
      // Name each unknown field itself, not the object holding it.
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({ path: at([...issue.path, key]), problem: 'unknown field' }));
      }
      return [{ path: at(issue.path), problem: issue.message }];
    });
    const first = fields[0];
    const summary = first ? `${first.path}: ${first.problem}` : 'invalid input';
    return new AppError('validation_failed', `Invalid ${where}: ${summary}`, fields);
  }

  toBody(requestId?: string): ApiError {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.fields ? { fields: this.fields } : {}),
        ...(requestId ? { requestId } : {}),
      },
    };
  }
}
