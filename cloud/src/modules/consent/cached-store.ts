import { createInvalidatedCache } from '../../platform/cache';
import type { InvalidationBus } from '../../platform/invalidation';
import type { ConsentStore } from './store';

/** As the device cache: longer than an agent's sync interval, so a steady sync reads no decision. */
const TIMELINE_TTL_MS = 120_000;
const MAX_DEVICES = 200_000;

/**
 * The consent store with each device's decisions (read by every sync) served from memory.
 * A decision tells every instance through the bus once it has committed, so a withdrawal
 * stops ingestion at once everywhere; the table stays the only source of truth.
 */
export function withTimelineCache(store: ConsentStore, bus: InvalidationBus): ConsentStore {
  const timelines = createInvalidatedCache<Awaited<ReturnType<ConsentStore['timeline']>>>({
    bus,
    topic: 'consent-timeline',
    ttlMs: TIMELINE_TTL_MS,
    maxEntries: MAX_DEVICES,
    load: (deviceId) => store.timeline(deviceId),
  });
  return {
    ...store,
    timeline: (deviceId) => timelines.get(deviceId),
    async appendConsent(row) {
      await store.appendConsent(row);
      await timelines.invalidate(row.deviceId);
    },
  };
}
