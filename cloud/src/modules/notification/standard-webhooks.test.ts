import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { startSmtpServer, startWebhookReceiver, waitFor } from '../../../test/support/servers';
import { parseConfig } from '../../platform/config';

type Receiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

/**
 * Deliveries as the Standard Webhooks specification has them, checked against a real local
 * receiver that verifies with the reference library (`standardwebhooks`), never with our code.
 */
describe.each(testDatabaseKinds())('Standard Webhooks on %s', (kind) => {
  let cloud: TestCloud;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let hooks: Receiver;
  let secret = '';
  let orgId: string;
  let adminId: string;
  let adminEmail: string;

  const silent = (name: string) =>
    cloud.cloud.services.notifications.publish(
      { type: 'device.silent', orgId, deviceId: uuidv7(), deviceName: name, ownerName: 'Zoë Åberg', lastSeenAt: null, days: 9 },
      `std-${name}`,
    );
  const delivered = (name: string) => hooks.received.filter((h) => (JSON.parse(h.body) as { data: { deviceName?: string } }).data.deviceName === name);
  const webhookRows = (name: string) =>
    cloud.database.rows<{ status: string; attempts: number; max_attempts: number; last_error: string | null }>(
      sql`select status, attempts, max_attempts, last_error from notification_outbox where channel = 'webhook' and dedupe_key like ${`std-${name}:%`}`,
    );
  const endpointRow = (id: string) =>
    cloud.database.rows<{ secret: string; disabled_at: Date | null }>(sql`select secret, disabled_at from webhook_endpoints where id = ${id}`);

  beforeAll(async () => {
    smtp = await startSmtpServer();
    hooks = await startWebhookReceiver(() => secret);
    cloud = await startTestCloud(kind, {
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      NOTIFY_POLL_MS: '50',
      // The spec's schedule in milliseconds: the same shape, run in a test's time.
      WEBHOOK_RETRY_SCHEDULE: '300ms,600ms',
      WEBHOOK_ALLOW_HOSTS: new URL(hooks.url).host,
    });
    orgId = cloud.bootstrap.orgId;
    adminEmail = cloud.bootstrap.adminEmail;
    adminId = (await cloud.cloud.services.directory.findUserByEmail(orgId, adminEmail))?.id ?? '';
  }, 120_000);
  afterAll(async () => {
    await cloud?.stopAll();
    await hooks?.close();
    await smtp?.close();
  });

  async function addEndpoint(): Promise<{ id: string; secret: string }> {
    const added = await cloud.cloud.services.notifications.addWebhook({ userId: adminId, orgId }, { url: hooks.url, events: ['device.silent'] });
    secret = added.secret;
    return added;
  }

  it('shows a whsec_ secret once, which the reference library loads, and stores it only sealed', async () => {
    const added = await addEndpoint();
    expect(added.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(added.secret.slice(6), 'base64')).toHaveLength(32);
    expect(() => new Webhook(added.secret)).not.toThrow();
    const [row] = await endpointRow(added.id);
    expect(row?.secret).not.toContain(added.secret.slice(6));
    expect(row?.secret.startsWith('whsec_')).toBe(false);
    const listed = JSON.stringify(await cloud.cloud.services.notifications.listWebhooks(orgId));
    expect(listed).toContain(added.id);
    expect(listed).not.toContain(added.secret.slice(6));
  });

  it('signs id, timestamp and body in the standard headers; the reference library verifies it, and a swapped id fails', async () => {
    await silent('headers');
    const [hook] = await waitFor(() => (delivered('headers').length > 0 ? delivered('headers') : undefined));
    expect(hook?.signatureValid).toBe(true);
    expect(hook?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    expect(hook?.headers['webhook-timestamp']).toMatch(/^\d+$/);
    await waitFor(async () => (await webhookRows('headers'))[0]?.status === 'delivered');
    // The id is covered by the signature: a replay under a fresh id (to pass de-duplication) is refused.
    const headers = { ...hook?.headers, 'webhook-id': uuidv7() };
    expect(() => new Webhook(secret).verify(hook?.body ?? '', headers)).toThrow();
    expect(JSON.parse(hook?.body ?? '{}')).toMatchObject({ type: 'device.silent', orgId, data: { ownerName: 'Zoë Åberg' } });
  });

  it('retries on the schedule with the same id, and gives up after the last entry', async () => {
    hooks.state.failures = 2;
    await silent('retried');
    const attempts = await waitFor(() => (delivered('retried').length >= 3 ? delivered('retried') : undefined));
    expect(attempts.map((a) => a.status)).toEqual([500, 500, 204]);
    expect(new Set(attempts.map((a) => a.deliveryId)).size).toBe(1);
    // Each retry waits at least its entry of the schedule (300 ms, then 600 ms).
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(300);
    expect((attempts[2]?.at ?? 0) - (attempts[1]?.at ?? 0)).toBeGreaterThanOrEqual(600);

    hooks.state.failures = 10;
    await silent('exhausted');
    const [row] = await waitFor(async () => {
      const rows = await webhookRows('exhausted');
      return rows[0]?.status === 'failed' ? rows : undefined;
    });
    expect(row).toMatchObject({ attempts: 3, max_attempts: 3, last_error: 'webhook answered HTTP 500' });
    // Failing through the whole schedule disables the endpoint with the last error, not silently.
    const [disabled] = await waitFor(async () => {
      const found = await cloud.cloud.services.notifications.disabledWebhooks(orgId);
      return found.length > 0 ? found : undefined;
    });
    expect(disabled).toMatchObject({ reason: 'failing', detail: 'webhook answered HTTP 500' });
    expect(await cloud.cloud.services.notifications.listWebhooks(orgId)).toEqual([]);
    hooks.state.failures = 0;
    await cloud.cloud.services.notifications.enableWebhook({ userId: adminId, orgId }, disabled?.id ?? '');
    expect((await cloud.cloud.services.notifications.listWebhooks(orgId)).map((w) => w.id)).toEqual([disabled?.id]);
  });

  it('disables an endpoint that answers 410 Gone, tries it no more, and tells the admins', async () => {
    const { id } = await addEndpoint();
    hooks.state.gone = true;
    try {
      await silent('gone');
      await waitFor(async () => (await endpointRow(id))[0]?.disabled_at ?? undefined);
      const rows = await waitFor(async () => {
        const found = await webhookRows('gone');
        return found.length === 2 && found.every((r) => r.status === 'failed') ? found : undefined;
      });
      // One attempt each (both endpoints of the org answered 410): no retry after Gone.
      expect(rows.map((r) => r.attempts)).toEqual([1, 1]);
      expect(rows[0]?.last_error).toMatch(/410 Gone/);
      const mail = await waitFor(() => smtp.mails.find((m) => m.subject === 'A webhook endpoint was disabled'));
      expect(mail.to).toEqual([adminEmail]);
      expect(mail.raw).toContain(hooks.url);
      expect((await cloud.cloud.services.notifications.listWebhooks(orgId)).map((w) => w.id)).not.toContain(id);
      const audited = await cloud.database.rows<{ n: number }>(
        sql`select count(*)::int as n from audit_log where action = 'webhook.disabled' and details->>'endpointId' = ${id}`,
      );
      expect(audited[0]?.n).toBe(1);
    } finally {
      hooks.state.gone = false;
    }
  });

  it('carries an endpoint stored with a clear base64url secret over: same key, standard base64, sealed at first use', async () => {
    // The old form: whsec_ + base64url of 24 bytes, chosen so both - and _ occur.
    let key = randomBytes(24);
    while (!/[-_]/.test(key.toString('base64url'))) key = randomBytes(24);
    const legacy = `whsec_${key.toString('base64url')}`;
    expect(() => new Webhook(legacy).verify('{}', { 'webhook-id': 'x', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' })).toThrow();
    const id = uuidv7();
    await cloud.database.rows(
      sql`insert into webhook_endpoints (id, org_id, url, events, secret) values (${id}, ${orgId}, ${hooks.url}, '["device.silent"]'::jsonb, ${legacy})`,
    );
    // The receiver converts the secret it has: the same key, in standard base64.
    secret = `whsec_${key.toString('base64')}`;
    await silent('legacy');
    const hook = await waitFor(() => delivered('legacy').find((h) => h.signatureValid));
    expect(hook.signatureValid).toBe(true);
    const [row] = await endpointRow(id);
    expect(row?.secret.startsWith('whsec_')).toBe(false);
    expect(row?.secret).not.toContain(key.toString('base64url'));
  });

  it("defaults to the specification's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
    const config = parseConfig({});
    expect(config.WEBHOOK_RETRY_SCHEDULE).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(() => parseConfig({ WEBHOOK_RETRY_SCHEDULE: '5s,soon' })).toThrow(/WEBHOOK_RETRY_SCHEDULE.*"soon"/s);
  });
});
