import type { Context, MiddlewareHandler } from 'hono';
import type { DeviceIdentity, DeviceService } from './service';
import type { AppEnv } from '../../platform/env';
import { AppError } from '../../platform/errors';
import type { Metrics } from '../../platform/metrics';
import type { RateLimitStore, RateRule } from '../../platform/http/rate-limit';

/**
 * Bearer access token of an enrolled, unrevoked device; sets `device` for the handler.
 * `afterAuth` runs with the proven identity (per-device rate limits key on it).
 */
export function requireDevice(
  devices: DeviceService,
  afterAuth?: (c: Context<AppEnv>, device: Pick<DeviceIdentity, 'deviceId'>) => Promise<void>,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const device = await devices.authenticate(bearerOf(c));
    c.set('device', device);
    if (afterAuth) await afterAuth(c, device);
    await next();
  };
}

export function bearerOf(c: Context): string | undefined {
  return c.req.header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
}

/** Per-device limit, keyed on the proven device: a fleet behind NAT shares one address. */
export function perDeviceLimit(limits: RateLimitStore, rule: RateRule, metrics: Metrics) {
  return async (_c: Context<AppEnv>, device: Pick<DeviceIdentity, 'deviceId'>) => {
    const wait = await limits.take(`device:${device.deviceId}`, rule, Date.now());
    if (wait > 0) {
      metrics.rateLimited.inc({ limit: 'device' });
      throw new AppError('rate_limited', `Too many requests from this device; retry in ${wait} s`, undefined, {
        'Retry-After': String(wait),
      });
    }
  };
}
