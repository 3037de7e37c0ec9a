import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { SESSION_RULES } from './auth';

export const SESSION_COOKIE = 'icarus_session';
/** Double-submit token for forms shown before a session exists (the sign-in form). */
export const PRESESSION_CSRF_COOKIE = 'icarus_csrf';

/**
 * The one rule for "is this request secure" (cookies' Secure flag, and anything keyed on it):
 * the cloud terminates TLS itself, or its public address is https, or the request came over
 * TLS, or a trusted proxy says the client used https.
 */
export function isSecure(c: Context, publicUrl: string, trustProxy: boolean, servesTls: boolean): boolean {
  // A TLS-terminating cloud has no plain-HTTP listener, whatever the request line says.
  if (servesTls) return true;
  if (publicUrl.startsWith('https:')) return true;
  if (new URL(c.req.url).protocol === 'https:') return true;
  return trustProxy && c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
}

export function setSessionCookie(c: Context, token: string, secure: boolean) {
  // Max-Age is the hard cap; the server-side expiry slides inside it.
  setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Lax', secure, path: '/', maxAge: SESSION_RULES.absoluteMs / 1000 });
}

export function clearSessionCookie(c: Context, secure: boolean) {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure, httpOnly: true, sameSite: 'Lax' });
}

export const sessionToken = (c: Context) => getCookie(c, SESSION_COOKIE);
