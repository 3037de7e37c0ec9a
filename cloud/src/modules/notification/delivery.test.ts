import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../platform/db/client';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';
import { createTestDevice, makeSpans, type TestDevice } from '../../../test/support/device-client';
import { createSmtpMailer } from '../../adapters/mail';
import { createWebhookClient } from '../../adapters/webhook';
import { parseAllowedHosts } from '../../platform/outbound-address';
import { createChannels } from './channels';
import { createNotificationStore } from './store';
import { freePort, startSmtpServer, startWebhookReceiver, waitFor } from '../../../test/support/servers';
import { createOutboxWorker } from './worker';
import { createWebhookSecrets } from './webhook-secrets';
import { createSecretBox } from '../../platform/secret-box';

const DATA_KEY = Buffer.alloc(32, 5);

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;
type Hooks = Awaited<ReturnType<typeof startWebhookReceiver>>;

describe.each(testDatabaseKinds())('notifications on %s', (kind) => {
  let cloud: TestCloud;
  let smtp: Smtp | undefined;
  let smtpPort: number;
  let hooks: Hooks;
  let secret = '';
  let device: TestDevice;
  let orgId: string;
  let aliceId: string;

  const outbox = (event: string, channel: string) =>
    cloud.database.rows<{ status: string; attempts: number; last_error: string | null; delivered_at: Date | null; target: string }>(
      sql`select status, attempts, last_error, delivered_at, target from notification_outbox where event = ${event} and channel = ${channel} order by created_at`,
    );

  beforeAll(async () => {
    // SMTP is down at first: the port is free and nothing listens until a test starts it.
    smtpPort = await freePort();
    hooks = await startWebhookReceiver(() => secret);
    cloud = await startTestCloud(kind, {
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      MAIL_FROM: 'Icarus <notices@icarus.test>',
      NOTIFY_POLL_MS: '50',
      NOTIFY_RETRY_BASE_MS: '100',
      WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms',
      // Known, so the extra workers below open the sealed webhook secrets as the cloud does.
      TITLE_KEY: DATA_KEY.toString('base64'),
      // The receiver is on loopback: reachable only because the operator allows it.
      WEBHOOK_ALLOW_HOSTS: new URL(hooks.url).host,
    });
    const { directory, notifications } = cloud.cloud.services;
    orgId = cloud.bootstrap.orgId;
    aliceId = (await directory.createUser({ orgId, email: 'alice@notify.test', name: 'Alice', role: 'employee', osUser: 'alice' })).id;
    const admin = await directory.findUserByEmail(cloud.bootstrap.orgId, cloud.bootstrap.adminEmail);
    const added = await notifications.addWebhook(
      { userId: admin?.id ?? '', orgId },
      { url: hooks.url, events: ['consent.granted', 'consent.withdrawn', 'device.silent'] },
    );
    secret = added.secret;
    device = await createTestDevice(cloud.fetchPath, cloud.url, await cloud.tokenFor(aliceId), 'alice');
  });
  afterAll(async () => {
    await cloud?.stopAll();
    await smtp?.close();
    await hooks?.close();
  });

  it('retries mail while SMTP is down, then delivers the consent confirmation once it is up', async () => {
    expect((await device.consent(['app_usage', 'idle'])).status).toBe(201);
    // Failed at least once (an attempt in flight has counted itself but not written its error yet).
    const failing = await waitFor(async () => {
      const [row] = await outbox('consent.granted', 'email');
      return row && row.attempts >= 2 && row.status === 'pending' && row.last_error ? row : undefined;
    }, 30_000);
    expect(failing.last_error).toMatch(/ECONNREFUSED|connect/i);
    expect(failing.delivered_at).toBeNull();

    smtp = await startSmtpServer(smtpPort);
    const mail = await waitFor(() => smtp?.mails.find((m) => m.to.includes('alice@notify.test')), 30_000);
    expect(mail.subject).toBe('Your consent was recorded');
    expect(mail.from).toBe('notices@icarus.test');
    expect(mail.raw).toContain('Content-Type: text/html');
    expect(mail.raw).toContain('which application is in front, active and idle time');
    const [row] = await waitFor(async () => {
      const rows = await outbox('consent.granted', 'email');
      return rows[0]?.status === 'delivered' ? rows : undefined;
    });
    // At least the failed attempt seen above and the one that delivered (the attempt in flight
    // while the server came up may be the one that delivers).
    expect(row?.attempts).toBeGreaterThanOrEqual(2);
    expect(row?.delivered_at).not.toBeNull();
  });

  it('confirms on the agent: the message directive arrives with the next sync', async () => {
    await waitFor(async () => (await outbox('consent.granted', 'agent'))[0]?.status === 'delivered');
    const response = await device.ingest(makeSpans(1));
    const result = (await response.json()) as { directives: { type: string; text?: string }[] };
    const message = result.directives.find((d) => d.type === 'message');
    expect(message?.text).toMatch(/^Consent recorded \(policy v1\)/);
  });

  it('signs webhooks, retries a 500 with backoff, and the receiver verifies every attempt', async () => {
    hooks.state.failures = 2;
    const before = hooks.received.length;
    expect((await device.consent(['idle'], 'withdrawn')).status).toBe(201);
    const [row] = await waitFor(async () => {
      const rows = await outbox('consent.withdrawn', 'webhook');
      return rows[0]?.status === 'delivered' ? rows : undefined;
    });
    expect(row?.attempts).toBe(3);
    const attempts = hooks.received.slice(before).filter((h) => JSON.parse(h.body).type === 'consent.withdrawn');
    expect(attempts.map((a) => a.status)).toEqual([500, 500, 204]);
    expect(attempts.every((a) => a.signatureValid)).toBe(true);
    expect(new Set(attempts.map((a) => a.deliveryId)).size).toBe(1);
    const body = JSON.parse(attempts[2]?.body ?? '{}') as { type: string; orgId: string; data: { userId: string; granted: string[] } };
    expect(body).toMatchObject({ type: 'consent.withdrawn', orgId, data: { userId: aliceId, granted: ['app_usage'] } });
    const mail = await waitFor(() => smtp?.mails.find((m) => m.subject === 'Your consent was withdrawn'));
    expect(mail.to).toEqual(['alice@notify.test']);
  });

  it('reports a silent device to admins once, honouring an opt-out of the optional notice', async () => {
    const { notificationJobs, notifications } = cloud.cloud.services;
    const later = new Date(Date.now() + 10 * 86_400_000);
    expect(await notificationJobs.silentDevices(later)).toBeGreaterThan(0);
    expect(await notificationJobs.silentDevices(later)).toBe(0);
    const mail = await waitFor(() => smtp?.mails.find((m) => m.subject.startsWith('Device "test-laptop" has not synced')));
    expect(mail.to).toEqual([cloud.bootstrap.adminEmail]);
    await expect(notifications.setPreferences({ userId: aliceId, orgId }, [{ event: 'erasure.completed', channel: 'email', enabled: false }])).rejects.toThrow(
      /cannot be switched off/,
    );
  });

  it.runIf(kind === 'postgres')('two workers sharing the outbox never deliver the same message twice', async () => {
    const url = cloud.testDb.databaseUrl ?? '';
    const extra: Database[] = [
      await openDatabase({ databaseUrl: url, dataDir: ':memory:', poolSize: 4 }),
      await openDatabase({ databaseUrl: url, dataDir: ':memory:', poolSize: 4 }),
    ];
    const workers = extra.map((database) => {
      const store = createNotificationStore(database);
      const channels = createChannels({
        devices: cloud.cloud.services.devices,
        store,
        mailer: createSmtpMailer(undefined),
        mailFrom: 'x@y.z',
        webhooks: createWebhookClient({ allowHosts: parseAllowedHosts(new URL(hooks.url).host), timeoutMs: 5000 }),
        secrets: createWebhookSecrets({ box: createSecretBox(DATA_KEY, 'webhook-secrets'), store }),
        onGone: async () => undefined,
        now: () => new Date(),
      });
      return createOutboxWorker({ store, channels, logger: pino({ level: 'silent' }), retryBaseMs: 100, webhookSchedule: [100] });
    });
    const before = hooks.received.length;
    const { notifications } = cloud.cloud.services;
    const events = Array.from({ length: 60 }, (_, i) => ({
      type: 'device.silent' as const,
      orgId,
      deviceId: device.deviceId,
      deviceName: `d${i}`,
      ownerName: null,
      lastSeenAt: null,
      days: 9,
    }));
    await Promise.all(events.map((e, i) => notifications.publish(e, `race-${i}`)));
    // The app's own worker races too: three pollers at once.
    await Promise.all([...workers.map((w) => w.poll()), ...workers.map((w) => w.poll())]);
    await waitFor(
      async () =>
        (
          await cloud.database.rows<{ n: number }>(
            sql`select count(*)::int as n from notification_outbox where dedupe_key like 'race-%' and status <> 'delivered'`,
          )
        )[0]?.n === 0,
    );
    const ids = hooks.received.slice(before).map((h) => h.deliveryId);
    expect(ids.length).toBe(60);
    expect(new Set(ids).size).toBe(60);
    for (const database of extra) await database.close();
  });
});
