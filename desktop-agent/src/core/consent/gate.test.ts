import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Policy, PolicyContent, Scope } from '@icarus/shared';
import { ManualClock } from '../clock';
import { Collector, keepGranted } from '../capture/collector';
import { SpanMerger } from '../capture/merger';
import type { FrontWindow, IdleSource, WindowSource } from '../capture/sources';
import { AgentStore } from '../store/store';
import type { ConsentState } from '../store/state';
import { TokenSource } from '../sync/auth';
import { effectiveScopes, withDecision, withNewPolicy } from './gate';
import { ConsentService } from './service';
import { testPolicyContent } from '../../../test/support/policy';

const T0 = Date.UTC(2026, 10, 25, 9);
const policy = (version: number, c: PolicyContent = testPolicyContent()): Policy => ({
  orgId: '01900000-0000-7000-8000-000000000001',
  version,
  publishedAt: new Date(T0).toISOString(),
  hash: 'a'.repeat(64),
  url: 'https://example/policy',
  content: c,
});
const consent = (granted: Scope[], over: Partial<ConsentState> = {}): ConsentState => ({
  policyVersion: 1,
  policyContent: testPolicyContent(),
  granted,
  effectiveFromMs: T0,
  pending: [],
  ...over,
});

describe('consent gate', () => {
  it('captures nothing before a decision, while paused, or before the decision took effect', () => {
    const p = policy(1);
    expect(effectiveScopes({ consent: undefined, policy: p, pauseUntilMs: undefined, now: T0 })).toEqual(new Set());
    const c = consent(['app_usage', 'idle']);
    expect(effectiveScopes({ consent: c, policy: p, pauseUntilMs: T0 + 1000, now: T0 + 500 })).toEqual(new Set());
    expect(effectiveScopes({ consent: c, policy: p, pauseUntilMs: T0 + 1000, now: T0 + 1000 })).toEqual(new Set(['app_usage', 'idle']));
    expect(effectiveScopes({ consent: c, policy: p, pauseUntilMs: undefined, now: T0 - 1 })).toEqual(new Set());
  });

  it('holds a granted scope a newer policy widens until the person decides again; new scopes stay off', () => {
    const c = consent(['app_usage', 'window_titles']);
    const wider = policy(2, testPolicyContent({ titleMode: 'full' }));
    const held = withNewPolicy(c, wider);
    expect(held?.pending).toEqual(['window_titles']);
    expect(effectiveScopes({ consent: held, policy: wider, pauseUntilMs: undefined, now: T0 })).toEqual(new Set(['app_usage']));
    // A decision on the new version clears the hold.
    const { next } = withDecision(held, 'granted', ['app_usage', 'window_titles'], wider, T0 + 5);
    expect(effectiveScopes({ consent: next, policy: wider, pauseUntilMs: undefined, now: T0 + 5 })).toEqual(new Set(['app_usage', 'window_titles']));
  });

  it('drops a scope the current policy no longer has', () => {
    const narrower = policy(2, testPolicyContent({ scopes: [{ scope: 'app_usage', purpose: 'a', legalBasis: 'consent' }] }));
    expect(effectiveScopes({ consent: consent(['app_usage', 'idle']), policy: narrower, pauseUntilMs: undefined, now: T0 })).toEqual(new Set(['app_usage']));
  });

  it('applies decisions like the server: granted is exact, declined is nothing, withdrawn removes', () => {
    const p = policy(1);
    const before = consent(['app_usage', 'idle', 'window_titles']);
    expect(withDecision(before, 'granted', ['idle'], p, T0).withdrawn).toEqual(['app_usage', 'window_titles']);
    expect(withDecision(before, 'declined', [], p, T0).next.granted).toEqual([]);
    expect(withDecision(before, 'withdrawn', ['window_titles'], p, T0).next.granted).toEqual(['app_usage', 'idle']);
    expect(withDecision(before, 'withdrawn', [], p, T0).next.granted).toEqual([]);
  });
});

class CountingSource implements WindowSource, IdleSource {
  readonly name = 'fake';
  reads = 0;
  front: FrontWindow | undefined = { app: 'Editor', title: 'secret.txt' };
  idle = 0;
  frontWindow() {
    this.reads += 1;
    return Promise.resolve(this.front);
  }
  idleMs() {
    this.reads += 1;
    return Promise.resolve(this.idle);
  }
  health() {
    return { ok: true } as const;
  }
  close() {}
}

describe('collector and the gate', () => {
  it('reads no source before consent, and a withdrawal mid-span keeps no title', async () => {
    const clock = new ManualClock(T0);
    const source = new CountingSource();
    let scopes = new Set<Scope>();
    let granted = new Set<Scope>();
    const stored: ReturnType<typeof keepGranted>[] = [];
    const collector = new Collector({
      window: source,
      idle: source,
      merger: new SpanMerger({ intervalMs: 1000, idleThresholdMs: 60_000, title: { titleMode: 'full', redactionRules: [] } }),
      clock,
      intervalMs: 1000,
      scopes: () => scopes,
      onSpans: (spans) => stored.push(...spans.map((s) => keepGranted(s, granted)).filter(Boolean)),
    });
    for (let i = 0; i < 3; i++, clock.advance(1000)) await collector.tick();
    expect(source.reads).toBe(0);
    scopes = granted = new Set<Scope>(['app_usage', 'window_titles']);
    for (let i = 0; i < 3; i++, clock.advance(1000)) await collector.tick();
    expect(source.reads).toBe(6);
    scopes = granted = new Set<Scope>(['app_usage']); // titles withdrawn
    collector.closeOpenSpan();
    expect(stored).toEqual([{ id: expect.any(String), start: T0 + 3000, durationMs: 3000, app: 'Editor' }]);
  });
});

describe('directives', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('obeys pause, consent_revoked, erase_local and message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'icarus-dir-'));
    dirs.push(dir);
    const store = AgentStore.open(dir);
    const clock = new ManualClock(T0);
    const device = { deviceId: '01900000-0000-7000-8000-000000000002', orgId: 'o', serverUrl: 'http://127.0.0.1:9', keyFile: join(dir, 'k'), enrolledMs: T0 };
    const service = new ConsentService(store, new TokenSource(device, clock), clock, 'test');
    store.state.set('consent', consent(['app_usage', 'idle']));
    store.spans.insert(
      [
        { id: 'a', start: T0, durationMs: 5, idle: true },
        { id: 'b', start: T0, durationMs: 5, app: 'X' },
      ],
      T0,
    );
    const notes = await service.applyDirectives([
      { type: 'pause', until: new Date(T0 + 3_600_000).toISOString(), reason: 'holiday' },
      { type: 'consent_revoked', scopes: ['idle'], reason: 'admin' },
      { type: 'message', id: '01900000-0000-7000-8000-000000000003', text: 'hello' },
    ]);
    expect(notes).toHaveLength(3);
    expect(store.state.get('pauseUntilMs')).toBe(T0 + 3_600_000);
    expect(store.state.get('consent')?.granted).toEqual(['app_usage']);
    expect(store.spans.everything().map((s) => s.id)).toEqual(['b']);
    expect(store.state.get('messages')?.[0]?.text).toBe('hello');
    await service.applyDirectives([{ type: 'erase_local', reason: 'request' }]);
    expect(store.spans.everything()).toEqual([]);
    store.close();
  });
});
