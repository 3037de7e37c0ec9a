/** Quotes a CSV field only when it must be (RFC 4180), and defuses spreadsheet formulas (a leading =, +, -, @, tab or CR). */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** A CSV download: UTF-8, saved under `filename`, never cached (reports hold personal data). */
export function csvResponse(body: string | ReadableStream<Uint8Array>, filename: string): Response {
  return new Response(body, {
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"`, 'cache-control': 'no-store' },
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
