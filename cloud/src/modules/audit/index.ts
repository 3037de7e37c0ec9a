// The audit module: the hash-chained, append-only log of who did what, its signed checkpoints,
// its viewer and verification.
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Database } from '../../platform/db/client';
import type { ObjectStore } from '../../platform/object-store';
import type { AppEnv, RequireUser } from '../../platform/env';
import type { ScheduleJobs } from '../../platform/scheduler';
import type { EventOutbox } from '../../platform/events';
import { createAuditArchive } from './archive';
import { createCheckpointStore } from './checkpoint-store';
import { createCheckpoints, createCheckpointSigner, type AuditKeys } from './checkpoints';
import { auditPageRoutes } from './page-routes';
import { auditApiRoutes, auditKeyRoutes } from './routes';
import { createAuditService } from './service';
import { createAuditStore } from './store';
import { createAuditViewer, type AuditPeople } from './viewer';

export function createAuditModule(deps: {
  database: Database;
  keys: AuditKeys;
  knownPublicKeys?: () => Promise<{ keyId: string; jwk: Record<string, unknown> }[]>;
  logger: Logger;
  objects: ObjectStore;
  /** Signed checkpoints are announced through it, in the transaction that stores them (absent: none are). */
  events?: EventOutbox;
  now?: () => Date;
}) {
  const store = createAuditStore(deps.database);
  const signer = createCheckpointSigner(deps.keys);
  const checkpoints = createCheckpoints({ store, checkpoints: createCheckpointStore(deps.database, deps.events), signer, now: deps.now ?? (() => new Date()) });
  const service = createAuditService({ store, checkpoints, signer, ...(deps.knownPublicKeys ? { knownPublicKeys: deps.knownPublicKeys } : {}) });
  const viewer = createAuditViewer(service);
  const archive = createAuditArchive({ store, checkpoints, signer, objects: deps.objects });

  /** Hourly: a checkpoint of every org's head, so a copy exists even when nobody exports. */
  async function checkpointJob() {
    const result = await service.checkpointAll();
    if (result.withProblems.length > 0) {
      deps.logger.error({ orgIds: result.withProblems }, 'audit: chain changed since its last checkpoint; no new checkpoint signed for these orgs');
    }
  }

  /**
   * Nightly: every org's whole chain walked and the result recorded in its log, which the
   * compliance report states (it walks only the entries since the newest checkpoint).
   */
  async function chainVerificationJob() {
    const result = await service.verifyAllChains();
    if (result.withProblems.length > 0) {
      deps.logger.error({ orgIds: result.withProblems }, "audit: the whole-chain verification found problems; recorded in these orgs' logs");
    }
  }

  /** Daily: every org's chain up to a new checkpoint copied to the object store in sealed segments. */
  async function archiveJob() {
    const result = await archive.archiveAll();
    if (result.withProblems.length > 0) {
      deps.logger.error({ orgIds: result.withProblems }, 'audit: chain changed since its last checkpoint; nothing archived for these orgs');
    }
  }

  return {
    service,
    viewer,
    /** The chain's copy in the object store: `archive(orgId)`, and `verify(orgId)` from the store alone. */
    archive,
    /** `/api/audit/*` (events, CSV export), the `/audit` viewer page and the public `/v1/audit-keys`. */
    routes: (options: { requireUser: RequireUser; people: AuditPeople }) =>
      new Hono<AppEnv>()
        .route('/', auditKeyRoutes({ audit: service }))
        .route('/', auditApiRoutes({ viewer, requireUser: options.requireUser }))
        .route('/', auditPageRoutes({ viewer, requireUser: options.requireUser, people: options.people })),
    /** The hourly checkpoint, the daily archive and the nightly whole-chain verification, registered by a process with the scheduler role. */
    jobs: {
      checkpoint: checkpointJob,
      archive: archiveJob,
      chainVerification: chainVerificationJob,
      schedule: (scheduleJobs: ScheduleJobs) =>
        scheduleJobs([
          { name: 'audit-checkpoints', cron: '17 * * * *', run: checkpointJob },
          { name: 'audit-archive', cron: '41 3 * * *', run: archiveJob },
          { name: 'audit-chain-verification', cron: '50 3 * * *', run: chainVerificationJob },
        ]),
    },
  };
}
export type AuditModule = ReturnType<typeof createAuditModule>;

export type { AuditEvent, AuditService, ChainVerification, CheckedCheckpoint, RecordedFullVerification, SinceCheckpointVerification } from './service';
export { ChainVerificationSchema, CHAIN_VERIFIED_ACTION, RecordedFullVerificationSchema, SinceCheckpointVerificationSchema } from './service';
export type { Checkpoint, AuditKeys } from './checkpoints';
export type { AuditArchive, ArchiveRun, ArchiveVerification } from './archive';
export type { ChainProblem } from './chain';
export type { AuditViewer, AuditPeople } from './viewer';
export { actionWords } from './actions';
export { AUDIT_API } from './routes';
export { Chain, ChainStatement } from './pages';
export { documentAuditApi } from './openapi';
