// The devices module: enrollment, device tokens, revocation, device health and directives,
// and who each device speaks for (bindings by pairing code, IT assignment or per-user token).
import type { Keyring, SymmetricKey } from '../../platform/keyring';
import { createHmac } from 'node:crypto';
import { WIRE_PATHS } from '@icarus/shared';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { Database } from '../../platform/db/client';
import type { AppEnv, RequireUser } from '../../platform/env';
import type { RateLimitStore, RateRule } from '../../platform/http/rate-limit';
import type { Metrics } from '../../platform/metrics';
import type { AuditService } from '../audit';
import type { DirectoryService } from '../directory';
import { createBindingService } from './binding';
import { perDeviceLimit, requireDevice } from './device-auth';
import { myDevicesRoutes } from './my-devices';
import { deviceRoutes } from './routes';
import { createDeviceService } from './service';
import { createDeviceStore } from './store';
import { withDeviceCache } from './cached-store';
import type { InvalidationBus } from '../../platform/invalidation';
import type { EventOutbox } from '../../platform/events';

export function createDevicesModule(deps: {
  database: Database;
  audit: AuditService;
  directory: DirectoryService;
  /** Access tokens are signed with the newest key (its id in `kid`) and verified with the key they name. */
  tokenKeys: Keyring<SymmetricKey>;
  accessTokenTtlSeconds: number;
  limits: RateLimitStore;
  perDevice: RateRule;
  metrics: Metrics;
  publicUrl: () => string;
  maxBodyBytes: number;
  bus: InvalidationBus;
  /** Enrollments and revocations are announced through it, in their transactions (absent: none are). */
  events?: EventOutbox;
}) {
  // The device row and "directives waiting" are read by every sync: cached, emptied everywhere by the bus on a change.
  const store = withDeviceCache(createDeviceStore(deps.database, deps.events), deps.bus);
  const bindings = createBindingService({
    store,
    audit: deps.audit,
    directory: deps.directory,
    limits: deps.limits,
    // Its own key, derived: a pairing-code hash is never usable as anything else.
    pairingKey: createHmac('sha256', deps.tokenKeys.newest.key).update('icarus-nova pairing codes').digest(),
  });
  const service = createDeviceService({
    store,
    audit: deps.audit,
    directory: deps.directory,
    bindings,
    tokenKeys: deps.tokenKeys,
    accessTokenTtlSeconds: deps.accessTokenTtlSeconds,
  });
  /** Per-device rate limit, keyed on the proven device (a fleet behind NAT shares one address). */
  const limit = perDeviceLimit(deps.limits, deps.perDevice, deps.metrics);
  /** A device's bearer token proven, then its rate limit taken: the guard of every device route. */
  const deviceAuth: MiddlewareHandler<AppEnv> = requireDevice(service, limit);
  const wire = deviceRoutes({
    devices: service,
    bindings,
    deviceAuth,
    maxBodyBytes: deps.maxBodyBytes,
    tokenAudience: () => `${deps.publicUrl()}${WIRE_PATHS.token}`,
  });
  return {
    service,
    bindings,
    limit,
    deviceAuth,
    /** `/v1/devices/enroll|token|pair|binding`, and the person's `/me/devices` page with `/api/me/devices*`. */
    routes: (options: { requireUser: RequireUser; csrfOf: (c: Context<AppEnv>) => Promise<string> }) =>
      new Hono<AppEnv>().route('/', wire).route('/', myDevicesRoutes({ bindings, requireUser: options.requireUser, csrfOf: options.csrfOf })),
  };
}
export type DevicesModule = ReturnType<typeof createDevicesModule>;

export type { DeviceService } from './service';
export type { BindingService } from './binding';
export type { DeviceIdentity, EnrolledDevice } from '../../platform/env';
export { bearerOf } from './device-auth';
export { MY_DEVICES } from './my-devices';
export { PAIRING_CODE_TTL_MS } from './binding';
export { documentMyDevicesApi } from './openapi';
