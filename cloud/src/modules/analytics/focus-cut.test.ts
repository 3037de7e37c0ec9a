import { DEFAULT_WORKING_WEEK } from '@icarus/shared';
import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createCategorizer } from './categories';
import { createFocusStore, FOCUS_GAP_MS, FOCUS_MIN_MS } from './focus-store';
import { createRollupQueries } from './query-store';
import { aggregate, type SpanFact } from './rollup';
import { createAnalyticsStore } from './store';

/**
 * A day's focus figures computed from a stored cut on (the upkeep job's last run) equal the
 * figures of the whole day, whatever order the spans arrive in: random days of spans reach the
 * rollups in batches, mostly in order, some late, some starting exactly where an earlier one
 * does, with the job running between some of them; after every batch a report's figures are
 * checked against the rule worked out here from every span stored so far.
 */
const MIN = 60_000;
const ZONE = 'Europe/Berlin';
/** Tuesday 2026-11-10 in Berlin is UTC+1: 17:00-21:00 local crosses the 18:00 end of the working day. */
const DAY = '2026-11-10';
const DAY_START = Date.parse('2026-11-09T23:00:00Z');
const FIRST = Date.parse('2026-11-10T16:00:00Z');
const APPS = ['Code', 'Docs', 'Game', 'Slack'] as const;
const RULES = [
  { app: '^Code$', category: 'Development', productivity: 'productive' as const },
  { app: '^Docs$', category: 'Writing', productivity: 'productive' as const },
  { app: '^Game$', category: 'Games', productivity: 'unproductive' as const },
  { app: '^Slack$', category: 'Chat', productivity: 'neutral' as const },
];
const PRODUCTIVE = new Set(['Code', 'Docs']);

interface Span {
  start: number;
  ms: number;
  app: string;
  idle: boolean;
}

/** A small deterministic generator, so a failing seed can be run again. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** About four hours of one person's spans: contiguous, with gaps around the 2-minute limit, overlaps and equal starts. */
function dayOfSpans(next: () => number): Span[] {
  const spans: Span[] = [];
  let at = FIRST;
  while (at < FIRST + 4 * 60 * MIN) {
    const roll = next();
    const app = roll < 0.6 ? 'Code' : (APPS[Math.floor(next() * APPS.length)] ?? 'Code');
    const ms = Math.round((0.2 + next() * (next() < 0.2 ? 40 : 8)) * MIN);
    spans.push({ start: at, ms, app, idle: next() < 0.08 });
    // Now and then a second device's long span over the last few: it arrives with this batch.
    if (next() < 0.04) spans.push({ start: at - Math.round(next() * 20) * MIN, ms: Math.round(10 + next() * 40) * MIN, app: 'Code', idle: false });
    const step = next();
    if (step < 0.1 && spans.length > 1) continue; // the next span starts where this one does
    // Mostly contiguous; sometimes a gap just under or over two minutes; sometimes an overlap.
    const gap = step < 0.6 ? 0 : step < 0.75 ? FOCUS_GAP_MS - MIN / 2 : step < 0.85 ? FOCUS_GAP_MS + MIN / 2 : step < 0.92 ? -MIN : 10 * MIN;
    at += ms + gap;
  }
  return spans;
}

/** The rule (focus-store.ts) from all of a day's spans, in plain code: what the report must show. */
function expected(spans: Span[]): { focusMs: number; afterHoursMs: number } {
  const sorted = [...spans].sort((a, b) => a.start - b.start || a.ms - b.ms || Number(a.idle) - Number(b.idle) || a.app.localeCompare(b.app));
  let beforeStop = Number.NEGATIVE_INFINITY;
  let focusMs = 0;
  let afterHoursMs = 0;
  let run: { first: number; last: number; ms: number } | undefined;
  const close = () => {
    if (run && run.last - run.first >= FOCUS_MIN_MS) focusMs += run.ms;
    run = undefined;
  };
  for (const s of sorted) {
    const prod = !s.idle && PRODUCTIVE.has(s.app);
    if (!prod || s.start - beforeStop >= FOCUS_GAP_MS) close();
    if (prod) {
      run ??= { first: s.start, last: s.start, ms: 0 };
      run.last = Math.max(run.last, s.start + s.ms);
      run.ms += s.ms;
    }
    beforeStop = Math.max(beforeStop, s.start + s.ms);
    // Local time is UTC+1 on this day; the working day ends at 18:00.
    if (!s.idle && (s.start - DAY_START) / MIN >= 18 * 60) afterHoursMs += s.ms;
  }
  close();
  return { focusMs, afterHoursMs };
}

describe.each(testDatabaseKinds())('focus figures from a cut on %s', (kind) => {
  let cloud: TestCloud;
  const categorizer = createCategorizer(RULES);

  beforeAll(async () => {
    cloud = await startTestCloud(kind, { ROLES: 'api' });
  }, 60_000);
  afterAll(async () => cloud?.stopAll());

  /** Stores a batch of one person's spans and adds them to the rollups as the consumer does. */
  async function deliver(orgId: string, userId: string, spans: Span[]): Promise<void> {
    const values = spans.map(
      (s) =>
        sql`(${uuidv7()}::uuid, ${new Date(s.start).toISOString()}::timestamptz, ${orgId}::uuid, ${uuidv7()}::uuid, ${userId}::uuid, ${s.ms}, ${s.app}, ${s.idle})`,
    );
    await cloud.database.rows(sql`insert into spans (id, start, org_id, device_id, user_id, duration_ms, app, idle) values ${sql.join(values, sql`, `)}`);
    const facts: SpanFact[] = spans.map((s) => ({ userId, day: DAY, app: s.app, title: null, idle: s.idle, ms: s.ms, spans: 1, startMs: s.start }));
    await createAnalyticsStore(cloud.database).addDeltas(aggregate(orgId, facts, categorizer, () => null));
  }
  const fill = (orgId: string) => createFocusStore(cloud.database).fill(orgId, ZONE, DEFAULT_WORKING_WEEK);
  async function shown(orgId: string, userId: string): Promise<{ focusMs: number; afterHoursMs: number }> {
    const { focus } = await createRollupQueries(cloud.database).groupPersonFocusDays(orgId, null, DAY, DAY, ZONE, DEFAULT_WORKING_WEEK);
    const day = focus.find((d) => d.userId === userId);
    return { focusMs: day?.focusMs ?? 0, afterHoursMs: day?.afterHoursMs ?? 0 };
  }
  const span = (fromMin: number, toMin: number, app: string): Span => ({ start: FIRST + fromMin * MIN, ms: (toMin - fromMin) * MIN, app, idle: false });

  it('counts a span that starts where the cut does, and sorts before it, in the stretch before the cut', async () => {
    const orgId = uuidv7();
    const person = uuidv7();
    // 35 minutes in Code, then Slack: the job cuts at Slack, with 35 minutes of focus before it.
    const first = [span(0, 35, 'Code'), span(35, 40, 'Slack')];
    await deliver(orgId, person, first);
    expect(await fill(orgId)).toEqual({ stored: 1, more: false });
    // A minute in Code from the same instant (another device): it sorts first and extends the stretch to 36 minutes.
    const late = [span(35, 36, 'Code')];
    await deliver(orgId, person, late);
    expect(await shown(orgId, person)).toEqual(expected([...first, ...late]));
    expect((await shown(orgId, person)).focusMs).toBe(36 * MIN);
  });

  it('never cuts where an earlier span still runs: a long span of a second device joins what follows', async () => {
    const orgId = uuidv7();
    const person = uuidv7();
    // A second device in Code for an hour; the first switches to Slack at 10 and back to Code at 11.
    const first = [span(0, 60, 'Code'), span(10, 11, 'Slack'), span(11, 20, 'Code')];
    await deliver(orgId, person, first);
    expect(await fill(orgId)).toEqual({ stored: 1, more: false });
    // Code again at 23: three minutes after the last span of the first device, but inside the hour of the second.
    const later = [span(23, 45, 'Code')];
    await deliver(orgId, person, later);
    expect(await shown(orgId, person)).toEqual(expected([...first, ...later]));
    expect((await shown(orgId, person)).focusMs).toBe((60 + 9 + 22) * MIN);
  });

  it('equal the whole day’s figures after every batch, in order or late, with the job between some of them', async () => {
    const { database } = cloud;
    const orgId = uuidv7();
    let checks = 0;
    let fromCut = 0;
    for (let seed = 1; seed <= 24; seed++) {
      const next = random(seed);
      const people = [uuidv7(), uuidv7()];
      const days = new Map(people.map((p) => [p, dayOfSpans(next)]));
      // Each person's spans in batches of a few, in order, except that one batch in four is sent
      // after up to four later ones; the two people's batches interleave at random.
      const pending = people.map((userId) => {
        const spans = days.get(userId) ?? [];
        const batches: { userId: string; spans: Span[] }[] = [];
        for (let i = 0; i < spans.length;) {
          const n = 1 + Math.floor(next() * 6);
          batches.push({ userId, spans: spans.slice(i, i + n) });
          i += n;
        }
        for (let i = 0; i < batches.length - 1; i++) {
          if (next() < 0.25) {
            const j = Math.min(batches.length - 1, i + 1 + Math.floor(next() * 4));
            const late = batches.splice(i, 1);
            batches.splice(j, 0, ...late);
          }
        }
        return batches;
      });
      const stored = new Map<string, Span[]>(people.map((p) => [p, []]));
      for (let b = 0; pending.some((q) => q.length > 0); b++) {
        const waiting = pending.filter((q) => q.length > 0);
        const batch = waiting[Math.floor(next() * waiting.length)]?.shift();
        if (!batch) break;
        stored.get(batch.userId)?.push(...batch.spans);
        await deliver(orgId, batch.userId, batch.spans);
        if (next() < 0.4) await fill(orgId);
        const [cuts] = await database.rows<{ n: number }>(sql`
          select count(*)::int as n from rollup_user_days where org_id = ${orgId} and focus_cut is not null and focus_owed_from > focus_cut`);
        fromCut += Number(cuts?.n ?? 0);
        for (const userId of people) {
          const spans = stored.get(userId) ?? [];
          if (spans.length === 0) continue;
          expect({ seed, batch: b, ...(await shown(orgId, userId)) }).toEqual({ seed, batch: b, ...expected(spans) });
          checks++;
        }
      }
      await database.rows(sql`delete from rollup_user_days where org_id = ${orgId}`);
      await database.rows(sql`delete from rollup_user_daily where org_id = ${orgId}`);
      await database.rows(sql`delete from spans where org_id = ${orgId}`);
    }
    // The runs took the cut path often, not only the whole-day one.
    expect(checks).toBeGreaterThan(500);
    expect(fromCut).toBeGreaterThan(100);
  }, 240_000);
});
