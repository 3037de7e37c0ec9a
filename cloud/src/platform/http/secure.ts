import type { Context } from 'hono';

/** Whether this request came over TLS: the server's public address is https, or the request (or a trusted proxy) says so. */
export function isSecure(c: Context, publicUrl: string, trustProxy: boolean): boolean {
  if (publicUrl.startsWith('https:')) return true;
  if (new URL(c.req.url).protocol === 'https:') return true;
  return trustProxy && c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
}
