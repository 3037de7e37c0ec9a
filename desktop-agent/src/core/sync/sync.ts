import { z } from 'zod';
import { Directive, IngestResult, MAX_BATCH_SPANS, WIRE_PATHS, type AgentStatus, type IngestBatch, type Span } from '@icarus/shared';
import type { Clock } from '../clock';
import type { Batch, SpanStore, StoredSpan } from '../store/spans';
import { uuidv7 } from 'uuidv7';
import { Backoff } from './backoff';
import { HttpError } from './http';
import type { TokenSource } from './auth';

export function toWireSpan(span: StoredSpan): Span {
  const wire: Span = { id: span.id, start: new Date(span.start).toISOString(), durationMs: span.durationMs };
  if (span.idle) wire.idle = true;
  else {
    if (span.app !== undefined) wire.app = span.app;
    if (span.title !== undefined) wire.title = span.title;
  }
  return wire;
}

/**
 * The spans a 400's field problems name by their place in the batch (`spans.3.app`), each with
 * the server's reasons. Paths that name no span of this batch (`batchId`, `spans.9999`) are not
 * a span's fault and are ignored here.
 */
function spansNamed(fields: readonly { path: string; problem: string }[], batch: Batch): Map<string, string> {
  const reasons = new Map<string, string[]>();
  for (const field of fields) {
    const m = /^spans\.(\d+)(?:\.|$)/.exec(field.path);
    const span = m ? batch.spans[Number(m[1])] : undefined;
    if (!span) continue;
    reasons.set(span.id, [...(reasons.get(span.id) ?? []), `${field.path}: ${field.problem}`]);
  }
  return new Map([...reasons].map(([id, list]) => [id, `refused by the server: ${list.join('; ')}`.slice(0, 500)]));
}

/** Directive types this agent knows how to obey. */
const KNOWN_DIRECTIVES: ReadonlySet<string> = new Set(Directive.options.map((option) => option.shape.type.value));

/**
 * The ingest answer as the agent reads it: a rejection reason this agent does not know yet (a
 * newer server's) is still a rejection, kept with its reason; a directive of a type it does not
 * know yet is passed over (a newer server's, for newer agents). Parsing either strictly would
 * fail the whole answer, and the batch would go again and again. A directive of a known type
 * that does not read right still fails the answer: obeying part of it could keep capturing what
 * the person withdrew.
 */
const IngestAnswer = IngestResult.extend({
  rejected: z.array(z.strictObject({ id: z.string(), reason: z.string().min(1).max(64) })),
  directives: z
    .array(z.union([Directive, z.looseObject({ type: z.string().refine((type) => !KNOWN_DIRECTIVES.has(type)) })]))
    .transform((list) => list.filter((d): d is Directive => KNOWN_DIRECTIVES.has(d.type))),
});
type IngestAnswer = z.infer<typeof IngestAnswer>;

export interface SyncDeps {
  spans: SpanStore;
  tokens: TokenSource;
  deviceId: string;
  clock: Clock;
  /** Spans must have ended this long ago before they may leave (review before send). */
  holdMs: () => number;
  status: () => AgentStatus;
  onDirectives: (directives: Directive[]) => Promise<void>;
  batchSize?: number;
  /**
   * With nothing to send for this long, a pass still posts an empty batch: directives (new
   * policy, pause, erase, revocation of consent, messages) only ever come back on an ingest
   * answer, so a quiet device would otherwise never hear them. Undefined: no heartbeat.
   */
  heartbeatMs?: number;
}

export interface SyncReport {
  sent: number;
  batches: number;
  rejected: number;
  /** The organisation revoked this device: syncing must stop for good (no retry). */
  revoked?: boolean;
  /** An empty batch went out only to hear the server's directives. */
  heartbeat?: boolean;
  /** Set when the pass stopped early; `retryInMs` says when to try again. */
  error?: string;
  retryInMs?: number;
}

/** One pass of sending: oldest first, batch after batch, until nothing is due or a failure. */
export class Syncer {
  readonly backoff = new Backoff(1000, 5 * 60_000);
  lastError: string | undefined;
  /** The last answered ingest, spans or heartbeat. */
  lastSuccessMs: number | undefined;

  constructor(private readonly deps: SyncDeps) {}

  private async post(batch: IngestBatch): Promise<IngestAnswer> {
    const { tokens } = this.deps;
    const send = async () => tokens.api.request('POST', WIRE_PATHS.ingest, IngestAnswer, { body: batch, bearer: await tokens.token(), gzip: true });
    try {
      return await send();
    } catch (error) {
      // An expired or revoked token: get a fresh one once, then give up for this pass.
      if (error instanceof HttpError && error.status === 401) {
        tokens.invalidate();
        return send();
      }
      throw error;
    }
  }

  async syncOnce(): Promise<SyncReport> {
    const { spans, clock } = this.deps;
    const report: SyncReport = { sent: 0, batches: 0, rejected: 0 };
    for (;;) {
      // The batch id is written before sending, so after a crash the same batch goes again.
      const batch = spans.nextBatch(this.deps.batchSize ?? MAX_BATCH_SPANS, clock.now() - this.deps.holdMs());
      if (!batch) break;
      let result: IngestAnswer;
      try {
        result = await this.post({
          batchId: batch.batchId,
          deviceId: this.deps.deviceId,
          spans: batch.spans.map(toWireSpan),
          status: this.deps.status(),
          ...(batch.importGrantId ? { importGrantId: batch.importGrantId } : {}),
        });
      } catch (error) {
        return this.failed(report, error, batch);
      }
      spans.settleBatch(batch.batchId, new Map(result.rejected.map((r) => [r.id, r.reason])), clock.now());
      report.sent += batch.spans.length;
      report.batches += 1;
      report.rejected += result.rejected.length;
      await this.answered(result);
    }
    if (report.batches === 0 && this.heartbeatDue()) {
      let result: IngestAnswer;
      try {
        // A fresh id each time: an empty batch stores nothing, so a resend needs no identity.
        result = await this.post({ batchId: uuidv7(), deviceId: this.deps.deviceId, spans: [], status: this.deps.status() });
      } catch (error) {
        return this.failed(report, error, undefined);
      }
      report.heartbeat = true;
      await this.answered(result);
    }
    return report;
  }

  private heartbeatDue(): boolean {
    const every = this.deps.heartbeatMs;
    if (every === undefined) return false;
    return this.lastSuccessMs === undefined || this.deps.clock.now() - this.lastSuccessMs >= every;
  }

  private async answered(result: IngestAnswer): Promise<void> {
    this.backoff.reset();
    this.lastError = undefined;
    this.lastSuccessMs = this.deps.clock.now();
    if (result.directives.length > 0) await this.deps.onDirectives(result.directives);
  }

  private failed(report: SyncReport, error: unknown, batch: Batch | undefined): SyncReport {
    const message = error instanceof Error ? error.message : String(error);
    this.lastError = message;
    if (error instanceof HttpError && error.revoked) {
      // Retrying cannot help and would knock on the server every few minutes forever; the
      // batch keeps its id, so the spans stay on the device exactly as they were.
      return { ...report, error: message, revoked: true };
    }
    if (batch !== undefined && error instanceof HttpError && !error.transient && error.status !== 401 && error.status !== 403) {
      const culprits = error.status === 400 ? spansNamed(error.fields, batch) : new Map<string, string>();
      if (culprits.size > 0) {
        // The server named the spans it cannot take: keep those, with its reasons; the rest go
        // again at once in a new batch, so one bad span does not hold back (or lose) the others.
        this.deps.spans.quarantine(batch.batchId, culprits);
        report.rejected += culprits.size;
        return { ...report, error: message, retryInMs: 0 };
      }
      // The server will never take this batch as it is; keep its spans, marked, and move on.
      this.deps.spans.refuseBatch(batch.batchId, `refused: ${error.code} (${error.status})`);
      return { ...report, error: message, retryInMs: 0 };
    }
    // Network errors, 5xx, 429 and other 403s (e.g. a proxy's) wait, then try again.
    const retryAfter = error instanceof HttpError ? error.retryAfterMs : undefined;
    return { ...report, error: message, retryInMs: this.backoff.next(retryAfter) };
  }
}

/** Runs sync passes on a timer: every `intervalMs` when healthy, after the backoff when not. */
export class SyncLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  lastReport: SyncReport | undefined;

  constructor(
    private readonly syncer: Syncer,
    private readonly intervalMs: number,
    private readonly onReport: (report: SyncReport) => void = () => {},
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runNow(), delayMs);
    this.timer.unref?.();
  }

  /** Runs a pass now (or joins the one under way). */
  runNow(): Promise<void> {
    this.running ??= (async () => {
      let next = this.intervalMs;
      try {
        const report = await this.syncer.syncOnce();
        this.lastReport = report;
        this.onReport(report);
        if (report.revoked) {
          this.stopped = true;
          return;
        }
        if (report.retryInMs !== undefined) next = report.retryInMs;
      } catch (error) {
        next = this.syncer.backoff.next();
        this.lastReport = { sent: 0, batches: 0, rejected: 0, error: error instanceof Error ? error.message : String(error), retryInMs: next };
        this.onReport(this.lastReport);
      } finally {
        this.running = undefined;
      }
      this.schedule(next);
    })();
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
