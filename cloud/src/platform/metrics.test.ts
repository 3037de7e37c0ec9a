import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics';

/** What Prometheus's own linter says of an exposition; `.ci/run` installs promtool (Debian's prometheus). */
function promtoolCheck(exposition: string) {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  if (run.error) throw new Error(`promtool is not installed (apt-get install prometheus): ${run.error.message}`);
  return { code: run.status, problems: `${run.stdout}${run.stderr}`.trim() };
}

describe('metrics', () => {
  it('the whole exposition, default process metrics included, passes promtool check metrics', async () => {
    const metrics = createMetrics();
    metrics.httpRequests.inc({ method: 'GET', route: '/v1/policy', status: '200' });
    metrics.httpDuration.observe({ method: 'GET', route: '/v1/policy' }, 0.004);
    metrics.spans.inc({ outcome: 'accepted', reason: 'none' }, 5);
    metrics.spans.inc({ outcome: 'rejected', reason: 'no_consent' }, 1);
    metrics.rateLimited.inc({ limit: 'device' });
    metrics.keyRotationPending.set({ data: 'window titles' }, 12);
    metrics.keyRotationResealed.inc({ data: 'TOTP seeds' }, 3);
    const text = await metrics.registry.metrics();
    expect(text).toContain('icarus_ingest_spans_total{outcome="accepted",reason="none"} 5');
    expect(text).toContain('nodejs_active_handles{');
    expect(text).not.toMatch(/=""/);
    expect(promtoolCheck(text)).toEqual({ code: 0, problems: '' });
  });

  it('promtool does flag what it should, so the check above is not vacuous', () => {
    const bad = '# HELP x_total a gauge\n# TYPE x_total gauge\nx_total 1\n';
    expect(promtoolCheck(bad).problems).toMatch(/_total/);
  });

  it('names every product metric icarus_*, with the labels dashboards and alerts query', async () => {
    const metrics = createMetrics();
    const ours = (await metrics.registry.getMetricsAsJSON()).filter((m) => !m.name.startsWith('process_') && !m.name.startsWith('nodejs_'));
    expect(Object.fromEntries(ours.map((m) => [m.name, m.type]))).toEqual({
      icarus_http_requests_total: 'counter',
      icarus_http_request_duration_seconds: 'histogram',
      icarus_http_requests_in_flight: 'gauge',
      icarus_ingest_spans_total: 'counter',
      icarus_rate_limited_total: 'counter',
      icarus_rollup_repairs_total: 'counter',
      icarus_rollup_owed_batches: 'gauge',
      icarus_event_outbox_depth: 'gauge',
      icarus_events_published_total: 'counter',
      icarus_event_publish_failures_total: 'counter',
      icarus_key_rotation_pending_values: 'gauge',
      icarus_key_rotation_resealed_total: 'counter',
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
    a.spans.inc({ outcome: 'accepted', reason: 'none' }, 5);
    expect(await b.registry.metrics()).not.toContain('icarus_ingest_spans_total{outcome="accepted"');
    expect(await a.registry.metrics()).toContain('icarus_ingest_spans_total{outcome="accepted",reason="none"} 5');
  });
});
