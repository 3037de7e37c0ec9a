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
import { rateLimit } from '../../platform/http/rate-limit';
import { gatewayApiRoutes } from './routes';
import { createSessionStore } from './session-store';
import { createSignInThrottle } from './throttle';
import { createDatabaseRateLimitStore, createThrottleStore } from './throttle-store';

/**
 * Per address on the password and code routes, whatever the account: an office shares one
 * address, a password sprayer too. Kept in the database, so instances share it.
 */
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
  /** Keys the OIDC state cookie's MAC. */
  cookieKey: Uint8Array;
  /** Data-at-rest key; a subkey of it seals TOTP seeds. */
  dataKey: Uint8Array;
  publicUrl: () => string;
  onRateLimited?: (name: string) => void;
  onPurgeError?: (error: unknown) => void;
  onAlertError?: (error: unknown) => void;
}) {
  const { config, directory, audit } = deps;
  const now = () => new Date();
  const totpBox = createSecretBox(deps.dataKey, 'totp-secrets');
  const throttle = createSignInThrottle({ store: createThrottleStore(deps.database), now });
  const auth = createAuthService({
    directory,
    store: createSessionStore(deps.database),
    throttle,
    audit,
    totpBox,
    now,
    ...(deps.onAlertError ? { onAlertError: deps.onAlertError } : {}),
  });
  const access = createAccess(auth);
  const policy = createPersonalDataPolicy(directory);
  const secure = (c: Context) => isSecure(c, deps.publicUrl(), config.TRUST_PROXY, config.TLS_CERT !== undefined);
  const addressOf = (c: Context) => clientAddress(c, config.TRUST_PROXY);
  const signInLimit: MiddlewareHandler = rateLimit(createDatabaseRateLimitStore(deps.database), 'sign-in', SIGN_IN_RATE, addressOf, deps.onRateLimited);
  const oidc = oidcSettingsFrom(config, deps.publicUrl());

  const routes = new Hono<AppEnv>()
    .route('/', gatewayApiRoutes({ auth, access, audit, signInLimit, secure, addressOf }))
    .route('/', gatewayPageRoutes({ auth, access, signInLimit, secure, addressOf, ssoEnabled: oidc !== undefined }));
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
      await auth.settle();
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
export type { SignInAlert } from './throttle';
export { THROTTLE_RULES } from './throttle';
export type { PersonalDataPolicy } from './personal-data-policy';
export { newTotpSecret, totpCode } from './totp';
export { documentPeopleApi } from './openapi';
