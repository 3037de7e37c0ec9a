import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { AuditService } from '../audit';
import type { Config } from '../../platform/config';
import type { Database } from '../../platform/db/client';
import type { DirectoryService } from '../directory';
import type { AppEnv } from '../../platform/env';
import { createAccess } from './access';
import { apiTokenRoutes } from './api-token-routes';
import { createApiTokens } from './api-tokens';
import type { RateLimitStore } from '../../platform/http/rate-limit';
import { createAccountService } from './account';
import { accountRoutes } from './account-routes';
import { createAccountStore } from './account-store';
import { createAuthService } from './auth';
import { clientAddress } from '../../platform/http/client-address';
import { isSecure } from './cookies';
import { oidcRoutes, oidcSettingsFrom } from './oidc';
import { gatewayPageRoutes } from './page-routes';
import { createPersonalDataPolicy } from './personal-data-policy';
import { createRecoveryCodes } from './recovery-codes';
import { createSecretBox, sealedSecrets } from '../../platform/secret-box';
import type { Keyring, SymmetricKey } from '../../platform/keyring';
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
  /** Data-at-rest keyring; a subkey of its newest key seals TOTP seeds, older keys still open them. */
  dataKeys: Keyring<SymmetricKey>;
  publicUrl: () => string;
  onRateLimited?: (name: string) => void;
  /** Where API tokens' request budgets are kept (the app's shared store). */
  apiTokenLimits?: RateLimitStore;
  onPurgeError?: (error: unknown) => void;
  onAlertError?: (error: unknown) => void;
  /** Errors of a reset request's background work (the look-up and the mail); the answer was already sent. */
  onAccountError?: (error: unknown) => void;
}) {
  const { config, directory, audit } = deps;
  const now = () => new Date();
  const totpBox = createSecretBox(deps.dataKeys, 'totp-secrets');
  const throttle = createSignInThrottle({ store: createThrottleStore(deps.database), now });
  const sessions = createSessionStore(deps.database);
  const accountStore = createAccountStore(deps.database);
  const limits = createDatabaseRateLimitStore(deps.database);
  const auth = createAuthService({
    directory,
    store: sessions,
    throttle,
    audit,
    totpBox,
    recovery: createRecoveryCodes(accountStore, now),
    now,
    ...(deps.onAlertError ? { onAlertError: deps.onAlertError } : {}),
  });
  const oidc = oidcSettingsFrom(config, deps.publicUrl());
  const account = createAccountService({
    directory,
    store: accountStore,
    sessions,
    auth,
    throttle,
    audit,
    limits,
    publicUrl: deps.publicUrl,
    mailEnabled: config.SMTP_URL !== undefined,
    ssoOrgId: oidc ? config.OIDC_ORG_ID : undefined,
    now,
    ...(deps.onAccountError ? { onBackgroundError: deps.onAccountError } : {}),
  });
  const apiTokens = createApiTokens({ database: deps.database, directory, audit, now });
  const access = createAccess(auth, {
    apiTokens,
    limits: deps.apiTokenLimits ?? limits,
    ...(deps.onRateLimited ? { onRateLimited: deps.onRateLimited } : {}),
  });
  const policy = createPersonalDataPolicy(directory);
  const secure = (c: Context) => isSecure(c, deps.publicUrl(), config.TRUST_PROXY, config.TLS_CERT !== undefined);
  const addressOf = (c: Context) => clientAddress(c, config.TRUST_PROXY);
  const signInLimit: MiddlewareHandler = rateLimit(limits, 'sign-in', SIGN_IN_RATE, addressOf, deps.onRateLimited);

  const routes = new Hono<AppEnv>()
    .route('/', gatewayApiRoutes({ auth, access, audit, signInLimit, secure, addressOf }))
    .route('/', gatewayPageRoutes({ auth, account, access, signInLimit, secure, addressOf, ssoEnabled: oidc !== undefined }))
    .route('/', accountRoutes({ account, access, addressOf }))
    .route('/', apiTokenRoutes({ apiTokens, access, directory }));
  if (oidc) routes.route('/', oidcRoutes({ settings: oidc, auth, cookieKey: deps.cookieKey, secure }));

  let purgeTimer: NodeJS.Timeout | undefined;
  return {
    /** Starts the hourly purge of expired sessions; the timer never keeps the process alive. */
    start() {
      purgeTimer ??= setInterval(() => {
        auth.purgeExpired().catch((error: unknown) => deps.onPurgeError?.(error));
        account.purge().catch((error: unknown) => deps.onPurgeError?.(error));
      }, PURGE_EVERY_MS).unref();
    },
    async stop() {
      clearInterval(purgeTimer);
      purgeTimer = undefined;
      await auth.settle();
      await account.settle();
    },
    auth,
    account,
    access,
    policy,
    apiTokens,
    /** People's TOTP seeds, for the key rotation job: counted per key and re-sealed under the newest. */
    sealed: sealedSecrets({
      what: 'TOTP seeds',
      box: totpBox,
      ring: deps.dataKeys,
      keyCounts: () => directory.totpSecretKeyCounts(),
      notSealedWith: async (prefix, after, limit) =>
        (await directory.totpSecretsNotSealedWith(prefix, after, limit)).map((r) => ({ id: r.id, sealed: r.totpSecret })),
      replace: (id, before, after) => directory.resealTotpSecret(id, before, after),
    }),
    /** Close every /api path by default; mount before any API route. */
    guardApi: access.guardApi(),
    routes,
  };
}
export type IdentityModule = ReturnType<typeof createIdentityModule>;

export type { Access } from './access';
export type { AuthService } from './auth';
export type { AccountMail, AccountService } from './account';
export type { SignInAlert } from './throttle';
export { THROTTLE_RULES } from './throttle';
export type { PersonalDataPolicy } from './personal-data-policy';
export { newTotpSecret, totpCode } from './totp';
export { documentPeopleApi } from './openapi';
export { SESSION_COOKIE } from './cookies';
