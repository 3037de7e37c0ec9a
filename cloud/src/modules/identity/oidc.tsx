import { createHmac } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import * as client from 'openid-client';
import { z } from 'zod';
import type { AppEnv } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { sameToken } from './access';
import type { AuthService } from './auth';
import { setSessionCookie } from './cookies';
import { safeNext } from './page-routes';
import { SsoRefusedPage } from './pages/sign-in';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The org whose directory SSO users are matched against. */
  orgId: string;
  /** PUBLIC_URL + /sso/oidc/callback: registered with the provider. */
  redirectUri: string;
}

const STATE_COOKIE = 'icarus_oidc';
const STATE_MAX_AGE_S = 600;
const StateCookie = z.strictObject({ state: z.string(), nonce: z.string(), verifier: z.string(), next: z.string() });
const IdentityClaims = z.object({
  email: z.email('the provider sent no usable email claim'),
  email_verified: z.boolean().optional(),
});

/** Plain http is allowed only for a provider on this machine (tests, local development). */
function isLoopback(url: URL): boolean {
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/**
 * Authorization code flow with PKCE, state and nonce. The three checks travel in an
 * HMAC-signed, httpOnly cookie scoped to /sso/oidc, so no server-side state is needed
 * between the redirect out and the callback.
 */
export function oidcRoutes(deps: { settings: OidcSettings; auth: AuthService; cookieKey: Uint8Array; secure: (c: Context) => boolean }) {
  const { settings, auth } = deps;
  const macKey = createHmac('sha256', deps.cookieKey).update('icarus-oidc-state-cookie').digest();
  const sign = (value: string) => createHmac('sha256', macKey).update(value).digest('base64url');

  // Discovery is network I/O: done on first use, not at start, and retried after a failure.
  let configuration: Promise<client.Configuration> | undefined;
  const config = () => {
    configuration ??= (async () => {
      const issuer = new URL(settings.issuer);
      return client.discovery(issuer, settings.clientId, undefined, client.ClientSecretPost(settings.clientSecret), {
        ...(isLoopback(issuer) ? { execute: [client.allowInsecureRequests] } : {}),
      });
    })().catch((error: unknown) => {
      configuration = undefined;
      throw error;
    });
    return configuration;
  };

  const refuse = (c: Context, status: 400 | 403 | 503, message: string) => {
    c.status(status);
    return c.html(<SsoRefusedPage message={message} />);
  };

  return new Hono<AppEnv>()
    .get('/sso/oidc/start', async (c) => {
      let configured: client.Configuration;
      try {
        configured = await config();
      } catch {
        return refuse(c, 503, 'The single sign-on provider cannot be reached right now.');
      }
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const payload = Buffer.from(JSON.stringify({ state, nonce, verifier, next: safeNext(c.req.query('next')) })).toString('base64url');
      setCookie(c, STATE_COOKIE, `${payload}.${sign(payload)}`, {
        httpOnly: true,
        sameSite: 'Lax',
        secure: deps.secure(c),
        path: '/sso/oidc',
        maxAge: STATE_MAX_AGE_S,
      });
      const url = client.buildAuthorizationUrl(configured, {
        redirect_uri: settings.redirectUri,
        scope: 'openid email profile',
        response_type: 'code',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return c.redirect(url.href, 302);
    })
    .get('/sso/oidc/callback', async (c) => {
      const cookie = getCookie(c, STATE_COOKIE) ?? '';
      deleteCookie(c, STATE_COOKIE, { path: '/sso/oidc' });
      const [payload = '', mac] = cookie.split('.');
      const parsed = sameToken(mac, sign(payload)) ? StateCookie.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))) : undefined;
      if (!parsed?.success) return refuse(c, 400, 'The sign-on attempt expired or did not start here. Please try again.');
      const checks = parsed.data;

      let email: string;
      try {
        const configured = await config();
        // Rebuilt on the public address: behind a proxy the request URL differs from the registered one.
        const currentUrl = new URL(settings.redirectUri);
        currentUrl.search = new URL(c.req.url).search;
        const tokens = await client.authorizationCodeGrant(configured, currentUrl, {
          pkceCodeVerifier: checks.verifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims();
        if (!idClaims) throw new AppError('unauthorized', 'The provider returned no ID token');
        // Providers put email (and whether it is verified) in the ID token or only in userinfo; ask userinfo when either is absent.
        const claims =
          typeof idClaims.email === 'string' && typeof idClaims.email_verified === 'boolean'
            ? idClaims
            : await client.fetchUserInfo(configured, tokens.access_token, idClaims.sub);
        const identity = IdentityClaims.safeParse(claims);
        if (!identity.success) return refuse(c, 403, 'Your company account did not share an email address, so it cannot be matched to the directory.');
        // An address the provider does not vouch for is anyone's to type in: only a verified one is matched.
        if (identity.data.email_verified !== true) return refuse(c, 403, 'Your company account’s email address is not verified.');
        email = identity.data.email;
      } catch (error) {
        const detail = error instanceof Error ? error.message : 'unknown error';
        c.get('log').warn({ err: error }, 'oidc callback failed');
        return refuse(c, 400, `Single sign-on failed: ${detail}`);
      }

      try {
        const started = await auth.signInWithVerifiedEmail(email, settings.orgId);
        setSessionCookie(c, started.token, deps.secure(c));
        if (started.stage === 'needs_totp') return c.redirect('/sign-in/totp', 303);
        if (started.stage === 'needs_enrollment') return c.redirect('/account/security', 303);
        return c.redirect(checks.next, 303);
      } catch (error) {
        if (error instanceof AppError && error.code === 'forbidden') {
          return refuse(c, 403, `No one with the email ${email} is in this organization’s directory.`);
        }
        throw error;
      }
    });
}

/** Reads the OIDC settings from config: all four set, or SSO is off. */
export function oidcSettingsFrom(
  config: {
    OIDC_ISSUER?: string | undefined;
    OIDC_CLIENT_ID?: string | undefined;
    OIDC_CLIENT_SECRET?: string | undefined;
    OIDC_ORG_ID?: string | undefined;
  },
  publicUrl: string,
): OidcSettings | undefined {
  const { OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_ORG_ID } = config;
  if (!OIDC_ISSUER || !OIDC_CLIENT_ID || !OIDC_CLIENT_SECRET || !OIDC_ORG_ID) return undefined;
  return { issuer: OIDC_ISSUER, clientId: OIDC_CLIENT_ID, clientSecret: OIDC_CLIENT_SECRET, orgId: OIDC_ORG_ID, redirectUri: `${publicUrl}/sso/oidc/callback` };
}
