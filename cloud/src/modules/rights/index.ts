import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import type { Database } from '../../platform/db/client';
import type { AppEnv, RequireUser } from '../../platform/env';
import { rightsPageRoutes } from './page';
import { rightsRoutes } from './routes';
import { createRightsService, type RightsDeps } from './service';
import { createRightsStore } from './store';

/** Long enough after start that the server is serving before old requests are run again. */
const RESUME_DELAY_MS = 5_000;

/**
 * Employee data rights wired from their dependencies: one call from the composition root.
 * Takes the service's dependencies, with the database to open its store on instead of the store.
 */
export function createRightsModule(deps: Omit<RightsDeps, 'store' | 'now'> & { database: Database }) {
  const rights = createRightsService({ ...deps, store: createRightsStore(deps.database) });
  // A withdrawn import grant's history is erased here, where spans and rollups are both reached.
  deps.consent.imports.setEraser((grant) => rights.eraseImport(grant));
  let resumeTimer: NodeJS.Timeout | undefined;
  return {
    rights,
    routes(options: {
      deviceAuth: MiddlewareHandler<AppEnv>;
      requireUser: RequireUser;
      csrfOf: (c: Context<AppEnv>) => Promise<string>;
      maxBodyBytes: number;
    }) {
      return new Hono<AppEnv>()
        .route('/', rightsRoutes({ rights, deviceAuth: options.deviceAuth, requireUser: options.requireUser, maxBodyBytes: options.maxBodyBytes }))
        .route('/', rightsPageRoutes({ rights, directory: deps.directory, requireUser: options.requireUser, csrfOf: options.csrfOf }));
    },
    /** Picks up erasures a previous process accepted but did not finish. */
    start() {
      resumeTimer ??= setTimeout(() => {
        rights.resumeUnfinished().catch((err: unknown) => deps.logger.error({ err }, 'rights: could not resume erasures'));
      }, RESUME_DELAY_MS);
      resumeTimer.unref();
    },
    /** Lets erasures in progress finish before the database closes. */
    async stop() {
      if (resumeTimer) clearTimeout(resumeTimer);
      await rights.idle();
    },
  };
}
export type RightsModule = ReturnType<typeof createRightsModule>;

export type { RightsService } from './service';
export { RIGHTS_PATHS } from './routes';
export { documentRightsApi } from './openapi';
