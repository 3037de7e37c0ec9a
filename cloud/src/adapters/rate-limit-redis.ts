import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RateLimitStore } from '../platform/http/rate-limit';

/**
 * The token bucket as one Lua script, so take-and-refill is atomic in Redis whatever the
 * number of instances: KEYS[1] the bucket; ARGV rate per second, burst, now (ms). Returns 0
 * when a token was taken, else the whole seconds until one is free.
 */
const TAKE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 't', 'a')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
local wait = 0
if tokens < 1 then
  wait = math.max(1, math.ceil((1 - tokens) / rate))
else
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 't', string.format('%.6f', tokens), 'a', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait
`;

type WithTake = Redis & { icarusTake(key: string, rate: number, burst: number, now: number): Promise<number> };

/**
 * Buckets shared by every instance (REDIS_URL). If Redis cannot answer, the request is
 * judged by this process's own buckets instead (`fallback`) and a warning is logged: a Redis
 * outage weakens the limit to per-instance, it never refuses or admits everyone.
 */
export function createRedisRateLimitStore(redis: Redis, prefix: string, fallback: RateLimitStore, logger: Logger): RateLimitStore {
  const client = redis as WithTake;
  if (typeof client.icarusTake !== 'function') client.defineCommand('icarusTake', { numberOfKeys: 1, lua: TAKE });
  let warnedAt = 0;
  return {
    async take(key, rule, now) {
      try {
        return Number(await client.icarusTake(`${prefix}rl:${key}`, rule.ratePerSecond, rule.burst, Math.round(now)));
      } catch (err) {
        if (Date.now() - warnedAt > 60_000) {
          warnedAt = Date.now();
          logger.warn({ err }, 'rate limits: Redis did not answer; limiting per instance meanwhile');
        }
        return fallback.take(key, rule, now);
      }
    },
  };
}
