import { z } from 'zod';

// PostgreSQL text cannot hold U+0000, and a lone UTF-16 surrogate has no UTF-8 form: either
// fails inside the database, long after validation, as a 500. No real app name, title, device
// name or form field contains them, so they are refused at the edge with the field named.
const NUL_OR_LONE_SURROGATE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const SAFE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

export function isSafeText(value: string): boolean {
  return !NUL_OR_LONE_SURROGATE.test(value);
}

/** A string schema that also refuses what no database column or UTF-8 encoder can hold. */
export function safeText(schema: z.ZodString = z.string()): z.ZodString {
  return schema.refine(isSafeText, { message: SAFE_TEXT_MESSAGE });
}
