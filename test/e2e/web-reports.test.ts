import { mkdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MANAGER_EMAIL, DEMO_MANAGER_PASSWORD, seedDemo } from '../../cloud/scripts/seed-demo';
import { loadSecrets } from '../../cloud/src/platform/secrets';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';

const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;

describe('manager web reports in Chromium', () => {
  let cloud: TestCloud;
  let browser: Browser;

  beforeAll(async () => {
    cloud = await startTestCloud('pglite');
    // A small demo org: 40 people in 4 teams over three weeks; team 1 is the demo manager's.
    await seedDemo(cloud.cloud, cloud.database, loadSecrets(cloud.config), { employees: 40, teams: 4, days: 21, spansPerDay: 8 });
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await cloud?.stopAll();
  });

  it('signs in, reads a team report that matches the database, changes the range and exports CSV', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
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
    await page.screenshot({ path: `${SHOTS}team-report.png`, fullPage: true });

    // A one-week range, by keyboard: the form is a plain GET form.
    await page.focus('#from');
    await page.fill('#from', new Date(Date.parse(`${to}T00:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10));
    await page.keyboard.press('Enter');
    await page.waitForURL(/from=/);
    await page.waitForSelector('.cards .value');
    expect(await page.locator('table caption', { hasText: 'Per day' }).locator('xpath=..').locator('tbody tr').count()).toBe(7);

    const download = page.waitForEvent('download');
    await page.click('#export');
    const csv = await (await download).path();
    const text = (await import('node:fs')).readFileSync(csv, 'utf8');
    expect(text.split('\n')[0]).toBe('day,app,category,productivity,people,active_ms,idle_ms,spans');
    const exported = await cloud.database.rows<{ n: number }>(sql`select count(*)::int as n from audit_log where action = 'report.csv.exported'`);
    expect(exported[0]?.n).toBe(1);

    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.context().addCookies(await page.context().cookies());
    await phone.goto(page.url());
    await phone.waitForSelector('.cards .value');
    await phone.screenshot({ path: `${SHOTS}team-report-phone.png`, fullPage: true });
  }, 120_000);
});
