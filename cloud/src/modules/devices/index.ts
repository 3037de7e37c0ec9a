// The devices module: enrollment, device tokens, revocation, device health and directives.
import { WIRE_PATHS } from '@icarus/shared';
import type { MiddlewareHandler } from 'hono';
import type { Database } from '../../platform/db/client';
import type { AppEnv } from '../../platform/env';
import type { RateLimitStore, RateRule } from '../../platform/http/rate-limit';
import type { Metrics } from '../../platform/metrics';
import type { AuditService } from '../audit';
import type { DirectoryService } from '../directory';
import { perDeviceLimit, requireDevice } from './device-auth';
import { deviceRoutes } from './routes';
import { createDeviceService } from './service';
import { createDeviceStore } from './store';

export function createDevicesModule(deps: {
  database: Database;
  audit: AuditService;
  directory: DirectoryService;
  tokenSecret: Uint8Array;
  accessTokenTtlSeconds: number;
  limits: RateLimitStore;
  perDevice: RateRule;
  metrics: Metrics;
  publicUrl: () => string;
  maxBodyBytes: number;
}) {
  const service = createDeviceService({
    store: createDeviceStore(deps.database),
    audit: deps.audit,
    directory: deps.directory,
    tokenSecret: deps.tokenSecret,
    accessTokenTtlSeconds: deps.accessTokenTtlSeconds,
  });
  /** Per-device rate limit, keyed on the proven device (a fleet behind NAT shares one address). */
  const limit = perDeviceLimit(deps.limits, deps.perDevice, deps.metrics);
  /** A device's bearer token proven, then its rate limit taken: the guard of every device route. */
  const deviceAuth: MiddlewareHandler<AppEnv> = requireDevice(service, limit);
  return {
    service,
    limit,
    deviceAuth,
    /** `/v1/devices/enroll` and `/v1/devices/token`. */
    routes: deviceRoutes({ devices: service, maxBodyBytes: deps.maxBodyBytes, tokenAudience: () => `${deps.publicUrl()}${WIRE_PATHS.token}` }),
  };
}
export type DevicesModule = ReturnType<typeof createDevicesModule>;

export type { DeviceService } from './service';
export type { DeviceIdentity, EnrolledDevice } from '../../platform/env';
export { bearerOf } from './device-auth';
