import { Hono, type MiddlewareHandler } from 'hono';
import { IngestBatch, WIRE_PATHS } from '@icarus/shared';
import type { AppEnv } from '../env';
import { readJson } from '../gateway/body';
import type { IngestionService } from './service';

export function ingestionRoutes(deps: { ingestion: IngestionService; deviceAuth: MiddlewareHandler<AppEnv>; maxBodyBytes: number }) {
  return new Hono<AppEnv>().post(WIRE_PATHS.ingest, deps.deviceAuth, async (c) => {
    const batch = await readJson(c, IngestBatch, deps.maxBodyBytes);
    return c.json(await deps.ingestion.ingest(c.get('device'), batch));
  });
}
