import { csvCell } from '../core/store/csv';
import type { StoredSpan } from '../core/store/spans';
import type { AgentStore } from '../core/store/store';
import type { Write } from './consent-prompt';

const fmtTime = (ms: number) => new Date(ms).toTimeString().slice(0, 8);
const fmtDuration = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
};

function state(span: StoredSpan): string {
  if (span.rejectedReason) return `rejected: ${span.rejectedReason}`;
  if (span.syncedMs !== null) return 'sent';
  return span.batchId ? 'sending' : 'unsent';
}

/** Today's spans (local day), per-app totals, and what has not left the device yet. */
export function printMyData(store: AgentStore, now: number, write: Write): void {
  const midnight = new Date(now);
  midnight.setHours(0, 0, 0, 0);
  const today = store.spans.between(midnight.getTime(), now + 1);
  write(`Today (${midnight.toDateString()}): ${today.length} spans\n`);
  for (const s of today) {
    const what = s.idle ? 'idle' : `${s.app ?? ''}${s.title !== undefined ? ` — ${s.title}` : ''}`;
    write(`  ${fmtTime(s.start)} ${fmtDuration(s.durationMs).padStart(7)}  ${what}  [${state(s)}] ${s.id}\n`);
  }
  const totals = new Map<string, number>();
  for (const s of today) totals.set(s.idle ? '(idle)' : (s.app ?? '?'), (totals.get(s.idle ? '(idle)' : (s.app ?? '?')) ?? 0) + s.durationMs);
  write('\nPer app today:\n');
  for (const [app, ms] of [...totals].sort((a, b) => b[1] - a[1])) write(`  ${fmtDuration(ms).padStart(7)}  ${app}\n`);
  const unsent = store.spans.unsent();
  write(`\nNot yet sent: ${unsent.length} spans`);
  const policy = store.state.get('policy');
  const hold = policy?.content.reviewBeforeSendMinutes ?? 0;
  write(hold > 0 ? ` (each waits ${hold} min for your review; remove with \`icarus-agent forget <span id|app>\`)\n` : '\n');
  const dropped = store.spans.droppedCount();
  if (dropped > 0) write(`Dropped unsent (older than the local limit): ${dropped}\n`);
}

const CSV_COLUMNS = ['id', 'start', 'durationMs', 'app', 'title', 'idle', 'state'] as const;

/** Every span on the device, as JSON (an array) or CSV (RFC 4180 quoting, formulas neutralised). */
export function exportSpans(store: AgentStore, format: 'json' | 'csv', write: Write): void {
  const rows = store.spans.everything().map((s) => ({
    id: s.id,
    start: new Date(s.start).toISOString(),
    durationMs: s.durationMs,
    app: s.app ?? '',
    title: s.title ?? '',
    idle: s.idle === true,
    state: state(s),
  }));
  if (format === 'json') {
    write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  write(`${CSV_COLUMNS.join(',')}\r\n`);
  for (const r of rows) write(`${CSV_COLUMNS.map((c) => csvCell(r[c])).join(',')}\r\n`);
}
