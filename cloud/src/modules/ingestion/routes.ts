import { Hono, type Context } from 'hono';
import { IngestBatch, WIRE_PATHS } from '@icarus/shared';
import type { DeviceIdentity, DeviceService } from '../devices';
import type { AppEnv } from '../../platform/env';
import { readJson } from '../../platform/http/body';
import { bearerOf } from '../devices';
import type { IngestionService } from './service';

export function ingestionRoutes(deps: {
  ingestion: IngestionService;
  devices: DeviceService;
  /** Per-device rate limit, run once the token is proven. */
  limit: (c: Context<AppEnv>, device: Pick<DeviceIdentity, 'deviceId'>) => Promise<void>;
  maxBodyBytes: number;
}) {
  return new Hono<AppEnv>().post(WIRE_PATHS.ingest, async (c) => {
    const deviceId = await deps.devices.verifyAccessToken(bearerOf(c));
    await deps.limit(c, { deviceId });
    // The device check, the consent timeline and the body are independent: overlap them.
    const result = await deps.ingestion.ingestFor(deviceId, readJson(c, IngestBatch, deps.maxBodyBytes));
    return c.json(result);
  });
}
