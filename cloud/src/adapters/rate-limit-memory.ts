import type { RateLimitStore } from '../platform/http/rate-limit';

/** Token buckets in this process's memory: right for one instance; several instances need a shared store. */
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
