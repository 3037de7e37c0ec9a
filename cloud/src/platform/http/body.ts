import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { Context } from 'hono';
import type { z } from 'zod';
import { AppError } from '../errors';

const gunzipAsync = promisify(gunzip);

/**
 * Reads a JSON body the way every wire route does: content type checked (415), size
 * limited before and after gzip (413), JSON syntax (400), then the zod schema (400 naming
 * each bad field). One reader keeps the error behaviour the same on every route.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, maxBytes: number): Promise<z.infer<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new AppError('unsupported_media_type', `Content-Type must be application/json, got "${type || 'none'}"`, [
      { path: 'content-type', problem: 'expected application/json' },
    ]);
  }
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const raw = Buffer.from(await c.req.arrayBuffer());
  if (raw.length > maxBytes) throw tooLarge(maxBytes);

  const encoding = (c.req.header('content-encoding') ?? 'identity').toLowerCase();
  let text: Buffer;
  if (encoding === 'gzip') {
    try {
      text = await gunzipAsync(raw, { maxOutputLength: maxBytes * 4 });
    } catch (error) {
      if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw tooLarge(maxBytes * 4, 'after decompression');
      }
      throw new AppError('bad_request', 'Body is not valid gzip', [{ path: 'content-encoding', problem: 'invalid gzip data' }]);
    }
  } else if (encoding === 'identity') {
    text = raw;
  } else {
    throw new AppError('unsupported_media_type', `Content-Encoding "${encoding}" is not supported; use gzip or none`, [
      { path: 'content-encoding', problem: 'expected gzip or identity' },
    ]);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text.toString('utf8'));
  } catch (error) {
    const detail = error instanceof SyntaxError ? error.message : 'unparseable';
    throw new AppError('bad_request', `Malformed JSON: ${detail}`, [{ path: 'body', problem: 'malformed JSON' }]);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw AppError.fromZod(result.error);
  return result.data;
}

function tooLarge(limit: number, when = ''): AppError {
  const suffix = when ? ` ${when}` : '';
  return new AppError('payload_too_large', `Body exceeds ${limit} bytes${suffix}`, [
    { path: 'body', problem: `larger than ${limit} bytes${suffix}` },
  ]);
}
