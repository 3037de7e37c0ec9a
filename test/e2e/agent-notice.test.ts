/**
 * The employee notice on the device, end to end: the agent core against the real cloud shows the
 * notice of the policy version in force on the consent screen (Chromium, 390 px, axe-core at zero),
 * records the person's acknowledgment, which the admin's tracking counts; a newly published version
 * asks again, an acknowledgment given on the web shows on the device, and a stale one is refused.
 * The headless CLI shows the same notice and records it too.
 */
import { existsSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../cloud/src/modules/consent/default-policy';
import { createAgentHandlers } from '../../desktop-agent/src/ui/handlers';
import { axeViolations, CHROMIUM, launchChromium } from '../helpers/browser';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';
import { richPolicy, startUiAgent, type UiAgent } from './ui-agent';

describe.skipIf(!existsSync(CHROMIUM))('the employee notice on the device', () => {
  let agent: UiAgent;
  let browser: Browser;
  let page: Page;
  let bundle: Awaited<ReturnType<typeof agentBundle>>;
  let home: AgentHome | undefined;

  const alex = async () => {
    const found = await agent.cloud.cloud.services.directory.findUserByEmail(agent.cloud.bootstrap.orgId, 'alex@people.test');
    if (!found) throw new Error('no alex');
    return found;
  };
  const tracked = async (version: number) => {
    const admin = await agent.cloud.cloud.services.directory.findUserByEmail(agent.cloud.bootstrap.orgId, agent.cloud.bootstrap.adminEmail);
    const user = {
      userId: admin?.id ?? '',
      orgId: agent.cloud.bootstrap.orgId,
      role: 'admin' as const,
      name: 'Admin',
      email: agent.cloud.bootstrap.adminEmail,
    };
    const { rows } = await agent.cloud.cloud.services.noticeAcknowledgments.list(user as never, version);
    return rows;
  };
  const noticeRegion = () => page.getByRole('region', { name: /^Monitoring notice \(policy version \d+\)$/ });

  beforeAll(async () => {
    agent = await startUiAgent(Date.now());
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'en-GB', timezoneId: 'UTC' });
    bundle = await agentBundle();
  }, 120_000);
  afterAll(async () => {
    home?.cleanup();
    bundle?.remove();
    await browser?.close();
    await agent?.stop();
  });

  it('shows the notice in force at consent time and records the acknowledgment, which the admin’s tracking counts', { timeout: 60_000 }, async () => {
    const version = (await agent.cloud.cloud.services.consent.currentPolicy(agent.cloud.bootstrap.orgId)).version;
    await page.goto(agent.ui.pageUrl('consent'));
    const region = noticeRegion();
    await expect.poll(() => region.isVisible()).toBe(true);
    expect(await region.getAttribute('aria-label')).toBe(`Monitoring notice (policy version ${version})`);
    // Open until acknowledged: the notice's own sections are readable at once.
    expect(await region.locator('details').getAttribute('open')).not.toBeNull();
    const text = (await region.textContent()) ?? '';
    for (const part of ['Notice to employees of electronic monitoring', 'What is recorded', 'What is never recorded', 'It never records keystrokes'])
      expect(text).toContain(part);
    expect(await axeViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await tracked(version).then((rows) => rows.find((r) => r.email === 'alex@people.test')?.acknowledgedAt)).toBeNull();

    await page.getByRole('button', { name: 'I have read this notice' }).click();
    const done = page.locator('#notice-acknowledged');
    await expect.poll(() => done.textContent()).toContain(`You acknowledged this notice (policy version ${version}) on`);
    expect(await region.locator('details').getAttribute('open')).toBeNull();
    expect(await page.getByRole('button', { name: 'I have read this notice' }).count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    // The admin's tracking counts it; the audit log says it came from this device.
    const row = (await tracked(version)).find((r) => r.email === 'alex@people.test');
    expect(row?.acknowledgedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const deviceId = agent.store.state.device()?.deviceId;
    const audited = await agent.cloud.database.rows<{ actor_type: string; actor_id: string }>(
      sql`select actor_type, actor_id from audit_log where action = 'notice.acknowledged'`,
    );
    expect(audited).toEqual([{ actor_type: 'device', actor_id: deviceId }]);
    // Shown again later, it says when, and asks nothing.
    await page.reload();
    await expect.poll(() => page.locator('#notice-acknowledged').isVisible()).toBe(true);
  });

  it('a newly published version asks again (the tray reopens for it); one acknowledged on the web shows here; a stale one is refused', async () => {
    const handlers = createAgentHandlers({
      store: agent.store,
      consent: agent.consent,
      clock: agent.clock,
      agentVersion: '0.1.0',
      osUser: 'alex',
      runtime: () => ({ captureSources: [], lastSyncMs: undefined, lastSyncError: undefined }),
      frontWindow: async () => undefined,
      idleMs: async () => undefined,
      notice: { fetch: () => agent.consent.fetchNotice(), acknowledge: (v, h) => agent.consent.acknowledgeNotice(v, h) },
    });
    const before = await handlers['notice:get']({});
    expect(before.acknowledgmentNeeded).toBe(false);
    const old = before.notice;
    // Nothing widened (a shorter retention): no decision is asked, but the notice is new.
    const published = await agent.cloud.cloud.services.consent.publish(
      agent.cloud.bootstrap.orgId,
      { ...richPolicy('Demo Org'), retentionDays: 30 },
      { type: 'system', id: 'notice-test' },
    );
    const after = await handlers['notice:get']({});
    expect(after).toMatchObject({ available: true, acknowledgmentNeeded: true, notice: { version: published.version, acknowledgedAt: null } });
    await expect(handlers['notice:acknowledge']({ version: old?.version ?? 0, hash: old?.hash ?? '' })).rejects.toThrow(
      `policy version ${published.version} is in force now`,
    );
    await page.reload();
    await expect.poll(() => noticeRegion().getAttribute('aria-label')).toBe(`Monitoring notice (policy version ${published.version})`);
    expect(await noticeRegion().locator('details').getAttribute('open')).not.toBeNull();

    // Acknowledged on the web (My data → the notice): the device shows it done.
    const person = await alex();
    await agent.cloud.cloud.services.noticeAcknowledgments.acknowledge({ orgId: person.orgId, userId: person.id }, published.version);
    expect((await handlers['notice:get']({})).acknowledgmentNeeded).toBe(false);
    await page.reload();
    await expect.poll(() => page.locator('#notice-acknowledged').isVisible()).toBe(true);
  });

  it('the headless CLI shows the notice and records the acknowledgment', { timeout: 90_000 }, async () => {
    const version = (
      await agent.cloud.cloud.services.consent.publish(agent.cloud.bootstrap.orgId, defaultPolicy('Demo Org'), { type: 'system', id: 'notice-test' })
    ).version;
    home = agentHome(bundle.file, { ...process.env, DISPLAY: '' });
    const { token, userId } = await agent.cloud.personToken('casey');
    expect((await home.cli(['enroll', '--server', agent.cloud.url, '--token', token])).code).toBe(0);
    const shown = await home.cli(['notice'], 'n\n');
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`Notice to employees of electronic monitoring (policy v${version})`);
    expect(shown.stdout).toContain('What is never recorded');
    expect(shown.stdout).toContain('not acknowledged');
    // The consent command shows it before the scopes and asks after them.
    const consent = await home.cli(['consent'], 'y\ny\ny\n');
    expect(consent.code, consent.stderr).toBe(0);
    expect(consent.stdout.indexOf('What is never recorded')).toBeLessThan(consent.stdout.indexOf('Do you consent'));
    expect(consent.stdout).toContain(`notice of policy v${version} acknowledged at`);
    const rows = await tracked(version);
    expect(rows.find((r) => r.userId === userId)?.acknowledgedAt).toMatch(/^\d{4}-/);
    const again = await home.cli(['notice']);
    expect(again.stdout).toContain('You acknowledged this notice on');
  });
});
