import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { AuditService } from '../audit';
import type { Config } from '../../platform/config';
import type { Database } from '../../platform/db/client';
import type { DirectoryService } from '../directory';
import type { AppEnv } from '../../platform/env';
import { createAccess } from './access';
import { createAuthService } from './auth';
import { clientAddress } from '../../platform/http/client-address';
import { isSecure } from './cookies';
import { oidcRoutes, oidcSettingsFrom } from './oidc';
import { gatewayPageRoutes } from './page-routes';
import { createPersonalDataPolicy } from './personal-data-policy';
import { createSecretBox } from '../../platform/secret-box';
import { rateLimit, type RateLimitStore } from '../../platform/http/rate-limit';
import { gatewayApiRoutes } from './routes';
import { createSessionStore } from './session-store';

/** Per address on the password and code routes: an office shares one address, a guesser too. */
export const SIGN_IN_RATE = { ratePerSecond: 0.5, burst: 30 } as const;
const PURGE_EVERY_MS = 3600_000;

/**
 * Identity and access: sign-in, sessions, second factor, SSO, the role guard and the
 * personal-data policy, built from explicit dependencies for createApp.
 */
export function createIdentityModule(deps: {
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
  const secure = (c: Context) => isSecure(c, deps.publicUrl(), config.TRUST_PROXY, config.TLS_CERT !== undefined);
  const signInLimit: MiddlewareHandler = rateLimit(deps.limits, 'sign-in', SIGN_IN_RATE, (c) => clientAddress(c, config.TRUST_PROXY), deps.onRateLimited);
  const oidc = oidcSettingsFrom(config, deps.publicUrl());

  const routes = new Hono<AppEnv>()
    .route('/', gatewayApiRoutes({ auth, access, audit, signInLimit, secure }))
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
    /** Close every /api path by default; mount before any API route. */
    guardApi: access.guardApi(),
    routes,
  };
}
export type IdentityModule = ReturnType<typeof createIdentityModule>;

export type { Access } from './access';
export type { AuthService } from './auth';
export type { PersonalDataPolicy } from './personal-data-policy';
export { newTotpSecret, totpCode } from './totp';
export { documentPeopleApi } from './openapi';
