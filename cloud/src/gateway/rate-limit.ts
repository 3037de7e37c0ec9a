import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors';

/** Where buckets live: memory for one instance; a Redis store can implement the same. */
export interface RateLimitStore {
  /** Takes one token from `key`'s bucket; returns 0 if allowed, else seconds until one is free. */
  take(key: string, rule: RateRule, now: number): Promise<number>;
}

export interface RateRule {
  /** Tokens added per second (sustained rate). */
  ratePerSecond: number;
  /** Bucket size (burst). */
  burst: number;
}

export function createMemoryRateLimitStore(maxKeys = 100_000): RateLimitStore {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    async take(key, rule, now) {
      const bucket = buckets.get(key) ?? { tokens: rule.burst, at: now };
      const tokens = Math.min(rule.burst, bucket.tokens + ((now - bucket.at) / 1000) * rule.ratePerSecond);
      if (tokens < 1) {
        buckets.set(key, { tokens, at: now });
        return Math.max(1, Math.ceil((1 - tokens) / rule.ratePerSecond));
      }
      if (!buckets.has(key) && buckets.size >= maxKeys) {
        // Forget the oldest key; a forgotten bucket starts full, which only errs generous.
        const oldest = buckets.keys().next().value;
        if (oldest !== undefined) buckets.delete(oldest);
      }
      buckets.delete(key);
      buckets.set(key, { tokens: tokens - 1, at: now });
      return 0;
    },
  };
}

export function rateLimit(
  store: RateLimitStore,
  name: string,
  rule: RateRule,
  keyOf: (c: Parameters<MiddlewareHandler>[0]) => string,
  onLimited?: (name: string) => void,
): MiddlewareHandler {
  return async (c, next) => {
    const wait = await store.take(`${name}:${keyOf(c)}`, rule, Date.now());
    if (wait > 0) {
      onLimited?.(name);
      throw new AppError('rate_limited', `Too many requests; retry in ${wait} s`, undefined, { 'Retry-After': String(wait) });
    }
    await next();
  };
}
