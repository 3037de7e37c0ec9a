/**
 * Webhook endpoints the server disabled are in sight: one that answered 410 Gone and one whose
 * delivery failed through the whole retry schedule are listed for the admin (API and page) with
 * when and why, the admins are mailed, and each is re-enabled from the page or the API with a
 * signed test delivery that reaches the receiver. Real cloud, real receivers, real Chromium
 * (axe-core at zero, 390 px wide).
 */
import { existsSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Browser, BrowserContext } from 'playwright-core';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTotpSecret, totpCode } from '../../cloud/src/modules/identity/totp';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { testDatabaseKinds } from '../../cloud/test/support/database';
import { startSmtpServer, startWebhookReceiver, waitFor } from '../../cloud/test/support/servers';
import { axeViolations, CHROMIUM, launchChromium } from '../helpers/browser';

const PASSWORD = 'correct horse battery staple';
const skip = existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM}`;

type Receiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
interface Listed {
  webhooks: { id: string; url: string }[];
  disabled: { id: string; url: string; events: string[]; disabledAt: string; reason: string; detail: string | null }[];
}

describe.skipIf(skip !== undefined).each(testDatabaseKinds())('disabled webhook endpoints on %s', (kind) => {
  let cloud: TestCloud;
  let browser: Browser;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  // Two receivers: one that answers 410 Gone, one that fails every attempt.
  let goneHooks: Receiver;
  let failingHooks: Receiver;
  const secrets = { gone: '', failing: '' };
  let admin: BrowserContext;
  let api: { headers: Record<string, string> };
  let employeeHeaders: Record<string, string>;
  let adminEmail = '';
  const ids = { gone: '', failing: '' };

  const call = (method: string, path: string, headers = api.headers, body?: unknown) =>
    cloud.fetchPath(path, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const listed = async () => (await (await call('GET', '/api/notifications/webhooks')).json()) as Listed;
  const silent = (name: string) =>
    cloud.cloud.services.notifications.publish(
      { type: 'device.silent', orgId: cloud.bootstrap.orgId, deviceId: uuidv7(), deviceName: name, ownerName: null, lastSeenAt: null, days: 9 },
      `disabled-${name}`,
    );

  beforeAll(async () => {
    smtp = await startSmtpServer();
    goneHooks = await startWebhookReceiver(() => secrets.gone);
    failingHooks = await startWebhookReceiver(() => secrets.failing);
    cloud = await startTestCloud(kind, {
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      NOTIFY_POLL_MS: '50',
      // Two retries a few hundred milliseconds apart: the whole schedule runs inside the test.
      WEBHOOK_RETRY_SCHEDULE: '200ms,300ms',
      WEBHOOK_ALLOW_HOSTS: `${new URL(goneHooks.url).host},${new URL(failingHooks.url).host}`,
    });
    browser = await launchChromium();
    const { auth, directory } = cloud.cloud.services;
    const orgId = cloud.bootstrap.orgId;
    adminEmail = `ada-${kind}@hooks.example`;
    const ada = await directory.createUser({ orgId, email: adminEmail, name: 'Ada Admin', role: 'admin', password: PASSWORD });
    const totp = newTotpSecret();
    await auth.storeTotpSecret(ada.id, totp);
    const full = await auth.signInWithPassword({ email: adminEmail, password: PASSWORD });
    await auth.verifyTotp(full.session.id, totpCode(totp, Date.now()));
    api = { headers: { cookie: `icarus_session=${full.token}`, 'x-csrf-token': full.session.csrfSecret } };
    await directory.createUser({ orgId, email: `eve-${kind}@hooks.example`, name: 'Eve Employee', role: 'employee', password: PASSWORD });
    const eve = await auth.signInWithPassword({ email: `eve-${kind}@hooks.example`, password: PASSWORD });
    employeeHeaders = { cookie: `icarus_session=${eve.token}`, 'x-csrf-token': eve.session.csrfSecret };
    admin = await browser.newContext({ viewport: { width: 390, height: 844 } });
    await admin.addCookies([{ name: 'icarus_session', value: full.token, url: cloud.url }]);

    for (const [which, hooks] of [
      ['gone', goneHooks],
      ['failing', failingHooks],
    ] as const) {
      const made = await call('POST', '/api/notifications/webhooks', api.headers, { url: hooks.url, events: ['device.silent'] });
      expect(made.status).toBe(201);
      const body = (await made.json()) as { id: string; secret: string };
      ids[which] = body.id;
      secrets[which] = body.secret;
    }
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await cloud?.stopAll();
    await Promise.all([goneHooks?.close(), failingHooks?.close(), smtp?.close()]);
  });

  it('lists an endpoint that answered 410 Gone and one that failed every retry, with when and why, and tells the admins', { timeout: 60_000 }, async () => {
    goneHooks.state.gone = true;
    failingHooks.state.failures = 1000;
    const before = Date.now();
    await silent('first');
    const found = await waitFor(async () => {
      const now = await listed();
      return now.disabled.length === 2 ? now : undefined;
    }, 20_000);
    // The failing one took the whole schedule: the first attempt and both retries.
    expect(failingHooks.received.filter((h) => h.body.includes('"first"'))).toHaveLength(3);
    expect(goneHooks.received.filter((h) => h.body.includes('"first"'))).toHaveLength(1);
    expect(found.webhooks).toEqual([]);
    const byId = new Map(found.disabled.map((d) => [d.id, d]));
    expect(byId.get(ids.gone)).toMatchObject({ url: goneHooks.url, events: ['device.silent'], reason: 'gone', detail: 'HTTP 410 Gone' });
    expect(byId.get(ids.failing)).toMatchObject({ url: failingHooks.url, reason: 'failing', detail: 'webhook answered HTTP 500' });
    for (const d of found.disabled) expect(Date.parse(d.disabledAt)).toBeGreaterThanOrEqual(before - 1000);
    // Nothing more goes to them: a later event is not delivered.
    await silent('second');
    await new Promise((r) => setTimeout(r, 600));
    expect([...goneHooks.received, ...failingHooks.received].filter((h) => h.body.includes('"second"'))).toEqual([]);
    // The admins hear of each, in words that say why.
    const mails = await waitFor(() => {
      const to = smtp.mails.filter((m) => m.subject === 'A webhook endpoint was disabled' && m.to.includes(adminEmail));
      return to.length === 2 ? to : undefined;
    });
    expect(mails.some((m) => m.raw.includes('410 Gone') && m.raw.includes(goneHooks.url))).toBe(true);
    expect(mails.some((m) => m.raw.includes('failed a delivery through every retry') && m.raw.includes(failingHooks.url))).toBe(true);
    const audited = await cloud.database.rows<{ reason: string }>(
      sql`select details->>'reason' as reason from audit_log where action = 'webhook.disabled' order by seq`,
    );
    expect(audited.map((r) => r.reason).sort()).toEqual(['failing', 'gone']);
  });

  it('shows them on the webhooks page and re-enables one there with a signed test delivery', { timeout: 60_000 }, async () => {
    const page = await admin.newPage();
    await page.goto(`${cloud.url}/admin/webhooks`);
    const table = page.getByRole('table', { name: 'Disabled endpoints' });
    const goneRow = await table.locator('tbody tr', { hasText: goneHooks.url }).textContent();
    expect(goneRow).toContain('It answered 410 Gone');
    const failingRow = await table.locator('tbody tr', { hasText: failingHooks.url }).textContent();
    expect(failingRow).toContain('A delivery failed through every retry; the last answer: webhook answered HTTP 500.');
    expect(await axeViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    failingHooks.state.failures = 0;
    await page.getByRole('button', { name: `Re-enable ${failingHooks.url} and send a test` }).click();
    await page.waitForURL(/done=enabled/);
    expect(await page.getByRole('status').first().textContent()).toContain('Endpoint re-enabled');
    const test = await waitFor(() => failingHooks.received.find((h) => h.body.includes('"webhook.test"')), 20_000);
    expect(test.signatureValid).toBe(true);
    await page.reload();
    expect(await page.getByRole('table', { name: 'Endpoints' }).locator('tbody tr', { hasText: failingHooks.url }).count()).toBe(1);
    expect(await page.getByRole('table', { name: 'Disabled endpoints' }).locator('tbody tr').count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    // Back in service: the next event reaches it.
    await silent('third');
    await waitFor(() => failingHooks.received.find((h) => h.body.includes('"third"')));
    await page.close();
  });

  it('re-enables at the API (admins only; an active or removed endpoint is not found) and audits it', { timeout: 60_000 }, async () => {
    expect((await call('GET', '/api/notifications/webhooks', employeeHeaders)).status).toBe(403);
    expect((await call('POST', `/api/notifications/webhooks/${ids.gone}/enable`, employeeHeaders)).status).toBe(403);
    const active = await call('POST', `/api/notifications/webhooks/${ids.failing}/enable`);
    expect(active.status).toBe(404);
    expect(((await active.json()) as { error: { fields: { path: string }[] } }).error.fields).toEqual([{ path: 'id', problem: 'not found' }]);

    goneHooks.state.gone = false;
    const enabled = await call('POST', `/api/notifications/webhooks/${ids.gone}/enable`);
    expect(enabled.status).toBe(202);
    const { deliveryId } = (await enabled.json()) as { deliveryId: string };
    const test = await waitFor(() => goneHooks.received.find((h) => h.deliveryId === deliveryId), 20_000);
    expect(test.signatureValid).toBe(true);
    expect((await listed()).disabled).toEqual([]);

    // Removed by an admin: gone for good, never offered again.
    expect((await call('DELETE', `/api/notifications/webhooks/${ids.gone}`)).status).toBe(204);
    expect((await listed()).disabled).toEqual([]);
    expect((await call('POST', `/api/notifications/webhooks/${ids.gone}/enable`)).status).toBe(404);
    const audited = await cloud.database.rows<{ id: string }>(
      sql`select details->>'endpointId' as id from audit_log where action = 'webhook.enabled' order by seq`,
    );
    expect(audited.map((r) => r.id)).toEqual([ids.failing, ids.gone]);
  });
});
