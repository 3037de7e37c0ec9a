/**
 * The account lifecycle and the homes in Chromium: a newcomer admin sets up TOTP by its QR code
 * (a wrong code keeps the secret), keeps recovery codes and signs in with one; an invited
 * employee sets a password from the mail and lands on their week; a forgotten password is
 * reset by mail; a session that ends mid-report comes back to the same filters; unknown pages
 * are HTML in the shell. Real cloud, real SMTP server, axe-core on every page.
 */
import { sql } from 'drizzle-orm';
import { URI } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, axeViolations } from '../helpers/browser';
import { totpCode } from '../../cloud/src/modules/identity/totp';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { makeTestOrg, PASSWORD, type TestOrg } from '../../cloud/test/support/people';
import { startSmtpServer, waitFor } from '../../cloud/test/support/servers';

const NEW_PASSWORD = 'four unrelated words here';

describe('accounts and homes in Chromium', () => {
  let cloud: TestCloud;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let browser: Browser;
  let org: TestOrg;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    cloud = await startTestCloud('pglite', { SMTP_URL: smtp.url, NOTIFY_POLL_MS: '50' });
    org = await makeTestOrg(cloud, 'web-account');
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await cloud?.stopAll();
    await smtp?.close();
  });

  async function newPage(width = 1280) {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    const refused: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) refused.push(m.text());
    });
    return { page, refused };
  }
  const linkIn = (raw: string, kind: 'invitation' | 'reset') => new RegExp(`https?://[^\\s"<>]+/sign-in/${kind}/[A-Za-z0-9_-]{43}`).exec(raw)?.[0] ?? '';
  const expectAccessible = async (page: Page, what: string) => expect(await axeViolations(page), what).toEqual([]);

  async function signIn(page: Page, email: string, password: string) {
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
  }

  it('a newcomer admin sets up TOTP by QR code, a wrong code keeps the secret, recovery codes are shown once and sign in', async () => {
    const { directory } = cloud.cloud.services;
    await directory.createUser({ orgId: org.orgId, email: 'newcomer@web-account.example', name: 'Nia Newcomer', role: 'admin', password: PASSWORD });
    const { page, refused } = await newPage();
    await page.goto(`${cloud.url}/`);
    await page.waitForURL(/\/sign-in$/);
    await expectAccessible(page, 'sign-in');
    await signIn(page, 'newcomer@web-account.example', PASSWORD);
    await page.waitForURL(/\/account\/security$/);
    await page.click('text=Set up authenticator');
    await page.waitForSelector('.qr svg');
    const uri = (await page.textContent('code.uri')) ?? '';
    const totp = URI.parse(uri);
    if (!('period' in totp)) throw new Error('not a TOTP URI');
    const secret = totp.secret.base32;
    expect(await page.textContent('code.secret')).toBe(secret);
    await expectAccessible(page, 'TOTP set-up');

    await page.fill('#code', '000000');
    await page.click('text=Confirm');
    await page.waitForSelector('.notice.error');
    expect(await page.textContent('code.secret'), 'the scanned secret survives a wrong code').toBe(secret);

    await page.fill('#code', totp.generate());
    await page.click('text=Confirm');
    await page.waitForSelector('ol.codes');
    const codes = await page.locator('ol.codes code').allTextContents();
    expect(codes).toHaveLength(10);
    await expectAccessible(page, 'recovery codes');
    await page.goto(`${cloud.url}/account/security`);
    expect(await page.locator('ol.codes').count(), 'shown once').toBe(0);

    await page.goto(`${cloud.url}/`);
    await page.waitForSelector('h1:text("Your organisation")');
    await expectAccessible(page, 'admin home');

    // Sign out from the header, then in again with a recovery code instead of the authenticator.
    await page.click('header >> text=Sign out');
    await page.waitForURL(/\/sign-out$/);
    await expectAccessible(page, 'sign-out');
    await page.click('main button:text-is("Sign out")');
    await page.waitForURL(/\/sign-in\?why=signed_out$/);
    await signIn(page, 'newcomer@web-account.example', PASSWORD);
    await page.waitForURL(/\/sign-in\/totp$/);
    await expectAccessible(page, 'code step');
    await page.click('text=Lost your authenticator? Use a recovery code');
    await page.fill('#recovery', codes[0] ?? '');
    await page.click('text=Use recovery code');
    await page.waitForSelector('h1:text("Your organisation")');
    // The admin's header, the longest navigation, at phone width: two short rows (it took 171 px before).
    await page.setViewportSize({ width: 390, height: 844 });
    const header = await page.locator('header.top').boundingBox();
    process.stdout.write(`admin header at 390 px: ${header?.height ?? 0} px\n`);
    expect(header?.height ?? 999).toBeLessThanOrEqual(90);
    await expectAccessible(page, 'admin home at 390 px');
    expect(refused).toEqual([]);
  }, 120_000);

  it('an invited employee opens the mail, sets a password and lands on their week with a link to My data', async () => {
    await cloud.cloud.services.directory.createUser({
      orgId: org.orgId,
      email: 'invitee@web-account.example',
      name: 'Ivo Invitee',
      role: 'employee',
      teamId: org.teamId,
    });
    const admin = await newPage();
    await admin.page.goto(`${cloud.url}/sign-in`);
    await signIn(admin.page, org.people.admin.email, PASSWORD);
    await admin.page.waitForURL(/\/sign-in\/totp$/);
    await cloud.database.rows(sql`update users set totp_last_step = null where id = ${org.people.admin.id}`);
    await admin.page.fill('#code', totpCode(org.adminTotpSecret, Date.now()));
    await admin.page.click('text=Verify');
    await admin.page.waitForSelector('text=Ivo Invitee');
    await admin.page.click('text=Invite them by email');
    await admin.page.waitForSelector('text=sent.');

    const mail = await waitFor(() => smtp.mails.find((m) => m.to.includes('invitee@web-account.example')));
    const { page, refused } = await newPage();
    await page.goto(linkIn(mail.raw, 'invitation'));
    await expectAccessible(page, 'set password');
    await page.fill('#password', NEW_PASSWORD);
    await page.fill('#confirm', NEW_PASSWORD);
    await page.click('text=Set password and sign in');
    await page.waitForSelector('h2:text("Your week")');
    expect(await page.locator('main a[href="/me/data"]').count()).toBeGreaterThan(0);
    expect(await page.locator('header a[href="/me/data"]').count()).toBe(1);
    await expectAccessible(page, 'employee home');
    await page.goto(`${cloud.url}/account`);
    await expectAccessible(page, 'account');
    expect(refused).toEqual([]);
  }, 120_000);

  it('resets a forgotten password by mail', async () => {
    const { page } = await newPage();
    await page.goto(`${cloud.url}/sign-in`);
    await page.click('text=Forgot your password?');
    await expectAccessible(page, 'forgot password');
    await page.fill('#email', org.people.teammate.email);
    await page.click('text=Send the link');
    await page.waitForSelector('text=a link to set a new password is on its way');
    const mail = await waitFor(() => smtp.mails.find((m) => m.to.includes(org.people.teammate.email) && /new Icarus Nova password/.test(m.subject)));
    await page.goto(linkIn(mail.raw, 'reset'));
    await page.fill('#password', NEW_PASSWORD);
    await page.fill('#confirm', NEW_PASSWORD);
    await page.click('text=Set new password');
    await page.waitForSelector('h2:text("Your week")');
  }, 120_000);

  it('a session that ends mid-report signs in again and comes back with the filters', async () => {
    const { page } = await newPage();
    const report = `/reports/team?teamId=${org.teamId}&from=2026-11-02&to=2026-11-15`;
    await page.goto(`${cloud.url}${report}`);
    await signIn(page, org.people.manager.email, PASSWORD);
    await page.waitForURL((u) => `${u.pathname}${u.search}` === report);
    // The report's data asked for and shown first: ended while that request is out, the page's
    // own script goes to sign-in (the next test), and would race the reload here.
    await page.waitForLoadState('networkidle');
    await cloud.cloud.services.auth.signOutEverywhere(org.people.manager.id);
    await page.reload();
    await page.waitForSelector('text=Your session ended. Sign in again to go back to where you were.');
    await expectAccessible(page, 'sign-in after expiry');
    await signIn(page, org.people.manager.email, PASSWORD);
    await page.waitForURL((u) => `${u.pathname}${u.search}` === report);
  }, 120_000);

  it("a session that ends while a report is loading goes to sign-in from the page's script and comes back with the filters", async () => {
    const { page, refused } = await newPage();
    const report = `/reports/team?teamId=${org.teamId}&from=2026-10-05&to=2026-10-18`;
    await page.goto(`${cloud.url}/sign-in`);
    await signIn(page, org.people.manager.email, PASSWORD);
    await page.waitForSelector('h1');
    // The page itself is served to a live session; its data is asked for after the session ended.
    const held: (() => void)[] = [];
    const seen = new Promise<void>((resolve) => {
      void page.route('**/api/reports/**', async (route) => {
        resolve();
        await new Promise<void>((go) => held.push(go));
        await route.continue();
      });
    });
    await page.goto(`${cloud.url}${report}`);
    await seen;
    await cloud.cloud.services.auth.signOutEverywhere(org.people.manager.id);
    for (const go of held) go();
    await page.waitForURL(/\/sign-in\?/);
    expect(await page.locator('.notice.error').count(), 'no error notice on the way').toBe(0);
    await page.waitForSelector('text=Your session ended. Sign in again to go back to where you were.');
    await page.unroute('**/api/reports/**');
    await signIn(page, org.people.manager.email, PASSWORD);
    await page.waitForURL((u) => `${u.pathname}${u.search}` === report);
    expect(refused.filter((m) => !/401/.test(m))).toEqual([]);
  }, 120_000);

  it('answers an unknown page with an HTML 404 in the shell, /api with JSON; the header is compact at 390 px', async () => {
    const { page } = await newPage(390);
    await page.goto(`${cloud.url}/sign-in`);
    await signIn(page, org.people.employee.email, PASSWORD);
    await page.waitForSelector('h2:text("Your week")');
    const header = await page.locator('header.top').boundingBox();
    process.stdout.write(`employee header at 390 px: ${header?.height ?? 0} px\n`);
    expect(header?.height ?? 999).toBeLessThanOrEqual(90);
    await expectAccessible(page, 'employee home at 390 px');

    const missing = await page.goto(`${cloud.url}/no/such/page`);
    expect(missing?.status()).toBe(404);
    expect(missing?.headers()['content-type']).toMatch(/^text\/html/);
    await page.waitForSelector('h1:text("Page not found")');
    expect(await page.locator('header.top nav.main').count()).toBe(1);
    await expectAccessible(page, '404 page');
    const api = await page.goto(`${cloud.url}/api/no-such-thing`);
    expect(api?.headers()['content-type']).toMatch(/^application\/json/);
    expect(((await api?.json()) as { error: { code: string } }).error.code).toBe('not_found');
  }, 120_000);
});
