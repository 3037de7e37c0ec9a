/**
 * The API tokens page in Chromium: a manager makes a token (shown once), a client reads a report
 * with it, the manager revokes it and the client is refused. Real cloud, axe-core on each state.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, axeViolations } from '../helpers/browser';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { makeTestOrg, PASSWORD, type TestOrg } from '../../cloud/test/support/people';

describe('API tokens page in Chromium', () => {
  let cloud: TestCloud;
  let browser: Browser;
  let org: TestOrg;

  beforeAll(async () => {
    cloud = await startTestCloud('pglite');
    org = await makeTestOrg(cloud, 'web-api-tokens');
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await cloud?.stopAll();
  });

  it('makes a token shown once, which reads reports until it is revoked', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${cloud.url}/sign-in?next=${encodeURIComponent('/account/api-tokens')}`);
    await page.fill('#email', org.people.manager.email);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/account\/api-tokens$/);
    expect(await axeViolations(page), 'empty list').toEqual([]);

    await page.fill('#token-name', 'Power BI');
    await page.click('text=Make token');
    const token = ((await page.textContent('code.token')) ?? '').trim();
    expect(token).toMatch(/^icn_api_[A-Za-z0-9_-]{43}$/);
    expect(await axeViolations(page), 'token shown').toEqual([]);
    const summary = `/api/reports/team-summary?teamId=${org.teamId}`;
    const read = () => cloud.fetchPath(summary, { headers: { authorization: `Bearer ${token}` } });
    expect((await read()).status).toBe(200);

    // Shown once: the list names it, never the token.
    await page.goto(`${cloud.url}/account/api-tokens`);
    expect(await page.content()).not.toContain(token);
    await page.click('button[aria-label="Revoke the token Power BI"]');
    await page.waitForSelector('text=Revoked: the token no longer works.');
    expect(await page.textContent('table')).toContain('revoked');
    expect(await axeViolations(page), 'after revoking').toEqual([]);
    expect((await read()).status).toBe(401);
    await context.close();
  }, 120_000);
});
