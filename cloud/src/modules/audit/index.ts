// The audit module: the hash-chained, append-only log of who did what, its viewer and verification.
import { Hono } from 'hono';
import type { Database } from '../../platform/db/client';
import type { AppEnv, RequireUser } from '../../platform/env';
import { auditPageRoutes } from './page-routes';
import { auditApiRoutes } from './routes';
import { createAuditService } from './service';
import { createAuditStore } from './store';
import { createAuditViewer, type AuditPeople } from './viewer';

export function createAuditModule(deps: { database: Database }) {
  const service = createAuditService(createAuditStore(deps.database));
  const viewer = createAuditViewer(service);
  return {
    service,
    viewer,
    /** `/api/audit/*` (events, CSV export) and the `/audit` viewer page. */
    routes: (options: { requireUser: RequireUser; people: AuditPeople }) =>
      new Hono<AppEnv>()
        .route('/', auditApiRoutes({ viewer, requireUser: options.requireUser }))
        .route('/', auditPageRoutes({ viewer, requireUser: options.requireUser, people: options.people })),
  };
}
export type AuditModule = ReturnType<typeof createAuditModule>;

export type { AuditEvent, AuditService, ChainVerification } from './service';
export type { AuditViewer, AuditPeople } from './viewer';
export { actionWords } from './actions';
export { AUDIT_API } from './routes';
export { Chain } from './pages';
