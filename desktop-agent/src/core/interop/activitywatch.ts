/**
 * ActivityWatch interop: the buckets JSON of aw-server's `GET /api/0/export` (and what its
 * `POST /api/0/import` accepts) read into spans, and the device's spans written back out in it.
 * Pure: no I/O; the CLI reads the file, asks the store and prints the summary.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Scope } from '@icarus/shared';
import type { LocalSpan } from '../capture/merger';
import { transformTitle, type TitlePolicy } from '../capture/title';

const HOUR_MS = 3_600_000;

/** aw-core's event: a timestamp (ISO 8601 with offset), a duration in seconds, free-form data. */
const AwEvent = z.object({
  id: z.union([z.number(), z.string()]).nullish(),
  timestamp: z.iso.datetime({ offset: true }),
  duration: z.number().min(0),
  data: z.record(z.string(), z.unknown()),
});

const AwBucket = z.object({
  id: z.string().min(1),
  name: z.string().nullish(),
  type: z.string(),
  client: z.string().optional(),
  hostname: z.string().optional(),
  created: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  events: z.array(AwEvent).default([]),
});

export const AwExport = z.object({ buckets: z.record(z.string(), AwBucket) });
export type AwExport = z.infer<typeof AwExport>;

export class ActivityWatchFormatError extends Error {}

/** Parses the export text; the error names the field (e.g. `buckets.aw-watcher-window_x.events.3.duration`). */
export function parseActivityWatchExport(text: string): AwExport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ActivityWatchFormatError(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = AwExport.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join('.') || '(top level)';
    throw new ActivityWatchFormatError(`not an ActivityWatch export: ${path}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export type SkipReason =
  | 'not a window or afk bucket (e.g. web, editor, input)'
  | 'app usage not granted'
  | 'idle not granted'
  | 'away from keyboard (afk), so not active time'
  | 'already covered by spans on this device'
  | 'no app name'
  | 'empty (zero duration)'
  | 'not ended yet (in the future)'
  | 'older than your organisation keeps history (its retention)'
  | 'while the agent was running (it records that time itself)';

export interface ImportSummary {
  spans: LocalSpan[];
  importedMs: number;
  /** Per reason: how many events (or pieces of them) and how much time. */
  skipped: Map<SkipReason, { count: number; ms: number }>;
}

export interface ImportOptions {
  scopes: ReadonlySet<Scope>;
  title: TitlePolicy;
  /** [start, end) times already on the device (captured or imported before): never imported again. */
  covered: ReadonlyArray<readonly [number, number]>;
  now: number;
  /** Nothing before this is imported: the organisation's retention would delete it at once (the server refuses it). */
  notBefore: number;
  /** A capturing agent started then: from that moment on it records the time itself. */
  agentRunningSince?: number;
}

interface Interval {
  start: number;
  end: number;
}

interface Piece extends Interval {
  key: { app: string; title?: string } | { idle: true };
  /** Where the piece came from, for its derived id. */
  origin: string;
}

/** [from, to) ranges sorted and merged where they touch or overlap. */
function union(ranges: Iterable<Interval>): Interval[] {
  const sorted = [...ranges].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** `piece` minus the (merged, sorted) ranges: what is left, in order. */
function subtract(piece: Interval, ranges: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let from = piece.start;
  for (const r of ranges) {
    if (r.end <= from) continue;
    if (r.start >= piece.end) break;
    if (r.start > from) out.push({ start: from, end: Math.min(r.start, piece.end) });
    from = Math.max(from, r.end);
    if (from >= piece.end) break;
  }
  if (from < piece.end) out.push({ start: from, end: piece.end });
  return out;
}

const overlapMs = (piece: Interval, ranges: readonly Interval[]) =>
  ranges.reduce((sum, r) => sum + Math.max(0, Math.min(piece.end, r.end) - Math.max(piece.start, r.start)), 0);

/**
 * A UUIDv7 derived from the span: its start in the time field (the wire checks that an id keeps
 * its start), the rest from a hash of where it came from, so importing the same export twice
 * yields the same ids and the store (and the server) keep one copy.
 */
export function derivedSpanId(startMs: number, origin: string): string {
  const hash = createHash('sha256').update(origin).digest();
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(startMs, 0, 6);
  hash.copy(bytes, 6, 0, 10);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const sameKey = (a: Piece['key'], b: Piece['key']) => ('idle' in a ? 'idle' in b : !('idle' in b) && a.app === b.app && a.title === b.title);

/**
 * The export's window and afk events as the agent would have recorded them: active time in an
 * app (title only with `window_titles`, transformed by the policy's title rules) minus the afk
 * time; afk time as idle spans only with `idle`; nothing of a scope not granted. Pieces of the
 * same app (and title) that touch are merged, and every span is split at the hour, as the merger
 * does; time already covered on the device is skipped, so nothing overlaps what the agent
 * captured itself.
 */
export function importActivityWatch(exported: AwExport, options: ImportOptions): ImportSummary {
  const skipped = new Map<SkipReason, { count: number; ms: number }>();
  const skip = (reason: SkipReason, ms: number, count = 1) => {
    const entry = skipped.get(reason) ?? { count: 0, ms: 0 };
    entry.count += count;
    entry.ms += ms;
    skipped.set(reason, entry);
  };
  const event = (e: z.infer<typeof AwEvent>): Interval => {
    const start = Date.parse(e.timestamp);
    return { start, end: start + Math.round(e.duration * 1000) };
  };

  const buckets = Object.values(exported.buckets);
  const afk = union(buckets.filter((b) => b.type === 'afkstatus').flatMap((b) => b.events.filter((e) => e.data.status === 'afk').map(event)));

  const pieces: Piece[] = [];
  for (const bucket of buckets) {
    if (bucket.type === 'afkstatus') continue;
    if (bucket.type !== 'currentwindow') {
      const ms = bucket.events.reduce((sum, e) => sum + e.duration * 1000, 0);
      skip('not a window or afk bucket (e.g. web, editor, input)', Math.round(ms), bucket.events.length);
      continue;
    }
    for (const e of bucket.events) {
      const range = event(e);
      if (range.end <= range.start) {
        skip('empty (zero duration)', 0);
        continue;
      }
      if (!options.scopes.has('app_usage')) {
        skip('app usage not granted', range.end - range.start);
        continue;
      }
      const app = typeof e.data.app === 'string' ? e.data.app.trim().slice(0, 256) : '';
      if (!app) {
        skip('no app name', range.end - range.start);
        continue;
      }
      const away = overlapMs(range, afk);
      if (away > 0) skip('away from keyboard (afk), so not active time', away);
      const rawTitle = typeof e.data.title === 'string' ? e.data.title : '';
      const key = options.scopes.has('window_titles') ? { app, title: transformTitle(rawTitle, options.title) } : { app };
      for (const part of subtract(range, afk)) pieces.push({ ...part, key, origin: `${bucket.id}|${e.timestamp}|${e.duration}` });
    }
  }
  for (const range of afk) {
    if (options.scopes.has('idle')) pieces.push({ ...range, key: { idle: true }, origin: `afk|${range.start}` });
    else skip('idle not granted', range.end - range.start);
  }

  // Watchers on two hosts, or overlapping events in one bucket: the earlier claim keeps its time.
  pieces.sort((a, b) => a.start - b.start || a.end - b.end);
  const covered = union(options.covered.map(([start, end]) => ({ start, end })));
  const taken: Interval[] = [];
  const kept: Piece[] = [];
  for (const piece of pieces) {
    const before = piece.end - piece.start;
    let parts = subtract(piece, covered);
    const onDevice = before - parts.reduce((s, p) => s + p.end - p.start, 0);
    if (onDevice > 0) skip('already covered by spans on this device', onDevice);
    parts = parts.flatMap((p) => subtract(p, union(taken)));
    const early = parts.reduce((s, p) => s + Math.max(0, Math.min(p.end, options.notBefore) - p.start), 0);
    if (early > 0) skip('older than your organisation keeps history (its retention)', early);
    parts = parts.flatMap((p) => subtract(p, [{ start: -Infinity, end: options.notBefore }]));
    const running = options.agentRunningSince;
    if (running !== undefined) {
      const late = parts.reduce((s, p) => s + Math.max(0, Math.min(p.end, options.now) - Math.max(p.start, running)), 0);
      if (late > 0) skip('while the agent was running (it records that time itself)', late);
      parts = parts.flatMap((p) => subtract(p, [{ start: running, end: options.now }]));
    }
    const future = parts.reduce((s, p) => s + Math.max(0, p.end - Math.max(p.start, options.now)), 0);
    if (future > 0) skip('not ended yet (in the future)', future);
    for (const p of parts) {
      const end = Math.min(p.end, options.now);
      if (end <= p.start) continue;
      kept.push({ ...piece, start: p.start, end });
      taken.push({ start: p.start, end });
    }
  }

  // Merge what touches and has the same key, then split at every hour boundary.
  kept.sort((a, b) => a.start - b.start);
  const merged: Piece[] = [];
  for (const piece of kept) {
    const last = merged.at(-1);
    if (last && last.end === piece.start && sameKey(last.key, piece.key)) last.end = piece.end;
    else merged.push({ ...piece });
  }
  const spans: LocalSpan[] = [];
  for (const piece of merged) {
    for (let start = piece.start; start < piece.end;) {
      const end = Math.min(piece.end, Math.floor(start / HOUR_MS) * HOUR_MS + HOUR_MS);
      const span: LocalSpan = { id: derivedSpanId(start, `activitywatch|${piece.origin}|${start}`), start, durationMs: end - start };
      if ('idle' in piece.key) span.idle = true;
      else {
        span.app = piece.key.app;
        if (piece.key.title !== undefined) span.title = piece.key.title;
      }
      spans.push(span);
      start = end;
    }
  }
  return { spans, importedMs: spans.reduce((s, x) => s + x.durationMs, 0), skipped };
}

/**
 * The spans in the buckets format aw-server's import accepts: a `currentwindow` bucket of
 * `{app, title}` events and an `afkstatus` bucket (`afk` for idle spans, `not-afk` for active
 * ones), durations in seconds. A span without a kept title exports an empty title, as AW's own
 * watcher does for a window without one.
 */
export function exportActivityWatch(spans: readonly LocalSpan[], hostname: string, now: number): AwExport {
  const created = new Date(now).toISOString();
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const at = (s: LocalSpan) => ({ timestamp: new Date(s.start).toISOString(), duration: s.durationMs / 1000 });
  const windowId = `aw-watcher-window_${hostname}`;
  const afkId = `aw-watcher-afk_${hostname}`;
  return {
    buckets: {
      [windowId]: {
        id: windowId,
        name: null,
        type: 'currentwindow',
        client: 'icarus-nova',
        hostname,
        created,
        data: {},
        events: sorted.filter((s) => !s.idle && s.app !== undefined).map((s) => ({ ...at(s), data: { app: s.app, title: s.title ?? '' } })),
      },
      [afkId]: {
        id: afkId,
        name: null,
        type: 'afkstatus',
        client: 'icarus-nova',
        hostname,
        created,
        data: {},
        events: sorted.map((s) => ({ ...at(s), data: { status: s.idle ? 'afk' : 'not-afk' } })),
      },
    },
  };
}
