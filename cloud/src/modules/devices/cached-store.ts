import { createInvalidatedCache } from '../../platform/cache';
import type { InvalidationBus } from '../../platform/invalidation';
import type { DeviceRow, DeviceStore } from './store';

/**
 * A lost invalidation message is outlived by this much at most (the bus reconnect also empties the
 * caches). Longer than an agent's sync interval (a minute), so a device's steady sync finds its row here.
 */
const DEVICE_TTL_MS = 120_000;
const MAX_DEVICES = 200_000;

/**
 * The device store with the two reads every sync makes served from memory: the device row
 * and "are directives waiting". Every write that changes either tells all instances through
 * the bus, after it commits, so a revoked device is refused at once everywhere; the database
 * remains the only source of truth.
 */
export function withDeviceCache(store: DeviceStore, bus: InvalidationBus): DeviceStore {
  const rows = createInvalidatedCache<DeviceRow | undefined>({
    bus,
    topic: 'device',
    ttlMs: DEVICE_TTL_MS,
    maxEntries: MAX_DEVICES,
    load: (id) => store.findDevice(id),
  });
  const waiting = createInvalidatedCache<boolean>({
    bus,
    topic: 'device-directives',
    ttlMs: DEVICE_TTL_MS,
    maxEntries: MAX_DEVICES,
    load: (id) => store.hasPendingDirectives(id),
  });
  return {
    ...store,
    findDevice: (id) => rows.get(id),
    hasPendingDirectives: (id) => waiting.get(id),

    async rebind(orgId, deviceId, at, endedBy, next) {
      const result = await store.rebind(orgId, deviceId, at, endedBy, next);
      if (result.changed) await rows.invalidate(deviceId);
      return result;
    },

    async revokeDevice(id, orgId, at) {
      const revoked = await store.revokeDevice(id, orgId, at);
      if (revoked) await rows.invalidate(id);
      return revoked;
    },

    async recordSync(id, at, status) {
      await store.recordSync(id, at, status);
      // Only this instance's copy: others keep theirs and write their own sync at most as often.
      rows.patch(id, (row) => (row ? { ...row, lastSeenAt: at, ...(status ? { status, agentVersion: status.agentVersion } : {}) } : row));
    },

    async queueDirective(id, deviceId, directive) {
      await store.queueDirective(id, deviceId, directive);
      await waiting.invalidate(deviceId);
    },

    async takeDirectives(deviceId, at) {
      const taken = await store.takeDirectives(deviceId, at);
      if (taken.length > 0) await waiting.invalidate(deviceId);
      return taken;
    },
  };
}
