import type { Context } from 'hono';
import { z } from 'zod';
import { AppError } from '../errors';

/** Quotes a CSV field only when it must be (RFC 4180), and defuses spreadsheet formulas (a leading =, +, -, @, tab or CR). */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);

/** `?bom=1`: the file starts with a UTF-8 byte order mark, without which Excel reads UTF-8 as a legacy code page. */
export const BomField = z.enum(['0', '1']).optional().describe('1: start with a UTF-8 byte order mark, for Excel');

/**
 * Every CSV export's query: its own schema plus `bom`, which is taken out first so the
 * export's strict schema never sees it. A bad `bom` is a 400 naming it.
 */
export function readCsvQuery<S extends z.ZodType>(c: Context, schema: S): { query: z.infer<S>; bom: boolean } {
  const { bom, ...rest } = c.req.query();
  const parsedBom = BomField.safeParse(bom);
  if (!parsedBom.success) throw new AppError('validation_failed', 'Invalid query: bom: 0 or 1', [{ path: 'bom', problem: 'expected 0 or 1' }]);
  const parsed = schema.safeParse(rest);
  if (!parsed.success) throw AppError.fromZod(parsed.error, 'query');
  return { query: parsed.data, bom: parsedBom.data === '1' };
}

/**
 * A CSV download (RFC 4180: the body's lines end CRLF): UTF-8, with a byte order mark first
 * when asked for, saved under `filename`, never cached (reports hold personal data).
 */
export function csvResponse(body: string | ReadableStream<Uint8Array>, filename: string, options: { bom?: boolean } = {}): Response {
  return new Response(options.bom ? withBom(body) : body, {
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"`, 'cache-control': 'no-store' },
  });
}

/** The body with a UTF-8 byte order mark first. */
export function withBom(body: string | ReadableStream<Uint8Array>): ReadableStream<Uint8Array> | string {
  if (typeof body === 'string') return `\uFEFF${body}`;
  const reader = body.getReader();
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(BOM);
        return;
      }
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * A CSV body streamed page by page. The first page is read and rendered before this resolves,
 * so whatever fails early (a query, a row that cannot be rendered) fails the request while its
 * status can still say so. A failure after that is logged through `onError` and aborts the
 * stream: the client sees a broken transfer, never a short file that looks complete.
 */
export async function streamCsv<T>(
  header: string,
  pages: AsyncGenerator<T, void, undefined>,
  render: (page: T) => string[],
  onError: (error: unknown) => void,
): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder();
  let first: string[] = [];
  let exhausted: boolean;
  try {
    const next = await pages.next();
    exhausted = next.done === true;
    if (!next.done) first = render(next.value);
  } catch (error) {
    await pages.return(undefined).catch(() => undefined);
    throw error;
  }
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(header));
      for (const text of first) if (text.length > 0) controller.enqueue(encoder.encode(text));
      if (exhausted) controller.close();
    },
    async pull(controller) {
      try {
        const next = await pages.next();
        if (next.done) {
          controller.close();
          return;
        }
        for (const text of render(next.value)) if (text.length > 0) controller.enqueue(encoder.encode(text));
      } catch (error) {
        onError(error);
        await pages.return(undefined).catch(() => undefined);
        controller.error(error);
      }
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
}
