/**
 * Issue 11's admin tasks, done in the browser: an admin fixes a category (sees the preview,
 * saves, the team rollups change after the rebuild), imports people and reads the line-numbered
 * error, adds a webhook to an allowed local receiver and sends a test delivery; a works-council
 * member who is not an admin approves a policy version the admin drafted. Real cloud, real
 * Chromium; screenshots of the pages go to docs/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../cloud/scripts/seed-demo';
import { newTotpSecret, totpCode } from '../../cloud/src/modules/identity/totp';
import { loadSecrets } from '../../cloud/src/platform/secrets';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { testDatabaseKinds } from '../../cloud/test/support/database';
import { startWebhookReceiver, waitFor } from '../../cloud/test/support/servers';
import { CHROMIUM, launchChromium } from '../helpers/browser';

const PASSWORD = 'correct horse battery staple';
const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;
const skip = existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM}`;

describe.skipIf(skip !== undefined).each(testDatabaseKinds())('admin tasks in the browser on %s', (kind) => {
  let cloud: TestCloud;
  let browser: Browser;
  let hooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let secret = '';
  let admin: BrowserContext;
  let council: BrowserContext;

  beforeAll(async () => {
    hooks = await startWebhookReceiver(() => secret);
    cloud = await startTestCloud(kind, { WEBHOOK_ALLOW_HOSTS: new URL(hooks.url).host, NOTIFY_POLL_MS: '100' });
    await seedDemo(cloud.cloud, cloud.database, loadSecrets(cloud.config), { employees: 8, teams: 1, days: 7, spansPerDay: 6 });
    browser = await launchChromium();
    const { auth, directory } = cloud.cloud.services;
    const orgId = cloud.bootstrap.orgId;
    const ada = await directory.createUser({ orgId, email: `ada-${kind}@ui.example`, name: 'Ada Admin', role: 'admin', password: PASSWORD });
    const totp = newTotpSecret();
    await auth.storeTotpSecret(ada.id, totp);
    const wes = await directory.createUser({ orgId, email: `wes-${kind}@ui.example`, name: 'Wes Council', role: 'employee', password: PASSWORD });
    await cloud.database.rows(sql`update users set works_council = true where id = ${wes.id}`);
    const full = await auth.signInWithPassword({ email: `ada-${kind}@ui.example`, password: PASSWORD });
    await auth.verifyTotp(full.session.id, totpCode(totp, Date.now()));
    const member = await auth.signInWithPassword({ email: `wes-${kind}@ui.example`, password: PASSWORD });
    const contextFor = async (token: string) => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addCookies([{ name: 'icarus_session', value: token, url: cloud.url }]);
      return context;
    };
    admin = await contextFor(full.token);
    council = await contextFor(member.token);
    mkdirSync(SHOTS, { recursive: true });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await cloud?.stopAll();
    await hooks?.close();
  });

  it('fixes a category: the preview names the app and its time, and the team rollups follow after saving', { timeout: 120_000 }, async () => {
    const orgId = cloud.bootstrap.orgId;
    await cloud.cloud.services.analytics.idle();
    const [top] = await cloud.database.rows<{ app: string; category: string }>(
      sql`select app, category from rollup_user_daily where org_id = ${orgId} and app <> '(no app)' group by app, category order by sum(active_ms) desc limit 1`,
    );
    expect(top).toBeDefined();
    const app = top?.app ?? '';
    const page = await admin.newPage();
    await page.goto(`${cloud.url}/admin/categories`);
    await page.getByLabel('Rule 1 app pattern').fill(`^${app.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    await page.getByLabel('Rule 1 category').fill('Customer work');
    await page.getByLabel('Rule 1 productivity').selectOption('productive');
    await page.getByRole('button', { name: 'Preview changes' }).click();
    const preview = page.getByRole('table', { name: 'Preview' });
    await preview.waitFor();
    const row = await preview.locator('tbody tr').first().textContent();
    expect(row).toContain(app);
    expect(row).toContain(top?.category ?? '');
    expect(row).toContain('Customer work');
    // Nothing is saved by a preview.
    expect((await cloud.cloud.services.analytics.rules(orgId)).rules).toEqual([]);
    await page.screenshot({ path: `${SHOTS}categories.png`, fullPage: true });
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.waitForURL(/done=rules/);
    await cloud.cloud.services.analytics.idle();
    const moved = await cloud.database.rows<{ n: number }>(
      sql`select count(*)::int as n from rollup_team_daily where org_id = ${orgId} and category = 'Customer work'`,
    );
    expect(moved[0]?.n).toBeGreaterThan(0);
    const left = await cloud.database.rows<{ n: number }>(
      sql`select count(*)::int as n from rollup_user_daily where org_id = ${orgId} and app = ${app} and category <> 'Customer work'`,
    );
    expect(left[0]?.n).toBe(0);
    await page.close();
  });

  it('imports people: a bad line is named in plain words and nothing is imported; the fixed file imports', { timeout: 60_000 }, async () => {
    const page = await admin.newPage();
    await page.goto(`${cloud.url}/admin/people/import`);
    const bad = ['email,name,team', `pat-${kind}@ui.example,Pat Import,Imported`, 'not-an-email,Quinn Import,Imported'].join('\n');
    await page.getByLabel('CSV').fill(bad);
    await page.getByRole('button', { name: 'Check (dry run)' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Line 3: the email is not a valid email address');
    expect(await cloud.cloud.services.directory.findUserByEmail(cloud.bootstrap.orgId, `pat-${kind}@ui.example`)).toBeUndefined();
    await page.getByLabel('CSV').fill(bad.replace('not-an-email', `quinn-${kind}@ui.example`));
    await page.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('2 people');
    await page.goto(`${cloud.url}/admin/people?q=Import`);
    expect(await page.getByRole('table', { name: 'People' }).locator('tbody tr').count()).toBe(2);
    await page.goto(`${cloud.url}/admin/people`);
    await page.screenshot({ path: `${SHOTS}people.png`, fullPage: true });
    await page.close();
  });

  it('adds a webhook to an allowed local receiver and sends it a signed test delivery', { timeout: 60_000 }, async () => {
    const page = await admin.newPage();
    await page.goto(`${cloud.url}/admin/webhooks`);
    await page.getByLabel(/^Address/).fill('http://10.0.0.8/hooks');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('The address');
    await page.getByLabel(/^Address/).fill(hooks.url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    secret = (await page.getByRole('status').locator('code').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('button', { name: `Send a test to ${hooks.url}` }).click();
    await page.waitForURL(/done=tested/);
    const got = await waitFor(() => hooks.received.find((h) => h.body.includes('"webhook.test"')), 20_000);
    expect(got.signatureValid).toBe(true);
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.getByRole('table', { name: 'Deliveries' }).locator('tbody tr', { hasText: 'webhook.test' }).first().textContent();
        },
        { timeout: 20_000 },
      )
      .toContain('delivered');
    await page.close();
  });

  it('a works-council member who is not an admin approves a version the admin drafted; the admin cannot approve it', { timeout: 60_000 }, async () => {
    const page = await admin.newPage();
    await page.goto(`${cloud.url}/admin/policies`);
    await page.getByRole('button', { name: 'New draft from the current policy' }).click();
    await page.waitForURL(/done=created/);
    const version = Number(/\/admin\/policies\/(\d+)/.exec(page.url())?.[1]);
    // Unchanged: submitting is refused in plain words, and nothing is published.
    await page.getByRole('button', { name: 'Save and submit for review' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Nothing changed from');
    // A typed change goes with "Save and submit": nothing typed is lost.
    await page.getByLabel('Server retention (days)').fill('60');
    await page.getByRole('button', { name: 'Save and submit for review' }).click();
    await page.waitForURL(/done=submit/);
    expect(await page.getByRole('table', { name: 'Changes' }).textContent()).toContain('60');
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);

    const wes = await council.newPage();
    await wes.goto(`${cloud.url}/me/data`);
    await wes.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policies' }).click();
    await wes.getByRole('link', { name: `v${version}` }).click();
    await wes.getByRole('button', { name: 'Approve' }).click();
    await wes.waitForURL(/done=approve/);
    expect(await wes.getByRole('list', { name: 'Approvals' }).textContent()).toContain('Wes Council as works-council member');
    await wes.screenshot({ path: `${SHOTS}policy-approval.png`, fullPage: true });
    expect((await wes.request.get(`${cloud.url}/admin/people`, { maxRedirects: 0 })).status()).toBe(403);

    await page.reload();
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForURL(/done=publish/);
    expect((await cloud.cloud.services.consent.currentPolicy(cloud.bootstrap.orgId)).version).toBe(version);
    await Promise.all([page.close(), wes.close()]);
  });
});
