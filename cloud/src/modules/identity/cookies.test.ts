import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { isSecure } from './cookies';

/** Asks the rule about one request, the way the identity routes do. */
async function secureFor(url: string, rule: { publicUrl: string; trustProxy: boolean; servesTls: boolean }, headers: Record<string, string> = {}) {
  const app = new Hono().get('*', (c) => c.text(String(isSecure(c, rule.publicUrl, rule.trustProxy, rule.servesTls))));
  return (await (await app.request(url, { headers })).text()) === 'true';
}

describe('isSecure: the one rule for "this request is secure"', () => {
  const plain = { publicUrl: 'http://10.0.0.5:8787', trustProxy: false, servesTls: false };

  it('is secure when the cloud terminates TLS itself, whatever the request line and public address say', async () => {
    expect(await secureFor('http://10.0.0.5:8787/sign-in', { ...plain, servesTls: true })).toBe(true);
  });

  it('is not secure on a plain listener with an http public address', async () => {
    expect(await secureFor('http://10.0.0.5:8787/sign-in', plain)).toBe(false);
  });

  it('believes X-Forwarded-Proto only from a trusted proxy', async () => {
    expect(await secureFor('http://10.0.0.5:8787/', plain, { 'x-forwarded-proto': 'https' })).toBe(false);
    expect(await secureFor('http://10.0.0.5:8787/', { ...plain, trustProxy: true }, { 'x-forwarded-proto': 'https' })).toBe(true);
  });

  it('is secure when the public address is https', async () => {
    expect(await secureFor('http://10.0.0.5:8787/', { ...plain, publicUrl: 'https://icarus.example' })).toBe(true);
  });
});
