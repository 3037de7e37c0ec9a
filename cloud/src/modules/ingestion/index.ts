// The ingestion module: span batches from devices, validated, consent-checked again, checked against
// what is stored (no overlap, no day over 24 h, ids keep their start), stored once.
import type { Keyring, SymmetricKey } from '../../platform/keyring';
import type { Context } from 'hono';
import type { Database } from '../../platform/db/client';
import type { AppEnv, DeviceIdentity } from '../../platform/env';
import type { Metrics } from '../../platform/metrics';
import type { EventOutbox } from '../../platform/events';
import type { AuditService } from '../audit';
import type { ConsentService } from '../consent';
import type { DeviceService } from '../devices';
import type { DirectoryService } from '../directory';
import { ingestionRoutes } from './routes';
import { createIngestionService } from './service';
import { createIngestionStore } from './store';
import { sealedTitles } from './sealed-titles-store';
import { createTitleCipher } from './title-cipher';
import { createTruthStore } from './truth-store';

export function createIngestionModule(deps: {
  database: Database;
  consent: ConsentService;
  devices: DeviceService;
  directory: DirectoryService;
  audit: AuditService;
  titleKeys: Keyring<SymmetricKey>;
  metrics: Metrics;
  /** Per-device rate limit, run once the token is proven. */
  limit: (c: Context<AppEnv>, device: Pick<DeviceIdentity, 'deviceId'>) => Promise<void>;
  maxBodyBytes: number;
  /** Stored batches are announced through it, in the transaction that stores them (absent: none are). */
  events?: EventOutbox;
}) {
  const titles = createTitleCipher(deps.titleKeys);
  const service = createIngestionService({
    store: createIngestionStore(deps.database),
    storeIn: createIngestionStore,
    truth: createTruthStore(deps.database),
    consent: deps.consent,
    devices: deps.devices,
    directory: deps.directory,
    audit: deps.audit,
    titles,
    metrics: deps.metrics,
    ...(deps.events ? { events: deps.events } : {}),
  });
  return {
    service,
    /** Span titles, for the key rotation job: counted per key and re-sealed under the newest. */
    sealed: sealedTitles(deps.database, titles),
    /** `/v1/ingest`. */
    routes: ingestionRoutes({ ingestion: service, devices: deps.devices, limit: deps.limit, maxBodyBytes: deps.maxBodyBytes }),
  };
}
export type IngestionModule = ReturnType<typeof createIngestionModule>;

export type { IngestionService, UserSpan, InsertedListener, OwedBatch } from './service';
export type { InsertedSpan, GeneratedWorkload } from './store';
