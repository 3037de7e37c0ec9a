import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import Provider from 'oidc-provider';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type CloudApp } from '../../app';
import { parseConfig } from '../../platform/config';
import { openDatabase, type Database } from '../../platform/db/client';
import { loadSecrets } from '../../platform/secrets';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../../../test/support/database';
import { CookieClient, makeTestOrg, type TestOrg } from '../../../test/support/people';

/**
 * Single sign-on end to end: a real oidc-provider on a loopback port, the cloud on
 * another, and a cookie-keeping client that clicks through the provider's login and
 * consent forms the way a browser would.
 */
describe.each(testDatabaseKinds())('OIDC single sign-on on %s', (kind) => {
  let testDb: TestDatabase;
  let database: Database;
  let provider: Server;
  let cloudServer: ServerType;
  let cloud: CloudApp;
  let cloudUrl = '';
  let providerUrl = '';
  let org: TestOrg;

  const listen = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  async function freePort(): Promise<number> {
    const probe = createServer();
    const port = await listen(probe);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return port;
  }

  beforeAll(async () => {
    testDb = await createTestDatabase(kind);
    const port = await freePort();
    cloudUrl = `http://127.0.0.1:${port}`;

    // The provider must know the cloud's callback, the cloud the provider's issuer: ports first.
    let providerCallback: ReturnType<Provider['callback']> | undefined;
    provider = createServer((req, res) => (providerCallback ? providerCallback(req, res) : res.end()));
    providerUrl = `http://127.0.0.1:${await listen(provider)}`;
    const oidc = new Provider(providerUrl, {
      clients: [
        {
          client_id: 'icarus-nova',
          client_secret: 'a-test-client-secret',
          redirect_uris: [`${cloudUrl}/sso/oidc/callback`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
      // devInteractions take any login as the account id: the test logs in with an email.
      // Logins starting "unverified" get an account whose provider never vouched for the address.
      findAccount: (_ctx, id) => ({
        accountId: id,
        claims: () => (id.startsWith('unverified') ? { sub: id, email: id } : { sub: id, email: id, email_verified: true }),
      }),
      claims: { openid: ['sub'], email: ['email', 'email_verified'] },
      cookies: { keys: ['oidc-test-cookie-key'] },
      features: { devInteractions: { enabled: true } },
    });
    providerCallback = oidc.callback();

    const base = parseConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: ':memory:',
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      PUBLIC_URL: cloudUrl,
      ...(testDb.databaseUrl ? { DATABASE_URL: testDb.databaseUrl } : {}),
    });
    database = await openDatabase({ databaseUrl: base.DATABASE_URL, dataDir: base.DATA_DIR });
    const deps = { database, secrets: loadSecrets(base), logger: pino({ level: 'silent' }) };
    // The org must exist before its id can be configured as the SSO org.
    org = await makeTestOrg({ cloud: createApp({ ...deps, config: base }), database }, 'sso');
    const config = { ...base, OIDC_ISSUER: providerUrl, OIDC_CLIENT_ID: 'icarus-nova', OIDC_CLIENT_SECRET: 'a-test-client-secret', OIDC_ORG_ID: org.orgId };
    cloud = createApp({ ...deps, config });
    cloudServer = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: cloud.app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s));
    });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (cloudServer ? cloudServer.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (provider ? provider.close(() => resolve()) : resolve()));
    provider?.closeAllConnections();
    await database?.close();
    await testDb?.drop();
  });

  /** Starts SSO on the cloud and fills in the provider's login and consent forms. */
  async function signInThroughProvider(browser: CookieClient, login: string) {
    let { response, url } = await browser.follow(`${cloudUrl}/sso/oidc/start`);
    for (let i = 0; i < 4 && url.startsWith(providerUrl) && response.status === 200; i++) {
      const html = await response.text();
      const action = html.match(/action="([^"]+)"/)?.[1];
      const prompt = html.match(/name="prompt" value="(\w+)"/)?.[1];
      if (!action || !prompt) throw new Error(`no form on ${url}: ${html.slice(0, 200)}`);
      const fields: Record<string, string> = prompt === 'login' ? { prompt, login, password: 'anything' } : { prompt };
      ({ response, url } = await browser.follow(new URL(action, url).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      }));
    }
    return { response, url };
  }

  describe('OIDC single sign-on', () => {
    it('sends the browser to the provider with PKCE (S256), state and nonce', async () => {
      const browser = new CookieClient();
      const start = await browser.fetch(`${cloudUrl}/sso/oidc/start`);
      expect(start.status).toBe(302);
      const location = new URL(start.headers.get('location') ?? '');
      expect(location.origin).toBe(providerUrl);
      expect(location.searchParams.get('code_challenge_method')).toBe('S256');
      expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(location.searchParams.get('state')).toBeTruthy();
      expect(location.searchParams.get('nonce')).toBeTruthy();
      expect(location.searchParams.get('redirect_uri')).toBe(`${cloudUrl}/sso/oidc/callback`);
    });

    it('signs a directory person in, matching the email case-insensitively', async () => {
      const browser = new CookieClient();
      const { url } = await signInThroughProvider(browser, org.people.manager.email.toUpperCase());
      expect(url).toBe(`${cloudUrl}/`);
      expect(browser.cookie(cloudUrl, 'icarus_session')).toBeTruthy();
      const me = await browser.fetch(`${cloudUrl}/api/me`);
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ user: { email: org.people.manager.email, role: 'manager', orgId: org.orgId }, stage: 'active' });
    });

    it('matches the person of the SSO org when another org has the same email', async () => {
      const { directory } = cloud.services;
      const other = await directory.createOrg({ name: 'Elsewhere', timeZone: 'UTC' });
      await directory.createUser({ orgId: other.id, email: 'twin@sso.test', name: 'Twin Elsewhere', role: 'admin' });
      await directory.createUser({ orgId: org.orgId, email: 'twin@sso.test', name: 'Twin Here', role: 'employee' });
      const browser = new CookieClient();
      const { url } = await signInThroughProvider(browser, 'twin@sso.test');
      expect(url).toBe(`${cloudUrl}/`);
      const me = await browser.fetch(`${cloudUrl}/api/me`);
      expect(await me.json()).toMatchObject({ user: { orgId: org.orgId, name: 'Twin Here', role: 'employee' } });
    });

    it('an admin coming through SSO still gives the TOTP code', async () => {
      const browser = new CookieClient();
      const { url } = await signInThroughProvider(browser, org.people.admin.email);
      expect(url).toBe(`${cloudUrl}/sign-in/totp`);
      expect((await browser.fetch(`${cloudUrl}/api/audit/verify`)).status).toBe(401);
    });

    it('refuses an email that is not in the directory with a clear page and no session', async () => {
      const browser = new CookieClient();
      const { response, url } = await signInThroughProvider(browser, 'stranger@nowhere.example');
      expect(url.startsWith(`${cloudUrl}/sso/oidc/callback`)).toBe(true);
      expect(response.status).toBe(403);
      const html = await response.text();
      expect(html).toContain('stranger@nowhere.example');
      expect(html).toMatch(/directory/);
      expect(browser.cookie(cloudUrl, 'icarus_session')).toBeUndefined();
    });

    it('refuses an email the provider does not say is verified, even when the directory has it', async () => {
      const email = 'unverified.person@sso.test';
      await cloud.services.directory.createUser({ orgId: org.orgId, email, name: 'Una Verified', role: 'employee' });
      const browser = new CookieClient();
      const { response, url } = await signInThroughProvider(browser, email);
      expect(url.startsWith(`${cloudUrl}/sso/oidc/callback`)).toBe(true);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('not verified');
      expect(browser.cookie(cloudUrl, 'icarus_session')).toBeUndefined();
    });

    it('refuses a callback that did not start here (no state cookie)', async () => {
      const browser = new CookieClient();
      const response = await browser.fetch(`${cloudUrl}/sso/oidc/callback?code=forged&state=forged`);
      expect(response.status).toBe(400);
      expect(browser.cookie(cloudUrl, 'icarus_session')).toBeUndefined();
    });
  });
});
