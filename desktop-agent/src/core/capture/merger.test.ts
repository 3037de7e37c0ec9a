import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import type { Scope } from '@icarus/shared';
import { SpanMerger, type LocalSpan, type MergerConfig, type Sample } from './merger';

const ALL: ReadonlySet<Scope> = new Set<Scope>(['app_usage', 'idle', 'window_titles']);
const APP_ONLY: ReadonlySet<Scope> = new Set<Scope>(['app_usage']);
const NONE: ReadonlySet<Scope> = new Set<Scope>();
const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);

function merger(overrides: Partial<MergerConfig> = {}) {
  let n = 0;
  return new SpanMerger({
    intervalMs: 1000,
    idleThresholdMs: 60_000,
    title: { titleMode: 'full', redactionRules: [] },
    newId: () => `id-${++n}`,
    ...overrides,
  });
}

/** Feeds one sample per second from `from` (ms after T0) for `seconds`. */
function feed(m: SpanMerger, from: number, seconds: number, fields: Partial<Sample> = {}): LocalSpan[] {
  const out: LocalSpan[] = [];
  for (let i = 0; i < seconds; i++) {
    out.push(...m.push({ at: T0 + from + i * 1000, window: { app: 'Editor', title: 'a.ts' }, idleMs: 0, scopes: ALL, ...fields }));
  }
  return out;
}

describe('SpanMerger', () => {
  it('grows one span while the app and title stay the same, and closes it on a change', () => {
    const m = merger();
    expect(feed(m, 0, 10)).toEqual([]);
    const closed = feed(m, 10_000, 1, { window: { app: 'Browser', title: 'news' } });
    expect(closed).toEqual([{ id: 'id-1', start: T0, durationMs: 10_000, app: 'Editor', title: 'a.ts' }]);
    expect(m.close(T0 + 15_000)).toEqual([{ id: 'id-2', start: T0 + 10_000, durationMs: 5000, app: 'Browser', title: 'news' }]);
  });

  it('closes on a title change only when titles are kept', () => {
    const withTitles = merger();
    feed(withTitles, 0, 3);
    expect(feed(withTitles, 3000, 1, { window: { app: 'Editor', title: 'b.ts' } })).toHaveLength(1);

    const appOnly = merger();
    feed(appOnly, 0, 3, { scopes: APP_ONLY });
    expect(feed(appOnly, 3000, 1, { scopes: APP_ONLY, window: { app: 'Editor', title: 'b.ts' } })).toEqual([]);
    expect(appOnly.close(T0 + 5000)).toEqual([{ id: 'id-1', start: T0, durationMs: 5000, app: 'Editor' }]);
  });

  it('cuts the active span back to the last input when idle passes the threshold, then records idle', () => {
    const m = merger();
    feed(m, 0, 30); // active 0..29 s, last input at 29 s
    const out: LocalSpan[] = [];
    for (let s = 30; s <= 100; s++) out.push(...feed(m, s * 1000, 1, { idleMs: (s - 29) * 1000 }));
    expect(out).toEqual([{ id: 'id-1', start: T0, durationMs: 29_000, app: 'Editor', title: 'a.ts' }]);
    const back = feed(m, 101_000, 1, { idleMs: 500 }); // input at 100.5 s
    expect(back).toEqual([{ id: 'id-2', start: T0 + 29_000, durationMs: 71_500, idle: true }]);
    expect(m.close(T0 + 110_000)).toEqual([{ id: 'id-3', start: T0 + 100_500, durationMs: 9500, app: 'Editor', title: 'a.ts' }]);
  });

  it('leaves idle time as a gap without the idle scope', () => {
    const m = merger();
    const scopes = new Set<Scope>(['app_usage', 'window_titles']);
    feed(m, 0, 30, { scopes });
    for (let s = 30; s <= 100; s++) feed(m, s * 1000, 1, { idleMs: (s - 29) * 1000, scopes });
    expect(feed(m, 101_000, 1, { idleMs: 500, scopes })).toEqual([]);
    expect(m.close(T0 + 110_000).map((s) => [s.start - T0, s.durationMs])).toEqual([[100_500, 9500]]);
  });

  it('closes at the last sample before a sleep and starts afresh after it', () => {
    const m = merger();
    feed(m, 0, 5);
    const afterSleep = feed(m, 600_000, 1);
    expect(afterSleep).toEqual([{ id: 'id-1', start: T0, durationMs: 4000, app: 'Editor', title: 'a.ts' }]);
    expect(m.close(T0 + 602_000)).toEqual([{ id: 'id-2', start: T0 + 600_000, durationMs: 2000, app: 'Editor', title: 'a.ts' }]);
  });

  it('closes on pause (no scopes) and records nothing while paused', () => {
    const m = merger();
    feed(m, 0, 5);
    expect(feed(m, 5000, 10, { scopes: NONE })).toEqual([{ id: 'id-1', start: T0, durationMs: 5000, app: 'Editor', title: 'a.ts' }]);
    // Idle time that began during the pause is not recorded after it.
    feed(m, 15_000, 1, { idleMs: 120_000 });
    expect(m.close(T0 + 20_000)).toEqual([{ id: 'id-2', start: T0 + 15_000, durationMs: 5000, idle: true }]);
  });

  it('splits exactly at the hour', () => {
    const m = merger();
    const start = -2000; // 08:59:58
    const closed = [...feed(m, start, 5), ...m.close(T0 + 3000)];
    expect(closed.map((s) => [s.start - T0, s.durationMs])).toEqual([
      [-2000, 2000],
      [0, 3000],
    ]);
    expect(closed[0]?.id).not.toEqual(closed[1]?.id);
  });

  it('splits a long stretch into hour-aligned spans of at most an hour', () => {
    const m = merger({ sleepGapMs: 10 * 3_600_000 });
    const spans = [
      ...m.push({ at: T0 + 1_800_000, window: { app: 'A', title: '' }, idleMs: 0, scopes: APP_ONLY }),
      ...m.push({ at: T0 + 3 * 3_600_000, window: { app: 'A', title: '' }, idleMs: 0, scopes: APP_ONLY }),
      ...m.close(T0 + 3 * 3_600_000 + 5),
    ];
    expect(spans.map((s) => s.durationMs)).toEqual([1_800_000, 3_600_000, 3_600_000, 5]);
  });

  it('hashes or redacts titles as the policy says', () => {
    const hashed = merger({ title: { titleMode: 'hashed', redactionRules: [] } });
    feed(hashed, 0, 2, { window: { app: 'Mail', title: 'Inbox (3)' } });
    expect(hashed.close(T0 + 2000)[0]?.title).toBe(createHash('sha256').update('Inbox (3)').digest('hex'));

    const redacted = merger({
      title: {
        titleMode: 'redacted',
        redactionRules: [
          { pattern: '\\(\\d+\\)', replacement: '(n)' },
          { pattern: '[\\w.]+@[\\w.]+', replacement: '[email]' },
        ],
      },
    });
    feed(redacted, 0, 2, { window: { app: 'Mail', title: 'Inbox (3) - ann@example.com' } });
    expect(redacted.close(T0 + 2000)[0]?.title).toBe('Inbox (n) - [email]');
  });

  it('never keeps an app without app_usage, nor a title without window_titles', () => {
    const m = merger();
    feed(m, 0, 5, { scopes: new Set<Scope>(['window_titles', 'idle']) });
    expect(m.close(T0 + 5000)).toEqual([]);
  });

  it('tiles time without gaps or overlaps when everything is granted (property)', () => {
    const step = fc.record({
      dt: fc.integer({ min: 200, max: 2500 }),
      app: fc.constantFrom('A', 'B', 'C'),
      title: fc.constantFrom('x', 'y'),
      input: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 400 }), fc.integer({ min: 0, max: 3_600_000 }), (steps, offset) => {
        const m = merger({ idleThresholdMs: 30_000 });
        const spans: LocalSpan[] = [];
        let at = T0 + offset;
        let lastInput = at;
        const first = at;
        for (const s of steps) {
          at += s.dt;
          // Input happens mostly; long runs without it make idle periods.
          if (s.input && s.app !== 'C') lastInput = at - Math.floor(s.dt / 2);
          spans.push(...m.push({ at, window: { app: s.app, title: s.title }, idleMs: at - lastInput, scopes: ALL }));
        }
        spans.push(...m.close(at));
        const firstSampleAt = first + (steps[0]?.dt ?? 0);
        const total = spans.reduce((sum, s) => sum + s.durationMs, 0);
        expect(total).toBe(at - firstSampleAt);
        for (let i = 1; i < spans.length; i++) {
          const prev = spans[i - 1];
          const cur = spans[i];
          if (prev && cur) expect(cur.start).toBe(prev.start + prev.durationMs);
        }
        for (const s of spans) {
          expect(s.durationMs).toBeLessThanOrEqual(3_600_000);
          expect(Math.floor(s.start / 3_600_000)).toBe(Math.floor((s.start + s.durationMs - 1) / 3_600_000));
        }
      }),
      { numRuns: 200 },
    );
  });
});
