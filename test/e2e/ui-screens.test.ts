import { existsSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, CHROMIUM, launchChromium } from '../helpers/browser';
import { uuidv7 } from 'uuidv7';
import { richPolicy, startUiAgent, type UiAgent } from './ui-agent';

const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;
const MIN = 60_000;

describe.skipIf(!existsSync(CHROMIUM))('agent screens in Chromium (loopback server)', () => {
  let agent: UiAgent;
  let browser: Browser;
  let page: Page;
  // "Today" on the screens is the agent's day: keep the test's 90 minutes of records inside it,
  // so a run just after midnight does not push them into yesterday.
  const now = Math.max(Date.now(), new Date().setHours(2, 0, 0, 0));

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    agent = await startUiAgent(now);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 900, height: 1100 }, locale: 'en-GB', timezoneId: 'UTC' });
  });

  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
  });

  it('consent dialog: every scope named, a live example, decided by keyboard alone, signed receipt shown', async () => {
    await page.goto(agent.ui.pageUrl('consent'));
    await expect.poll(() => page.getByRole('group', { name: /^Your decision for/ }).count()).toBe(3);
    // Screen-reader names: each scope is a group named by its legend, each choice a named radio.
    const titles = page.getByRole('group', { name: 'Your decision for: Window titles' });
    await expect.poll(() => titles.isVisible()).toBe(true);
    const example = await titles.locator('.example').textContent();
    expect(example).toContain('[email]'); // the policy's redaction rule applied to this computer's title
    expect(example).not.toContain('alex@example.com');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Privacy and consent');
    // Whose consent this is, before anything is asked: the person the server bound the computer to.
    expect(await page.getByRole('region', { name: 'Who this computer records for' }).textContent()).toContain(
      'This computer records for alex <alex@people.test>',
    );
    await page.screenshot({ path: `${SHOTS}agent-consent.png`, fullPage: true });

    // Keyboard only: Tab into each radio group, Space to choose, arrow to change.
    await page.keyboard.press('Tab'); // nav: Status
    await page.keyboard.press('Tab'); // nav: My data
    await page.keyboard.press('Tab'); // nav: Privacy and consent
    await page.keyboard.press('Tab'); // nav: Import history
    await page.keyboard.press('Tab'); // the monitoring notice (open until acknowledged)
    await page.keyboard.press('Tab'); // I have read this notice
    await page.keyboard.press('Tab'); // app_usage: Allow
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab'); // idle group
    await page.keyboard.press('Space'); // Allow
    await page.keyboard.press('Tab'); // window_titles group
    await page.keyboard.press('Space'); // Allow...
    await page.keyboard.press('ArrowRight'); // ...changed to "Do not allow"
    const focused = await page.evaluate(() =>
      document.activeElement instanceof HTMLInputElement ? `${document.activeElement.name}=${document.activeElement.value}` : '',
    );
    expect(focused).toBe('scope-window_titles=decline');
    await page.keyboard.press('Tab'); // policy link
    await page.keyboard.press('Tab'); // submit
    await page.keyboard.press('Enter');

    const receipt = page.getByRole('heading', { name: 'Your signed receipt' });
    await expect.poll(() => receipt.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Your signed receipt');
    expect(await page.getByText('Signature checked: valid.').isVisible()).toBe(true);
    const consent = agent.store.state.get('consent');
    expect(consent?.granted.sort()).toEqual(['app_usage', 'idle']);
    await page.screenshot({ path: `${SHOTS}agent-receipt.png`, fullPage: true });
  });

  it('my data: timeline, totals, sent vs held, delete a held record by keyboard', async () => {
    const spans = agent.store.spans;
    const held = uuidv7();
    const base = now - 90 * MIN;
    spans.insert(
      [
        { id: uuidv7(), start: base, durationMs: 25 * MIN, app: 'code', title: 'handlers.ts — icarus-nova' },
        { id: uuidv7(), start: base + 25 * MIN, durationMs: 6 * MIN, idle: true },
        { id: uuidv7(), start: base + 31 * MIN, durationMs: 40 * MIN, app: 'firefox', title: 'Q3 plan — [email] — Mozilla Firefox' },
        { id: held, start: now - 12 * MIN, durationMs: 8 * MIN, app: 'slack', title: 'general' },
      ],
      now,
    );
    // The first three already went out: a real batch settled as the sync loop would.
    const batch = spans.nextBatch(3, now - 10 * MIN);
    if (batch) spans.settleBatch(batch.batchId, new Map(), now);

    await page.goto(agent.ui.pageUrl('my-data').replace(/#.*/, '')); // token kept for this tab
    await expect.poll(() => page.getByRole('table').count()).toBe(2);
    expect(await page.getByText(/3 sent, 0 waiting to be sent, 1 held for your review/).isVisible()).toBe(true);
    expect(await page.getByRole('rowheader', { name: 'firefox' }).isVisible()).toBe(true);
    await page.screenshot({ path: `${SHOTS}agent-my-data.png`, fullPage: true });

    const box = page.getByRole('checkbox', { name: /^Select slack from/ });
    expect(await page.getByRole('checkbox').count()).toBe(1); // sent records cannot be deleted any more
    await box.focus();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Delete selected records' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('status').textContent()).toBe('1 records deleted from this computer.');
    expect(spans.everything().some((s) => s.id === held)).toBe(false);
  });

  it('status panel: state and pause by keyboard', async () => {
    await page.goto(`${agent.ui.origin}/status.html`);
    const pause = page.getByRole('button', { name: 'Pause 1 hour' });
    await expect.poll(() => pause.isVisible()).toBe(true);
    expect(await page.getByText('State: Recording').isVisible()).toBe(true);
    await page.screenshot({ path: `${SHOTS}agent-status.png`, fullPage: true });
    await pause.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByText('State: Paused').isVisible()).toBe(true);
    const until = agent.store.state.get('pauseUntilMs') ?? 0;
    expect(until - Date.now()).toBeGreaterThan(55 * MIN);
    await page.getByRole('button', { name: 'Resume now' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => agent.store.state.get('pauseUntilMs')).toBeUndefined();
  });

  it('the loopback bridge refuses a missing token, a foreign host or origin, and off-contract payloads', async () => {
    const call = (channel: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${agent.ui.origin}/ipc/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.ui.token}`, ...headers },
        body: JSON.stringify(body),
      });
    expect((await call('status:get', {}, { authorization: 'Bearer nope' })).status).toBe(403);
    expect((await call('status:get', {}, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await call('pause:set', { preset: '3 weeks' })).status).toBe(400);
    expect((await call('mydata:forget', { spanIds: ['not-a-uuid'] })).status).toBe(400);
    expect((await call('shell:exec', {})).status).toBe(404);
    const ok = await call('status:get', {});
    expect(ok.status).toBe(200);
    const page404 = await fetch(`${agent.ui.origin}/../../etc/passwd`);
    expect(page404.status).toBe(404);
    const csp = (await fetch(`${agent.ui.origin}/status.html`)).headers.get('content-security-policy');
    expect(csp).toContain("script-src 'self'");
  });

  it('re-asked after a policy change: what changed is shown, the changes that ask more marked, named for screen readers', async () => {
    const base = richPolicy('Demo Org');
    const v2 = {
      ...base,
      purpose: `${base.purpose} Also used to plan office space.`,
      retentionDays: base.retentionDays + 60,
      scopes: base.scopes.map((s) => (s.scope === 'app_usage' ? { ...s, legalBasis: 'legitimate_interest' as const } : s)),
    };
    const published = await agent.cloud.cloud.services.consent.publish(agent.cloud.bootstrap.orgId, v2, { type: 'system', id: 'ui-test' });
    // What the server's policy_changed directive does on the device.
    await agent.consent.applyDirectives([{ type: 'policy_changed', policyVersion: published.version, scopesNeedingConsent: ['app_usage'] }]);
    expect(agent.store.state.get('consent')?.pending).toEqual(['app_usage']);

    await page.goto(`${agent.ui.origin}/consent.html`);
    const changes = page.getByRole('list', { name: 'What changed since your last decision' });
    await expect.poll(() => changes.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.getByRole('region', { name: 'What changed since your last decision' }).isVisible()).toBe(true);
    const items = changes.getByRole('listitem');
    const texts = await items.allTextContents();
    expect(texts.some((x) => x.startsWith('Asks more of you: ') && x.includes('Server retention in days'))).toBe(true);
    expect(texts.some((x) => x.startsWith('Asks more of you: ') && x.includes('app_usage'))).toBe(true);
    expect(texts.some((x) => x.startsWith('Other change: ') && x.includes('purpose text changed'))).toBe(true);
    // The changes that ask more come first.
    expect(texts[0]).toMatch(/^Asks more of you: /);
    expect(await page.locator('.changes li.widens').count()).toBe(2);

    // Decided again on the new version: nothing left to re-ask, so no comparison.
    const receipt = await fetch(`${agent.ui.origin}/ipc/consent:decide`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.ui.token}` },
      body: JSON.stringify({ policyVersion: published.version, granted: ['app_usage', 'idle'] }),
    });
    expect(receipt.status).toBe(200);
    await page.reload();
    await expect.poll(() => page.getByRole('group', { name: 'Your decision for: Window titles' }).isVisible()).toBe(true);
    expect(await page.getByRole('list', { name: 'What changed since your last decision' }).count()).toBe(0);
  });

  it("status panel: the organisation's messages, newest first, dismissed by keyboard and gone from this computer", async () => {
    const at = Date.now();
    agent.store.state.set('messages', [
      { id: 'm-1', text: 'Someone failed to sign in as you 5 times from 203.0.113.7.', receivedMs: at - 60_000 },
      { id: 'm-2', text: 'Your organisation withdrew the import of 1 May to 3 May; its history was erased.', receivedMs: at },
    ]);
    await page.goto(`${agent.ui.origin}/status.html`);
    const inbox = page.getByRole('region', { name: 'Messages from your organisation' });
    await expect.poll(() => inbox.getByRole('listitem').count()).toBe(2);
    expect(await inbox.getByRole('listitem').first().textContent()).toMatch(/^Your organisation withdrew the import/);
    expect(await axeViolations(page)).toEqual([]);
    await inbox.getByRole('button', { name: /^Dismiss: Your organisation withdrew/ }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Message dismissed.');
    expect(await inbox.getByRole('listitem').count()).toBe(1);
    expect(agent.store.state.get('messages')?.map((m) => m.id)).toEqual(['m-1']);
    // Dismissed elsewhere meanwhile (another window): said so, and the list is read again.
    agent.store.state.set('messages', []);
    await inbox.getByRole('button', { name: /^Dismiss: Someone failed/ }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/That message is no longer on this computer/);
    expect(await inbox.textContent()).toContain('No messages.');
  });

  it('status panel: a revoked device says so, and offers no pause', async () => {
    agent.store.state.set('revoked', { atMs: Date.now(), serverSaid: '403 forbidden: This device has been revoked' });
    await page.goto(`${agent.ui.origin}/status.html`);
    await expect.poll(() => page.getByText('State: Revoked by your organisation').isVisible()).toBe(true);
    expect(await page.getByText(/^Your organisation revoked this device/).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: /^Pause/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Resume now' }).count()).toBe(0);
  });
});
