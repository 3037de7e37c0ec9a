import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminTestbed, type AdminTestbed, type Caller } from '../../../test/support/admin';
import { testDatabaseKinds } from '../../../test/support/database';
import { freePort, startWebhookReceiver, waitFor } from '../../../test/support/servers';
import { NOTIFICATION_PATHS } from './routes';

type Receiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

/**
 * Webhook targets an admin registers are where the server itself connects: loopback, the cloud
 * metadata service and the private network are refused however the address is spelled, at
 * registration and again at every delivery; only the hosts the operator lists in
 * WEBHOOK_ALLOW_HOSTS are reached, and the delivery log never says how a connection failed.
 */
describe.each(testDatabaseKinds())('webhook targets on %s', (kind) => {
  let bed: AdminTestbed;
  let admin: Caller;
  let allowed: Receiver;
  let internal: Receiver;
  let closedPort: number;
  let secret = '';

  beforeAll(async () => {
    allowed = await startWebhookReceiver(() => secret);
    // A loopback-only service the operator did not allow: nothing may ever reach it.
    internal = await startWebhookReceiver(() => secret);
    closedPort = await freePort();
    bed = await startAdminTestbed(kind, `hooks-${kind}`, {
      WEBHOOK_ALLOW_HOSTS: `${new URL(allowed.url).host}, 127.0.0.1:${closedPort}`,
      NOTIFY_POLL_MS: '50',
      NOTIFY_RETRY_BASE_MS: '50',
      NOTIFY_MAX_ATTEMPTS: '1',
      WEBHOOK_RETRY_SCHEDULE: 'none',
      NOTIFY_WEBHOOK_TIMEOUT_MS: '2000',
    });
    admin = await bed.as('admin');
  }, 120_000);
  afterAll(async () => {
    await bed?.stop();
    await allowed?.close();
    await internal?.close();
  });

  const register = (url: string) => admin.send('POST', NOTIFICATION_PATHS.webhooks, { url, events: ['device.silent'] });
  const silent = (deviceName: string) =>
    bed.cloud.cloud.services.notifications.publish(
      { type: 'device.silent', orgId: bed.orgA.orgId, deviceId: uuidv7(), deviceName, ownerName: null, lastSeenAt: null, days: 9 },
      `targets-${deviceName}`,
    );
  const deliveries = async () =>
    ((await (await admin.get(NOTIFICATION_PATHS.deliveries)).json()) as { deliveries: { status: string; lastError: string | null; channel: string }[] })
      .deliveries;

  it('refuses loopback, private, link-local and reserved targets in every spelling, naming the field url and storing nothing', async () => {
    const internalPort = new URL(internal.url).port;
    const refused = [
      `http://127.0.0.1:${internalPort}/hooks`,
      `https://127.0.0.1:${internalPort}/hooks`,
      'https://169.254.169.254/latest/meta-data/',
      'https://[::1]/',
      'https://0.0.0.0/',
      'https://localhost/',
      'https://localhost./',
      'https://LOCALHOST/',
      'https://api.localhost/',
      'https://2130706433/',
      'https://0177.0.0.1/',
      'https://127.1/',
      'https://0x7f.1/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:a9fe:a9fe]/',
      'https://[::127.0.0.1]/',
      'https://[64:ff9b::10.0.0.1]/',
      'https://10.1.2.3/',
      'https://172.16.0.1/',
      'https://192.168.1.1/',
      'https://100.64.0.1/',
      'https://[fd00::1]/',
      'https://[fe80::1]/',
      'https://224.0.0.1/',
      'https://255.255.255.255/',
      'https://192.0.2.10/',
      'https://[2001:db8::1]/',
      // A public address, but plain http: only an allowed host may be reached without TLS.
      'http://93.184.216.34/',
    ];
    for (const url of refused) {
      const response = await register(url);
      const body = (await response.json()) as { error: { code: string; message: string; fields: { path: string; problem: string }[] } };
      expect({ url, status: response.status }).toEqual({ url, status: 400 });
      expect(body.error.fields.map((f) => f.path)).toEqual(['url']);
      expect(body.error.message).toMatch(/^Invalid body: url: /);
    }
    expect((await register('https://[::1]/')).status).toBe(400);
    const [problem] = ((await (await register('https://169.254.169.254/')).json()) as { error: { fields: { problem: string }[] } }).error.fields;
    expect(problem?.problem).toMatch(/link-local/);
    const listed = (await (await admin.get(NOTIFICATION_PATHS.webhooks)).json()) as { webhooks: unknown[] };
    expect(listed.webhooks).toEqual([]);
    const created = await bed.cloud.database.rows<{ n: number }>(
      sql`select count(*)::int as n from audit_log where org_id = ${bed.orgA.orgId} and action = 'webhook.created'`,
    );
    expect(created[0]?.n).toBe(0);
  });

  it('delivers to a receiver the operator allowed, over plain http on loopback, signed', async () => {
    const response = await register(allowed.url);
    expect(response.status).toBe(201);
    secret = ((await response.json()) as { secret: string }).secret;
    await silent('allowed-laptop');
    const hook = await waitFor(() => allowed.received.find((h) => h.body.includes('allowed-laptop')));
    expect(hook.signatureValid).toBe(true);
    expect(internal.received).toEqual([]);
  });

  it('refuses at delivery an endpoint that points at a private address, and the receiver hears nothing', async () => {
    // Stored before targets were checked (or allowed then, and taken off the operator's list since).
    const url = internal.url.replace(/^http:/, 'https:');
    await bed.cloud.database.rows(
      sql`insert into webhook_endpoints (id, org_id, url, events, secret) values (${uuidv7()}, ${bed.orgB.orgId}, ${url}, '["device.silent"]'::jsonb, ${`whsec_${'A'.repeat(32)}`})`,
    );
    await bed.cloud.cloud.services.notifications.publish(
      { type: 'device.silent', orgId: bed.orgB.orgId, deviceId: uuidv7(), deviceName: 'old-endpoint', ownerName: null, lastSeenAt: null, days: 9 },
      'targets-old-endpoint',
    );
    const [row] = await waitFor(async () => {
      const rows = await bed.cloud.database.rows<{ status: string; last_error: string | null }>(
        sql`select status, last_error from notification_outbox where dedupe_key like 'targets-old-endpoint%'`,
      );
      return rows[0]?.status === 'failed' ? rows : undefined;
    });
    expect(row?.last_error).toMatch(/^refused: the webhook URL points to a loopback address/);
    expect(internal.received).toEqual([]);
  });

  it('records the same words for any failed connection, so the delivery log cannot map ports', async () => {
    const response = await register(`http://127.0.0.1:${closedPort}/hooks`);
    expect(response.status).toBe(201);
    await silent('closed-port');
    const failed = await waitFor(async () => {
      const rows = (await deliveries()).filter((d) => d.channel === 'webhook' && d.status === 'failed');
      return rows.length > 0 ? rows : undefined;
    });
    for (const d of failed) {
      expect(d.lastError).toBe('the receiver could not be reached or did not answer in time');
      expect(d.lastError).not.toMatch(/ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|127\.0\.0\.1|connect/i);
    }
  });
});
