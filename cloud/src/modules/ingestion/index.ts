// The ingestion module: span batches from devices, validated, consent-checked again, stored once.
import type { Context } from 'hono';
import type { Database } from '../../platform/db/client';
import type { AppEnv, DeviceIdentity } from '../../platform/env';
import type { Metrics } from '../../platform/metrics';
import type { AuditService } from '../audit';
import type { ConsentService } from '../consent';
import type { DeviceService } from '../devices';
import { ingestionRoutes } from './routes';
import { createIngestionService } from './service';
import { createIngestionStore } from './store';
import { createTitleCipher } from './title-cipher';

export function createIngestionModule(deps: {
  database: Database;
  consent: ConsentService;
  devices: DeviceService;
  audit: AuditService;
  titleKey: Buffer;
  metrics: Metrics;
  /** Per-device rate limit, run once the token is proven. */
  limit: (c: Context<AppEnv>, device: Pick<DeviceIdentity, 'deviceId'>) => Promise<void>;
  maxBodyBytes: number;
}) {
  const service = createIngestionService({
    store: createIngestionStore(deps.database),
    storeIn: createIngestionStore,
    consent: deps.consent,
    devices: deps.devices,
    audit: deps.audit,
    titles: createTitleCipher(deps.titleKey),
    metrics: deps.metrics,
  });
  return {
    service,
    /** `/v1/ingest`. */
    routes: ingestionRoutes({ ingestion: service, devices: deps.devices, limit: deps.limit, maxBodyBytes: deps.maxBodyBytes }),
  };
}
export type IngestionModule = ReturnType<typeof createIngestionModule>;

export type { IngestionService, UserSpan, InsertedListener, OwedBatch } from './service';
export type { InsertedSpan, GeneratedWorkload } from './store';
