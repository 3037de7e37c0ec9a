import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics';

describe('metrics', () => {
  it('names every product metric icarus_*, with the labels dashboards and alerts query', async () => {
    const metrics = createMetrics();
    const ours = (await metrics.registry.getMetricsAsJSON()).filter((m) => !m.name.startsWith('process_') && !m.name.startsWith('nodejs_'));
    expect(Object.fromEntries(ours.map((m) => [m.name, m.type]))).toEqual({
      icarus_http_requests_total: 'counter',
      icarus_http_request_duration_seconds: 'histogram',
      icarus_http_requests_in_flight: 'gauge',
      icarus_ingest_spans_total: 'counter',
      icarus_rate_limited_total: 'counter',
    });
    metrics.httpRequests.inc({ method: 'GET', route: '/api/reports/team-summary', status: '200' });
    metrics.spans.inc({ outcome: 'rejected', reason: 'no_consent' }, 3);
    metrics.rateLimited.inc({ limit: 'perDevice' });
    const text = await metrics.registry.metrics();
    expect(text).toContain('icarus_http_requests_total{method="GET",route="/api/reports/team-summary",status="200"} 1');
    expect(text).toContain('icarus_ingest_spans_total{outcome="rejected",reason="no_consent"} 3');
    expect(text).toContain('icarus_rate_limited_total{limit="perDevice"} 1');
  });

  it('keeps one registry per app, so two apps in one process count apart', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.spans.inc({ outcome: 'accepted', reason: '' }, 5);
    expect(await b.registry.metrics()).not.toContain('icarus_ingest_spans_total{outcome="accepted"');
    expect(await a.registry.metrics()).toContain('icarus_ingest_spans_total{outcome="accepted",reason=""} 5');
  });
});
