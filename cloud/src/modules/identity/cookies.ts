import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { SESSION_RULES } from './auth';

export const SESSION_COOKIE = 'icarus_session';
/** Double-submit token for forms shown before a session exists (the sign-in form). */
export const PRESESSION_CSRF_COOKIE = 'icarus_csrf';

/** Cookies are Secure on the same test as the HSTS header: one definition of "came over TLS". */
export { isSecure } from '../../platform/http/secure';

export function setSessionCookie(c: Context, token: string, secure: boolean) {
  // Max-Age is the hard cap; the server-side expiry slides inside it.
  setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Lax', secure, path: '/', maxAge: SESSION_RULES.absoluteMs / 1000 });
}

export function clearSessionCookie(c: Context, secure: boolean) {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure, httpOnly: true, sameSite: 'Lax' });
}

export const sessionToken = (c: Context) => getCookie(c, SESSION_COOKIE);
