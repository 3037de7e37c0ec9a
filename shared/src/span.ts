import { z } from 'zod';
import { safeText } from './text';

export const MAX_SPAN_MS = 3_600_000;
export const MAX_BATCH_SPANS = 1_000;

/** ISO-8601 instant in UTC with milliseconds optional, e.g. 2026-11-25T09:00:00.000Z. */
export const Instant = z.iso.datetime({ offset: false });

/**
 * One merged period on the device: an active period in one app (and title, when granted),
 * or an idle period (only with the `idle` scope). Never both. `idle: false` is what other
 * clients naturally send for an active span: it means the same as leaving `idle` out.
 */
export const Span = z
  .strictObject({
    id: z.uuid({ version: 'v7' }),
    start: Instant,
    durationMs: z.int().min(0).max(MAX_SPAN_MS),
    app: safeText(z.string().min(1).max(256)).optional(),
    title: safeText(z.string().max(1024)).optional(),
    idle: z.boolean().optional(),
  })
  .check((ctx) => {
    const s = ctx.value;
    if (s.idle === true && (s.app !== undefined || s.title !== undefined)) {
      ctx.issues.push({ code: 'custom', input: s, path: ['idle'], message: 'an idle span carries no app or title' });
    }
    if (s.idle !== true && s.app === undefined) {
      ctx.issues.push({ code: 'custom', input: s, path: ['app'], message: 'an active span needs app' });
    }
  });
export type Span = z.infer<typeof Span>;

export const CaptureSourceStatus = z.strictObject({
  name: safeText(z.string().max(64)),
  ok: z.boolean(),
  problem: safeText(z.string().max(512)).optional(),
});
export type CaptureSourceStatus = z.infer<typeof CaptureSourceStatus>;

/** The agent's own health, sent with every batch so IT sees failing devices. */
export const AgentStatus = z.strictObject({
  agentVersion: safeText(z.string().max(64)),
  pendingSpans: z.int().min(0),
  droppedSpans: z.int().min(0),
  captureSources: z.array(CaptureSourceStatus).max(16),
});
export type AgentStatus = z.infer<typeof AgentStatus>;

export const IngestBatch = z.strictObject({
  batchId: z.uuid(),
  /** Optional echo of the sender; a mismatch with the token's device is refused. */
  deviceId: z.uuid().optional(),
  spans: z.array(Span).max(MAX_BATCH_SPANS),
  status: AgentStatus.optional(),
  /**
   * Set only on a batch of imported history (e.g. from ActivityWatch): the import grant the
   * person made for it (`POST /v1/consent/imports`). Its spans are judged by that grant alone
   * (its period and scopes) instead of the live consent and the enrollment time; every other
   * check applies. Absent on every live batch.
   */
  importGrantId: z
    .uuid()
    .optional()
    .describe(
      'Only on a batch of imported history: the import grant (POST /v1/consent/imports) its spans come under; they are judged by its period and scopes instead of the live consent and the enrollment time',
    ),
});
export type IngestBatch = z.infer<typeof IngestBatch>;

/** How far a device clock may run ahead of the server's before a span counts as not yet ended. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** No person-day (org time zone, all their devices together) holds more than this. */
export const MAX_DAY_MS = 24 * 3_600_000;

/**
 * Why the server did not store one span of a 200 answer; the agent keeps the span, marked, and
 * never sends it again.
 * - no_consent: its scope had no consent at its start.
 * - id_conflict: another device holds this span id.
 * - device_unbound: the device is bound to no person yet.
 * - in_future: it ends more than CLOCK_SKEW_MS after the server's now.
 * - before_enrollment: it starts more than CLOCK_SKEW_MS before the device was enrolled.
 * - overlap: it overlaps a span of the same device, stored or earlier in the same batch.
 * - start_changed: this device already sent this span id with another start.
 * - day_over_24h: it would take the person's day (org time zone, all devices) over MAX_DAY_MS.
 * - beyond_retention: (import batches only) it starts before the org's retention window, so it
 *   would be deleted at once; only ever answered to a batch with `importGrantId`.
 */
export const RejectReason = z.enum([
  'no_consent',
  'id_conflict',
  'device_unbound',
  'in_future',
  'before_enrollment',
  'overlap',
  'start_changed',
  'day_over_24h',
  'beyond_retention',
]);
export type RejectReason = z.infer<typeof RejectReason>;
