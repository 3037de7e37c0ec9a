import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../test/support/cloud';
import { testDatabaseKinds } from '../../test/support/database';

const METRICS_TOKEN = 'metrics-token-for-the-test-only';

describe.each(testDatabaseKinds())('who may read /metrics (%s)', (kind) => {
  let cloud: TestCloud;
  beforeAll(async () => {
    cloud = await startTestCloud(kind, { METRICS_TOKEN, METRICS_PORT: '0' });
  });
  afterAll(() => cloud?.stopAll());

  it('is not served on the public port when METRICS_PORT is set', async () => {
    expect((await cloud.fetchPath('/metrics')).status).toBe(404);
  });

  it('needs the bearer token on the metrics port', async () => {
    const url = `http://127.0.0.1:${cloud.metricsPort}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status).toBe(401);
    const allowed = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('icarus_http_requests_total');
  });
});
