// The provisioning module: SCIM 2.0 for identity providers (people and teams kept by Entra ID,
// Okta or any SCIM client), its connections and bearer tokens, and the org's rule for leavers' data.
import { Hono, type Context } from 'hono';
import type { Database } from '../../platform/db/client';
import type { AppEnv, RequireUser } from '../../platform/env';
import type { RateLimitStore } from '../../platform/http/rate-limit';
import type { AuditService } from '../audit';
import type { BindingService } from '../devices';
import type { ProvisionedDirectory } from '../directory';
import type { RightsService } from '../rights';
import { provisioningAdminRoutes } from './admin-routes';
import { SCIM_BASE, scimRoutes } from './routes';
import { createProvisioningService } from './service';
import { createProvisioningStore } from './store';

export function createProvisioningModule(deps: {
  database: Database;
  directory: ProvisionedDirectory;
  bindings: Pick<BindingService, 'endBindingsOf'>;
  rights: Pick<RightsService, 'eraseDeprovisioned'>;
  audit: AuditService;
  publicUrl: () => string;
  /** Buckets of the per-connection SCIM limit (shared by instances when Redis is configured). */
  limits: RateLimitStore;
  onRateLimited?: (name: string) => void;
}) {
  const baseUrl = () => `${deps.publicUrl()}${SCIM_BASE}`;
  const service = createProvisioningService({ ...deps, store: createProvisioningStore(deps.database), baseUrl });
  return {
    service,
    /** `/scim/v2/*` for identity providers; `/api/admin/provisioning/*` and `/admin/provisioning` for admins. */
    routes: (options: { requireUser: RequireUser; csrfOf: (c: Context<AppEnv>) => Promise<string>; maxBodyBytes: number }) =>
      new Hono<AppEnv>()
        .route('/', scimRoutes({ service, baseUrl, maxBodyBytes: options.maxBodyBytes, limits: deps.limits, onRateLimited: deps.onRateLimited }))
        .route('/', provisioningAdminRoutes({ service, publicUrl: deps.publicUrl, ...options })),
  };
}
export type ProvisioningModule = ReturnType<typeof createProvisioningModule>;

export type { ProvisioningService } from './service';
export { SCIM_BASE, SCIM_RATE } from './routes';
export { SCIM_MEDIA_TYPE } from './scim-error';
export { documentProvisioningApi } from './openapi';
