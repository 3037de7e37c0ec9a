import { Hono } from 'hono';
import { EnrollRequest, TokenRequest, WIRE_PATHS } from '@icarus/shared';
import type { AppEnv } from '../../platform/env';
import { readJson } from '../../platform/http/body';
import type { DeviceService } from './service';

export function deviceRoutes(deps: { devices: DeviceService; maxBodyBytes: number; tokenAudience: (requestUrl: string) => string }) {
  const { devices, maxBodyBytes } = deps;
  return new Hono<AppEnv>()
    .post(WIRE_PATHS.enroll, async (c) => {
      const body = await readJson(c, EnrollRequest, maxBodyBytes);
      return c.json(await devices.enroll(body), 201);
    })
    .post(WIRE_PATHS.token, async (c) => {
      const body = await readJson(c, TokenRequest, maxBodyBytes);
      return c.json(await devices.issueAccessToken(body.assertion, deps.tokenAudience(c.req.url)));
    });
}
