/**
 * The working-week page in Chromium, as an admin uses it: a Sunday-to-Thursday week is set from
 * the form and read back by the API; a form with no day and an end before its start is refused
 * with both problems in plain words, the week in force unchanged. No axe violation in any state,
 * and nothing wider than a 390 px phone.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_API } from '../../cloud/src/modules/admin';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../cloud/test/support/admin';
import { testDatabaseKinds } from '../../cloud/test/support/database';
import { launchChromium, axeViolations } from '../helpers/browser';

describe.each(testDatabaseKinds())('working week page in Chromium on %s', (kind) => {
  let bed: AdminTestbed;
  let browser: Browser;
  let admin: Caller;

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `web-week-${kind}`);
    admin = await bed.as('admin');
    browser = await launchChromium();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await bed?.stop();
  });

  async function open(width: number): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const token = /icarus_session=([^;]+)/.exec(admin.headers['cookie'] ?? '')?.[1] ?? '';
    await context.addCookies([{ name: 'icarus_session', value: token, url: bed.cloud.url }]);
    return context.newPage();
  }

  /** No axe violation, and at 390 px nothing sticks out past the phone's width. */
  async function check(page: Page, state: string) {
    expect(await axeViolations(page), state).toEqual([]);
    const size = page.viewportSize() ?? { width: 1280, height: 900 };
    await page.setViewportSize({ width: 390, height: 844 });
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > 391 && !e.closest('nav.main'))
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}`),
    );
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect({ width: Math.min(width, 390), wide }, `${state} at 390 px`).toEqual({ width: 390, wide: [] });
    await page.setViewportSize(size);
  }

  it('sets a Sunday-to-Thursday week from the form, refuses a bad one in plain words, and keeps what was in force', async () => {
    const page = await open(1280);
    await page.goto(`${bed.cloud.url}/admin/working-week`);
    expect(await page.textContent('main')).toContain('Now: Mon–Fri 08:00–18:00');
    await check(page, 'the default week');

    for (const day of ['Friday']) await page.getByLabel(day, { exact: true }).uncheck();
    await page.getByLabel('Sunday', { exact: true }).check();
    await page.fill('#start', '09:00');
    await page.fill('#end', '17:00');
    await page.click('text=Save working week');
    await page.waitForSelector('text=Saved. After hours is counted outside Sun–Thu 09:00–17:00 from the next report on.');
    await check(page, 'saved');
    expect(await (await admin.get(ADMIN_API.workingWeek)).json()).toEqual({ days: [1, 2, 3, 4, 7], start: '09:00', end: '17:00' });

    for (const day of ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Sunday']) await page.getByLabel(day, { exact: true }).uncheck();
    await page.fill('#start', '18:00');
    await page.fill('#end', '08:00');
    const refused = page.waitForResponse((r) => r.url().endsWith('/admin/working-week') && r.request().method() === 'POST');
    await page.click('text=Save working week');
    expect((await refused).status()).toBe(400);
    const alert = (await page.textContent('[role=alert]')) ?? '';
    expect(alert).toContain('Nothing was saved. Please correct:');
    expect(alert).toContain('Working days: choose at least one working day');
    expect(alert).toContain('End of the working day: the working day must end after it starts (18:00)');
    // The form keeps what was typed; the week in force is unchanged.
    expect(await page.inputValue('#start')).toBe('18:00');
    expect(await page.textContent('main')).toContain('Now: Sun–Thu 09:00–17:00');
    await check(page, 'refused');
    expect(await (await admin.get(ADMIN_API.workingWeek)).json()).toEqual({ days: [1, 2, 3, 4, 7], start: '09:00', end: '17:00' });
    await page.context().close();
  }, 180_000);

  it('serves the week in the API: a bad body is refused naming each field, and only admins may set it', async () => {
    const bad = await admin.send('PUT', ADMIN_API.workingWeek, { days: [0, 3], start: '8', end: '17:00' });
    expect(bad.status).toBe(400);
    const { error } = (await bad.json()) as { error: { fields: { path: string }[] } };
    expect(error.fields.map((f) => f.path).sort()).toEqual(['days.0', 'start']);
    const manager = await bed.as('manager');
    expect((await manager.send('PUT', ADMIN_API.workingWeek, { days: [1], start: '08:00', end: '18:00' })).status).toBe(403);
    const saved = await admin.send('PUT', ADMIN_API.workingWeek, { days: [5, 1, 2, 3, 4], start: '07:30', end: '16:00' });
    expect(await saved.json()).toEqual({ days: [1, 2, 3, 4, 5], start: '07:30', end: '16:00' });
  });
});
