// Checks that a batch's spans can be true beside what is already stored: no span of a device
// overlaps another of the same device, a span id keeps its start, and no person-day (org time
// zone, all devices together) goes over 24 hours. Pure: the stored facts are read by truth-store.
import { MAX_DAY_MS, MAX_SPAN_MS, type RejectReason } from '@icarus/shared';
import type { SpanRow } from './store';
import type { Bounds, FactsQuery, QuickCheck, StoredFacts } from './truth-store';

/** A span that passed the checks that need nothing stored; `at` is its place in the batch. */
export interface Candidate {
  at: number;
  startMs: number;
  row: SpanRow;
}

export interface Verdict {
  accepted: SpanRow[];
  duplicates: number;
  rejected: { id: string; reason: RejectReason; at: number }[];
}

/** Where a uuidv7's own clock says it was made; a copy of the id sent earlier is looked for around it. */
function mintedAt(id: string): number {
  return Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** The local wall clock of an instant, read as if it were UTC (its offset is the difference). */
function wallClock(ms: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatterOf(timeZone).formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
}

const dayFormatters = new Map<string, Intl.DateTimeFormat>();
const QUARTER_HOUR = 900_000;
/** Answers kept across batches, per time zone; a cache is emptied when it reaches this size. */
const CACHED_ANSWERS = 50_000;
const dayCaches = new Map<string, Map<number, string>>();
const dayStarts = new Map<string, number>();

/** The local day (YYYY-MM-DD) of an instant in a time zone: the day rollups count a span for. */
export function dayIn(timeZone: string): (ms: number) => string {
  let format = dayFormatters.get(timeZone);
  let cache = dayCaches.get(timeZone);
  if (!format || !cache) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    cache = new Map();
    dayFormatters.set(timeZone, format);
    dayCaches.set(timeZone, cache);
  }
  const f = format;
  const answers = cache;
  // Zones change offset on quarter hours at the finest: one answer per quarter hour.
  return (ms) => {
    const bucket = Math.floor(ms / QUARTER_HOUR);
    let day = answers.get(bucket);
    if (day === undefined) {
      day = f.format(bucket * QUARTER_HOUR);
      if (answers.size >= CACHED_ANSWERS) answers.clear();
      answers.set(bucket, day);
    }
    return day;
  };
}

/** The instant a local day begins in a time zone: local midnight's offset, found in two steps (and kept). */
function dayStart(day: string, timeZone: string): number {
  const key = `${timeZone} ${day}`;
  let at = dayStarts.get(key);
  if (at === undefined) {
    const midnight = Date.parse(`${day}T00:00:00Z`);
    at = midnight - (wallClock(midnight, timeZone) - midnight);
    at = midnight - (wallClock(at, timeZone) - at);
    if (dayStarts.size >= CACHED_ANSWERS) dayStarts.clear();
    dayStarts.set(key, at);
  }
  return at;
}

/** [from, to) ranges merged where they touch or overlap. */
function merged(ranges: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const r of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = out.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/**
 * What to read for a batch: the whole local days its spans start in (their totals), the hour
 * before each span (a stored span of the device overlapping it started at most MAX_SPAN_MS
 * earlier), and the hour either side of where each id was minted (an agent mints a span's id
 * when the span opens, so an earlier copy sent with another start is there).
 */
export function factsQuery(
  owner: { orgId: string; userId: string; deviceId: string },
  timeZone: string,
  candidates: readonly Candidate[],
): FactsQuery & { dayOf: (ms: number) => string } {
  const dayOf = dayIn(timeZone);
  const days = new Set<string>();
  const ranges: [number, number][] = [];
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const c of candidates) {
    days.add(dayOf(c.startMs));
    const end = c.startMs + c.row.durationMs;
    ranges.push([c.startMs - MAX_SPAN_MS, end + 1]);
    const minted = mintedAt(c.row.id);
    ranges.push([minted - MAX_SPAN_MS, minted + MAX_SPAN_MS]);
    from = Math.min(from, c.startMs);
    to = Math.max(to, end);
  }
  for (const day of days) {
    const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    ranges.push([dayStart(day, timeZone), dayStart(next, timeZone)]);
  }
  return {
    ...owner,
    timeZone,
    ranges: merged(ranges).map(([a, b]) => ({ from: new Date(a).toISOString(), to: new Date(b).toISOString() })),
    from: new Date(from).toISOString(),
    to: new Date(Math.max(to, from + 1)).toISOString(),
    ids: candidates.map((c) => c.row.id),
    dayOf,
  };
}

/**
 * Judges the candidates in batch order against the stored facts and the ones accepted before
 * them: a stored copy of the id at the same start is a duplicate from this device (another's:
 * id_conflict), at another start start_changed; then overlap; then the person-day cap.
 */
export function judge(deviceId: string, candidates: readonly Candidate[], facts: StoredFacts, dayOf: (ms: number) => string): Verdict {
  const verdict: Verdict = { accepted: [], duplicates: 0, rejected: [] };
  const known = new Map<string, { startMs: number; deviceId: string }[]>();
  for (const k of facts.known) known.set(k.id, [...(known.get(k.id) ?? []), k]);
  // The device's spans, stored and accepted so far, sorted by start: an overlap of [s, e) is one
  // that starts in (s - MAX_SPAN_MS, e) and ends after s.
  const taken = facts.deviceSpans.map((d) => ({ start: d.startMs, end: d.startMs + d.durationMs })).sort((a, b) => a.start - b.start);
  const firstAfter = (ms: number) => {
    let lo = 0;
    let hi = taken.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((taken[mid]?.start ?? 0) <= ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const overlaps = (start: number, end: number) => {
    for (let i = firstAfter(start - MAX_SPAN_MS); i < taken.length; i++) {
      const t = taken[i];
      if (!t || t.start >= end) break;
      // An empty span overlaps nothing; two that only touch do not overlap.
      if (t.end > start && end > start && t.end > t.start) return true;
    }
    return false;
  };
  const dayTotals = new Map(facts.dayTotals);
  for (const c of candidates) {
    const { id } = c.row;
    const copies = known.get(id);
    if (copies) {
      const same = copies.find((k) => k.startMs === c.startMs);
      if (same) {
        if (same.deviceId === deviceId) verdict.duplicates++;
        else verdict.rejected.push({ id, reason: 'id_conflict', at: c.at });
      } else {
        verdict.rejected.push({ id, reason: copies.some((k) => k.deviceId === deviceId) ? 'start_changed' : 'id_conflict', at: c.at });
      }
      continue;
    }
    const end = c.startMs + c.row.durationMs;
    if (overlaps(c.startMs, end)) {
      verdict.rejected.push({ id, reason: 'overlap', at: c.at });
      continue;
    }
    const day = dayOf(c.startMs);
    const total = (dayTotals.get(day) ?? 0) + c.row.durationMs;
    if (total > MAX_DAY_MS) {
      verdict.rejected.push({ id, reason: 'day_over_24h', at: c.at });
      continue;
    }
    dayTotals.set(day, total);
    taken.splice(firstAfter(c.startMs), 0, { start: c.startMs, end });
    verdict.accepted.push(c.row);
  }
  return verdict;
}

/** How far apart the quick check's reads may lie: beyond, a batch is judged the full way. */
const QUICK_SPAN_MS = 3 * 86_400_000;

/** The bounds of [from, to) ranges, or undefined when they lie too far apart for the quick check. */
function boundsOf(ranges: readonly [number, number][]): Bounds | undefined {
  const from = Math.min(...ranges.map((r) => r[0]));
  const to = Math.max(...ranges.map((r) => r[1]));
  if (!(to - from <= QUICK_SPAN_MS)) return undefined;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/**
 * A batch that is true on its own (judged against nothing stored, every span passes) is judged
 * against what is stored inside its insert: it is stored whole exactly when no stored span of the
 * device overlaps one of its spans, no stored copy of one of its ids lies within the bounds (which
 * hold every range the full check reads), and no local day it touches would go over 24 hours;
 * otherwise nothing is stored and it is judged the full way. Undefined: judge it the full way at
 * once (it refuses some of its own spans, or its reads lie too far apart).
 */
export function quickCheck(deviceId: string, timeZone: string, candidates: readonly Candidate[], dayOf: (ms: number) => string): QuickCheck | undefined {
  if (candidates.length === 0) return undefined;
  const alone = judge(deviceId, candidates, { dayTotals: new Map(), deviceSpans: [], known: [] }, dayOf);
  if (alone.accepted.length !== candidates.length) return undefined;
  const perDay = new Map<string, number>();
  const around: [number, number][] = [];
  const minted: [number, number][] = [];
  for (const c of candidates) {
    const day = dayOf(c.startMs);
    perDay.set(day, (perDay.get(day) ?? 0) + c.row.durationMs);
    around.push([c.startMs - MAX_SPAN_MS, c.startMs + c.row.durationMs + 1]);
    const at = mintedAt(c.row.id);
    minted.push([at - MAX_SPAN_MS, at + MAX_SPAN_MS]);
  }
  const days = [...perDay].map(([day, ms]) => {
    const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const range: [number, number] = [dayStart(day, timeZone), dayStart(next, timeZone)];
    around.push(range);
    return { from: new Date(range[0]).toISOString(), to: new Date(range[1]).toISOString(), ms };
  });
  const spans = boundsOf(around);
  const mint = boundsOf(minted);
  return spans && mint ? { days, spans, minted: mint } : undefined;
}
