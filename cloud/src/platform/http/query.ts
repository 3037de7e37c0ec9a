import type { Context } from 'hono';
import type { z } from 'zod';
import { AppError } from '../errors';

/** Parses the query string with a zod schema; a bad value is a 400 naming the parameter. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw AppError.fromZod(parsed.error, 'query');
  return parsed.data;
}
