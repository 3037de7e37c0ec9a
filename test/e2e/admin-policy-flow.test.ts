/**
 * Issue 5 "done when": an admin publishes a wider policy in the browser, the headless agent
 * stops the new scope and asks at its next sync, the employee's decision reaches the server
 * with a signed receipt, the admin sees coverage change in the compliance report, and the
 * employee gets the confirmation email. Real cloud, real agent process, real Chromium, real SMTP.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../helpers/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode, newTotpSecret } from '../../cloud/src/modules/identity/totp';
import type { SignedInUser } from '../../cloud/src/platform/env';
import { startSmtpServer } from '../../cloud/test/support/servers';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { testDatabaseKinds } from '../../cloud/test/support/database';
import { startXDisplay, xDisplayUnavailableReason, type XDisplay } from '../helpers/xdisplay';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';

const PASSWORD = 'correct horse battery staple';
const noX = xDisplayUnavailableReason();
const skip = noX ?? (existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM}`);
if (skip) console.warn(`skipping admin policy flow e2e: ${skip}`);

for (const kind of testDatabaseKinds()) {
  describe.skipIf(skip !== undefined)(`admin policy flow on ${kind}`, () => {
    let cloud: TestCloud;
    let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
    let x: XDisplay;
    let bundle: Awaited<ReturnType<typeof agentBundle>>;
    let home: AgentHome;
    let employeeToken: string;
    let browser: Browser;
    let councilMember: SignedInUser;
    const totp = newTotpSecret();
    const adminEmail = `admin-${kind}@flow.example`;
    const employeeEmail = `employee-${kind}@flow.example`;

    beforeAll(async () => {
      smtp = await startSmtpServer();
      [cloud, x, bundle, browser] = await Promise.all([
        startTestCloud(kind, { SMTP_URL: smtp.url, MAIL_FROM: 'Icarus <notices@icarus.test>', NOTIFY_POLL_MS: '100' }),
        startXDisplay(),
        agentBundle(),
        launchChromium(),
      ]);
      const { directory } = cloud.cloud.services;
      const orgId = cloud.bootstrap.orgId;
      const team = await directory.createTeam(orgId, 'Field Sales');
      const admin = await directory.createUser({ orgId, email: adminEmail, name: 'Ada Admin', role: 'admin', password: PASSWORD });
      await cloud.cloud.services.auth.storeTotpSecret(admin.id, totp);
      // IT deploys a per-user token to the employee's computer: that, not the OS account, binds it.
      const employee = await directory.createUser({
        orgId,
        email: employeeEmail,
        name: 'Emil Employee',
        role: 'employee',
        teamId: team.id,
        osUser: userInfo().username,
      });
      employeeToken = await cloud.tokenFor(employee.id);
      // The admin drafts; someone else approves (nobody approves their own version): a works-council member.
      const member = await directory.createUser({ orgId, email: `council-${kind}@flow.example`, name: 'Wes Council', role: 'employee' });
      await cloud.database.rows(sql`update users set works_council = true where id = ${member.id}`);
      councilMember = {
        userId: member.id,
        orgId,
        email: `council-${kind}@flow.example`,
        name: 'Wes Council',
        role: 'employee',
        managedTeamIds: [],
        teamId: null,
        sessionId: '',
      };
      home = agentHome(bundle.file, x.env, { ICARUS_SAMPLE_INTERVAL_MS: '250', ICARUS_SYNC_INTERVAL_MS: '700' });
    });
    afterAll(async () => {
      home?.cleanup();
      bundle?.remove();
      await browser?.close();
      await Promise.all([x?.close(), cloud?.stopAll(), smtp?.close()]);
    });

    async function signIn(page: Page) {
      await page.goto(`${cloud.url}/sign-in?next=/admin/policies`);
      await page.getByLabel('Email').fill(adminEmail);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: /sign in/i }).click();
      await page.waitForURL(/\/sign-in\/totp/);
      await page.getByLabel(/6-digit code/i).fill(totpCode(totp, Date.now()));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.waitForLoadState();
      if (page.url().includes('/sign-in')) throw new Error(`sign-in stopped at ${page.url()}: ${(await page.content()).slice(0, 600)}`);
    }

    async function coverageRow(page: Page): Promise<string[]> {
      await page.goto(`${cloud.url}/audit/compliance`);
      const rows = page.getByRole('table', { name: 'Consent coverage' }).locator('tbody tr', { hasText: 'Field Sales' });
      return rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '').join('|')));
    }

    it('wider policy in the browser -> agent stops and asks -> decision with receipt -> coverage -> email', { timeout: 120_000 }, async () => {
      const enrolled = await home.cli(['enroll', '--server', cloud.url, '--token', employeeToken, '--name', 'flow-box']);
      expect(enrolled.stdout, enrolled.stderr).toMatch(/enrolled: device/);
      const first = await home.cli(['consent'], 'y\ny\n');
      expect(first.stdout, first.stderr).toMatch(/granted: app_usage, idle/);
      const windows = await Promise.all([x.openWindow('Quarterly plan', 'Editor'), x.openWindow('Inbox', 'Mail')]);
      const agent = home.start();
      await agent.waitFor(/capturing app_usage, idle/);

      const page = await browser.newPage();
      await signIn(page);
      // Before: the employee granted v1, without titles.
      expect(await coverageRow(page)).toEqual([expect.stringMatching(/^Field Sales\|v1\|1\|1\|0\|0\|0\|0\|1\|1\|0$/)]);

      await page.goto(`${cloud.url}/admin/policies`);
      await page.getByRole('button', { name: 'New draft from the current policy' }).click();
      await page.waitForURL(/\/admin\/policies\/2\?done=created/);
      // A bad value is refused with the field named, and the form keeps what was typed.
      await page.getByLabel('Server retention (days)').fill('0');
      await page.getByRole('button', { name: 'Save draft' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('Server retention (days) must be at least 1');
      await page.getByLabel('Server retention (days)').fill('90');
      await page.getByRole('checkbox', { name: 'window_titles' }).check();
      await page.getByLabel('Purpose of window_titles').fill('Which document or site is in front, hashed on the device, to categorize time.');
      await page.getByRole('button', { name: 'Save draft' }).click();
      await page.waitForURL(/done=saved/);
      expect(await page.getByRole('table', { name: 'Changes' }).textContent()).toContain('New scope "window_titles"');
      await page.getByRole('button', { name: 'Submit for review' }).click();
      await page.waitForURL(/done=submit/);
      expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
      await cloud.cloud.services.drafts.approve(councilMember, 2);
      await page.reload();
      await page.getByRole('button', { name: 'Publish' }).click();
      await page.waitForURL(/done=publish/);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Policy v2 (published)');

      // The agent syncs when a span closes: switching windows closes one. Its next sync brings the directive.
      let flips = 0;
      const flipping = setInterval(() => void x.activate(windows[flips++ % 2] ?? windows[0]), 700);
      try {
        await agent.waitFor(/policy v2 needs your decision on: window_titles/, 30_000);
      } finally {
        clearInterval(flipping);
      }
      const status = await home.cli(['status']);
      expect(status.stdout).toMatch(/policy: v2/);
      expect(status.stdout).toMatch(/capture: capturing app_usage, idle(;|\n)/);
      expect(await agent.stop('SIGTERM')).toBe(0);

      const decided = await home.cli(['consent'], 'y\ny\ny\n');
      expect(decided.code, decided.stderr).toBe(0);
      expect(decided.stdout).toMatch(/policy v2 sha256 [0-9a-f]{64}/);
      expect(decided.stdout).toMatch(/signature: verified/);
      expect(decided.stdout).toMatch(/granted: app_usage, idle, window_titles/);
      const [record] = await cloud.database.rows<{ policy_version: number; granted: string[]; receipt_jws: string }>(
        sql`select policy_version, granted, receipt_jws from consent_records where superseded_at is null and policy_version = 2`,
      );
      expect(record).toMatchObject({ policy_version: 2, granted: ['app_usage', 'idle', 'window_titles'] });
      expect(record?.receipt_jws.split('.')).toHaveLength(3);

      expect(await coverageRow(page)).toEqual([expect.stringMatching(/^Field Sales\|v2\|1\|1\|0\|0\|0\|0\|1\|1\|1$/)]);

      // The notification outbox mails the employee a confirmation of each decision: v1's, then v2's.
      const confirmations = () => smtp.mails.filter((m) => m.to.includes(employeeEmail) && /consent was recorded/i.test(m.subject)).length;
      for (const deadline = Date.now() + 15_000; confirmations() < 2 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 100));
      expect(confirmations(), JSON.stringify(smtp.mails.map((m) => [m.to, m.subject]))).toBe(2);
    });
  });
}
