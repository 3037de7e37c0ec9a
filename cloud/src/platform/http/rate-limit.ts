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
