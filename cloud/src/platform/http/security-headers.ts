import type { Context, MiddlewareHandler } from 'hono';
import { isSecure } from './secure';

/**
 * Pages load scripts, styles and data from this server only; nothing inline runs or applies, no
 * plugin, frame or foreign form target. `img-src data:` allows an image a page builds in the browser.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Paths whose pages and answers carry personal data (or a session's CSRF token): never kept by a
 * browser or a shared cache, whatever the handler set.
 */
const PERSONAL = [/^\/api\//, /^\/v1\//, /^\/me\//, /^\/reports/, /^\/admin/, /^\/audit/, /^\/account/, /^\/sign-in/, /^\/sign-out/, /^\/sso\//];

/**
 * A year, without includeSubDomains or preload: the operator's other hosts under the same
 * domain are not ours to force onto TLS.
 */
export const HSTS = 'max-age=31536000';

export interface SecurityHeaderOptions {
  publicUrl: () => string;
  trustProxy: boolean;
  /** The cloud terminates TLS itself (TLS_CERT and TLS_KEY set). */
  servesTls: boolean;
}

const isHtml = (c: Context) => (c.res.headers.get('content-type') ?? '').startsWith('text/html');

/** Headers every response of the cloud carries, set after the handler (and the error handler) ran. */
export function securityHeaders(options: SecurityHeaderOptions): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'no-referrer');
    if (isHtml(c)) c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    const path = c.req.path;
    // Assets set their own long cache; anything else that said nothing is not stored either.
    if (PERSONAL.some((p) => p.test(path)) || !c.res.headers.has('cache-control')) c.header('Cache-Control', 'no-store');
    if (isSecure(c, options.publicUrl(), options.trustProxy, options.servesTls)) c.header('Strict-Transport-Security', HSTS);
  };
}
