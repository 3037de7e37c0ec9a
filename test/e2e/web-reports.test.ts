import { mkdirSync, readFileSync } from 'node:fs';
import { addDays, weekOf } from '@icarus/shared';
import { sql } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, axeViolations } from '../helpers/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MANAGER_EMAIL, DEMO_MANAGER_PASSWORD, seedDemo } from '../../cloud/scripts/seed-demo';
import { newTotpSecret, totpCode } from '../../cloud/src/modules/identity/totp';
import { loadSecrets } from '../../cloud/src/platform/secrets';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { seedRollups } from '../../cloud/test/support/rollups';

const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;
const PASSWORD = 'correct horse battery staple';

/**
 * axe-core in the page. The CSP refuses injected script elements (script-src 'self'), so the
 * engine's source is evaluated through DevTools, which the page's CSP does not govern.
 */
describe('manager web reports in Chromium', () => {
  let cloud: TestCloud;
  let browser: Browser;
  let manager: BrowserContext;
  let admin: BrowserContext;
  let today: string;
  let pilotTeam: string;

  beforeAll(async () => {
    cloud = await startTestCloud('pglite');
    // A small demo org: 40 people in 4 teams over three weeks; team 1 is the demo manager's.
    await seedDemo(cloud.cloud, cloud.database, loadSecrets(cloud.config), { employees: 40, teams: 4, days: 21, spansPerDay: 8 });
    const { directory, analytics, auth } = cloud.cloud.services;
    const orgId = cloud.bootstrap.orgId;
    today = (await analytics.orgCalendar(orgId)).today;
    // A pilot of 3 people the demo manager also manages: fewer than the policy's 5, every day.
    pilotTeam = (await directory.createTeam(orgId, 'Pilot')).id;
    const [me] = await cloud.database.rows<{ id: string }>(sql`select id from users where email = ${DEMO_MANAGER_EMAIL}`);
    await cloud.database.rows(sql`insert into team_managers (team_id, user_id) values (${pilotTeam}, ${me?.id ?? ''})`);
    const pilots: string[] = [];
    for (let i = 0; i < 3; i++) {
      pilots.push((await directory.createUser({ orgId, email: `pilot${i}@reports.example`, name: `Pilot ${i}`, role: 'employee', teamId: pilotTeam })).id);
    }
    await seedRollups(
      cloud.database,
      orgId,
      pilots.flatMap((userId) => [1, 2, 3].map((d) => ({ userId, teamId: pilotTeam, day: addDays(today, -d), apps: [{ app: 'Code', activeMs: 3_600_000 }] }))),
    );
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
    const adminUser = await directory.createUser({ orgId, email: 'admin@reports.example', name: 'Ada Admin', role: 'admin', password: PASSWORD });
    const totp = newTotpSecret();
    await auth.storeTotpSecret(adminUser.id, totp);
    const session = await auth.signInWithPassword({ email: 'admin@reports.example', password: PASSWORD });
    await auth.verifyTotp(session.session.id, totpCode(totp, Date.now()));
    admin = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await admin.addCookies([{ name: 'icarus_session', value: session.token, url: cloud.url }]);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await cloud?.stopAll();
  });

  it('signs in, reads a team report that matches the database, changes the range and exports CSV', async () => {
    manager = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    const page = await manager.newPage();
    await page.goto(`${cloud.url}/reports/team`);
    await page.fill('#email', DEMO_MANAGER_EMAIL);
    await page.fill('#password', DEMO_MANAGER_PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/reports\/team/);
    await page.waitForSelector('.cards .value');

    const team = await page.inputValue('#team');
    const from = await page.inputValue('#from');
    const to = await page.inputValue('#to');
    const people = await page.textContent('.cards .card:nth-child(1) .value');
    const rows = await cloud.database.rows<{ n: number }>(sql`
      select count(distinct r.user_id)::int as n from rollup_user_daily r join users u on u.id = r.user_id
      where u.team_id = ${team} and r.day between ${from}::date and ${to}::date`);
    expect(Number(people)).toBe(rows[0]?.n);

    // A one-week range, by keyboard: the form is a plain GET form.
    await page.focus('#from');
    await page.fill('#from', addDays(to, -6));
    await page.keyboard.press('Enter');
    await page.waitForURL(/from=/);
    await page.waitForSelector('.cards .value');
    expect(
      await page
        .locator('table caption', { hasText: /^Per day/ })
        .locator('xpath=..')
        .locator('tbody tr')
        .count(),
    ).toBe(7);

    const download = page.waitForEvent('download');
    await page.click('#export');
    const csv = await (await download).path();
    expect(readFileSync(csv, 'utf8').split('\r\n')[0]).toBe('day,app,category,productivity,people,active_ms,idle_ms,spans');
    const exported = await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from audit_log where action = 'report.csv.exported'`);
    expect(exported[0]?.n).toBe(1);
    await page.close();
  }, 120_000);

  it('answers "what changed" with the previous period, units on the charts and hidden days explained', async () => {
    const page = await manager.newPage();
    await page.goto(`${cloud.url}/reports/team`);
    await page.waitForSelector('ul.highlights li');
    const highlights = await page.locator('ul.highlights li').allTextContents();
    expect(highlights[0]).toMatch(/^Active time per person per day: \d+\.\d h/);
    expect(highlights.join(' ')).toMatch(/Productive share: \d+ %/);
    expect(await page.textContent('section.panel >> nth=0')).toContain('This period against the previous 28 days');
    // Focus and after hours beside the other figures, with units, the previous period and the rule in words.
    const cards = await page.locator('.cards .card').allTextContents();
    expect(cards.find((c) => c.startsWith('Focus per person per day'))).toMatch(/^Focus per person per day\d+\.\d h, \d+ % of active/);
    expect(cards.find((c) => c.startsWith('After hours'))).toMatch(/^After hours\d+ % of active/);
    expect(await page.textContent('#focus-rule')).toMatch(
      /at least 30 minutes .* gaps under 2 minutes.*outside Mon–Fri 08:00–18:00, the organisation’s working week/,
    );
    expect(highlights.join(' ')).toMatch(/Focus time \(stretches of 30 minutes or more in productive apps\): \d+\.\d h per person per day/);
    expect(highlights.join(' ')).toMatch(/After hours \(outside Mon–Fri 08:00–18:00\): \d+ % of active time/);
    // Axis in hours from zero, a legend with units (not "Time: --"), a readout in words.
    expect(await page.locator('.chart').first().getAttribute('aria-label')).toMatch(/stacked, from zero.*\(vertical axis: 0 h to \d+ h\)$/);
    const weekly = page.locator('section.panel', { hasText: 'Weekly trend' }).locator('.chart');
    expect(await weekly.getAttribute('aria-label')).toMatch(/^Active hours per week from zero; partial weeks drawn lighter.*\(vertical axis: 0 h to \d+ h\)$/);
    expect(await page.locator('section.panel', { hasText: 'Weekly trend' }).locator('.u-legend').textContent()).toContain('Active, partial week (h)');
    const legend = await page.locator('.uplot .u-legend').first().textContent();
    expect(legend).toContain('Active (h)');
    expect(legend).not.toContain('--');
    await page.locator('.uplot .u-over').first().hover();
    expect(await page.locator('.readout').first().textContent()).toMatch(/^[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2}: /);
    // The demo's weekends have fewer than 5 people or none: each says which, never a bare "hidden".
    const notes = await page
      .locator('table caption', { hasText: /^Per day/ })
      .locator('xpath=..')
      .locator('tbody td:last-child')
      .allTextContents();
    for (const n of notes)
      expect(n).toMatch(/^(|Hidden: \d of 5 people needed\.|No activity recorded|Not yet: after today|Today, in progress(: nothing yet)?)$/);
    await page.screenshot({ path: `${SHOTS}team-report.png`, fullPage: true });
    await page.close();
  }, 60_000);

  it('drills down team → category → app, and team → person → day', async () => {
    const page = await manager.newPage();
    await page.goto(`${cloud.url}/reports/team`);
    await page.waitForSelector('table caption:has-text("Categories")');
    const categories = page.locator('table caption', { hasText: 'Categories' }).locator('xpath=..');
    const category = (await categories.locator('tbody tr a').first().textContent()) ?? '';
    await categories.locator('tbody tr a').first().click();
    await page.waitForURL(/\/reports\/team\/apps\?.*category=/);
    await expect(page.locator('h1').textContent()).resolves.toContain(category);
    await page.waitForSelector('table caption:has-text("Apps")');
    const app = (await page.locator('table tbody tr a').first().textContent()) ?? '';
    await page.locator('table tbody tr a').first().click();
    await page.waitForURL(/app=/);
    await page.waitForSelector('.uplot canvas');
    expect(await page.locator('nav.crumbs').textContent()).toContain(`${category} › ${app}`);
    expect(await page.locator('table caption', { hasText: `${app} per day` }).count()).toBe(1);

    await page.goto(`${cloud.url}/reports/team`);
    await page.click('text=People in this team');
    await page.waitForURL(/\/reports\/team\/people/);
    await page.waitForSelector('ul.people li a');
    // The demo policy lets managers see individuals; the people who declined are counted, not named.
    expect(await page.locator('.notice').first().textContent()).toContain('lets managers see individuals');
    const name = (await page.locator('ul.people li a').first().textContent()) ?? '';
    await page.locator('ul.people li a').first().click();
    await page.waitForURL(/\/reports\/person\?/);
    await page.waitForSelector('table caption:has-text("Per day")');
    expect(await page.locator('#person-report h2').first().textContent()).toContain(name);
    await page.locator('table caption', { hasText: 'Per day' }).locator('xpath=..').locator('tbody tr a').first().click();
    await page.waitForSelector('section.panel h2:has-text("Apps that day")');
    expect(await page.locator('nav.crumbs').last().textContent()).toContain(`${name} ›`);
    const audited = await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from audit_log where action = 'report.person_detail.viewed'`);
    expect(audited[0]?.n).toBe(2);
    await page.close();
  }, 90_000);

  it('offers presets and a compare mode', async () => {
    const page = await manager.newPage();
    await page.goto(`${cloud.url}/reports/team`);
    await page.click('nav.presets >> text=Last week');
    const monday = weekOf(today).week;
    await page.waitForURL(new RegExp(`from=${addDays(monday, -7)}&to=${addDays(monday, -1)}`));
    await page.waitForSelector('.cards .value');
    expect(await page.getAttribute('nav.presets a:has-text("Last week")', 'aria-current')).toBe('true');
    await page.check('#compare');
    await page.click('button[type=submit]');
    await page.waitForURL(/compare=previous/);
    await page.waitForSelector('table caption:has-text("This period and the previous one")');
    expect(await page.locator('.uplot .u-legend').first().textContent()).toContain('Active, previous period (h)');
    await page.close();
  }, 60_000);

  it('says what is wrong with a reversed range and one over 366 days, and why a pilot of 3 shows nothing', async () => {
    const page = await manager.newPage();
    await page.goto(`${cloud.url}/reports/team?from=2026-12-05&to=2026-12-01`);
    expect(await page.locator('.notice.error').textContent()).toContain('The range is reversed: it starts on 2026-12-05, after its end on 2026-12-01');
    expect(await page.inputValue('#from')).toBe('2026-12-05');
    expect(await page.locator('#report').count()).toBe(0);
    await page.goto(`${cloud.url}/reports/team?from=2024-01-01&to=2025-06-01`);
    expect(await page.locator('.notice.error').textContent()).toContain('is 518 days; a report covers at most 366 days');

    await page.goto(`${cloud.url}/reports/team?teamId=${pilotTeam}`);
    await page.waitForSelector('#report .notice');
    expect(await page.locator('#report .notice').textContent()).toContain('Hidden: 3 of 5 people needed');
    await page.goto(`${cloud.url}/reports/team?from=${addDays(today, 10)}&to=${addDays(today, 20)}`);
    await page.waitForSelector('#report .notice');
    expect(await page.locator('#report .notice').textContent()).toContain('This range starts after today');
    await page.close();
  }, 60_000);

  it('shows the organisation with highlights, a chart, links to each team and a sortable table', async () => {
    const page = await admin.newPage();
    await page.goto(`${cloud.url}/reports/org`);
    await page.waitForSelector('ol.hbars li a');
    expect(await page.locator('ul.highlights li').first().textContent()).toMatch(
      /^Productive share ranges from \d+ % \(.+\) to \d+ % \(.+\) across \d+ teams\.$/,
    );
    const trend = page.locator('section.panel', { hasText: 'Org-wide trend' });
    expect(await trend.locator('.chart').getAttribute('aria-label')).toMatch(
      /^Active hours per week across the organisation, from zero.*\(vertical axis: 0 h to \d+ h\)$/,
    );
    expect(await trend.locator('.u-legend').textContent()).toContain('Active, whole week (h)');
    const table = page.locator('table caption', { hasText: 'Teams' }).locator('xpath=..');
    await table.locator('th button', { hasText: 'Productive' }).click();
    expect(await table.locator('th', { hasText: 'Productive' }).getAttribute('aria-sort')).toBe('ascending');
    const shares = (await table.locator('tbody tr td:nth-child(5)').allTextContents()).filter((t) => t.endsWith('%')).map((t) => Number.parseInt(t, 10));
    expect(shares).toEqual([...shares].sort((a, b) => a - b));
    await page.screenshot({ path: `${SHOTS}org-report.png`, fullPage: true });
    const first = page.locator('ol.hbars li a').first();
    const name = (await first.textContent()) ?? '';
    await first.click();
    await page.waitForURL(/\/reports\/team\?teamId=/);
    await page.waitForSelector('#report h2');
    expect(await page.locator('#report h2').first().textContent()).toContain(name);
    await page.close();
  }, 60_000);

  it('prepares the org export as a background job: progress, then a download link only its requester can use', async () => {
    const page = await admin.newPage();
    await page.goto(`${cloud.url}/reports/org`);
    await page.locator('#org-export button').click();
    const download = page.locator('#org-export [role="status"] a');
    await download.waitFor({ timeout: 30_000 });
    expect(await page.locator('#org-export [role="status"]').textContent()).toMatch(
      /^Download .+-person\.csv \(\d+\.\d MB\) · only you can download it, until /,
    );
    const href = (await download.getAttribute('href')) ?? '';
    const response = await page.request.get(`${cloud.url}${href}`);
    expect(response.status()).toBe(200);
    expect((await response.text()).startsWith('day,person,email,app,category,productivity,active_ms,idle_ms,spans\r\n')).toBe(true);
    // The manager, signed in beside the admin, is refused the same link.
    expect((await manager.request.get(`${cloud.url}${href}`)).status()).toBe(404);
    await page.close();
  }, 60_000);

  it('has no accessibility violations on the report pages (axe-core), and works at phone width', async () => {
    const [member] = await cloud.database.rows<{ id: string; team_id: string }>(sql`
      select u.id, u.team_id from users u join team_managers m on m.team_id = u.team_id join users me on me.id = m.user_id
      where me.email = ${DEMO_MANAGER_EMAIL} and u.role = 'employee' and u.team_id <> ${pilotTeam} order by u.email limit 1`);
    const team = member?.team_id ?? '';
    const pages: [BrowserContext, string, string][] = [
      [manager, '/reports/team', 'ul.highlights'],
      [manager, `/reports/team/apps?teamId=${team}`, 'table'],
      [manager, `/reports/team/people?teamId=${team}`, 'ul.people'],
      [manager, `/reports/person?userId=${member?.id ?? ''}&teamId=${team}`, 'table'],
      [admin, '/reports/org', 'ol.hbars'],
    ];
    for (const [context, path, drawn] of pages) {
      const page = await context.newPage();
      await page.goto(`${cloud.url}${path}`);
      await page.waitForSelector(drawn);
      expect(await axeViolations(page), path).toEqual([]);
      await page.close();
    }
    const phone = await manager.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${cloud.url}/reports/team`);
    await phone.waitForSelector('.uplot canvas');
    // Nothing wider than the screen: tables scroll inside their own box.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: `${SHOTS}team-report-phone.png`, fullPage: true });
    await phone.close();
  }, 120_000);
});
