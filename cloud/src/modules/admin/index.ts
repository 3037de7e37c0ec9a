// The admin module: policy versions (draft, review, publish), people and teams, categories, webhooks, the working week, devices and enrollment tokens, for the org's admins.
import { Hono, type Context } from 'hono';
import type { AppEnv, RequireUser } from '../../platform/env';
import type { AuditService } from '../audit';
import type { ConsentService, PolicyDrafts } from '../consent';
import type { BindingService, DeviceService } from '../devices';
import type { AnalyticsModule } from '../analytics';
import type { DirectoryImporter, DirectoryService, PeopleAdmin } from '../directory';
import type { NotificationService } from '../notification';
import { directoryPageRoutes } from './directory-routes';
import { adminApiRoutes } from './api';
import { createFleetAdmin } from './fleet';
import { adminPageRoutes } from './page-routes';
import { workingWeekPageRoutes } from './working-week-pages';

export function createAdminModule(deps: {
  drafts: PolicyDrafts;
  consent: ConsentService;
  devices: DeviceService;
  bindings: BindingService;
  directory: DirectoryService;
  people: PeopleAdmin;
  importer: DirectoryImporter;
  analytics: Pick<AnalyticsModule, 'service' | 'previewRules'>;
  notifications: NotificationService;
  audit: AuditService;
  /** Where agents reach this server: the install commands name it. */
  publicUrl: () => string;
}) {
  const fleet = createFleetAdmin({ devices: deps.devices, bindings: deps.bindings, directory: deps.directory, audit: deps.audit });
  return {
    fleet,
    /** `/api/admin/*` and the `/admin*` pages (the working week at `/admin/working-week`). */
    routes: (options: { requireUser: RequireUser; maxBodyBytes: number; csrfOf: (c: Context<AppEnv>) => Promise<string> }) =>
      new Hono<AppEnv>()
        .route('/', adminApiRoutes({ drafts: deps.drafts, fleet, people: deps.people, requireUser: options.requireUser, maxBodyBytes: options.maxBodyBytes }))
        .route(
          '/',
          adminPageRoutes({
            drafts: deps.drafts,
            consent: deps.consent,
            fleet,
            directory: deps.directory,
            people: deps.people,
            requireUser: options.requireUser,
            csrfOf: options.csrfOf,
            publicUrl: deps.publicUrl,
          }),
        )
        .route('/', workingWeekPageRoutes({ people: deps.people, directory: deps.directory, requireUser: options.requireUser, csrfOf: options.csrfOf }))
        .route(
          '/',
          directoryPageRoutes({
            people: deps.people,
            directory: deps.directory,
            importer: deps.importer,
            analytics: deps.analytics,
            notifications: deps.notifications,
            requireUser: options.requireUser,
            csrfOf: options.csrfOf,
          }),
        ),
  };
}
export type AdminModule = ReturnType<typeof createAdminModule>;

export { ADMIN_API } from './api';
export type { FleetAdmin } from './fleet';
export { documentAdminApi } from './openapi';
