import { describe, expect, it } from 'vitest';
import { uuidv7 } from 'uuidv7';
import { WIRE_PATHS } from '@icarus/shared';
import { RATE_RULES } from '../app';
import { startTestCloud } from '../../test/support/cloud';
import { testDatabaseKinds } from '../../test/support/database';
import { createTestDevice, json, makeSpans } from '../../test/support/device-client';
import { createMemoryRateLimitStore } from './rate-limit-memory';

describe('rate limits', () => {
  it('a token bucket allows its burst, then refuses with the wait, then refills', async () => {
    const store = createMemoryRateLimitStore();
    const rule = { ratePerSecond: 2, burst: 3 };
    const waits = await Promise.all([0, 1, 2, 3].map(() => store.take('k', rule, 1000)));
    expect(waits).toEqual([0, 0, 0, 1]);
    expect(await store.take('k', rule, 1600)).toBe(0);
    expect(await store.take('other', rule, 1000)).toBe(0);
  });
});

describe.each(testDatabaseKinds())('rate limits over HTTP on %s', (kind) => {
  it('lets a device catching up send 5 batches a second, refuses a flood with 429 and Retry-After', async () => {
    // Buckets refill by the clock: a loaded machine could refill them mid-flood, so the
    // flood part runs on a frozen clock once the sustained part has shown real refills.
    const real = createMemoryRateLimitStore();
    let frozenAt: number | undefined;
    const cloud = await startTestCloud(kind, {}, { rateLimits: { take: (key, rule, now) => real.take(key, rule, frozenAt ?? now) } });
    try {
      const device = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('alice')).token);
      await device.consent(['app_usage']);
      // Sustained catch-up: 5 batches a second for 3 s stays under the per-device rate.
      for (let second = 0; second < 3; second++) {
        const started = Date.now();
        const statuses = await Promise.all(Array.from({ length: 5 }, () => device.ingest(makeSpans(5)).then((r) => r.status)));
        expect(statuses).toEqual([200, 200, 200, 200, 200]);
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
      }
      frozenAt = Date.now();
      const flood = await Promise.all(Array.from({ length: RATE_RULES.perDevice.burst + 20 }, () => device.ingest([], { batchId: uuidv7() })));
      const limited = flood.find((r) => r.status === 429);
      expect(limited?.headers.get('retry-after')).toMatch(/^\d+$/);

      // Unauthenticated routes are limited per address.
      const bad = json({ assertion: 'not.a.jwt.at-all-really' });
      const statuses = await Promise.all(
        Array.from({ length: RATE_RULES.perAddress.burst + 50 }, () => cloud.fetchPath(WIRE_PATHS.token, bad).then((r) => r.status)),
      );
      expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(RATE_RULES.perAddress.burst - 5);
      expect(statuses).toContain(429);
    } finally {
      await cloud.stopAll();
    }
  }, 120_000);
});
