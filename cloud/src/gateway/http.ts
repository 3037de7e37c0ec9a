import type { Context } from 'hono';
import type { z } from 'zod';
import { AppError } from '../errors';

/** Parses the query string with a zod schema; a bad value is a 400 naming the parameter. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw AppError.fromZod(parsed.error, 'query');
  return parsed.data;
}

/** A CSV download: UTF-8, saved under `filename`, never cached (reports hold personal data). */
export function csvResponse(body: string | ReadableStream<Uint8Array>, filename: string): Response {
  return new Response(body, {
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"`, 'cache-control': 'no-store' },
  });
}
