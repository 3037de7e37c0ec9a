// The consent module: versioned policies, per-person decisions with signed receipts, policy drafts and approval.
import type { Keyring, SigningKey } from '../../platform/keyring';
import { Hono, type MiddlewareHandler } from 'hono';
import type { Database } from '../../platform/db/client';
import type { AppEnv } from '../../platform/env';
import type { AuditService } from '../audit';
import type { BindingService, DeviceService } from '../devices';
import type { DirectoryService } from '../directory';
import { createPolicyDrafts } from './drafts';
import { policyPageRoutes } from './page-routes';
import { consentRoutes } from './routes';
import { createConsentService } from './service';
import { createConsentStore } from './store';
import type { ReceiptContext } from './receipt';
import { withTimelineCache } from './cached-store';
import type { InvalidationBus } from '../../platform/invalidation';
import type { EventOutbox } from '../../platform/events';

export function createConsentModule(deps: {
  database: Database;
  audit: AuditService;
  directory: DirectoryService;
  /** Who each device speaks for: decisions count only under the binding in force. */
  bindings: Pick<BindingService, 'currentBindings' | 'currentBindingIds'>;
  /** The person's bound computers and their directives, for withdrawals made on the web. */
  devices: Pick<DeviceService, 'devicesOfUser' | 'queueDirective' | 'findDevice'>;
  /** Receipts are signed with the newest; every key of the ring is listed at /v1/receipt-keys. */
  receiptKeys: Keyring<SigningKey>;
  /** Public receipt keys seen before, listed (retired) once no longer configured. */
  knownReceiptKeys?: () => Promise<{ keyId: string; jwk: Record<string, unknown> }[]>;
  /** Where receipts say consent was given and records are kept (JURISDICTION, CONSENT_LANGUAGE, STORAGE_LOCATIONS). */
  receiptContext: ReceiptContext;
  publicUrl: () => string;
  bus: InvalidationBus;
  /** Decisions and publications are announced through it, in their transactions (absent: none are). */
  events?: EventOutbox;
  /** The consent service's clock; the demo seed dates decisions before the spans it makes. */
  now?: () => Date;
}) {
  // Each device's decisions are read by every sync: cached, emptied everywhere by the bus on a decision.
  const store = withTimelineCache(createConsentStore(deps.database, deps.events), deps.bus);
  const service = createConsentService({
    store,
    bus: deps.bus,
    audit: deps.audit,
    directory: deps.directory,
    bindings: deps.bindings,
    devices: deps.devices,
    receiptKeys: deps.receiptKeys,
    receiptContext: deps.receiptContext,
    publicUrl: deps.publicUrl,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const drafts = createPolicyDrafts({ store, consent: service, audit: deps.audit, directory: deps.directory });
  return {
    service,
    drafts,
    /** `/v1/policy`, `/v1/policy/diff`, `/v1/consent`, `/v1/receipt-keys`, and the public policy text at `/privacy/policy/*`. */
    routes: (options: { deviceAuth: MiddlewareHandler<AppEnv>; maxBodyBytes: number }) =>
      new Hono<AppEnv>()
        .route(
          '/',
          consentRoutes({
            consent: service,
            deviceAuth: options.deviceAuth,
            maxBodyBytes: options.maxBodyBytes,
            receiptKeys: deps.receiptKeys,
            ...(deps.knownReceiptKeys ? { knownReceiptKeys: deps.knownReceiptKeys } : {}),
          }),
        )
        .route('/', policyPageRoutes(service)),
  };
}
export type ConsentModule = ReturnType<typeof createConsentModule>;

export type { ConsentService, ConsentTimeline, ConsentHistory, ConsentEvent } from './service';
export type { DeviceConsent } from './web-withdrawal';
export type { CoverageCount } from './store';
export type { ImportConsent, ImportCover, ImportEraser } from './imports';
export type { ReceiptContext } from './receipt';
export { grantedAt, inForce } from './service';
export type { PolicyDrafts, PolicyVersionView } from './drafts';
export { PolicyDiff } from './diff';
export { defaultPolicy } from './default-policy';
export { documentConsentApi, PolicyDiffSchema } from './openapi';
