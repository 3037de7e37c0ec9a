// Events through the real RabbitMQ on this machine: a vhost per test, a consumer bound to every
// event, the cloud's relay publishing through a loopback proxy that can be cut (a broker outage).
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { uuidv7 } from 'uuidv7';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultPolicy } from './modules/consent';
import type { SignedInUser } from './platform/env';
import { createEventOutboxStore, EVENT_NAMES, parseCloudEvent, toCloudEvent, CLOUDEVENTS_JSON, type EventName } from './platform/events';
import { startTestCloud, type TestCloud } from '../test/support/cloud';
import { testDatabaseKinds } from '../test/support/database';
import { createTestDevice, json, makeSpans, type TestDevice } from '../test/support/device-client';
import { importWithdrawPath, WIRE_PATHS } from '@icarus/shared';
import { collectEvents, createTestVhost, startBrokerProxy, type ReceivedEvent, type TestVhost } from '../test/support/rabbitmq';
import { startSmtpServer, waitFor } from '../test/support/servers';
import { createAmqpPublisher } from './adapters/amqp';

const EXCHANGE = 'icarus.events.test';
/** What the test's people, devices and spans are called: none of it may leave in an event. */
const PERSONAL = ['Zebedee Quintrell', 'zebedee.quintrell@people.test', 'zquintrell', 'Salary review Zebedee', 'SecretLedgerApp', 'test-laptop'];

const envelopeOf = (e: ReceivedEvent) => parseCloudEvent(e.json);
/** What a consumer keeps: the first copy of each id. */
const unique = (events: ReceivedEvent[]) => events.filter((e, i) => events.findIndex((f) => f.messageId === e.messageId) === i);

describe.each(testDatabaseKinds())('events through RabbitMQ on %s', (kind) => {
  let vhost: TestVhost;
  let proxy: Awaited<ReturnType<typeof startBrokerProxy>>;
  let consumer: Awaited<ReturnType<typeof collectEvents>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let cloud: TestCloud;

  beforeEach(async () => {
    vhost = await createTestVhost();
    proxy = await startBrokerProxy();
    consumer = await collectEvents(vhost.url(), EXCHANGE);
    smtp = await startSmtpServer();
    cloud = await startTestCloud(kind, {
      AMQP_URL: vhost.url(proxy.port),
      AMQP_EXCHANGE: EXCHANGE,
      EVENT_SOURCE: 'urn:icarus-nova:test',
      EVENT_POLL_MS: '50',
      EVENT_RETRY_BASE_MS: '50',
      EVENT_PUBLISH_TIMEOUT_MS: '5000',
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      NOTIFY_POLL_MS: '100',
    });
  }, 60_000);
  afterEach(async () => {
    await cloud?.stopAll();
    await consumer?.close();
    await proxy?.close();
    await smtp?.close();
    await vhost?.drop();
  }, 60_000);

  const outbox = () => createEventOutboxStore(cloud.database);
  const received = (name: EventName) => consumer.received.filter((e) => e.routingKey === name);

  /** Zebedee's device, bound to him by a per-person token, with his consent to apps, idle and full titles. */
  async function zebedeesDevice(): Promise<{ device: TestDevice; userId: string }> {
    const { directory, devices, consent } = cloud.cloud.services;
    const orgId = cloud.bootstrap.orgId;
    const base = defaultPolicy('Demo Org');
    await consent.publish(
      orgId,
      {
        ...base,
        titleMode: 'full',
        scopes: [...base.scopes, { scope: 'window_titles', purpose: 'Which document, to categorize time.', legalBasis: 'consent' }],
      },
      { type: 'system', id: 'test' },
    );
    const person = await directory.createUser({ orgId, email: PERSONAL[1] ?? '', name: PERSONAL[0] ?? '', role: 'employee', osUser: PERSONAL[2] ?? '' });
    const { token } = await devices.createEnrollmentToken({ orgId, userId: person.id, label: 'for Zebedee', validDays: 1, maxUses: 5 });
    const device = await createTestDevice(cloud.fetchPath, cloud.url, token, PERSONAL[2]);
    expect((await device.consent(['app_usage', 'idle', 'window_titles'])).status).toBe(201);
    return { device, userId: person.id };
  }

  it('every event type arrives once, as CloudEvents JSON routed by its name, carrying ids and never personal content', async () => {
    const { services } = cloud.cloud;
    const orgId = cloud.bootstrap.orgId;
    const { device, userId } = await zebedeesDevice();
    const spans = makeSpans(3, { app: PERSONAL[4] ?? '', title: PERSONAL[3] ?? '' });
    const ingested = await device.ingest(spans);
    expect(((await ingested.json()) as { accepted: number }).accepted).toBe(3);
    expect((await device.consent(['app_usage', 'idle'], 'declined')).status).toBe(201);
    expect((await device.consent([], 'withdrawn')).status).toBe(201);
    // History imported under its own consent for a past period, then withdrawn.
    const auth = { authorization: `Bearer ${device.accessToken}` };
    const period = { from: new Date(Date.now() - 10 * 86_400_000).toISOString(), to: new Date(Date.now() - 9 * 86_400_000).toISOString() };
    const granted = await cloud.fetchPath(
      WIRE_PATHS.consentImports,
      json(
        {
          policyVersion: await device.policyVersion(),
          scopes: ['app_usage'],
          ...period,
          source: 'activitywatch',
          preview: { spans: 0, activeMs: 0, idleMs: 0, apps: 0, titles: false },
        },
        auth,
      ),
    );
    expect(granted.status).toBe(201);
    const grantId = ((await granted.json()) as { grant: { id: string } }).grant.id;
    expect((await cloud.fetchPath(importWithdrawPath(grantId), json({}, auth))).status).toBe(200);

    // A version published through review and approval (two admins: an author never approves).
    const admin = await services.directory.findUserByEmail(orgId, cloud.bootstrap.adminEmail);
    const second = await services.directory.createUser({ orgId, email: 'second.admin@people.test', name: 'Second Admin', role: 'admin' });
    const signedIn = (u: { id: string; email: string; name: string }): SignedInUser => ({
      userId: u.id,
      orgId,
      email: u.email,
      name: u.name,
      role: 'admin',
      managedTeamIds: [],
      teamId: null,
      sessionId: 'test',
    });
    if (!admin) throw new Error('no demo admin');
    const current = await services.consent.currentPolicy(orgId);
    const draft = await services.drafts.createDraft(signedIn(admin), { ...current.content, retentionDays: current.content.retentionDays + 1 });
    await services.drafts.submit(signedIn(admin), draft.version);
    await services.drafts.approve(signedIn({ id: second.id, email: 'second.admin@people.test', name: 'Second Admin' }), draft.version);
    await services.drafts.publish(signedIn(admin), draft.version);

    await services.devices.revoke(device.deviceId, orgId, admin.id);
    await services.audit.checkpointAll();
    // The consent confirmations go out by mail (and to the agent): each delivery is announced.
    await waitFor(() => smtp.mails.length > 0, 15_000);

    await waitFor(() => EVENT_NAMES.every((name) => received(name).length > 0), 20_000);
    // The person's own mail, not only the first mail of anyone (the admins' policy mails can go first).
    const mailedTo = (id: string) =>
      received('notification.sent').some((e) => {
        const data = envelopeOf(e).envelope.data;
        return data['channel'] === 'email' && data['userId'] === id;
      });
    await waitFor(() => mailedTo(userId), 20_000);
    await waitFor(async () => (await outbox().depth()) === 0, 10_000);

    const byName = Object.fromEntries(EVENT_NAMES.map((name) => [name, unique(received(name)).map(envelopeOf)]));
    for (const e of consumer.received) {
      const { envelope, name } = envelopeOf(e);
      expect(e.routingKey).toBe(name);
      expect(e.messageId).toBe(envelope.id);
      expect(e.contentType).toBe(CLOUDEVENTS_JSON);
      expect(envelope).toMatchObject({
        specversion: '1.0',
        source: 'urn:icarus-nova:test',
        type: `com.icarusnova.${name}`,
        datacontenttype: 'application/json',
      });
      expect(envelope.data['orgId']).toBe(orgId);
      for (const secret of PERSONAL) expect(e.body.toLowerCase()).not.toContain(secret.toLowerCase());
    }
    // Delivery is at least once (a publish that timed out on a loaded machine is sent again):
    // copies of one event carry one id and the same body, so a consumer keeps the first.
    const bodies = new Map<string, Set<string>>();
    for (const e of consumer.received) bodies.set(envelopeOf(e).envelope.id, (bodies.get(envelopeOf(e).envelope.id) ?? new Set()).add(e.body));
    expect([...bodies.values()].every((copies) => copies.size === 1)).toBe(true);
    const once = (name: EventName) => new Set(received(name).map((e) => e.messageId)).size;
    expect(Object.fromEntries(EVENT_NAMES.filter((n) => n !== 'notification.sent').map((n) => [n, once(n)]))).toEqual({
      'consent.granted': 1,
      'consent.declined': 1,
      'consent.withdrawn': 1,
      'consent.import_granted': 1,
      'consent.import_withdrawn': 1,
      'policy.published': 3,
      'device.enrolled': 1,
      'device.revoked': 1,
      'batch.ingested': 1,
      'audit.checkpoint_signed': 1,
    });

    const [enrolled] = byName['device.enrolled'] ?? [];
    expect(enrolled?.envelope).toMatchObject({ subject: device.deviceId, data: { deviceId: device.deviceId, platform: 'linux' } });
    const [batch] = byName['batch.ingested'] ?? [];
    const first = spans[0];
    const last = spans[2];
    if (!first || !last) throw new Error('spans missing');
    expect(batch?.envelope.data).toEqual({
      orgId,
      deviceId: device.deviceId,
      userId,
      batchId: batch?.envelope.subject,
      spans: 3,
      durationMs: spans.reduce((n, s) => n + s.durationMs, 0),
      from: new Date(first.start).toISOString(),
      to: new Date(Date.parse(last.start) + last.durationMs).toISOString(),
    });
    expect(byName['consent.granted']?.map((e) => e.envelope.data)).toContainEqual(
      expect.objectContaining({ deviceId: device.deviceId, userId, granted: ['app_usage', 'idle', 'window_titles'] }),
    );
    expect(byName['consent.declined']?.[0]?.envelope.data).toMatchObject({ deviceId: device.deviceId, userId });
    expect(byName['consent.withdrawn']?.[0]?.envelope.data).toMatchObject({ deviceId: device.deviceId, userId, granted: [] });
    const importEvent = { orgId, deviceId: device.deviceId, userId, grantId, source: 'activitywatch', ...period, scopes: ['app_usage'] };
    expect(byName['consent.import_granted']?.[0]?.envelope).toMatchObject({ subject: userId, data: importEvent });
    expect(byName['consent.import_withdrawn']?.[0]?.envelope).toMatchObject({ subject: userId, data: importEvent });
    // The first start's policy, the test's, and the reviewed one.
    expect(byName['policy.published']?.map((e) => e.envelope.data['version'])).toEqual([1, 2, draft.version]);
    expect(byName['device.revoked']?.[0]?.envelope).toMatchObject({ subject: device.deviceId, data: { orgId, deviceId: device.deviceId } });
    expect(byName['audit.checkpoint_signed']?.[0]?.envelope.data).toMatchObject({ orgId, keyId: expect.any(String) });
    expect(byName['notification.sent']?.map((e) => e.envelope.data)).toContainEqual(expect.objectContaining({ channel: 'email', userId }));
  }, 90_000);

  it('a batch is announced once with what it newly stored, whether it was stored the quick way or checked the full way', async () => {
    const { device, userId } = await zebedeesDevice();
    const orgId = cloud.bootstrap.orgId;
    const first = makeSpans(3);
    const later = makeSpans(2);
    const quick = uuidv7();
    const full = uuidv7();
    const again = uuidv7();
    expect(((await (await device.ingest(first, { batchId: quick })).json()) as { accepted: number }).accepted).toBe(3);
    // Stored copies of its first three ids send this one the full way (the checks read what is stored).
    const mixed = (await (await device.ingest([...first, ...later], { batchId: full })).json()) as { accepted: number; duplicates: number };
    expect(mixed).toMatchObject({ accepted: 2, duplicates: 3 });
    // Nothing new: no event at all.
    expect(((await (await device.ingest([...first, ...later], { batchId: again })).json()) as { duplicates: number }).duplicates).toBe(5);

    await waitFor(() => unique(received('batch.ingested')).length >= 2, 20_000);
    await waitFor(async () => (await outbox().depth()) === 0, 10_000);
    const announced = new Map(unique(received('batch.ingested')).map((e) => [envelopeOf(e).envelope.subject, envelopeOf(e).envelope.data]));
    const covering = (spans: typeof first) => ({
      orgId,
      deviceId: device.deviceId,
      userId,
      spans: spans.length,
      durationMs: spans.reduce((n, s) => n + s.durationMs, 0),
      from: new Date(Date.parse(spans[0]?.start ?? '')).toISOString(),
      to: new Date(Math.max(...spans.map((s) => Date.parse(s.start) + s.durationMs))).toISOString(),
    });
    expect([...announced.keys()].sort()).toEqual([quick, full].sort());
    expect(announced.get(quick)).toEqual({ ...covering(first), batchId: quick });
    expect(announced.get(full)).toEqual({ ...covering(later), batchId: full });
  }, 90_000);

  it('a broker outage loses nothing: events wait in the outbox, failures are counted, and all are published once it is back', async () => {
    const { services } = cloud.cloud;
    await waitFor(async () => received('policy.published').length === 1 && (await outbox().depth()) === 0, 10_000);
    proxy.cut();
    const enrolled: string[] = [];
    for (let i = 0; i < 5; i++) enrolled.push((await createTestDevice(cloud.fetchPath, cloud.url, cloud.enrollmentToken, `outage${i}`)).deviceId);
    for (const id of enrolled.slice(0, 2)) await services.devices.revoke(id, cloud.bootstrap.orgId, 'admin');
    // The relay tried and failed (the proxy refuses), and the events are still there.
    await waitFor(async () => ((await services.metrics.eventPublishFailures.get()).values[0]?.value ?? 0) > 0, 10_000);
    const waiting = await cloud.database.rows<{ id: string; name: string }>(sql`select id, name from event_outbox where sent_at is null`);
    expect(waiting.filter((e) => e.name === 'device.enrolled')).toHaveLength(5);
    expect(waiting.filter((e) => e.name === 'device.revoked')).toHaveLength(2);
    expect(received('device.enrolled')).toHaveLength(0);

    proxy.restore();
    await waitFor(() => unique(received('device.enrolled')).length === 5 && unique(received('device.revoked')).length === 2, 20_000);
    await waitFor(async () => (await outbox().depth()) === 0, 10_000);
    // Every event recorded during the outage arrived.
    const arrived = new Set(consumer.received.map((e) => e.messageId));
    expect(waiting.filter((e) => !arrived.has(e.id))).toEqual([]);
    expect(
      unique(received('device.enrolled'))
        .map((e) => envelopeOf(e).envelope.subject)
        .sort(),
    ).toEqual([...enrolled].sort());
    expect(
      unique(received('device.revoked'))
        .map((e) => envelopeOf(e).envelope.subject)
        .sort(),
    ).toEqual(enrolled.slice(0, 2).sort());
    await waitFor(async () => /^icarus_event_outbox_depth 0$/m.test(await services.metrics.registry.metrics()), 5_000);
    expect((await services.metrics.eventsPublished.get()).values[0]?.value).toBeGreaterThanOrEqual(8);
  }, 90_000);

  it('an event published again (a relay died between the confirmation and marking it sent) carries the same id and body', async () => {
    const { services } = cloud.cloud;
    const relay = services.relay;
    if (!relay) throw new Error('this process runs no relay');
    await waitFor(async () => received('policy.published').length >= 1 && (await outbox().depth()) === 0, 10_000);
    await relay.stop();
    const device = await createTestDevice(cloud.fetchPath, cloud.url, cloud.enrollmentToken, 'again');
    // What a relay does before it dies: claim (with a short lease) and publish, never mark sent.
    const claimed = (await outbox().claim(100, 300)).find((e) => e.name === 'device.enrolled');
    if (!claimed) throw new Error('the enrollment was not recorded');
    const dying = createAmqpPublisher({ url: vhost.url(), exchange: EXCHANGE, timeoutMs: 5000, logger: pino({ level: 'silent' }) });
    const envelope = toCloudEvent(claimed, 'urn:icarus-nova:test');
    await dying.publish([{ id: claimed.id, type: envelope.type, routingKey: claimed.name, body: Buffer.from(JSON.stringify(envelope)) }]);
    await dying.close();
    relay.start();

    await waitFor(() => received('device.enrolled').length >= 2, 15_000);
    const [once, twice] = received('device.enrolled');
    expect(once?.messageId).toBe(claimed.id);
    expect(twice?.messageId).toBe(claimed.id);
    expect(envelopeOf(twice as ReceivedEvent).envelope).toEqual(envelopeOf(once as ReceivedEvent).envelope);
    expect(envelopeOf(once as ReceivedEvent).envelope.subject).toBe(device.deviceId);
    await waitFor(async () => (await outbox().depth()) === 0, 10_000);
  }, 90_000);
});

describe.each(testDatabaseKinds())('without AMQP_URL on %s', (kind) => {
  it('records no event and runs no relay', async () => {
    const cloud = await startTestCloud(kind);
    try {
      await createTestDevice(cloud.fetchPath, cloud.url, cloud.enrollmentToken, 'nobroker');
      // A bound, consenting device's batch is stored, and still announced nowhere.
      const device = await createTestDevice(cloud.fetchPath, cloud.url, (await cloud.personToken('nobroker-person')).token, 'nobroker-person');
      expect((await device.consent(['app_usage', 'idle'])).status).toBe(201);
      expect(((await (await device.ingest(makeSpans(3))).json()) as { accepted: number }).accepted).toBe(3);
      expect(cloud.cloud.services.relay).toBeUndefined();
      expect(await createEventOutboxStore(cloud.database).depth()).toBe(0);
      expect(await cloud.database.rows(sql`select count(*)::int as n from event_outbox`)).toEqual([{ n: 0 }]);
    } finally {
      await cloud.stopAll();
    }
  }, 60_000);
});
