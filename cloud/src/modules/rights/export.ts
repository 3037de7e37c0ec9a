import type { OwnSpan } from './service';

const CSV_COLUMNS = ['id', 'start', 'durationMs', 'app', 'title', 'idle', 'deviceId'] as const;

/** RFC 4180 quoting; a leading = + - @ is prefixed so a spreadsheet never runs a title as a formula. */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n']/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * The person's data as a stream, so a long history never sits in memory whole. JSON:
 * `{"person":…,"generatedAt":…,"spans":[…]}`; CSV: one row per span.
 */
export function exportStream(format: 'json' | 'csv', header: Record<string, unknown>, pages: AsyncGenerator<OwnSpan[]>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let first = true;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        if (format === 'csv') controller.enqueue(encoder.encode(`${CSV_COLUMNS.join(',')}\r\n`));
        else controller.enqueue(encoder.encode(`${JSON.stringify(header).slice(0, -1)},"spans":[`));
        return;
      }
      const next = await pages.next();
      if (next.done) {
        if (format === 'json') controller.enqueue(encoder.encode(']}'));
        controller.close();
        return;
      }
      let chunk = '';
      for (const span of next.value) {
        if (format === 'csv') {
          chunk += `${CSV_COLUMNS.map((c) => csvCell(span[c])).join(',')}\r\n`;
        } else {
          chunk += `${first ? '' : ','}${JSON.stringify(span)}`;
          first = false;
        }
      }
      controller.enqueue(encoder.encode(chunk));
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
}
