import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { AuditService } from '../audit/service';
import type { Config } from '../config';
import type { Database } from '../db/client';
import { createDirectoryImporter } from '../directory/importer';
import { directoryRoutes } from '../directory/routes';
import type { DirectoryService } from '../directory/service';
import { createDirectoryStore } from '../directory/store';
import type { AppEnv } from '../env';
import { createAccess } from './access';
import { createAuthService } from './auth';
import { clientAddress } from './client-address';
import { isSecure } from './cookies';
import { oidcRoutes, oidcSettingsFrom } from './oidc';
import { gatewayPageRoutes } from './page-routes';
import { createPersonalDataPolicy } from './policy';
import { createSecretBox } from './secret-box';
import { rateLimit, type RateLimitStore } from './rate-limit';
import { gatewayApiRoutes } from './routes';
import { createSessionStore } from './session-store';

/** Per address on the password and code routes: an office shares one address, a guesser too. */
export const SIGN_IN_RATE = { ratePerSecond: 0.5, burst: 30 } as const;
const PURGE_EVERY_MS = 3600_000;

/**
 * People and access: sessions, second factor, SSO, the role guard, the personal-data
 * policy and directory import, built from explicit dependencies for createApp.
 */
export function createPeopleAndAccess(deps: {
  config: Config;
  database: Database;
  directory: DirectoryService;
  audit: AuditService;
  limits: RateLimitStore;
  /** Keys the OIDC state cookie's MAC. */
  cookieKey: Uint8Array;
  /** Data-at-rest key; a subkey of it seals TOTP seeds. */
  dataKey: Uint8Array;
  publicUrl: () => string;
  onRateLimited?: (name: string) => void;
  onPurgeError?: (error: unknown) => void;
}) {
  const { config, directory, audit } = deps;
  const totpBox = createSecretBox(deps.dataKey, 'totp-secrets');
  const auth = createAuthService({ directory, store: createSessionStore(deps.database), audit, totpBox });
  const access = createAccess(auth);
  const policy = createPersonalDataPolicy(directory);
  const importer = createDirectoryImporter({ store: createDirectoryStore(deps.database), audit });
  const secure = (c: Context) => isSecure(c, deps.publicUrl(), config.TRUST_PROXY);
  const signInLimit: MiddlewareHandler = rateLimit(deps.limits, 'sign-in', SIGN_IN_RATE, (c) => clientAddress(c, config.TRUST_PROXY), deps.onRateLimited);
  const oidc = oidcSettingsFrom(config, deps.publicUrl());

  const routes = new Hono<AppEnv>()
    .route('/', gatewayApiRoutes({ auth, access, audit, signInLimit, secure }))
    .route('/', directoryRoutes({ importer, access, maxBodyBytes: config.MAX_BODY_BYTES }))
    .route('/', gatewayPageRoutes({ auth, access, signInLimit, secure, ssoEnabled: oidc !== undefined }));
  if (oidc) routes.route('/', oidcRoutes({ settings: oidc, auth, cookieKey: deps.cookieKey, secure }));

  let purgeTimer: NodeJS.Timeout | undefined;
  return {
    /** Starts the hourly purge of expired sessions; the timer never keeps the process alive. */
    start() {
      purgeTimer ??= setInterval(() => {
        auth.purgeExpired().catch((error: unknown) => deps.onPurgeError?.(error));
      }, PURGE_EVERY_MS).unref();
    },
    async stop() {
      clearInterval(purgeTimer);
      purgeTimer = undefined;
    },
    auth,
    access,
    policy,
    importer,
    /** Close every /api path by default; mount before any API route. */
    guardApi: access.guardApi(),
    routes,
  };
}
export type PeopleAndAccess = ReturnType<typeof createPeopleAndAccess>;
