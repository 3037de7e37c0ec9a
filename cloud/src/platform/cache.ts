import type { InvalidationBus } from './invalidation';

export interface InvalidatedCache<V> {
  /** The cached value, or `load`'s (shared by concurrent callers of one key). */
  get(key: string): Promise<V>;
  /** After a change has committed: every instance forgets the key (this one at once). */
  invalidate(key: string): Promise<void>;
  /** Changes this instance's copy only (a field this instance just wrote, such as a last-seen time). */
  patch(key: string, change: (value: V) => V): void;
  /** Entries held now (a gauge, tests). */
  readonly size: number;
}

/**
 * A read-through cache that every instance empties for a key as soon as the key's row changes
 * anywhere (the bus), with a short lifetime as the safety net for a lost message. A load that
 * was running when its key was invalidated does not store what it read: its answer may
 * predate the change.
 */
export function createInvalidatedCache<V>(options: {
  bus: InvalidationBus;
  topic: string;
  ttlMs: number;
  maxEntries: number;
  load: (key: string) => Promise<V>;
  now?: () => number;
}): InvalidatedCache<V> {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value: V; at: number }>();
  const loading = new Map<string, Promise<V>>();
  /** Bumped by every invalidation of a key (and of everything): a load compares before storing. */
  const generations = new Map<string, number>();
  let epoch = 0;

  const forget = (key: string | null) => {
    if (key === null) {
      epoch++;
      entries.clear();
      loading.clear();
      generations.clear();
      return;
    }
    entries.delete(key);
    loading.delete(key);
    generations.set(key, (generations.get(key) ?? 0) + 1);
    // Generations only need to outlive the loads in flight; keep the map bounded.
    if (generations.size > options.maxEntries) generations.clear();
  };
  options.bus.subscribe(options.topic, forget);

  return {
    get(key) {
      const hit = entries.get(key);
      if (hit && now() - hit.at < options.ttlMs) return Promise.resolve(hit.value);
      const pending = loading.get(key);
      if (pending) return pending;
      const generation = generations.get(key) ?? 0;
      const startedIn = epoch;
      const load = options.load(key).then(
        (value) => {
          if (loading.get(key) === load) loading.delete(key);
          if ((generations.get(key) ?? 0) === generation && epoch === startedIn) {
            if (entries.size >= options.maxEntries) {
              const oldest = entries.keys().next().value;
              if (oldest !== undefined) entries.delete(oldest);
            }
            entries.set(key, { value, at: now() });
          }
          return value;
        },
        (error: unknown) => {
          if (loading.get(key) === load) loading.delete(key);
          throw error;
        },
      );
      loading.set(key, load);
      return load;
    },
    invalidate: (key) => options.bus.publish(options.topic, key),
    patch(key, change) {
      const hit = entries.get(key);
      if (hit) entries.set(key, { value: change(hit.value), at: hit.at });
    },
    get size() {
      return entries.size;
    },
  };
}
