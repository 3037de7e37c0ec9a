import { Hono, type MiddlewareHandler } from 'hono';
import { EnrollRequest, PairRequest, TokenRequest, WIRE_PATHS } from '@icarus/shared';
import type { AppEnv } from '../../platform/env';
import { readJson } from '../../platform/http/body';
import type { BindingService } from './binding';
import type { DeviceService } from './service';

export function deviceRoutes(deps: {
  devices: DeviceService;
  bindings: BindingService;
  deviceAuth: MiddlewareHandler<AppEnv>;
  maxBodyBytes: number;
  tokenAudience: (requestUrl: string) => string;
}) {
  const { devices, bindings, maxBodyBytes } = deps;
  return new Hono<AppEnv>()
    .post(WIRE_PATHS.enroll, async (c) => {
      const body = await readJson(c, EnrollRequest, maxBodyBytes);
      return c.json(await devices.enroll(body), 201);
    })
    .post(WIRE_PATHS.token, async (c) => {
      const body = await readJson(c, TokenRequest, maxBodyBytes);
      return c.json(await devices.issueAccessToken(body.assertion, deps.tokenAudience(c.req.url)));
    })
    .get(WIRE_PATHS.binding, deps.deviceAuth, async (c) => c.json(await bindings.bindingOf(c.get('device').deviceId)))
    .post(WIRE_PATHS.pair, deps.deviceAuth, async (c) => {
      const { code } = await readJson(c, PairRequest, maxBodyBytes);
      return c.json(await bindings.pair(c.get('device'), code));
    });
}
