import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Span, type PolicyContent, type Scope } from '@icarus/shared';
import { uuidv7 } from 'uuidv7';
import { exportActivityWatchFormat } from '../../cli/activitywatch';
import { planActivityWatchImport, previewOf, storeImport } from '../consent/imports';
import { DataFolderLock } from '../store/lock';
import { AgentStore } from '../store/store';
import type { ConsentState } from '../store/state';
import { testPolicyContent } from '../../../test/support/policy';
import { ActivityWatchFormatError, AwExport, derivedSpanId, importActivityWatch, parseActivityWatchExport } from './activitywatch';

const FIXTURE = readFileSync(new URL('./fixtures/aw-export.json', import.meta.url), 'utf8');
const NOW = Date.UTC(2026, 11, 1, 12);
const at = (iso: string) => Date.parse(`2026-11-${iso}Z`);
const MIN = 60_000;

/** Titles kept in full unless a test says otherwise: an import brings them in as they were. */
const content = (over: Partial<PolicyContent> = {}): PolicyContent => testPolicyContent({ titleMode: 'full', ...over });
const consent = (granted: Scope[], c: PolicyContent = content()): ConsentState => ({
  policyVersion: 1,
  policyContent: c,
  granted,
  effectiveFromMs: Date.UTC(2026, 10, 1),
  pending: [],
});

const GRANT = '019a0000-0000-7000-8000-0000000000aa';
/** Plans the import of `text` and stores it as if the person agreed and the server granted it. */
function importActivityWatchFile(store: AgentStore, text: string, now: number, scopes?: Scope[]) {
  const plan = planActivityWatchImport(store, text, now, scopes);
  storeImport(store, plan, GRANT, now);
  return plan.summary;
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function storeWith(granted: Scope[], c?: PolicyContent): AgentStore {
  const dir = mkdtempSync(join(tmpdir(), 'icarus-aw-'));
  dirs.push(dir);
  const store = AgentStore.open(dir);
  store.state.set('consent', consent(granted, c));
  return store;
}

/** What a person sees of a span: when, how long, what. */
const shape = (spans: readonly { start: number; durationMs: number; app?: string; title?: string; idle?: true }[]) =>
  spans.map((s) => ({
    start: new Date(s.start).toISOString(),
    min: s.durationMs / MIN,
    ...(s.idle ? { idle: true } : { app: s.app, ...(s.title !== undefined && { title: s.title }) }),
  }));

const code = 'report.ts — icarus';
const mail = 'Posteingang — Zürich 東京';
const ALL_SCOPES_EXPECTED = [
  // Two touching Code events merge; the web bucket adds nothing.
  { start: '2026-11-23T22:40:00.000Z', min: 15, app: 'Code', title: code },
  // Split at the hour, as the merger splits.
  { start: '2026-11-23T22:55:00.000Z', min: 5, app: 'Firefox', title: mail },
  { start: '2026-11-23T23:00:00.000Z', min: 10, app: 'Firefox', title: mail },
  // The afk period is cut out of the Code event and becomes an idle span.
  { start: '2026-11-23T23:10:00.000Z', min: 10, app: 'Code', title: code },
  { start: '2026-11-23T23:20:00.000Z', min: 10, idle: true },
  { start: '2026-11-23T23:30:00.000Z', min: 10, app: 'Code', title: code },
  // Across midnight: two spans, one per day.
  { start: '2026-11-23T23:40:00.000Z', min: 20, app: 'Terminal', title: 'make test' },
  { start: '2026-11-24T00:00:00.000Z', min: 10, app: 'Terminal', title: 'make test' },
];

describe('ActivityWatch import', () => {
  it('turns window events into spans, afk into idle, ignores web buckets, and every span is valid on the wire', () => {
    const store = storeWith(['app_usage', 'idle', 'window_titles']);
    const summary = importActivityWatchFile(store, FIXTURE, NOW);
    expect(shape(store.spans.everything())).toEqual(ALL_SCOPES_EXPECTED);
    expect(summary.importedMs).toBe(90 * MIN);
    expect(summary.skipped.get('not a window or afk bucket (e.g. web, editor, input)')).toEqual({ count: 2, ms: 15 * MIN });
    expect(summary.skipped.get('away from keyboard (afk), so not active time')).toEqual({ count: 1, ms: 10 * MIN });
    expect(summary.skipped.get('empty (zero duration)')?.count).toBe(1);
    for (const s of store.spans.everything()) {
      const wire = { id: s.id, start: new Date(s.start).toISOString(), durationMs: s.durationMs, app: s.app, title: s.title, idle: s.idle };
      expect(Span.safeParse(wire).success, JSON.stringify(wire)).toBe(true);
    }
    store.close();
  });

  it('a re-import adds nothing: the ids come from the events, and the time is already covered', () => {
    const store = storeWith(['app_usage', 'idle', 'window_titles']);
    const first = importActivityWatchFile(store, FIXTURE, NOW);
    const again = importActivityWatchFile(store, FIXTURE, NOW);
    expect(again.spans).toEqual([]);
    expect(again.skipped.get('already covered by spans on this device')?.ms).toBe(90 * MIN);
    expect(store.spans.everything().map((s) => s.id)).toEqual(first.spans.map((s) => s.id).sort());
    // The same export read afresh derives the same ids (the store would ignore them anyway).
    const fresh = importActivityWatch(parseActivityWatchExport(FIXTURE), {
      scopes: new Set(['app_usage', 'idle', 'window_titles']),
      title: { titleMode: 'full', redactionRules: [] },
      covered: [],
      now: NOW,
      notBefore: 0,
    });
    expect(fresh.spans.map((s) => s.id)).toEqual(first.spans.map((s) => s.id));
    store.close();
  });

  it('keeps only what was granted: no titles without window_titles, no idle without idle, nothing without app_usage', () => {
    const noTitles = storeWith(['app_usage', 'idle']);
    importActivityWatchFile(noTitles, FIXTURE, NOW);
    expect(noTitles.spans.everything().every((s) => s.title === undefined)).toBe(true);
    expect(noTitles.spans.everything().filter((s) => s.idle)).toHaveLength(1);

    const appsOnly = storeWith(['app_usage']);
    const summary = importActivityWatchFile(appsOnly, FIXTURE, NOW);
    expect(appsOnly.spans.everything().some((s) => s.idle)).toBe(false);
    expect(summary.skipped.get('idle not granted')).toEqual({ count: 1, ms: 10 * MIN });
    // afk time is still not active time.
    expect(summary.importedMs).toBe(80 * MIN);

    const idleOnly = storeWith(['idle']);
    const idleSummary = importActivityWatchFile(idleOnly, FIXTURE, NOW);
    expect(shape(idleOnly.spans.everything())).toEqual([{ start: '2026-11-23T23:20:00.000Z', min: 10, idle: true }]);
    expect(idleSummary.skipped.get('app usage not granted')?.count).toBe(5);

    const nothing = storeWith([]);
    expect(() => importActivityWatchFile(nothing, FIXTURE, NOW)).toThrow(/granted no scope/);
    expect(nothing.spans.everything()).toEqual([]);
    for (const s of [noTitles, appsOnly, idleOnly, nothing]) s.close();
  });

  it('titles follow the policy: hashed stays hashed', () => {
    const store = storeWith(['app_usage', 'window_titles'], content({ titleMode: 'hashed' }));
    importActivityWatchFile(store, FIXTURE, NOW);
    const titles = new Set(store.spans.everything().map((s) => s.title));
    expect([...titles].every((t) => /^[0-9a-f]{64}$/.test(t ?? ''))).toBe(true);
    expect(JSON.stringify(store.spans.everything())).not.toContain('Posteingang');
    store.close();
  });

  it('skips time the agent captured itself, so nothing overlaps it', () => {
    const store = storeWith(['app_usage', 'idle', 'window_titles']);
    const captured = { id: uuidv7(), start: at('23T23:35:00'), durationMs: 15 * MIN, app: 'Terminal', title: 'vim' };
    store.spans.insert([captured], NOW);
    const summary = importActivityWatchFile(store, FIXTURE, NOW);
    expect(summary.skipped.get('already covered by spans on this device')?.ms).toBe(15 * MIN);
    const spans = store.spans.everything().sort((a, b) => a.start - b.start);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.start + spans[i - 1]!.durationMs);
    expect(shape(spans.filter((s) => s.start >= at('23T23:30:00') && s.start < at('24T00:00:00')))).toEqual([
      { start: '2026-11-23T23:30:00.000Z', min: 5, app: 'Code', title: code },
      { start: '2026-11-23T23:35:00.000Z', min: 15, app: 'Terminal', title: 'vim' },
      { start: '2026-11-23T23:50:00.000Z', min: 10, app: 'Terminal', title: 'make test' },
    ]);
    store.close();
  });

  it('leaves out history older than the organisation keeps, and says so', () => {
    // Seven days back from 1 December is 24 November 00:00 UTC: only the last span is kept.
    const store = storeWith(['app_usage', 'idle', 'window_titles'], content({ retentionDays: 7 }));
    const summary = importActivityWatchFile(store, FIXTURE, NOW);
    expect(summary.skipped.get('older than your organisation keeps history (its retention)')?.ms).toBe(80 * MIN);
    expect(shape(store.spans.everything())).toEqual(ALL_SCOPES_EXPECTED.slice(7));
    store.close();
  });

  it('imports history from before the live consent, under the import grant, and previews it in numbers', () => {
    const store = storeWith(['app_usage', 'idle', 'window_titles']);
    store.state.set('consent', { ...consent(['app_usage', 'idle', 'window_titles']), effectiveFromMs: NOW - 60_000 });
    const plan = planActivityWatchImport(store, FIXTURE, NOW);
    expect(plan.preview).toEqual({ spans: 8, activeMs: 80 * MIN, idleMs: 10 * MIN, apps: 3, titles: true });
    expect([plan.fromMs, plan.toMs]).toEqual([at('23T22:40:00'), at('24T00:10:00')]);
    expect(store.spans.everything()).toEqual([]);
    storeImport(store, plan, GRANT, NOW);
    expect(store.spans.everything().map((s) => s.importGrantId)).toEqual(Array(8).fill(GRANT));
    // Scopes named for the import, narrower than the live ones: no titles, no idle.
    const narrow = planActivityWatchImport(storeWith(['app_usage', 'idle', 'window_titles']), FIXTURE, NOW, ['app_usage']);
    expect(previewOf(narrow.summary.spans)).toMatchObject({ titles: false, idleMs: 0 });
    // A scope the policy does not offer cannot be imported either.
    const strict = storeWith(['app_usage'], content({ scopes: [{ scope: 'app_usage', purpose: 'apps', legalBasis: 'consent' }] }));
    expect(() => planActivityWatchImport(strict, FIXTURE, NOW, ['app_usage', 'window_titles'])).toThrow(
      /"window_titles" is not a scope of your organisation's policy/,
    );
    store.close();
  });

  it('leaves the time since a running agent started to that agent', () => {
    const store = storeWith(['app_usage', 'idle', 'window_titles']);
    const running = DataFolderLock.acquire(store.dataDir, at('23T23:30:00'));
    try {
      const summary = importActivityWatchFile(store, FIXTURE, NOW);
      expect(summary.skipped.get('while the agent was running (it records that time itself)')?.ms).toBe(40 * MIN);
      expect(shape(store.spans.everything())).toEqual(ALL_SCOPES_EXPECTED.slice(0, 5));
    } finally {
      running.release();
    }
    // Stopped: the import takes the lock itself while it runs, and the rest comes in.
    importActivityWatchFile(store, FIXTURE, NOW);
    expect(shape(store.spans.everything())).toEqual(ALL_SCOPES_EXPECTED);
    store.close();
  });

  it('refuses a file that is not an export, naming the field, and stores nothing', () => {
    const store = storeWith(['app_usage']);
    expect(() => importActivityWatchFile(store, '{"buckets": [', NOW)).toThrow(ActivityWatchFormatError);
    const broken = JSON.parse(FIXTURE) as { buckets: Record<string, { events: { duration: unknown }[] }> };
    broken.buckets['aw-watcher-window_pat-laptop']!.events[2]!.duration = 'long';
    expect(() => importActivityWatchFile(store, JSON.stringify(broken), NOW)).toThrow(/buckets\.aw-watcher-window_pat-laptop\.events\.2\.duration/);
    expect(() => importActivityWatchFile(store, '{"events": []}', NOW)).toThrow(/buckets/);
    expect(store.spans.everything()).toEqual([]);
    store.close();
  });

  it('refuses on a computer bound to nobody, before a decision, and on a revoked device', () => {
    const unbound = storeWith(['app_usage']);
    unbound.state.set('binding', { deviceId: uuidv7(), osUser: 'pat', boundTo: null, boundAt: null, method: null });
    expect(() => importActivityWatchFile(unbound, FIXTURE, NOW)).toThrow(/bound to nobody/);
    const undecided = storeWith([]);
    undecided.state.delete('consent');
    expect(() => importActivityWatchFile(undecided, FIXTURE, NOW)).toThrow(/no consent decision yet/);
    for (const s of [unbound, undecided]) {
      expect(s.spans.everything()).toEqual([]);
      s.close();
    }
  });

  it('derives ids that are UUIDv7 carrying the span start', () => {
    const id = derivedSpanId(at('23T22:40:00'), 'x');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(at('23T22:40:00'));
    expect(derivedSpanId(at('23T22:40:00'), 'y')).not.toBe(id);
  });
});

describe('ActivityWatch export', () => {
  it('round-trips: exported spans, imported into a fresh device, are the same spans', () => {
    const source = storeWith(['app_usage', 'idle', 'window_titles']);
    importActivityWatchFile(source, FIXTURE, NOW);
    let text = '';
    exportActivityWatchFormat(source, NOW, (t) => void (text += t));
    const exported = AwExport.parse(JSON.parse(text));
    // The shape aw-server imports: buckets keyed by id, each with id, type, client, hostname, created, events.
    const buckets = Object.values(exported.buckets);
    expect(buckets.map((b) => b.type).sort()).toEqual(['afkstatus', 'currentwindow']);
    for (const [key, b] of Object.entries(exported.buckets)) {
      expect(b.id).toBe(key);
      expect(b).toMatchObject({ client: 'icarus-nova', hostname: expect.any(String), created: new Date(NOW).toISOString() });
    }
    const window = buckets.find((b) => b.type === 'currentwindow')!;
    expect(window.events[0]).toEqual({ timestamp: '2026-11-23T22:40:00.000Z', duration: 900, data: { app: 'Code', title: code } });

    const target = storeWith(['app_usage', 'idle', 'window_titles']);
    importActivityWatchFile(target, text, NOW);
    expect(shape(target.spans.everything())).toEqual(shape(source.spans.everything()));
    source.close();
    target.close();
  });
});
