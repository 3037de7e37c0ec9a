import { Hono, type MiddlewareHandler } from 'hono';
import { ConsentDecision, WIRE_PATHS } from '@icarus/shared';
import type { DeviceService } from '../devices/service';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { readJson } from '../gateway/body';
import { receiptJwks } from './receipt';
import type { ConsentService } from './service';
import type { KeyObject } from 'node:crypto';

export function consentRoutes(deps: {
  consent: ConsentService;
  devices: DeviceService;
  deviceAuth: MiddlewareHandler<AppEnv>;
  maxBodyBytes: number;
  receiptPublicKey: KeyObject;
  receiptKeyId: string;
}) {
  const { consent, devices } = deps;
  const jwks = receiptJwks(deps.receiptPublicKey, deps.receiptKeyId);
  return new Hono<AppEnv>()
    .get(WIRE_PATHS.receiptKeys, async (c) => c.json(await jwks))
    .get(WIRE_PATHS.policy, deps.deviceAuth, async (c) => c.json(await consent.currentPolicy(c.get('device').orgId)))
    .post(WIRE_PATHS.consent, deps.deviceAuth, async (c) => {
      const decision = await readJson(c, ConsentDecision, deps.maxBodyBytes);
      const identity = c.get('device');
      const device = await devices.findDevice(identity.deviceId);
      if (!device) throw new AppError('unauthorized', 'Not authenticated: unknown device');
      const receipt = await consent.decide({ ...identity, osUser: device.osUser }, decision);
      return c.json({ receipt }, 201);
    });
}
