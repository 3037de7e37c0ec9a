import { describe, expect, it } from 'vitest';
import { createInvalidatedCache } from './cache';
import { createLocalBus } from './invalidation';

describe('the invalidated cache', () => {
  it('serves a key from memory until it is invalidated, then reads it again', async () => {
    const bus = createLocalBus();
    let row = 'active';
    let reads = 0;
    const cache = createInvalidatedCache({ bus, topic: 't', ttlMs: 60_000, maxEntries: 10, load: async () => (reads++, row) });
    expect(await cache.get('d1')).toBe('active');
    expect(await cache.get('d1')).toBe('active');
    expect(reads).toBe(1);
    row = 'revoked';
    await cache.invalidate('d1');
    expect(await cache.get('d1')).toBe('revoked');
    expect(reads).toBe(2);
  });

  it('does not keep what a load read before an invalidation that came while it ran', async () => {
    const bus = createLocalBus();
    let release: (v: string) => void = () => undefined;
    let reads = 0;
    const cache = createInvalidatedCache<string>({
      bus,
      topic: 't',
      ttlMs: 60_000,
      maxEntries: 10,
      load: () => {
        reads++;
        return reads === 1 ? new Promise<string>((resolve) => (release = resolve)) : Promise.resolve('revoked');
      },
    });
    const slow = cache.get('d1');
    await cache.invalidate('d1');
    release('active');
    expect(await slow).toBe('active');
    // The stale answer was not stored: the next read goes to the source.
    expect(await cache.get('d1')).toBe('revoked');
    expect(reads).toBe(2);
  });

  it('forgets everything when the bus says messages may have been lost, and expires entries after their lifetime', async () => {
    const bus = createLocalBus();
    let now = 0;
    let reads = 0;
    const forgetAll: ((key: string | null) => void)[] = [];
    const spy = { ...bus, subscribe: (topic: string, fn: (key: string | null) => void) => (forgetAll.push(fn), bus.subscribe(topic, fn)) };
    const cache = createInvalidatedCache({ bus: spy, topic: 't', ttlMs: 1000, maxEntries: 10, load: async () => ++reads, now: () => now });
    await cache.get('a');
    await cache.get('b');
    expect(cache.size).toBe(2);
    for (const fn of forgetAll) fn(null);
    expect(cache.size).toBe(0);
    await cache.get('a');
    now = 1001;
    await cache.get('a');
    expect(reads).toBe(4);
  });

  it('holds at most maxEntries keys', async () => {
    const cache = createInvalidatedCache({ bus: createLocalBus(), topic: 't', ttlMs: 60_000, maxEntries: 3, load: async (k) => k });
    for (const k of ['a', 'b', 'c', 'd', 'e']) await cache.get(k);
    expect(cache.size).toBe(3);
  });
});
