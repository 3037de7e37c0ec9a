// The home module: `/` for each role, read from the services that own each figure.
import type { Context } from 'hono';
import type { AppEnv, RequireUser } from '../../platform/env';
import { homeRoutes } from './routes';
import { createHomeService, type HomeDeps } from './service';

export function createHomeModule(deps: HomeDeps) {
  const home = createHomeService(deps);
  return {
    home,
    /** `GET /`. */
    routes: (options: { requireUser: RequireUser; csrfOf: (c: Context<AppEnv>) => Promise<string> }) => homeRoutes({ home, ...options }),
  };
}
export type HomeModule = ReturnType<typeof createHomeModule>;
export type { HomeService } from './service';
