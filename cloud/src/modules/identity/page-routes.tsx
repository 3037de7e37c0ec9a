import { randomBytes } from 'node:crypto';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { safeText } from '@icarus/shared';
import type { AppEnv } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readForm } from '../../platform/http/body';
import { sameToken, type Access } from './access';
import { OrganizationChoiceNeeded, type AuthService } from './auth';
import { clearSessionCookie, PRESESSION_CSRF_COOKIE, setSessionCookie } from './cookies';
import { SecurityPage } from './pages/security';
import { SignInPage, TotpPage } from './pages/sign-in';

const SignInForm = z.object({
  email: safeText(z.string().max(320)),
  password: safeText(z.string().max(1024)),
  /** Asked for only when the email and password open accounts in more than one organization. */
  orgId: z.union([z.literal(''), z.uuid('not an organization id')]).optional(),
  next: z.string().max(2000).optional(),
  _csrf: z.string().max(200).optional(),
});
const CodeForm = z.object({ code: z.string().max(20) });

const ORIGIN_PROBE = 'http://origin.invalid';

/**
 * Only same-origin paths: an open redirect after sign-in would be a phishing aid. Browsers
 * drop tabs and newlines inside URLs and read `\` as `/`, so `/\t/evil.example` is
 * `//evil.example`; and CR or LF in a Location header is a 500. So: no control characters
 * or backslashes at all, one leading `/`, and the URL resolved against an origin must keep it.
 */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//')) return '/';
  if (/[\u0000-\u001f\u007f-\u009f\\]/.test(next)) return '/';
  let resolved: URL;
  try {
    resolved = new URL(next, ORIGIN_PROBE);
  } catch {
    return '/';
  }
  if (resolved.origin !== ORIGIN_PROBE) return '/';
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}

async function form<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const result = schema.safeParse(await readForm(c));
  if (!result.success) throw AppError.fromZod(result.error, 'form');
  return result.data;
}

/** Renders a refused form again with the reason, keeping the error's status and headers. */
function failed(c: Context, error: unknown, render: (message: string) => ReturnType<Context['html']>) {
  if (!(error instanceof AppError)) throw error;
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
  c.status(error.status);
  return render(error.message);
}

export function gatewayPageRoutes(deps: {
  auth: AuthService;
  access: Access;
  signInLimit: MiddlewareHandler;
  secure: (c: Context) => boolean;
  addressOf: (c: Context) => string;
  ssoEnabled: boolean;
}) {
  const { auth, access } = deps;
  const csrfOf = async (c: Context<AppEnv>) => (await access.sessionOf(c))?.session.csrfSecret ?? '';
  const allStages = ['active', 'needs_totp', 'needs_enrollment'] as const;
  const enrolling = access.requireSession(['active', 'needs_enrollment']);

  async function securityPage(c: Context<AppEnv>, extra: { enrollment?: { secret: string; uri: string }; error?: string; info?: string } = {}) {
    const found = await access.sessionOf(c);
    return c.html(
      <SecurityPage user={c.get('user')} csrf={await csrfOf(c)} hasTotp={found?.hasTotp ?? false} required={found?.stage === 'needs_enrollment'} {...extra} />,
    );
  }

  return new Hono<AppEnv>()
    .get('/sign-in', (c) => {
      // Double-submit token: the sign-in form is posted before any session exists.
      const csrf = getCookie(c, PRESESSION_CSRF_COOKIE) ?? randomBytes(24).toString('base64url');
      setCookie(c, PRESESSION_CSRF_COOKIE, csrf, { httpOnly: true, sameSite: 'Lax', secure: deps.secure(c), path: '/sign-in', maxAge: 3600 });
      return c.html(<SignInPage csrf={csrf} next={safeNext(c.req.query('next'))} sso={deps.ssoEnabled} />);
    })
    .post('/sign-in', deps.signInLimit, async (c) => {
      const body = await form(c, SignInForm);
      const csrf = getCookie(c, PRESESSION_CSRF_COOKIE) ?? '';
      const next = safeNext(body.next);
      const again = (error: string, organizations?: { id: string; name: string }[]) =>
        c.html(<SignInPage csrf={csrf} next={next} email={body.email} error={error} sso={deps.ssoEnabled} {...(organizations ? { organizations } : {})} />);
      if (!csrf || !sameToken(body._csrf, csrf)) {
        c.status(403);
        return again('The form expired; please sign in again.');
      }
      try {
        const started = await auth.signInWithPassword({
          email: body.email,
          password: body.password,
          orgId: body.orgId || undefined,
          address: deps.addressOf(c),
        });
        setSessionCookie(c, started.token, deps.secure(c));
        if (started.stage === 'needs_totp') return c.redirect('/sign-in/totp', 303);
        if (started.stage === 'needs_enrollment') return c.redirect('/account/security', 303);
        return c.redirect(next, 303);
      } catch (error) {
        if (error instanceof OrganizationChoiceNeeded)
          return again('Choose the organization to sign in to, and enter your password again.', error.organizations);
        return failed(c, error, again);
      }
    })
    .get('/sign-in/totp', access.requireSession(['needs_totp']), async (c) => c.html(<TotpPage csrf={await csrfOf(c)} />))
    .post('/sign-in/totp', deps.signInLimit, access.requireSession(['needs_totp']), async (c) => {
      const csrf = await csrfOf(c);
      try {
        const { code } = await form(c, CodeForm);
        await auth.verifyTotp(c.get('user').sessionId, code, deps.addressOf(c));
        return c.redirect('/', 303);
      } catch (error) {
        return failed(c, error, (message) => c.html(<TotpPage csrf={csrf} error={message} />));
      }
    })
    .post('/sign-out', access.requireSession(allStages), async (c) => {
      await auth.signOut(c.get('user').sessionId);
      clearSessionCookie(c, deps.secure(c));
      return c.redirect('/sign-in', 303);
    })
    .get('/account/security', enrolling, (c) => securityPage(c, c.req.query('enrolled') ? { info: 'Two-factor authentication is set up.' } : {}))
    .post('/account/security/totp', enrolling, async (c) => securityPage(c, { enrollment: await auth.beginTotpEnrollment(c.get('user').sessionId) }))
    .post('/account/security/totp/confirm', enrolling, async (c) => {
      try {
        const { code } = await form(c, CodeForm);
        await auth.confirmTotpEnrollment(c.get('user').sessionId, code);
        return c.redirect('/account/security?enrolled=1', 303);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        c.status(error.status);
        return securityPage(c, { error: `${error.message}. Set up the authenticator again.` });
      }
    });
}
