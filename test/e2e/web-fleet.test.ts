/**
 * The fleet page, the audit log and My data in Chromium, as their people use them: IT finds a
 * silent laptop among 1,000 and revokes it after confirming; an auditor filters the log by person
 * and action and opens an entry; an employee withdraws a scope, reads who viewed their data and
 * confirms an erasure. Every page has no axe violation and fits a 390 px phone.
 */
import { mkdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_API } from '../../cloud/src/modules/admin';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../cloud/test/support/admin';
import { testDatabaseKinds } from '../../cloud/test/support/database';
import { createTestDevice } from '../../cloud/test/support/device-client';
import { launchChromium, axeViolations } from '../helpers/browser';

const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;
const KEY = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' });

describe.each(testDatabaseKinds())('fleet, audit log and My data in Chromium on %s', (kind) => {
  let bed: AdminTestbed;
  let browser: Browser;
  let admin: Caller;
  let silentId: string;

  beforeAll(async () => {
    bed = await startAdminTestbed(kind, `web-fleet-${kind}`);
    mkdirSync(SHOTS, { recursive: true });
    const orgId = bed.orgA.orgId;
    await bed.cloud.database.rows(sql`update orgs set time_zone = 'Europe/Berlin' where id = ${orgId}`);
    // A fleet of 1,000, one of them silent for three days, named like the rest.
    await bed.cloud.database.rows(sql`
      insert into devices (id, org_id, enrollment_token_id, name, platform, os_user, public_key_jwk, agent_version, status, enrolled_at, last_seen_at)
      select gen_random_uuid(), ${orgId}::uuid, gen_random_uuid(), 'laptop-' || lpad(i::text, 4, '0'),
        (array['win32','darwin','linux'])[1 + i % 3], 'user' || i, ${KEY}::jsonb,
        case when i % 10 = 0 then '0.9.0' else '0.10.0' end,
        jsonb_build_object('agentVersion', case when i % 10 = 0 then '0.9.0' else '0.10.0' end, 'pendingSpans', 0,
          'droppedSpans', case when i % 100 = 0 then 3 else 0 end, 'captureSources', '[{"name":"x11","ok":true}]'::jsonb),
        now() - interval '60 days' + i * interval '1 hour',
        case when i = 613 then now() - interval '3 days' else now() - interval '2 minutes' end
      from generate_series(1, 1000) as i`);
    const [silent] = await bed.cloud.database.rows<{ id: string }>(sql`select id from devices where name = 'laptop-0613'`);
    silentId = silent?.id ?? '';
    admin = await bed.as('admin');
    browser = await launchChromium();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await bed?.stop();
  });

  async function open(caller: Caller, width = 1280): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const token = /icarus_session=([^;]+)/.exec(caller.headers['cookie'] ?? '')?.[1] ?? '';
    await context.addCookies([{ name: 'icarus_session', value: token, url: bed.cloud.url }]);
    return { context, page: await context.newPage() };
  }

  /** No axe violation at desktop width, and nothing wider than a 390 px phone. */
  async function checkPage(caller: Caller, path: string) {
    const { context, page } = await open(caller);
    expect((await page.goto(`${bed.cloud.url}${path}`))?.status(), path).toBe(200);
    expect(await axeViolations(page), path).toEqual([]);
    await page.setViewportSize({ width: 390, height: 844 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        // Inside a box that scrolls sideways (a wide table, the phone's one-row navigation) is fine.
        .filter((e) => e.getBoundingClientRect().right > 391 && !e.closest('.table-wrap') && !e.closest('nav.main'))
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`),
    );
    expect({ width: Math.min(width, 390), wide }, `${path} at 390 px`).toEqual({ width: 390, wide: [] });
    await context.close();
  }

  it('IT finds the silent laptop among 1,000 by filter and search, and revokes it only after confirming', async () => {
    const { context, page } = await open(admin);
    await page.goto(`${bed.cloud.url}/admin/devices`);
    await expect.poll(() => page.locator('.tiles').innerText()).toContain('1\nsilent');
    expect(await page.locator('.versions').innerText()).toContain('0.10.0 on 900 (newest), 0.9.0 on 100');
    await page.selectOption('select[name=health]', 'silent');
    await page.fill('input[name=q]', 'laptop-06');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/health=silent/);
    expect(await page.locator('p[role=status]').innerText()).toBe('1 device matches; showing 1–1.');
    await page.screenshot({ path: `${SHOTS}fleet.png`, fullPage: true });
    await page.click('text=laptop-0613');
    await page.click('text=Revoke this device…');
    await page.waitForURL(/\/revoke$/);
    expect(await page.locator('main').innerText()).toContain('It stops syncing at once');
    const revokedAt = async () =>
      (await bed.cloud.database.rows<{ r: string | null }>(sql`select revoked_at::text as r from devices where id = ${silentId}`))[0]?.r;
    expect(await revokedAt()).toBeNull();
    await page.click('button:has-text("Yes, revoke laptop-0613")');
    await page.waitForURL(/done=revoked/);
    expect(await page.locator('main').innerText()).toContain('it can no longer sync');
    expect(await revokedAt()).not.toBeNull();
    await context.close();
  }, 120_000);

  it('a new enrollment token comes with the silent-install commands the installers read', async () => {
    const { context, page } = await open(admin);
    await page.goto(`${bed.cloud.url}/admin/enrollment-tokens`);
    await page.fill('#label', 'Sales laptops');
    await page.fill('#validDays', 'thirty');
    await page.click('form[aria-label="New enrollment token"] button[type=submit]');
    const problems = await page.locator('[role=alert]').innerText();
    expect(problems).toContain('Valid for (days): enter the number of days as a whole number from 1 to 365');
    expect(problems).not.toContain('NaN');
    expect(problems.match(/Valid for/g)).toHaveLength(1);
    await page.fill('#validDays', '30');
    await page.click('form[aria-label="New enrollment token"] button[type=submit]');
    const token = await page.locator('#new-token').innerText();
    const commands = await page.locator('section[aria-label="Silent-install commands"]').innerText();
    expect(commands).toContain(`msiexec /i IcarusNova-0.1.0-x64.msi /qn SERVERURL=${bed.cloud.url} ENROLLMENTTOKEN=${token}`);
    expect(commands).toContain(`<string>${token}</string>`);
    expect(commands).toContain(`echo '{"server":"${bed.cloud.url}","enrollmentToken":"${token}"}' | sudo tee /etc/icarus-nova/agent.json`);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  }, 120_000);

  it('an auditor filters the log by person and action and opens one entry’s details', async () => {
    const { audit } = bed.cloud.cloud.services;
    const people = bed.orgA.people;
    await audit.record({
      orgId: bed.orgA.orgId,
      actorType: 'user',
      actorId: people.manager.id,
      action: 'report.team_summary.viewed',
      subjectUserIds: [people.employee.id, people.teammate.id, people.outsider.id, people.admin.id],
      details: { from: '2026-11-01', to: '2026-11-30' },
    });
    const { context, page } = await open(await bed.as('auditor'));
    await page.goto(`${bed.cloud.url}/audit`);
    await page.fill('input[name=person]', people.employee.email);
    await page.selectOption('select[name=action]', 'report.team_summary.viewed');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/action=report/);
    const rows = page.locator('table[aria-label="Audit entries"] tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain('manager (manager) viewed a team summary report, for 2026-11-01 to 2026-11-30.');
    expect(await rows.first().innerText()).toContain('4 people');
    await page.click('table details summary');
    expect(await page.locator('table details dl').innerText()).toContain('2026-11-30');
    await page.screenshot({ path: `${SHOTS}audit.png`, fullPage: true });
    await page.click('text=4 people');
    expect(await page.locator('main').innerText()).toContain('People whose data it concerned (4)');
    await context.close();
  }, 120_000);

  it('an employee withdraws a scope, reads who viewed their data in plain words, and confirms an erasure', async () => {
    const token = (await (
      await admin.send('POST', ADMIN_API.tokens, { label: 'emp', validDays: 1, maxUses: 1, userId: bed.orgA.people.employee.id })
    ).json()) as {
      token: string;
    };
    const laptop = await createTestDevice(bed.cloud.fetchPath, bed.cloud.url, token.token, 'emp');
    expect((await laptop.consent(['app_usage', 'idle'])).status).toBe(201);
    const employee = await bed.as('employee');
    const { context, page } = await open(employee);
    await page.goto(`${bed.cloud.url}/me/data`);
    await page.click('button:has-text("Withdraw active or idle")');
    await page.waitForURL(/withdrawn=idle/);
    expect(await page.locator('[role=status]').first().innerText()).toContain('Withdrawn: active or idle on one computer.');
    const viewers = await page.locator('ul.viewers').innerText();
    expect(viewers).toContain('manager (manager) saw your time per category, in a team summary, you as one of 4 people in a total.');
    expect(viewers).not.toContain('report.team_summary.viewed');
    expect(viewers).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} (CET|GMT\+1)/);
    await page.screenshot({ path: `${SHOTS}my-data.png`, fullPage: true });
    await page.click('text=Erase my data…');
    await page.click('button:has-text("Erase my data")');
    expect(await page.locator('[role=alert]').innerText()).toContain('Confirmation: tick the box to confirm that your data is to be erased');
    await page.check('input[name=confirm]');
    await page.click('button:has-text("Erase my data")');
    await page.waitForURL(/requested=1/);
    expect(await page.locator('main').innerText()).toContain('Your erasure request was received');
    await context.close();
  }, 120_000);

  it('has no axe violation and fits a 390 px phone on every page of the fleet, the log and My data', async () => {
    const [other] = await bed.cloud.database.rows<{ id: string }>(sql`select id from devices where name = 'laptop-0100'`);
    const [entry] = await bed.cloud.database.rows<{ seq: number }>(sql`select max(seq)::int as seq from audit_log where org_id = ${bed.orgA.orgId}`);
    const auditor = await bed.as('auditor');
    const employee = await bed.as('employee');
    for (const [who, path] of [
      [admin, '/admin/devices'],
      [admin, '/admin/devices?health=dropping&sort=name'],
      [admin, `/admin/devices/${other?.id}`],
      [admin, `/admin/devices/${other?.id}/revoke`],
      [admin, '/admin/enrollment-tokens'],
      [auditor, '/audit'],
      [auditor, `/audit/events/${entry?.seq}`],
      [auditor, '/audit/verify'],
      [employee, '/me/data'],
      [employee, '/me/data/erasure'],
    ] as const)
      await checkPage(who, path);
  }, 240_000);
});
