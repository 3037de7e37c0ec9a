import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { makeTestOrg, PASSWORD, type TestOrg } from '../../../test/support/people';
import { createApp } from '../../app';
import { loadSecrets } from '../secrets';
import { CONTENT_SECURITY_POLICY, HSTS } from './security-headers';

const STRICT_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

describe.each(testDatabaseKinds())('security headers on %s', (kind) => {
  let cloud: TestCloud;
  let org: TestOrg;
  let manager: Record<string, string>;
  /** Another build of the real app over the same database, with a different edge configuration. */
  const appWith = (config: Partial<TestCloud['config']>) =>
    createApp({ config: { ...cloud.config, ...config }, database: cloud.database, secrets: loadSecrets(cloud.config), logger: pino({ level: 'silent' }) }).app;

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    org = await makeTestOrg(cloud, `headers-${kind}`);
    const started = await cloud.cloud.services.auth.signInWithPassword({ email: org.people.manager.email, password: PASSWORD });
    manager = { cookie: `icarus_session=${started.token}` };
  }, 120_000);
  afterAll(async () => {
    await cloud?.stopAll();
  });

  it('gives every page the strict CSP, no framing, no sniffing, no referrer and no caching', async () => {
    expect(CONTENT_SECURITY_POLICY).toBe(STRICT_CSP);
    for (const path of ['/sign-in', '/reports/team', '/me/data', '/account/security']) {
      const res = await cloud.fetchPath(path, { headers: path === '/sign-in' ? {} : manager });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy'), path).toBe(STRICT_CSP);
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('cache-control'), path).toBe('no-store');
      expect(res.headers.get('strict-transport-security'), path).toBeNull();
    }
  });

  it('keeps every answer under the personal-data paths out of caches, refusals and redirects included', async () => {
    const answers: [string, Record<string, string>, number][] = [
      ['/api/me', manager, 200],
      ['/api/me', {}, 401],
      ['/v1/policy', {}, 401],
      ['/me/data', {}, 303],
      ['/reports/org', manager, 403],
      ['/admin/policies', manager, 403],
      ['/audit', manager, 403],
      ['/account/security', {}, 303],
      ['/api/reports/export.csv?level=person&from=2026-01-01&to=2026-01-07', manager, 403],
    ];
    for (const [path, headers, status] of answers) {
      const res = await cloud.fetchPath(path, { headers, redirect: 'manual' });
      expect(res.status, path).toBe(status);
      expect(res.headers.get('cache-control'), path).toBe('no-store');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
    }
    const missing = await cloud.fetchPath('/no/such/page');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves the stylesheet a page links under its content hash with a year-long cache', async () => {
    const html = await (await cloud.fetchPath('/sign-in')).text();
    const href = /<link rel="stylesheet" href="(\/assets\/app\.([0-9a-f]{12})\.css)"/.exec(html);
    expect(href).not.toBeNull();
    const [, url = '', hash = ''] = href ?? [];
    const file = readFileSync(new URL('../../ui/assets/app.css', import.meta.url));
    expect(hash).toBe(createHash('sha256').update(file).digest('hex').slice(0, 12));
    const res = await cloud.fetchPath(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await res.arrayBuffer()).equals(file)).toBe(true);
    // The bare name is revalidated by its ETag; a stale hash names nothing.
    const bare = await cloud.fetchPath('/assets/app.css');
    expect(bare.headers.get('cache-control')).toBe('public, no-cache');
    const etag = bare.headers.get('etag') ?? '';
    expect((await cloud.fetchPath('/assets/app.css', { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await cloud.fetchPath('/assets/app.000000000000.css')).status).toBe(404);
  });

  it('asks for HTTPS only over HTTPS: a https public address, or a trusted proxy saying so', async () => {
    const viaProxy = { 'x-forwarded-proto': 'https' };
    const untrusted = await appWith({ TRUST_PROXY: false }).request('/sign-in', { headers: viaProxy });
    expect(untrusted.headers.get('strict-transport-security')).toBeNull();
    const trusting = appWith({ TRUST_PROXY: true });
    expect((await trusting.request('/sign-in', { headers: viaProxy })).headers.get('strict-transport-security')).toBe(HSTS);
    expect((await trusting.request('/api/me', { headers: viaProxy })).headers.get('strict-transport-security')).toBe(HSTS);
    expect((await trusting.request('/sign-in', { headers: { 'x-forwarded-proto': 'http' } })).headers.get('strict-transport-security')).toBeNull();
    const published = appWith({ PUBLIC_URL: 'https://icarus.example' });
    expect((await published.request('/healthz')).headers.get('strict-transport-security')).toBe('max-age=31536000');
  });
});
