/**
 * Every cloud page renders under the strict Content-Security-Policy: no inline style or script,
 * nothing the browser refuses. Real cloud, real PGlite, real Chromium.
 */
import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MANAGER_EMAIL, DEMO_MANAGER_PASSWORD, seedDemo } from '../../cloud/scripts/seed-demo';
import { newTotpSecret, totpCode } from '../../cloud/src/modules/identity/totp';
import { CONTENT_SECURITY_POLICY } from '../../cloud/src/platform/http/security-headers';
import { loadSecrets } from '../../cloud/src/platform/secrets';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { testDatabaseKinds } from '../../cloud/test/support/database';

const PASSWORD = 'correct horse battery staple';

type Who = 'nobody' | 'half-signed-in admin' | 'admin' | 'manager' | 'auditor' | 'employee';

describe.each(testDatabaseKinds())('cloud pages under the strict CSP in Chromium on %s', (kind) => {
  let cloud: TestCloud;
  let browser: Browser;
  const sessions = new Map<Who, string>();

  beforeAll(async () => {
    cloud = await startTestCloud(kind);
    await seedDemo(cloud.cloud, cloud.database, loadSecrets(cloud.config), { employees: 12, teams: 2, days: 14, spansPerDay: 6 });
    browser = await launchChromium();
    const { auth, directory } = cloud.cloud.services;
    const orgId = cloud.bootstrap.orgId;
    await directory.createUser({ orgId, email: 'auditor@csp.example', name: 'Avery Auditor', role: 'auditor', password: PASSWORD });
    await directory.createUser({ orgId, email: 'employee@csp.example', name: 'Emil Employee', role: 'employee', password: PASSWORD });
    const admin = await directory.createUser({ orgId, email: 'admin@csp.example', name: 'Ada Admin', role: 'admin', password: PASSWORD });
    const totp = newTotpSecret();
    await auth.storeTotpSecret(admin.id, totp);
    const signIn = async (email: string, password: string) => auth.signInWithPassword({ email, password });
    sessions.set('half-signed-in admin', (await signIn('admin@csp.example', PASSWORD)).token);
    const full = await signIn('admin@csp.example', PASSWORD);
    await auth.verifyTotp(full.session.id, totpCode(totp, Date.now()));
    sessions.set('admin', full.token);
    sessions.set('manager', (await signIn(DEMO_MANAGER_EMAIL, DEMO_MANAGER_PASSWORD)).token);
    sessions.set('auditor', (await signIn('auditor@csp.example', PASSWORD)).token);
    sessions.set('employee', (await signIn('employee@csp.example', PASSWORD)).token);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await cloud?.stopAll();
  });

  /** Opens a page as someone, waits for what its scripts draw, and returns what the browser refused. */
  async function visit(who: Who, path: string, drawn?: string) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const token = sessions.get(who);
    if (token) await context.addCookies([{ name: 'icarus_session', value: token, url: cloud.url }]);
    const page: Page = await context.newPage();
    const refused: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) refused.push(`console: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => refused.push(`script error: ${e.message}`));
    // Runs through DevTools, outside the page's CSP, before any of the page's own code.
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
      });
    });
    const response = await page.goto(`${cloud.url}${path}`);
    expect(response?.status(), path).toBe(path.startsWith('/no/') ? 404 : 200);
    expect(response?.headers()['content-security-policy'], path).toBe(CONTENT_SECURITY_POLICY);
    const html = (await response?.text()) ?? '';
    if (drawn) await page.waitForSelector(drawn, { timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    await context.close();
    return { refused, html };
  }

  it('renders every page with nothing refused and nothing inline', async () => {
    // A reset link to open, and a TOTP set-up in progress, so the QR code is on the security page.
    const links: string[] = [];
    cloud.cloud.services.account.onMail(async (mail) => {
      links.push(mail.link);
    });
    cloud.cloud.services.account.requestReset('employee@csp.example', '192.0.2.9');
    await cloud.cloud.services.account.settle();
    const resetToken = links[0]?.split('/').pop() ?? '';
    const manager = await cloud.cloud.services.auth.resolve(sessions.get('manager'));
    await cloud.cloud.services.auth.beginTotpEnrollment(manager?.session.id ?? '');
    const [policy] = await cloud.database.rows<{ version: number }>(
      sql`select max(version)::int as version from policies where org_id = ${cloud.bootstrap.orgId} and state = 'published'`,
    );
    const [member] = await cloud.database.rows<{ id: string; team_id: string }>(sql`
      select u.id, u.team_id from users u join team_managers m on m.team_id = u.team_id join users me on me.id = m.user_id
      where me.email = ${DEMO_MANAGER_EMAIL} and u.role = 'employee' order by u.email limit 1`);
    const team = member?.team_id ?? '';
    const [device] = await cloud.database.rows<{ id: string }>(sql`select id::text from devices where org_id = ${cloud.bootstrap.orgId} limit 1`);
    const [entry] = await cloud.database.rows<{ seq: number }>(sql`select max(seq)::int as seq from audit_log where org_id = ${cloud.bootstrap.orgId}`);
    const pages: [Who, string, string?][] = [
      ['nobody', '/sign-in', 'form'],
      ['nobody', '/sign-in/forgot', 'form'],
      ['nobody', `/sign-in/reset/${resetToken}`, 'form'],
      ['half-signed-in admin', '/sign-in/totp', 'form'],
      ['manager', '/account/security', 'form'],
      ['manager', '/account', 'form'],
      ['manager', '/sign-out', 'form'],
      ['manager', '/', 'main'],
      ['admin', '/', 'main'],
      ['employee', '/', 'main'],
      ['auditor', '/', 'main'],
      ['manager', '/reports/team', '.uplot canvas'],
      ['manager', `/reports/team/apps?teamId=${team}`, 'table'],
      ['manager', `/reports/team/apps?teamId=${team}&category=Development&app=Code`, '.uplot canvas'],
      ['manager', `/reports/team/people?teamId=${team}`, '#people-report .notice'],
      ['manager', `/reports/person?userId=${member?.id ?? ''}&teamId=${team}`, 'table'],
      ['admin', '/reports/org', '.uplot canvas'],
      ['admin', '/admin/policies', 'table'],
      ['admin', `/admin/policies/${policy?.version ?? 1}`, 'table'],
      ['admin', '/admin/devices', 'table'],
      ['admin', `/admin/devices/${device?.id}`, 'dl'],
      ['admin', `/admin/devices/${device?.id}/revoke`, 'form'],
      ['admin', '/admin/enrollment-tokens', 'table'],
      ['admin', '/admin/people', 'table'],
      ['admin', '/admin/people/import', 'form'],
      ['admin', '/admin/teams', 'table'],
      ['admin', '/admin/categories', 'form'],
      ['admin', '/admin/webhooks', 'form'],
      ['admin', '/admin/provisioning', 'form'],
      ['auditor', '/audit', 'table'],
      ['auditor', `/audit/events/${entry?.seq}`, 'dl'],
      ['auditor', '/audit/verify', 'p'],
      ['auditor', '/audit/compliance', 'table'],
      ['employee', '/me/data', 'h2'],
      ['employee', '/me/data/erasure', 'form'],
      ['nobody', `/privacy/policy/${cloud.bootstrap.orgId}/${policy?.version ?? 1}`, 'table'],
      ['employee', '/no/such/page', 'main'],
      ['nobody', '/no/such/page', 'main'],
    ];
    for (const [who, path, drawn] of pages) {
      const { refused, html } = await visit(who, path, drawn);
      if (path === '/account/security') expect(html, 'the QR code is an SVG of our own').toContain('<svg');
      // The 404 page's own status is logged by the browser as a failed load; nothing else may be.
      const unexpected = path.startsWith('/no/') ? refused.filter((r) => !/status of 404/.test(r)) : refused;
      expect(unexpected, `${path} as ${who}`).toEqual([]);
      expect(html, path).not.toMatch(/<style[\s>]/i);
      expect(html, path).not.toMatch(/\sstyle=/i);
      expect(html, path).not.toMatch(/\son[a-z]+=/i);
      // A script element without src would be inline code; JSON data blocks are not executed.
      expect(html.match(/<script(?![^>]*\ssrc=)(?![^>]*type="application\/json")[^>]*>/gi) ?? [], path).toEqual([]);
    }
  }, 240_000);
});
