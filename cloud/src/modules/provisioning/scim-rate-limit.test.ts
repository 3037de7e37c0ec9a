// The per-connection SCIM rate limit: an identity provider's first sync fits in it, a burst beyond
// it is answered 429 in SCIM's error shape with Retry-After, and on PostgreSQL two instances on one
// Redis share each connection's bucket. The buckets' clock is held still, so the counts are exact.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryRateLimitStore } from '../../adapters/rate-limit-memory';
import { createRedisRateLimitStore } from '../../adapters/rate-limit-redis';
import type { RateLimitStore } from '../../platform/http/rate-limit';
import type { RunningCloud } from '../../start';
import { startAdminTestbed, type AdminTestbed } from '../../../test/support/admin';
import { deploymentSecrets, startAnotherInstance } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { SCIM_RATE } from './routes';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

describe.each(testDatabaseKinds())('SCIM rate limit per connection (%s)', (kind) => {
  // PGlite belongs to one process: one instance on memory buckets. PostgreSQL: two instances, one Redis.
  const shared = kind === 'postgres';
  const prefix = `icarus-test-${randomBytes(4).toString('hex')}:`;
  const redisClients: Redis[] = [];
  let clock = 1_000_000;
  /** The SCIM buckets on the test's clock; every other limit on the real one. */
  const heldStill = (store: RateLimitStore): RateLimitStore => ({
    take: (key, rule, now) => store.take(key, rule, key.startsWith('scim:') ? clock : now),
  });
  const storeForInstance = () => {
    if (!shared) return createMemoryRateLimitStore();
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    redisClients.push(client);
    return createRedisRateLimitStore(client, prefix, createMemoryRateLimitStore(), pino({ level: 'silent' }));
  };
  const keys = deploymentSecrets();
  let bed: AdminTestbed;
  let other: RunningCloud | undefined;
  let entra = '';
  let okta = '';
  const bases: string[] = [];

  const get = async (base: string, token: string, path = '/ServiceProviderConfig') => {
    const res = await fetch(`${base}/scim/v2${path}`, { headers: { authorization: `Bearer ${token}` } });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as Record<string, unknown>,
    };
  };
  /** `n` requests, `at` a time, spread over the instances in turn. */
  const burst = async (token: string, n: number, at = 20) => {
    const statuses: number[] = [];
    for (let i = 0; i < n; i += at) {
      const round = Array.from({ length: Math.min(at, n - i) }, (_, j) => get(bases[(i + j) % bases.length] ?? '', token));
      statuses.push(...(await Promise.all(round)).map((r) => r.status));
    }
    return statuses;
  };

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `scim-limit-${kind}`, keys, { rateLimits: heldStill(storeForInstance()) });
    bases.push(bed.cloud.url);
    if (shared) {
      other = await startAnotherInstance(bed.cloud, keys, { rateLimits: heldStill(storeForInstance()) });
      bases.push(other.url);
    }
    const admin = await bed.as('admin');
    const make = async (name: string) =>
      ((await (await admin.send('POST', '/api/admin/provisioning/connections', { name })).json()) as { token: string }).token;
    entra = await make('Entra ID');
    okta = await make('Okta');
  }, 180_000);
  afterAll(async () => {
    await other?.close();
    await bed?.stop();
    const keysLeft = await redisClients[0]?.keys(`${prefix}*`);
    if (keysLeft && keysLeft.length > 0) await redisClients[0]?.del(...keysLeft);
    await Promise.all(redisClients.map((c) => c.quit()));
  });

  it('takes a first sync of 600 requests at once, then answers 429 in the SCIM error shape with Retry-After', async () => {
    expect(SCIM_RATE.burst).toBe(600);
    const statuses = await burst(entra, SCIM_RATE.burst);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    for (const base of bases) {
      const limited = await get(base, entra);
      expect(limited.status).toBe(429);
      expect(limited.type).toContain('application/scim+json');
      expect(limited.retryAfter).toBe('1');
      expect(limited.body).toEqual({ schemas: [ERROR], status: '429', detail: expect.stringContaining('retry in 1 s') });
    }
    // Every SCIM route is behind it, writes as well as reads.
    expect((await get(bases[0] ?? '', entra, '/Users?filter=userName%20eq%20%22a%40b.test%22')).status).toBe(429);
  });

  it('keeps a bucket per connection, refills at 50 a second, and still refuses an unknown token as 401', async () => {
    expect((await get(bases.at(-1) ?? '', okta)).status).toBe(200);
    expect((await get(bases[0] ?? '', `icn_scim_${randomBytes(16).toString('hex')}`)).status).toBe(401);
    clock += 1000;
    const statuses = await burst(entra, SCIM_RATE.ratePerSecond + 10, 10);
    expect(statuses.filter((s) => s === 200)).toHaveLength(SCIM_RATE.ratePerSecond);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it('counts each refusal in the metrics under the scim limit', async () => {
    const text = await (await fetch(`${bases[0]}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('icarus_rate_limited_total{limit="scim"}'));
    expect(Number(line?.split(' ').at(-1))).toBeGreaterThan(0);
  });
});
