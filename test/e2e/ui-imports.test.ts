/**
 * The import screen in Chromium, over the real loopback server, a real enrolled agent and the
 * real cloud: the person names their ActivityWatch export, reads what would be uploaded, says no
 * and then yes, and withdraws the import (asked to confirm first). Accessible (axe at zero) and
 * usable at 390 px wide.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { portOfAgent } from '../../desktop-agent/src/ui/agent-port';
import { buildUi } from '../../desktop-agent/src/ui/build';
import { createAgentHandlers } from '../../desktop-agent/src/ui/handlers';
import { startUiServer, type UiServer } from '../../desktop-agent/src/ui/server';
import { inProcessAgent, type InProcessAgent } from '../helpers/agent-in-process';
import { axeViolations, CHROMIUM, launchChromium } from '../helpers/browser';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00');
const event = (start: number, ms: number, data: Record<string, unknown>) => ({ timestamp: iso(start), duration: ms / 1000, data });

describe.skipIf(!existsSync(CHROMIUM))('agent import screen in Chromium', () => {
  let cloud: TestCloud;
  let agent: InProcessAgent;
  let ui: UiServer;
  let browser: Browser;
  let page: Page;
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'icarus-ui-imports-'));
    cloud = await startTestCloud();
    agent = await inProcessAgent(cloud.url, (await cloud.personToken('Fay')).token, 'fay');
    await agent.agent.consent.fetchPolicy();
    await agent.agent.binding.refresh();
    const handlers = createAgentHandlers(portOfAgent(agent.agent, { clock: { now: () => Date.now() }, osUser: 'fay', agentVersion: 'test' }));
    ui = await startUiServer({ handlers, assetsDir: await buildUi(join(dir, 'ui')) });
    const yesterday = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - DAY + 9 * HOUR;
    file = join(dir, 'aw-buckets-export.json');
    const bucket = (id: string, type: string, events: unknown[]) => ({ id, type, hostname: 'fay', events });
    writeFileSync(
      file,
      JSON.stringify({
        buckets: {
          w: bucket('w', 'currentwindow', [
            event(yesterday, 20 * MIN, { app: 'Editor', title: 'plan.md' }),
            event(yesterday + 20 * MIN, 10 * MIN, { app: 'Mail', title: 'inbox' }),
          ]),
          web: bucket('web', 'web.tab.current', [event(yesterday, 5 * MIN, { url: 'https://mail.example/', title: 'inbox' })]),
        },
      }),
    );
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'en-GB', timezoneId: 'UTC' });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.close();
    await agent?.close();
    await cloud?.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const notice = () => page.locator('#notice').textContent();
  const grants = () =>
    cloud.database.rows<{ withdrawn: boolean }>(
      sql`select withdrawn_at is not null as withdrawn from import_grants where device_id = ${agent.device.deviceId}`,
    );
  const fitsWidth = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  /** Ticks the first scope offered, asks for the preview and answers its region once shown. */
  const previewWithFirstScope = async () => {
    await page
      .getByRole('group', { name: /What to import/ })
      .getByRole('checkbox')
      .first()
      .check();
    await page.getByRole('button', { name: 'Show what would be uploaded' }).click();
    const preview = page.getByRole('region', { name: 'What this import uploads to your organisation' });
    await expect.poll(() => preview.isVisible()).toBe(true);
    return preview;
  };

  it('preview, no, yes, then withdraw with a confirmation; reachable from My data', { timeout: 60_000 }, async () => {
    // Reached from My data, as the other screens are.
    await page.goto(ui.pageUrl('my-data'));
    await page.getByRole('link', { name: 'Import or withdraw history' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Import history from ActivityWatch');
    expect(await page.getByRole('region', { name: 'Imports you made' }).textContent()).toContain('You have imported no history.');
    // Served to a browser, there is no system file dialog to offer: the path is typed.
    expect(await page.getByRole('button', { name: 'Choose the export file…' }).count()).toBe(0);
    expect(await page.locator('#import-path-hint').textContent()).toMatch(/^In ActivityWatch: .* Then type or paste/);
    expect(await axeViolations(page)).toEqual([]);
    expect(await fitsWidth()).toBe(true);

    // Nothing typed: the field is named in the error, nothing asked of the agent.
    await page.getByRole('button', { name: 'Show what would be uploaded' }).click();
    await expect.poll(notice).toBe('Type the path of the export file first.');

    await page.getByLabel('Path of the export file on this computer').fill(file);
    // No decision on this computer yet: the agent asks which scopes to import.
    await page.getByRole('button', { name: 'Show what would be uploaded' }).click();
    await expect.poll(notice).toMatch(/no consent decision yet/);
    const preview = await previewWithFirstScope();
    const text = (await preview.textContent()) ?? '';
    expect(text).toContain('30 min active, 0 s away, in 2 records');
    expect(text).toMatch(/Window titles\s*Not included/);
    expect(text).toMatch(/Applications\s*2/);
    expect(text).toContain('5 min in 1 event: not a window or afk bucket');
    expect(text).toMatch(/Your organisation keeps 90 days, so nothing before .* is imported/);
    expect(await axeViolations(page)).toEqual([]);
    expect(await fitsWidth()).toBe(true);

    // No: nothing stored, no consent recorded.
    await page.getByRole('button', { name: 'No, import nothing' }).click();
    await expect.poll(notice).toBe('Nothing imported; no consent was recorded.');
    expect(await preview.isVisible()).toBe(false);
    expect(await grants()).toEqual([]);
    expect(agent.store.spans.everything()).toEqual([]);

    // Yes: the grant with its receipt, the spans stored under it, the import listed.
    await page.getByRole('button', { name: 'Show what would be uploaded' }).click();
    await page.getByRole('button', { name: 'Yes, import this history' }).click();
    await expect.poll(notice).toBe('Imported 2 records under a signed receipt (signature checked); they are sent with the next sync.');
    expect(await grants()).toEqual([{ withdrawn: false }]);
    expect(agent.store.spans.everything().map((s) => s.app)).toEqual(['Editor', 'Mail']);
    const list = page.getByRole('region', { name: 'Imports you made' });
    expect(await list.textContent()).toMatch(/2 records, 30 min active, as .*; consented/);
    expect(await axeViolations(page)).toEqual([]);
    expect(await fitsWidth()).toBe(true);

    // Withdraw asks first: dismissed, nothing changes.
    const withdraw = list.getByRole('button', { name: /^Withdraw the import of / });
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.dismiss();
    });
    await withdraw.click();
    await expect.poll(() => asked).toMatch(/^Withdraw the import of .*\? Its history is erased from the server and from this computer\.$/);
    expect(await grants()).toEqual([{ withdrawn: false }]);
    expect(agent.store.spans.everything()).toHaveLength(2);

    page.once('dialog', (d) => void d.accept());
    await withdraw.click();
    await expect.poll(notice).toBe('Import withdrawn: 0 records erased on the server and 2 on this computer.');
    expect(await grants()).toEqual([{ withdrawn: true }]);
    expect(agent.store.spans.everything()).toEqual([]);
    expect(await list.textContent()).toMatch(/Withdrawn .*; its history is erased from the server and from this computer\./);
    expect(await list.getByRole('button').count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('offers the system file dialog where the shell has one, and fills the path from it', { timeout: 60_000 }, async () => {
    // The tray app's port with its file dialog; Electron's dialog cannot open here, so a fake
    // answers for it: closed without a choice first, then the export chosen.
    const answers: (string | null)[] = [null, file];
    const port = {
      ...portOfAgent(agent.agent, { clock: { now: () => Date.now() }, osUser: 'fay', agentVersion: 'test' }),
      chooseImportFile: async () => answers.shift() ?? null,
    };
    const shell = await startUiServer({ handlers: createAgentHandlers(port), assetsDir: await buildUi(join(dir, 'ui-shell')) });
    try {
      await page.goto(shell.pageUrl('imports'));
      const choose = page.getByRole('button', { name: 'Choose the export file…' });
      await expect.poll(() => choose.isVisible()).toBe(true);
      expect(await page.locator('#import-path-hint').textContent()).toMatch(/Then choose the saved file, or type or paste its path/);
      expect(await axeViolations(page)).toEqual([]);
      expect(await fitsWidth()).toBe(true);

      await choose.click();
      await expect.poll(notice).toBe('No file chosen.');
      expect(await page.getByLabel('Path of the export file on this computer').inputValue()).toBe('');

      await choose.click();
      await expect.poll(notice).toBe(`Chosen: ${file}. Choose what to import, then show what would be uploaded.`);
      expect(await page.getByLabel('Path of the export file on this computer').inputValue()).toBe(file);
      const preview = await previewWithFirstScope();
      expect(await preview.textContent()).toContain('30 min active, 0 s away, in 2 records');
      expect(answers).toEqual([]);
    } finally {
      await shell.close();
    }
  });
});
