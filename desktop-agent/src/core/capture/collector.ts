import type { CaptureSourceStatus, Scope } from '@icarus/shared';
import type { Clock } from '../clock';
import type { LocalSpan, SpanMerger } from './merger';
import type { FrontWindow, IdleSource, WindowSource } from './sources';

export interface CollectorDeps {
  window: WindowSource;
  idle: IdleSource;
  merger: SpanMerger;
  clock: Clock;
  intervalMs: number;
  /** The scopes in effect now, from the consent gate. */
  scopes: () => ReadonlySet<Scope>;
  /** Closed spans, already stripped to what the current consent allows. */
  onSpans: (spans: LocalSpan[]) => void;
}

/**
 * Samples the sources on a timer and feeds the merger. A source is only read when a scope that
 * needs it is granted: before consent or while paused nothing is read at all.
 */
export class Collector {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  samples = 0;

  constructor(private readonly deps: CollectorDeps) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.deps.intervalMs);
  }

  /** One sample now; a slow source makes the next timer tick skip rather than pile up. */
  tick(): Promise<void> {
    this.ticking ??= this.sample().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async sample(): Promise<void> {
    const { window, idle, merger, clock } = this.deps;
    const scopes = this.deps.scopes();
    const wantsWindow = scopes.has('app_usage');
    const [front, idleMs] = await Promise.all([
      wantsWindow ? window.frontWindow() : Promise.resolve<FrontWindow | undefined>(undefined),
      scopes.size > 0 ? idle.idleMs() : Promise.resolve(undefined),
    ]);
    this.samples += 1;
    // Scopes are read again after the await: a withdrawal during the read wins.
    this.emit(merger.push({ at: clock.now(), window: front, idleMs, scopes: this.deps.scopes() }));
  }

  /** Ends the open span now (pause, withdrawal, new policy, shutdown). */
  closeOpenSpan(): void {
    this.emit(this.deps.merger.close(this.deps.clock.now()));
  }

  private emit(spans: LocalSpan[]): void {
    if (spans.length > 0) this.deps.onSpans(spans);
  }

  sourceStatus(): CaptureSourceStatus[] {
    return [this.deps.window, this.deps.idle].map((s) => {
      const h = s.health();
      return h.ok ? { name: s.name, ok: true } : { name: s.name, ok: false, problem: h.problem.slice(0, 512) };
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    this.closeOpenSpan();
  }
}

/** Strips from a closed span whatever the current consent no longer allows (a withdrawal mid-span). */
export function keepGranted(span: LocalSpan, granted: ReadonlySet<Scope>): LocalSpan | undefined {
  if (span.idle) return granted.has('idle') ? span : undefined;
  if (!granted.has('app_usage')) return undefined;
  if (span.title !== undefined && !granted.has('window_titles')) {
    const { title: _dropped, ...rest } = span;
    return rest;
  }
  return span;
}
