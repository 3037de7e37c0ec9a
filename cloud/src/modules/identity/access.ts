import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, SignedInUser, Role } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readForm } from '../../platform/http/body';
import type { RateLimitStore } from '../../platform/http/rate-limit';
import { API_TOKEN_RULES, scopeOfPath, type ApiTokens } from './api-tokens';
import type { AuthService, ResolvedSession, SessionStage } from './auth';
import { sessionToken } from './cookies';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * API paths that do not need a fully signed-in user. Every other /api path does, whoever
 * registers it: the default is closed, so a route added later cannot be forgotten.
 */
export const API_STAGE_EXCEPTIONS: Record<string, readonly SessionStage[] | 'public'> = {
  'POST /api/session': 'public',
  'DELETE /api/session': ['active', 'needs_totp', 'needs_enrollment'],
  'POST /api/session/totp': ['needs_totp', 'active'],
  'GET /api/me': ['active', 'needs_totp', 'needs_enrollment'],
  'POST /api/account/totp': ['active', 'needs_enrollment'],
  'POST /api/account/totp/confirm': ['active', 'needs_enrollment'],
};

// Resolved once per request, whichever middleware asks first.
const resolved = new WeakMap<Request, Promise<ResolvedSession | undefined>>();
const tokenReaders = new WeakMap<Request, Promise<SignedInUser>>();

/** An `Authorization: Bearer …` credential, if the request carries one. */
const bearerOf = (c: Context) => /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];

export function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const isApi = (c: Context) => c.req.path.startsWith('/api/');

/**
 * A page the person may not see yet: to the step they are missing, and back to this very URL
 * (the query too: a report's filters survive a sign-in). A cookie whose session is gone says so.
 */
export function signInRedirect(c: Context, stage: SessionStage | 'none'): Response {
  const url = new URL(c.req.url);
  const here = c.req.method === 'GET' ? `${url.pathname}${url.search}` : '/';
  const next = here === '/' ? '' : encodeURIComponent(here);
  if (stage === 'needs_totp') return c.redirect(next ? `/sign-in/totp?next=${next}` : '/sign-in/totp', 303);
  if (stage === 'needs_enrollment') return c.redirect('/account/security', 303);
  const params = [...(next ? [`next=${next}`] : []), ...(sessionToken(c) ? ['why=expired'] : [])];
  return c.redirect(params.length > 0 ? `/sign-in?${params.join('&')}` : '/sign-in', 303);
}

export function createAccess(auth: AuthService, tokens?: { apiTokens: ApiTokens; limits: RateLimitStore; onRateLimited?: (name: string) => void }) {
  const unauthorized = (problem: string) =>
    new AppError('unauthorized', `API token refused: ${problem}`, [{ path: 'authorization', problem }], { 'www-authenticate': 'Bearer realm="reports"' });

  /**
   * The reader an API token stands for, on a report read its scopes open; anything else with a
   * bearer credential on /api is refused, so a token is never a session and never writes.
   */
  async function tokenReader(c: Context<AppEnv>, token: string): Promise<SignedInUser> {
    if (!tokens) throw unauthorized('API tokens are not accepted here');
    const scope = scopeOfPath(c.req.path);
    if (!SAFE_METHODS.has(c.req.method) || scope === undefined) {
      throw new AppError('forbidden', 'API tokens read reports only (GET /api/reports/…); everything else needs a signed-in session', [
        { path: 'authorization', problem: 'not accepted on this route' },
      ]);
    }
    const found = await tokens.apiTokens.resolve(token);
    if (!found) throw unauthorized('unknown, expired or revoked, or its creator may no longer read reports');
    if (!found.scopes.includes(scope))
      throw new AppError('forbidden', `This API token lacks the scope ${scope}`, [{ path: 'scopes', problem: `needs ${scope}` }]);
    const wait = await tokens.limits.take(`api-token:${found.user.apiTokenId ?? ''}`, API_TOKEN_RULES.rate, Date.now());
    if (wait > 0) {
      tokens.onRateLimited?.('api-token');
      throw new AppError('rate_limited', `Too many requests with this API token; retry in ${wait} s`, undefined, { 'Retry-After': String(wait) });
    }
    return found.user;
  }
  function tokenReaderOf(c: Context<AppEnv>, token: string): Promise<SignedInUser> {
    let found = tokenReaders.get(c.req.raw);
    if (!found) {
      found = tokenReader(c, token);
      tokenReaders.set(c.req.raw, found);
    }
    return found;
  }

  function sessionOf(c: Context<AppEnv>): Promise<ResolvedSession | undefined> {
    let found = resolved.get(c.req.raw);
    if (!found) {
      found = auth.resolve(sessionToken(c));
      resolved.set(c.req.raw, found);
    }
    return found;
  }

  /** Cookie-authenticated writes must echo the session's CSRF token (header or form field). */
  async function checkCsrf(c: Context<AppEnv>, session: ResolvedSession) {
    if (SAFE_METHODS.has(c.req.method)) return;
    let token = c.req.header('x-csrf-token');
    const type = c.req.header('content-type') ?? '';
    if (!token && /^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) {
      const form = await readForm(c);
      const field = form['_csrf'];
      token = typeof field === 'string' ? field : undefined;
    }
    if (!sameToken(token, session.session.csrfSecret)) {
      throw new AppError('forbidden', 'Missing or wrong CSRF token', [
        { path: 'X-CSRF-Token', problem: 'must equal the csrfToken of GET /api/me or the form' },
      ]);
    }
  }

  function refuse(c: Context<AppEnv>, stage: SessionStage | 'none'): Response {
    if (!isApi(c)) return signInRedirect(c, stage);
    if (stage === 'needs_enrollment') {
      throw new AppError('forbidden', 'Set up two-factor authentication first (POST /api/account/totp)', [{ path: 'totp', problem: 'required for admins' }]);
    }
    if (stage === 'needs_totp')
      throw new AppError('unauthorized', 'Enter your authenticator code first (POST /api/session/totp)', [{ path: 'code', problem: 'second factor required' }]);
    throw new AppError('unauthorized', 'Not signed in');
  }

  /** A session at one of `stages`; sets `user`. Pages redirect, API paths get 401/403 JSON. */
  function requireSession(stages: readonly SessionStage[], roles: readonly Role[] = []): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      const bearer = isApi(c) ? bearerOf(c) : undefined;
      if (bearer !== undefined) {
        const reader = await tokenReaderOf(c, bearer);
        if (roles.length > 0 && !roles.includes(reader.role)) {
          throw new AppError('forbidden', `This needs the role ${roles.join(' or ')}; the API token reads as ${reader.role}`);
        }
        c.set('user', reader);
        return next();
      }
      const found = await sessionOf(c);
      if (!found) return refuse(c, 'none');
      if (!stages.includes(found.stage)) return refuse(c, found.stage);
      await checkCsrf(c, found);
      if (roles.length > 0 && !roles.includes(found.user.role)) {
        throw new AppError('forbidden', `This needs the role ${roles.join(' or ')}; you are ${found.user.role}`);
      }
      c.set('user', found.user);
      await next();
    };
  }

  return {
    sessionOf,
    signInRedirect,
    /** Fully signed in (second factor done where needed), with one of `roles` if any given. */
    requireUser: (...roles: Role[]) => requireSession(['active'], roles),
    requireSession,
    /** Mounted on /api/*: closes every API path unless listed in API_STAGE_EXCEPTIONS. */
    guardApi(): MiddlewareHandler<AppEnv> {
      const full = requireSession(['active']);
      return async (c, next) => {
        const rule = API_STAGE_EXCEPTIONS[`${c.req.method} ${c.req.path}`];
        if (rule === 'public') return bearerOf(c) === undefined ? next() : full(c, next);
        return (rule ? requireSession(rule) : full)(c, next);
      };
    },
  };
}
export type Access = ReturnType<typeof createAccess>;
