import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MANAGER_EMAIL, DEMO_MANAGER_PASSWORD, seedDemo } from '../../cloud/scripts/seed-demo';
import { defaultPolicy } from '../../cloud/src/modules/consent';
import { newTotpSecret, totpCode } from '../../cloud/src/modules/identity/totp';
import { loadSecrets } from '../../cloud/src/platform/secrets';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { launchChromium, axeViolations } from '../helpers/browser';

const PASSWORD = 'correct horse battery staple';

describe('the compliance pack in Chromium, for the demo org', () => {
  let cloud: TestCloud;
  let browser: Browser;
  let admin: BrowserContext;
  let manager: BrowserContext;

  beforeAll(async () => {
    cloud = await startTestCloud('pglite');
    await seedDemo(cloud.cloud, cloud.database, loadSecrets(cloud.config), { employees: 12, teams: 2, days: 2, spansPerDay: 2 });
    const { directory, auth, consent } = cloud.cloud.services;
    const orgId = cloud.bootstrap.orgId;
    const policy = await consent.currentPolicy(orgId);
    // A second version, so the pack has a diff to show.
    await consent.publish(orgId, { ...policy.content, retentionDays: policy.content.retentionDays + 30 }, { type: 'system', id: 'test' });
    browser = await launchChromium();
    await directory.createUser({ orgId, email: 'admin@pack.example', name: 'Ada Admin', role: 'admin', password: PASSWORD });
    const totp = newTotpSecret();
    const [adminUser] = (await directory.listMembers(orgId)).filter((m) => m.email === 'admin@pack.example');
    await auth.storeTotpSecret(adminUser?.id ?? '', totp);
    const session = await auth.signInWithPassword({ email: 'admin@pack.example', password: PASSWORD });
    await auth.verifyTotp(session.session.id, totpCode(totp, Date.now()));
    admin = await browser.newContext({ viewport: { width: 390, height: 844 } });
    await admin.addCookies([{ name: 'icarus_session', value: session.token, url: cloud.url }]);
    const signIn = await auth.signInWithPassword({ email: DEMO_MANAGER_EMAIL, password: DEMO_MANAGER_PASSWORD });
    manager = await browser.newContext({ viewport: { width: 390, height: 844 } });
    await manager.addCookies([{ name: 'icarus_session', value: signIn.token, url: cloud.url }]);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await cloud?.stopAll();
  });

  it("renders the demo org's pack with its real values, accessible and within 390 px, and its diff", async () => {
    const { consent } = cloud.cloud.services;
    const policy = await consent.currentPolicy(cloud.bootstrap.orgId);
    const page = await admin.newPage();
    await page.goto(`${cloud.url}/audit/compliance/pack`);
    const text = (await page.textContent('main')) ?? '';
    expect(text).toContain(`Activity records are kept ${policy.content.retentionDays} days on the server`);
    expect(text).toContain(`Figures about fewer than ${policy.content.minGroupSize} people are withheld`);
    expect(text).toContain('Individual records of people who agreed'); // the demo lets managers see individuals
    expect(await axeViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    await page.click(`text=What changed since v${policy.version - 1}`);
    await page.waitForURL(/\/pack\/diff/);
    expect(await page.locator('.pack-diff li').count()).toBeGreaterThan(0);
    expect(await axeViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.close();
  }, 120_000);

  it('lets a person read and acknowledge the notice from My data, accessible and within 390 px', async () => {
    const page = await manager.newPage();
    await page.goto(`${cloud.url}/me/data`);
    await page.click('text=The monitoring notice');
    await page.waitForURL(/\/me\/data\/notice/);
    expect(await axeViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.click('text=I have read this notice');
    await page.waitForSelector('text=You acknowledged this notice');
    expect(await axeViolations(page)).toEqual([]);
    await page.close();
  }, 120_000);
});
