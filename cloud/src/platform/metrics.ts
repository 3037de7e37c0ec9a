import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per app instance, so tests can run several apps in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges named *_total read as counters to Prometheus (promtool flags them); the per-type
  // gauges of the same names without the suffix stay, and sum to these totals.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  return {
    registry,
    httpRequests: new Counter({
      name: 'icarus_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'icarus_http_request_duration_seconds',
      help: 'HTTP request latency by method and route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'icarus_http_requests_in_flight',
      help: 'Requests being handled now (graceful shutdown waits for these)',
      registers: [registry],
    }),
    spans: new Counter({
      name: 'icarus_ingest_spans_total',
      help: 'Spans received, by outcome (accepted, duplicate, rejected) and rejection reason (none unless rejected)',
      labelNames: ['outcome', 'reason'] as const,
      registers: [registry],
    }),
    rollupRepairs: new Counter({
      name: 'icarus_rollup_repairs_total',
      help: 'Rollup days the consistency check found different from the raw spans and rebuilt (expected to stay 0)',
      registers: [registry],
    }),
    rollupOwed: new Gauge({
      name: 'icarus_rollup_owed_batches',
      help: 'Stored batches whose rollup deltas are not written yet (the outbox), after the last consumer run',
      registers: [registry],
    }),
    eventOutboxDepth: new Gauge({
      name: 'icarus_event_outbox_depth',
      help: 'Events recorded and not yet confirmed by the broker, after the last relay pass',
      registers: [registry],
    }),
    eventsPublished: new Counter({
      name: 'icarus_events_published_total',
      help: 'Events the broker confirmed',
      registers: [registry],
    }),
    eventPublishFailures: new Counter({
      name: 'icarus_event_publish_failures_total',
      help: 'Events whose publish failed (refused, unconfirmed in time or the broker unreachable); each is retried',
      registers: [registry],
    }),
    keyRotationPending: new Gauge({
      name: 'icarus_key_rotation_pending_values',
      help: 'Sealed values (window titles, TOTP seeds, webhook secrets) still under an older key than the newest, after the last re-encryption batch',
      labelNames: ['data'] as const,
      registers: [registry],
    }),
    keyRotationResealed: new Counter({
      name: 'icarus_key_rotation_resealed_total',
      help: 'Sealed values re-encrypted under the newest key by the key rotation job',
      labelNames: ['data'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'icarus_rate_limited_total',
      help: 'Requests refused with 429, by limit',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
