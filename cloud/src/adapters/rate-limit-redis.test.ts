import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBus } from '../platform/invalidation';
import { createMemoryRateLimitStore } from './rate-limit-memory';
import { createRedisRateLimitStore } from './rate-limit-redis';

/** Redis runs on this machine (and in CI) at 127.0.0.1:6379; each run uses a key prefix of its own and removes it. */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'silent' });

describe('what instances share through Redis', () => {
  const prefix = `icarus-test-${randomBytes(4).toString('hex')}:`;
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: true });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    expect(await client().ping()).toBe('PONG');
  });
  afterAll(async () => {
    const keys = await clients[0]?.keys(`${prefix}*`);
    if (keys && keys.length > 0) await clients[0]?.del(...keys);
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('one bucket for every instance: a burst of 5 is 5 across two instances, then it refills at the rate', async () => {
    const a = createRedisRateLimitStore(client(), prefix, createMemoryRateLimitStore(), logger);
    const b = createRedisRateLimitStore(client(), prefix, createMemoryRateLimitStore(), logger);
    const rule = { ratePerSecond: 2, burst: 5 };
    const now = 1_000_000;
    const waits = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).take('device:d1', rule, now)));
    expect(waits.filter((w) => w === 0)).toHaveLength(5);
    expect(waits.filter((w) => w > 0).every((w) => w === 1)).toBe(true);
    // Half a second later one token is back (2 per second), for whichever instance asks first.
    expect(await b.take('device:d1', rule, now + 500)).toBe(0);
    expect(await a.take('device:d1', rule, now + 500)).toBeGreaterThan(0);
    // Another key has a bucket of its own.
    expect(await a.take('device:d2', rule, now)).toBe(0);
    expect(await client().pttl(`${prefix}rl:device:d1`)).toBeGreaterThan(0);
  });

  it('without Redis the limit falls back to the instance, never to no limit', async () => {
    const away = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    away.on('error', () => undefined);
    const store = createRedisRateLimitStore(away, prefix, createMemoryRateLimitStore(), logger);
    const rule = { ratePerSecond: 1, burst: 2 };
    expect(await store.take('address:x', rule, 0)).toBe(0);
    expect(await store.take('address:x', rule, 0)).toBe(0);
    expect(await store.take('address:x', rule, 0)).toBe(1);
    away.disconnect();
  });

  it('an invalidation published by one instance reaches the other over pub/sub', async () => {
    const one = createRedisBus(client(), client(), prefix, logger);
    const two = createRedisBus(client(), client(), prefix, logger);
    const heard: (string | null)[] = [];
    two.subscribe('device', (key) => heard.push(key));
    await Promise.all([one.start(), two.start()]);
    heard.length = 0;
    await one.publish('device', 'd-42');
    const deadline = Date.now() + 2000;
    while (!heard.includes('d-42') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(heard).toContain('d-42');
    await Promise.all([one.stop(), two.stop()]);
  });
});
