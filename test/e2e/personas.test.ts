/**
 * Each persona end to end in Chromium, on PostgreSQL with the 1,000-person demo seed: the newcomer
 * admin signs in and sets up TOTP by its QR code; an invited employee sets a password from the
 * mailed link and reads their own data; a manager finds what changed on the home page and drills
 * down team → category → app and team → person → day; the admin fixes a category and sees the
 * organisation report change; IT finds the one silent laptop among 1,000; an auditor filters the
 * log. Every page visited has no axe-core violation and fits a 390 px phone, and this walk takes
 * the screenshots in docs/screenshots/.
 *
 * PostgreSQL only (TEST_DATABASE_URL): seeding 1,000 people, their devices and consent takes
 * minutes on the single-connection PGlite, which every other browser suite covers with small orgs.
 */
import { mkdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { URI } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMPLOYEE_EMAIL, DEMO_MANAGER_EMAIL, DEMO_MANAGER_PASSWORD, DEMO_SIZE, seedDemo } from '../../cloud/scripts/seed-demo';
import { loadSecrets } from '../../cloud/src/platform/secrets';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { startSmtpServer, waitFor } from '../../cloud/test/support/servers';
import { launchChromium, axeViolations } from '../helpers/browser';

const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;
const PASSWORD = 'correct horse battery staple';
const NEWCOMER = 'newcomer@demo.icarus.local';
const AUDITOR = 'auditor@demo.icarus.local';
/** The imported person the newcomer invites (person0 has a demo password already). */
const INVITEE = 'person5@demo.icarus.local';

/**
 * What sticks out of a 390 px phone: the page's own width, and up to five elements reaching past
 * its right edge that are not inside a box that scrolls sideways (a wide table, the navigation).
 */
async function phoneOverflow(page: Page): Promise<{ width: number; wide: string[] }> {
  const before = page.viewportSize() ?? { width: 1280, height: 900 };
  await page.setViewportSize({ width: 390, height: 844 });
  // Two frames: what follows the width (the charts' resize observers) has redrawn.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const found = await page.evaluate(() => ({
    width: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    wide: [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > 391 && !e.closest('.table-wrap') && !e.closest('nav.main'))
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)} px`),
  }));
  await page.setViewportSize(before);
  return found;
}

describe.skipIf(!process.env['TEST_DATABASE_URL'])('personas on PostgreSQL with the 1,000-person demo', () => {
  let cloud: TestCloud;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let browser: Browser;
  let admin: Page;
  let manager: Page;
  const contexts: BrowserContext[] = [];
  /** What stuck out of a phone on the pages the personas opened, checked as each was opened. */
  const tooWide: string[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    cloud = await startTestCloud('postgres', { SMTP_URL: smtp.url, NOTIFY_POLL_MS: '50' });
    // The demo's 1,000 people in 60 teams with their laptops, over four weeks (the home's period and the one before).
    await seedDemo(cloud.cloud, cloud.database, loadSecrets(cloud.config), { ...DEMO_SIZE, days: 56, spansPerDay: 8 });
    // One laptop has not synced for three days, named like the 999 others.
    await cloud.database.rows(sql`update devices set last_seen_at = now() - interval '3 days' where name = 'laptop-613'`);
    const { directory } = cloud.cloud.services;
    const orgId = cloud.bootstrap.orgId;
    await directory.createUser({ orgId, email: NEWCOMER, name: 'Nia Newcomer', role: 'admin', password: PASSWORD });
    await directory.createUser({ orgId, email: AUDITOR, name: 'Aude Auditor', role: 'auditor', password: PASSWORD });
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  }, 600_000);
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await cloud?.stopAll();
    await smtp?.close();
  });

  async function newPage(width = 1280) {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    contexts.push(context);
    return context.newPage();
  }
  /** The page as it stands has no axe violation; what sticks out of a phone is kept for the last test. */
  async function checked(page: Page, what: string) {
    expect(await axeViolations(page), what).toEqual([]);
    const { width, wide } = await phoneOverflow(page);
    if (width > 390 || wide.length > 0) tooWide.push(`${what} (${new URL(page.url()).pathname}): ${width} px wide; ${wide.join(', ')}`);
  }
  async function signIn(page: Page, email: string, password: string) {
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
  }
  const linkIn = (raw: string) => /https?:\/\/[^\s"<>]+\/sign-in\/invitation\/[A-Za-z0-9_-]{43}/.exec(raw)?.[0] ?? '';
  const rowOf = (page: Page, caption: string | RegExp) => page.locator('table caption', { hasText: caption }).locator('xpath=..');

  it('the newcomer admin signs in, sets up TOTP by its QR code and lands on the organisation overview', async () => {
    admin = await newPage();
    await admin.goto(`${cloud.url}/`);
    await admin.waitForURL(/\/sign-in$/);
    await checked(admin, 'sign-in');
    await signIn(admin, NEWCOMER, PASSWORD);
    await admin.waitForURL(/\/account\/security$/);
    await admin.click('text=Set up authenticator');
    await admin.waitForSelector('.qr svg');
    await checked(admin, 'TOTP set-up');
    const totp = URI.parse((await admin.textContent('code.uri')) ?? '');
    if (!('period' in totp)) throw new Error('not a TOTP URI');
    await admin.fill('#code', totp.generate());
    await admin.click('text=Confirm');
    await admin.waitForSelector('ol.codes');
    expect(await admin.locator('ol.codes code').count()).toBe(10);
    await checked(admin, 'recovery codes');
    await admin.goto(`${cloud.url}/`);
    await admin.waitForSelector('h1:text("Your organisation")');
    const attention = await admin.locator('main').innerText();
    expect(attention).toContain('1 device is silent');
    await checked(admin, 'admin home');
  }, 120_000);

  it('an invited employee sets a password from the mailed link and reads their own data', async () => {
    await admin.goto(`${cloud.url}/admin/people?q=${encodeURIComponent(INVITEE)}`);
    await checked(admin, 'people search');
    await admin.locator('table[aria-label="People"] tbody tr a').first().click();
    await admin.waitForURL(/\/admin\/people\/[0-9a-f-]{36}$/);
    await checked(admin, 'a person');
    await admin.click('button:text-is("Invite by email")');
    await admin.waitForSelector('text=Invitation sent');

    const mail = await waitFor(() => smtp.mails.find((m) => m.to.includes(INVITEE)));
    const page = await newPage();
    await page.goto(linkIn(mail.raw));
    await checked(page, 'set a password');
    await page.fill('#password', 'four unrelated words here');
    await page.fill('#confirm', 'four unrelated words here');
    await page.click('text=Set password and sign in');
    await page.waitForSelector('h2:text("Your week")');
    await checked(page, 'employee home');
    await page.click('header a[href="/me/data"]');
    await page.waitForSelector('h2:text("My consent")');
    // Their laptop's consent, scope by scope, each with a way to withdraw it.
    expect(await page.locator('main button:has-text("Withdraw")').count()).toBeGreaterThan(0);
    expect(await page.locator('main').innerText()).toContain('Who viewed my data');
    await checked(page, 'My data');
    await page.screenshot({ path: `${SHOTS}my-data.png`, fullPage: true });
    // The people page, now that one person of 1,060 can sign in.
    await admin.goto(`${cloud.url}/admin/people`);
    await admin.screenshot({ path: `${SHOTS}people.png`, fullPage: true });
  }, 120_000);

  it('a manager finds what changed on the home page and drills down team → category → app and team → person → day', async () => {
    manager = await newPage();
    await manager.goto(`${cloud.url}/`);
    await signIn(manager, DEMO_MANAGER_EMAIL, DEMO_MANAGER_PASSWORD);
    await manager.waitForSelector('h1:text("Your teams")');
    const changed = await manager.locator('section.home-card ul.highlights').first().innerText();
    expect(changed).toMatch(/Active time per person per day: \d+\.\d h, .* in the previous period/);
    await checked(manager, 'manager home');
    await manager.click('section.home-card >> text=Open the team report');
    await manager.waitForURL(/\/reports\/team\?teamId=/);
    await manager.waitForSelector('ul.highlights li');
    await manager.waitForSelector('table caption:has-text("Categories")');
    await checked(manager, 'team report');
    await manager.screenshot({ path: `${SHOTS}team-report.png`, fullPage: true });

    const categories = rowOf(manager, 'Categories');
    const category = (await categories.locator('tbody tr a').first().textContent()) ?? '';
    await categories.locator('tbody tr a').first().click();
    await manager.waitForURL(/\/reports\/team\/apps\?.*category=/);
    await manager.waitForSelector('table caption:has-text("Apps")');
    expect(await manager.locator('h1').textContent()).toContain(category);
    await checked(manager, 'a category');
    const app = (await manager.locator('table tbody tr a').first().textContent()) ?? '';
    await manager.locator('table tbody tr a').first().click();
    await manager.waitForURL(/app=/);
    await manager.waitForSelector('.uplot canvas');
    expect(await manager.locator('nav.crumbs').textContent()).toContain(`${category} › ${app}`);
    await checked(manager, 'an app');

    await manager.goBack();
    await manager.goBack();
    await manager.waitForSelector('table caption:has-text("Categories")');
    await manager.click('text=People in this team');
    await manager.waitForURL(/\/reports\/team\/people/);
    await manager.waitForSelector('ul.people li a');
    await checked(manager, 'people of the team');
    const name = (await manager.locator('ul.people li a').first().textContent()) ?? '';
    await manager.locator('ul.people li a').first().click();
    await manager.waitForURL(/\/reports\/person\?/);
    await manager.waitForSelector('table caption:has-text("Per day")');
    expect(await manager.locator('#person-report h2').first().textContent()).toContain(name);
    await checked(manager, 'a person');
    await rowOf(manager, 'Per day').locator('tbody tr a').first().click();
    await manager.waitForSelector('section.panel h2:has-text("Apps that day")');
    expect(await manager.locator('nav.crumbs').last().textContent()).toContain(`${name} ›`);
    await checked(manager, 'a day of a person');

    const phone = await newPage(390);
    await phone.context().addCookies(await manager.context().cookies());
    await phone.goto(`${cloud.url}/reports/team`);
    await phone.waitForSelector('ul.highlights li');
    await phone.screenshot({ path: `${SHOTS}team-report-phone.png`, fullPage: true });
  }, 180_000);

  it('the admin makes mail productive for the organisation and the Sales teams change in the organisation report', async () => {
    const share = async () => {
      await admin.goto(`${cloud.url}/reports/org`);
      await admin.waitForSelector('ol.hbars li a');
      const cell = rowOf(admin, 'Teams').locator('tbody tr', { hasText: 'Sales 01' }).locator('td:nth-child(5)');
      return Number.parseInt((await cell.textContent()) ?? '', 10);
    };
    const before = await share();
    await checked(admin, 'organisation report');
    await admin.goto(`${cloud.url}/admin/categories`);
    expect(await admin.locator('p.rule').innerText()).toContain('Communication (email, chat, calendar, calls) is neutral');
    await admin.getByLabel('Rule 1 app pattern').fill('^microsoft outlook$');
    await admin.getByLabel('Rule 1 category').fill('Email');
    await admin.getByLabel('Rule 1 productivity').selectOption('productive');
    await admin.getByRole('button', { name: 'Preview changes' }).click();
    const preview = admin.getByRole('table', { name: 'Preview' });
    await preview.waitFor();
    expect(await preview.locator('tbody tr').first().textContent()).toContain('Microsoft Outlook');
    await checked(admin, 'categories with a preview');
    await admin.screenshot({ path: `${SHOTS}categories.png`, fullPage: true });
    await admin.getByRole('button', { name: 'Save rules' }).click();
    await admin.waitForURL(/done=rules/);
    await cloud.cloud.services.analytics.idle();
    const after = await share();
    process.stdout.write(`Sales 01 productive share: ${before} % before the rule, ${after} % after\n`);
    expect(after).toBeGreaterThan(before);
    await admin.screenshot({ path: `${SHOTS}org-report.png`, fullPage: true });
  }, 180_000);

  it('IT finds the one silent laptop among 1,000', async () => {
    await admin.goto(`${cloud.url}/admin/devices`);
    await expect.poll(() => admin.locator('.tiles').innerText()).toContain('1\nsilent');
    await checked(admin, 'devices');
    await admin.selectOption('select[name=health]', 'silent');
    await admin.click('form.filters button[type=submit]');
    await admin.waitForURL(/health=silent/);
    expect(await admin.locator('p[role=status]').innerText()).toBe('1 device matches; showing 1–1.');
    expect(await admin.locator('table[aria-label="Devices"] tbody').innerText()).toContain('laptop-613');
    await checked(admin, 'silent devices');
    await admin.screenshot({ path: `${SHOTS}fleet.png`, fullPage: true });
    await admin.click('text=laptop-613');
    await admin.waitForURL(/\/admin\/devices\/[0-9a-f-]{36}$/);
    await checked(admin, 'a device');
  }, 120_000);

  it('an auditor filters the log to the manager’s views of one person and opens an entry', async () => {
    const page = await newPage();
    await page.goto(`${cloud.url}/audit`);
    await signIn(page, AUDITOR, PASSWORD);
    await page.waitForURL(/\/audit$/);
    await checked(page, 'audit log');
    await page.fill('input[name=actor]', DEMO_MANAGER_EMAIL);
    await page.selectOption('select[name=action]', 'report.person_detail.viewed');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/action=report\.person_detail\.viewed/);
    const rows = page.locator('table[aria-label="Audit entries"] tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(1);
    for (const text of await rows.allInnerTexts()) expect(text).toContain('Morgan Demo');
    await checked(page, 'filtered audit log');
    await page.screenshot({ path: `${SHOTS}audit.png`, fullPage: true });
    await page.locator('table details summary').first().click();
    expect(await page.locator('table details dl').first().innerText()).toMatch(/\d{4}-\d{2}-\d{2}/);
    await page.goto(`${cloud.url}/audit/compliance`);
    await checked(page, 'compliance report');
  }, 120_000);

  it('fits a 390 px phone on every page the personas opened, and on every other page of the web app', async () => {
    const [person] = await cloud.database.rows<{ id: string }>(sql`select id from users where email = ${DEMO_EMPLOYEE_EMAIL}`);
    const [team] = await cloud.database.rows<{ id: string }>(sql`select id from teams where name = 'Sales 01'`);
    const [entry] = await cloud.database.rows<{ seq: number }>(sql`select max(seq)::int as seq from audit_log`);
    const inaccessible: string[] = [];
    const [version] = await cloud.database.rows<{ v: number }>(sql`select max(version)::int as v from policies`);
    for (const path of [
      '/admin/teams',
      `/admin/teams/${team?.id}`,
      `/admin/people/${person?.id}/consent`,
      '/admin/people/import',
      '/admin/webhooks',
      '/admin/policies',
      `/admin/policies/${version?.v}`,
      '/admin/enrollment-tokens',
      '/audit/compliance',
      `/audit/events/${entry?.seq}`,
      '/audit/verify',
      '/account',
      '/account/security',
      '/me/data',
      '/me/devices',
      '/reports/org',
      `/reports/team?teamId=${team?.id}`,
    ]) {
      const response = await admin.goto(`${cloud.url}${path}`);
      expect(response?.status(), path).toBe(200);
      await admin.waitForLoadState('networkidle');
      const violations = await axeViolations(admin);
      if (violations.length > 0) inaccessible.push(`${path}: ${violations.join('; ')}`);
      const { width, wide } = await phoneOverflow(admin);
      if (width > 390 || wide.length > 0) tooWide.push(`${path}: ${width} px wide; ${wide.join(', ')}`);
    }
    expect(inaccessible).toEqual([]);
    expect(tooWide).toEqual([]);
  }, 300_000);
});
