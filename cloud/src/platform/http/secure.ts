import type { Context } from 'hono';

/**
 * The one rule for "did this request come over TLS" (the session cookie's Secure flag, HSTS):
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
