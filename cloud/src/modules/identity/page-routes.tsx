import { randomBytes } from 'node:crypto';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { safeText } from '@icarus/shared';
import type { AppEnv } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readForm } from '../../platform/http/body';
import { sameToken, type Access } from './access';
import QRCode from 'qrcode';
import { ACCOUNT_RULES, type AccountService } from './account';
import type { AccountTokenPurpose } from './account-store';
import { OrganizationChoiceNeeded, type AuthService, type StartedSession } from './auth';
import { clearSessionCookie, PRESESSION_CSRF_COOKIE, setSessionCookie } from './cookies';
import { ForgotPasswordPage, LinkInvalidPage, SetPasswordPage, SignOutPage } from './pages/password';
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
const CodeForm = z.object({ code: z.string().max(20), next: z.string().max(2000).optional() });
const ForgotForm = z.object({ email: safeText(z.string().max(320)), _csrf: z.string().max(200).optional() });
const SetPasswordForm = z.object({
  password: safeText(z.string().max(ACCOUNT_RULES.passwordMax)),
  confirm: safeText(z.string().max(ACCOUNT_RULES.passwordMax)),
  _csrf: z.string().max(200).optional(),
});

/** Why a person is sent to the sign-in page, as `?why=` says it. */
const SIGN_IN_REASONS: Record<string, string> = {
  expired: 'Your session ended. Sign in again to go back to where you were.',
  signed_out: 'You are signed out.',
  everywhere: 'You are signed out everywhere.',
};

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

export async function form<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const result = schema.safeParse(await readForm(c));
  if (!result.success) throw AppError.fromZod(result.error, 'form');
  return result.data;
}

/** Renders a refused form again with the reason, keeping the error's status and headers. */
export function failed(c: Context, error: unknown, render: (message: string) => ReturnType<Context['html']>) {
  if (!(error instanceof AppError)) throw error;
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
  c.status(error.status);
  return render(error.message);
}

/** The double-submit token of forms shown before a session exists (sign-in, forgot password, one-time links). */
function presessionCsrf(c: Context, secure: boolean): string {
  const csrf = getCookie(c, PRESESSION_CSRF_COOKIE) ?? randomBytes(24).toString('base64url');
  setCookie(c, PRESESSION_CSRF_COOKIE, csrf, { httpOnly: true, sameSite: 'Lax', secure, path: '/sign-in', maxAge: 3600 });
  return csrf;
}
const sentCsrf = (fields: Record<string, unknown>) => (typeof fields['_csrf'] === 'string' ? fields['_csrf'] : undefined);
const presessionCsrfMatches = (c: Context, sent: string | undefined) => {
  const csrf = getCookie(c, PRESESSION_CSRF_COOKIE) ?? '';
  return csrf !== '' && sameToken(sent, csrf);
};

/** Where a new session goes next: the code step, the TOTP set-up an admin must do, or `next`. */
function afterSignIn(c: Context, started: StartedSession, next: string) {
  if (started.stage === 'needs_totp') return c.redirect(next === '/' ? '/sign-in/totp' : `/sign-in/totp?next=${encodeURIComponent(next)}`, 303);
  if (started.stage === 'needs_enrollment') return c.redirect('/account/security', 303);
  return c.redirect(next, 303);
}

export async function qrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
}

export function gatewayPageRoutes(deps: {
  auth: AuthService;
  account: AccountService;
  access: Access;
  signInLimit: MiddlewareHandler;
  secure: (c: Context) => boolean;
  addressOf: (c: Context) => string;
  ssoEnabled: boolean;
}) {
  const { auth, access, account } = deps;
  const csrfOf = async (c: Context<AppEnv>) => (await access.sessionOf(c))?.session.csrfSecret ?? '';
  const allStages = ['active', 'needs_totp', 'needs_enrollment'] as const;
  const enrolling = access.requireSession(['active', 'needs_enrollment']);

  async function securityPage(
    c: Context<AppEnv>,
    extra: { enrollment?: { secret: string; uri: string }; recoveryCodes?: string[]; error?: string; info?: string } = {},
  ) {
    const found = await access.sessionOf(c);
    const { enrollment, ...rest } = extra;
    // The secret being set up stays with the session until a right code confirms it: shown again after a wrong one.
    const pending = enrollment ?? (await auth.pendingTotpEnrollment(c.get('user').sessionId));
    const hasTotp = found?.hasTotp === true || extra.recoveryCodes !== undefined;
    return c.html(
      <SecurityPage
        user={c.get('user')}
        csrf={await csrfOf(c)}
        hasTotp={hasTotp}
        required={found?.stage === 'needs_enrollment' && extra.recoveryCodes === undefined}
        recoveryCodesLeft={hasTotp ? await auth.recoveryCodesLeft(c.get('user').userId) : 0}
        {...(pending && !extra.recoveryCodes ? { enrollment: { ...pending, qrSvg: await qrSvg(pending.uri) } } : {})}
        {...rest}
      />,
    );
  }

  /** GET and POST of a one-time link's set-password page (invitation or reset). */
  function linkRoutes(app: Hono<AppEnv>, path: string, purpose: AccountTokenPurpose) {
    const page = async (c: Context<AppEnv>, csrf: string, error?: { message: string; fields?: { path: string; problem: string }[] | undefined }) => {
      const token = c.req.param('token') ?? '';
      try {
        const person = await account.describeLink(token, purpose);
        return c.html(
          <SetPasswordPage
            purpose={purpose}
            action={`${path}${token}`}
            csrf={csrf}
            person={person}
            minLength={ACCOUNT_RULES.passwordMin}
            {...(error ? { error } : {})}
          />,
        );
      } catch (err) {
        return failed(c, err, (message) => c.html(<LinkInvalidPage message={message} purpose={purpose} />));
      }
    };
    app.get(`${path}:token`, (c) => page(c, presessionCsrf(c, deps.secure(c))));
    app.post(`${path}:token`, deps.signInLimit, async (c) => {
      const csrf = getCookie(c, PRESESSION_CSRF_COOKIE) ?? '';
      // The token first: a forged post learns nothing, not even which fields are wrong.
      if (!presessionCsrfMatches(c, sentCsrf(await readForm(c)))) {
        // 403 whatever the link's state: a forged post is refused as such, before the link is looked at.
        const answer = await page(c, csrf, { message: 'The form expired; please enter your new password again.' });
        return new Response(answer.body, { status: 403, headers: answer.headers });
      }
      try {
        const body = await form(c, SetPasswordForm);
        const started = await account.setPasswordWithLink({
          token: c.req.param('token') ?? '',
          purpose,
          password: body.password,
          confirm: body.confirm,
          address: deps.addressOf(c),
        });
        setSessionCookie(c, started.token, deps.secure(c));
        return afterSignIn(c, started, '/');
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        c.status(err.status);
        return page(c, csrf, { message: err.message, fields: err.fields });
      }
    });
  }

  const routes = new Hono<AppEnv>();
  routes
    .get('/sign-in', (c) => {
      // Double-submit token: the sign-in form is posted before any session exists.
      const csrf = presessionCsrf(c, deps.secure(c));
      const info = SIGN_IN_REASONS[c.req.query('why') ?? ''];
      return c.html(<SignInPage csrf={csrf} next={safeNext(c.req.query('next'))} sso={deps.ssoEnabled} {...(info ? { info } : {})} />);
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
        return afterSignIn(c, started, next);
      } catch (error) {
        if (error instanceof OrganizationChoiceNeeded)
          return again('Choose the organization to sign in to, and enter your password again.', error.organizations);
        return failed(c, error, again);
      }
    })
    .get('/sign-in/totp', access.requireSession(['needs_totp']), async (c) => c.html(<TotpPage csrf={await csrfOf(c)} next={safeNext(c.req.query('next'))} />))
    .post('/sign-in/totp', deps.signInLimit, access.requireSession(['needs_totp']), async (c) => {
      const csrf = await csrfOf(c);
      let next = '/';
      try {
        const body = await form(c, CodeForm);
        next = safeNext(body.next);
        await auth.verifyTotp(c.get('user').sessionId, body.code, deps.addressOf(c));
        return c.redirect(next, 303);
      } catch (error) {
        return failed(c, error, (message) => c.html(<TotpPage csrf={csrf} next={next} error={message} />));
      }
    })
    .get('/sign-in/forgot', (c) => c.html(<ForgotPasswordPage csrf={presessionCsrf(c, deps.secure(c))} />))
    .post('/sign-in/forgot', deps.signInLimit, async (c) => {
      const csrf = getCookie(c, PRESESSION_CSRF_COOKIE) ?? '';
      if (!presessionCsrfMatches(c, sentCsrf(await readForm(c)))) {
        c.status(403);
        return c.html(<ForgotPasswordPage csrf={csrf} error="The form expired; please enter your email again." />);
      }
      const body = await form(c, ForgotForm);
      // The same answer, at once, whether or not anyone has this email.
      account.requestReset(body.email, deps.addressOf(c));
      return c.html(<ForgotPasswordPage csrf={csrf} sent email={body.email} />);
    })
    .get('/sign-out', access.requireSession(allStages), async (c) => c.html(<SignOutPage user={c.get('user')} csrf={await csrfOf(c)} />))
    .post('/sign-out', access.requireSession(allStages), async (c) => {
      await auth.signOut(c.get('user').sessionId);
      clearSessionCookie(c, deps.secure(c));
      return c.redirect('/sign-in?why=signed_out', 303);
    })
    .post('/sign-out/everywhere', access.requireSession(allStages), async (c) => {
      await account.signOutEverywhere(c.get('user'));
      clearSessionCookie(c, deps.secure(c));
      return c.redirect('/sign-in?why=everywhere', 303);
    })
    .get('/account/security', enrolling, (c) => securityPage(c, c.req.query('enrolled') ? { info: 'Two-factor authentication is set up.' } : {}))
    .post('/account/security/totp', enrolling, async (c) => securityPage(c, { enrollment: await auth.beginTotpEnrollment(c.get('user').sessionId) }))
    .post('/account/security/totp/confirm', enrolling, async (c) => {
      try {
        const { code } = await form(c, CodeForm);
        const { recoveryCodes } = await auth.confirmTotpEnrollment(c.get('user').sessionId, code);
        // Shown in this answer only: a redirect would have to keep them somewhere.
        return securityPage(c, { recoveryCodes, info: 'Two-factor authentication is set up.' });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        c.status(error.status);
        return securityPage(c, { error: `${error.message}. Check the time on your phone and enter the code the app shows now.` });
      }
    })
    .post('/account/security/recovery-codes', access.requireUser(), async (c) => {
      try {
        const recoveryCodes = await auth.regenerateRecoveryCodes(c.get('user').sessionId);
        return securityPage(c, { recoveryCodes, info: 'New recovery codes are ready; the earlier ones no longer work.' });
      } catch (error) {
        return failed(c, error, (message) => securityPage(c, { error: message }));
      }
    });
  linkRoutes(routes, '/sign-in/invitation/', 'invitation');
  linkRoutes(routes, '/sign-in/reset/', 'password_reset');
  return routes;
}
