import { uuidv7 } from 'uuidv7';
import type { Scope } from '@icarus/shared';
import type { FrontWindow } from './sources';
import { transformTitle, type TitlePolicy } from './title';

const HOUR_MS = 3_600_000;

/** One reading of the sources, with the scopes in effect at that moment (empty while paused). */
export interface Sample {
  at: number;
  window: FrontWindow | undefined;
  idleMs: number | undefined;
  scopes: ReadonlySet<Scope>;
}

/** A closed span as the device keeps it: times in epoch milliseconds. */
export interface LocalSpan {
  id: string;
  start: number;
  durationMs: number;
  app?: string;
  title?: string;
  idle?: true;
}

export interface MergerConfig {
  intervalMs: number;
  idleThresholdMs: number;
  /** A gap between samples longer than this means the machine slept or was suspended. */
  sleepGapMs?: number;
  title: TitlePolicy;
  newId?: () => string;
}

interface Key {
  app?: string;
  title?: string;
  idle?: true;
}

interface OpenSpan extends Key {
  id: string;
  start: number;
  end: number;
}

const sameKey = (a: Key, b: Key) => a.app === b.app && a.title === b.title && a.idle === b.idle;
const hourEnd = (t: number) => Math.floor(t / HOUR_MS) * HOUR_MS + HOUR_MS;
const sameScopes = (a: ReadonlySet<Scope>, b: ReadonlySet<Scope>) => a.size === b.size && [...a].every((s) => b.has(s));

/**
 * Merges samples into spans the way ActivityWatch merges heartbeats. Pure: no timers, no I/O;
 * time comes only from the samples and from close(at).
 *
 * Close rules: the app (or the kept title) changes; idle reaches the threshold (the active span
 * is cut back to the last input, and the idle period becomes an idle span only with the `idle`
 * scope, otherwise a gap); the scopes change (pause, withdrawal, new policy); a sample gap longer
 * than sleepGapMs (sleep or lock: the span ends at the last sample before it); an hour boundary
 * (the span is split exactly there, so no span crosses an hour or exceeds the wire's 1 h limit).
 */
export class SpanMerger {
  private open: OpenSpan | undefined;
  private lastAt: number | undefined;
  private lastScopes: ReadonlySet<Scope> = new Set();
  private wasIdle = false;
  /** No new span may start before this: the end of the last span, a resume, or a scope change. */
  private floor = -Infinity;
  private readonly newId: () => string;

  constructor(private config: MergerConfig) {
    this.newId = config.newId ?? uuidv7;
  }

  private get sleepGapMs(): number {
    return this.config.sleepGapMs ?? Math.max(this.config.intervalMs * 5, 15_000);
  }

  /** Applies a new policy's threshold and title rules; the caller closes the open span first. */
  reconfigure(config: Omit<MergerConfig, 'newId'>): void {
    this.config = { ...config, newId: this.newId };
  }

  /** The span being grown, for "now" displays; not yet stored. */
  current(): Readonly<LocalSpan> | undefined {
    if (!this.open) return undefined;
    const { id, start, end, app, title, idle } = this.open;
    return { id, start, durationMs: end - start, ...(app !== undefined && { app }), ...(title !== undefined && { title }), ...(idle && { idle }) };
  }

  push(sample: Sample): LocalSpan[] {
    const out: LocalSpan[] = [];
    const { at } = sample;
    if (this.lastAt !== undefined && (at - this.lastAt > this.sleepGapMs || at < this.lastAt)) {
      // Slept, locked or the clock jumped back: nothing is known about the time in between.
      this.emitOpenAt(this.lastAt, out);
      this.floor = at;
      this.wasIdle = false;
    }
    if (this.lastAt === undefined || !sameScopes(sample.scopes, this.lastScopes)) {
      this.emitOpenAt(at, out);
      this.floor = Math.max(this.floor, at);
    }
    this.lastAt = at;
    this.lastScopes = sample.scopes;

    const idle = sample.idleMs !== undefined && sample.idleMs >= this.config.idleThresholdMs;
    const lastInput = sample.idleMs === undefined ? at : Math.max(this.floor, at - sample.idleMs);
    const key = this.keyOf(sample, idle);
    let transition = at;
    if (idle && !this.wasIdle) {
      // The person stopped at their last input, not when the threshold was crossed.
      transition = this.open ? Math.max(this.open.start, lastInput) : lastInput;
    } else if (!idle && this.wasIdle) {
      transition = lastInput; // back at the keyboard since the last input
    }
    this.wasIdle = idle;

    if (this.open && key && sameKey(this.open, key) && transition === at) {
      this.extend(at, out);
      return out;
    }
    this.emitOpenAt(transition, out);
    if (key) {
      const start = Math.max(transition, this.floor);
      this.open = { id: this.newId(), start, end: start, ...key };
      this.extend(at, out);
    }
    return out;
  }

  /** Ends the open span at `at` (pause, withdrawal, new policy, shutdown). */
  close(at: number): LocalSpan[] {
    const out: LocalSpan[] = [];
    const end = this.lastAt !== undefined && at - this.lastAt > this.sleepGapMs ? this.lastAt : at;
    this.emitOpenAt(end, out);
    this.floor = Math.max(this.floor, at);
    return out;
  }

  private keyOf(sample: Sample, idle: boolean): Key | undefined {
    if (idle) return sample.scopes.has('idle') ? { idle: true } : undefined;
    if (!sample.window || !sample.scopes.has('app_usage')) return undefined;
    if (!sample.scopes.has('window_titles')) return { app: sample.window.app };
    return { app: sample.window.app, title: transformTitle(sample.window.title, this.config.title) };
  }

  /** Grows the open span to `to`, splitting it at every hour boundary on the way. */
  private extend(to: number, out: LocalSpan[]): void {
    const open = this.open;
    if (!open) return;
    let boundary = hourEnd(open.start);
    while (boundary < to) {
      open.end = boundary;
      this.emit(open, out);
      const { app, title, idle } = open;
      Object.assign(open, { id: this.newId(), start: boundary, end: boundary, app, title, idle });
      boundary += HOUR_MS;
    }
    open.end = Math.max(open.end, to);
  }

  private emitOpenAt(end: number, out: LocalSpan[]): void {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    const clamped = Math.max(open.start, end);
    if (clamped > open.end) {
      this.open = open;
      this.extend(clamped, out);
      this.open = undefined;
    } else open.end = clamped;
    this.emit(open, out);
  }

  private emit(span: OpenSpan, out: LocalSpan[]): void {
    const durationMs = span.end - span.start;
    this.floor = Math.max(this.floor, span.end);
    if (durationMs <= 0) return;
    const closed: LocalSpan = { id: span.id, start: span.start, durationMs };
    if (span.idle) closed.idle = true;
    else {
      if (span.app !== undefined) closed.app = span.app;
      if (span.title !== undefined) closed.title = span.title;
    }
    out.push(closed);
  }
}
