import type { Logger } from 'pino';
import { uuidv7 } from 'uuidv7';
import type { AuditService } from '../audit';
import type { ConsentEvent } from '../consent';
import type { DeviceService } from '../devices';
import type { DirectoryService } from '../directory';
import type { AccountMail, SignInAlert } from '../identity';
import { AppError } from '../../platform/errors';
import { OutboundRefused } from '../../platform/outbound-address';
import type { NewOutboxRow, NotificationStore, WebhookEndpointRow } from './store';
import type { Channel } from './tables';
import { EVENT_TYPES, MANDATORY_EVENTS, render, SECRET_LINK_EVENTS, type EventType, type NotificationEvent } from './templates';
import { newWebhookSecret, type WebhookSecrets } from './webhook-secrets';

interface Deps {
  store: NotificationStore;
  devices: DeviceService;
  directory: DirectoryService;
  audit: AuditService;
  logger: Logger;
  emailEnabled: boolean;
  /** Refuses (OutboundRefused) a URL a delivery would refuse: not https, or not a public address. */
  checkWebhookUrl: (url: string) => Promise<unknown>;
  maxAttempts: number;
  /** Attempts of one webhook delivery: the first and one per entry of WEBHOOK_RETRY_SCHEDULE. */
  webhookMaxAttempts: number;
  secrets: WebhookSecrets;
  now?: () => Date;
}

interface Person {
  id: string;
  name: string;
  email: string;
}

export interface Preference {
  event: EventType;
  channel: Exclude<Channel, 'webhook'>;
  enabled: boolean;
  mandatory: boolean;
}

const PERSONAL_CHANNELS = ['email', 'agent'] as const;

export function createNotificationService(deps: Deps) {
  const { store, devices, directory, audit, logger } = deps;
  const now = deps.now ?? (() => new Date());

  /** Who hears of an event, and on which of their devices the tray shows it. */
  async function audience(event: NotificationEvent): Promise<{ people: Person[]; deviceIds: Map<string, string[]> }> {
    const one = async (userId: string | null) => {
      const user = userId ? await directory.findUser(userId) : undefined;
      return user && user.orgId === event.orgId && !user.deactivatedAt ? [{ id: user.id, name: user.name, email: user.email }] : [];
    };
    const devicesOf = async (people: Person[], only?: string) => {
      const ids = new Set(people.map((p) => p.id));
      const byUser = new Map<string, string[]>();
      for (const d of await devices.listDevices(event.orgId)) {
        if (d.revokedAt || !d.userId || !ids.has(d.userId) || (only && d.id !== only)) continue;
        byUser.set(d.userId, [...(byUser.get(d.userId) ?? []), d.id]);
      }
      return byUser;
    };
    switch (event.type) {
      case 'consent.granted':
      case 'consent.withdrawn': {
        const people = await one(event.userId);
        return { people, deviceIds: await devicesOf(people, event.deviceId) };
      }
      case 'erasure.completed': {
        const people = await one(event.userId);
        return { people, deviceIds: await devicesOf(people) };
      }
      case 'policy.published': {
        const people = await directory.listMembers(event.orgId);
        return { people, deviceIds: await devicesOf(people) };
      }
      case 'device.silent':
      case 'webhook.disabled': {
        const admins = (await directory.listMembers(event.orgId)).filter((m) => m.role === 'admin');
        return { people: admins, deviceIds: new Map() };
      }
      case 'report.weekly':
        return { people: await one(event.userId), deviceIds: new Map() };
      case 'sign_in.failed_attempts': {
        const people = await one(event.userId);
        return { people, deviceIds: await devicesOf(people) };
      }
      // A link that sets a password goes to the mailbox it proves, nowhere else.
      case 'account.invitation':
      case 'account.password_reset':
        return { people: await one(event.userId), deviceIds: new Map() };
    }
  }

  async function disabledFor(userIds: string[], event: EventType): Promise<Set<string>> {
    if (MANDATORY_EVENTS.has(event)) return new Set();
    const rows = await store.preferences(userIds);
    return new Set(rows.filter((r) => r.event === event && !r.enabled).map((r) => `${r.userId}:${r.channel}`));
  }

  /** Disabled by the server, not an admin: audited with the reason, and the org's admins are told. */
  async function disableBySystem(endpoint: WebhookEndpointRow, reason: 'gone' | 'failing', detail: string): Promise<void> {
    if (!(await store.disableEndpoint(endpoint.orgId, endpoint.id, now(), reason, detail.slice(0, 500)))) return;
    await audit.record({
      orgId: endpoint.orgId,
      actorType: 'system',
      actorId: 'notification',
      action: 'webhook.disabled',
      details: { endpointId: endpoint.id, url: endpoint.url, reason, ...(reason === 'gone' ? { status: 410 } : { lastError: detail.slice(0, 500) }) },
    });
    // One notice per time it is disabled: an endpoint re-enabled and disabled again tells again.
    await service.publish(
      { type: 'webhook.disabled', orgId: endpoint.orgId, endpointId: endpoint.id, url: endpoint.url, reason, detail: detail.slice(0, 200) },
      `webhook-${reason}:${endpoint.id}:${now().getTime()}`,
    );
  }

  const service = {
    /**
     * Renders and queues every delivery of one event. `eventId` makes queueing idempotent
     * (a retried caller queues nothing new); the worker delivers.
     */
    async publish(event: NotificationEvent, eventId: string = uuidv7()): Promise<number> {
      const at = now();
      const base = { orgId: event.orgId, event: event.type, maxAttempts: deps.maxAttempts, nextAttemptAt: at };
      const rows: NewOutboxRow[] = [];
      const { people, deviceIds } = await audience(event);
      const off = await disabledFor(
        people.map((p) => p.id),
        event.type,
      );
      for (const person of people) {
        const message = render(event, person.name);
        if (deps.emailEnabled && !off.has(`${person.id}:email`)) {
          const payload = { kind: 'email' as const, subject: message.subject, text: message.text, html: message.html };
          rows.push({ ...base, id: uuidv7(), channel: 'email', userId: person.id, target: person.email, payload, dedupeKey: `${eventId}:email:${person.id}` });
        }
        if (off.has(`${person.id}:agent`)) continue;
        for (const deviceId of deviceIds.get(person.id) ?? []) {
          const payload = { kind: 'agent' as const, text: message.agentText };
          rows.push({ ...base, id: uuidv7(), channel: 'agent', userId: person.id, target: deviceId, payload, dedupeKey: `${eventId}:agent:${deviceId}` });
        }
      }
      for (const endpoint of SECRET_LINK_EVENTS.has(event.type) ? [] : await store.activeEndpoints(event.orgId)) {
        if (!endpoint.events.includes(event.type)) continue;
        const { orgId, type, ...data } = event;
        const body = JSON.stringify({ id: eventId, type, orgId, occurredAt: at.toISOString(), data });
        rows.push({
          ...base,
          maxAttempts: deps.webhookMaxAttempts,
          id: uuidv7(),
          channel: 'webhook',
          userId: null,
          target: endpoint.id,
          payload: { kind: 'webhook', body },
          dedupeKey: `${eventId}:webhook:${endpoint.id}`,
        });
      }
      const queued = await store.enqueue(rows);
      logger.debug({ event: event.type, eventId, queued }, 'notification: queued');
      return queued;
    },

    /** The consent service's listener: confirms each grant and withdrawal, announces publications. */
    async onConsentEvent(event: ConsentEvent): Promise<void> {
      try {
        if (event.type === 'policy.published') {
          await this.publish(
            { type: 'policy.published', orgId: event.orgId, version: event.version, widens: event.widens },
            `policy:${event.orgId}:${event.version}`,
          );
        } else if (event.decision === 'granted' || event.decision === 'withdrawn') {
          const { decision, type: _type, ...rest } = event;
          await this.publish({ ...rest, type: `consent.${decision}` }, `consent:${event.receiptId}`);
        }
      } catch (err) {
        // The decision stands whatever happens here; the person can still see it on the device.
        logger.error({ err, event: event.type }, 'notification: could not queue a consent notification');
      }
    },

    /** Tells every active person with the alert's email (one per org that has it) of the failed attempts. */
    async onSignInAlert(alert: SignInAlert): Promise<void> {
      const people = (await directory.findUsersByEmail(alert.email)).filter((p) => !p.deactivatedAt);
      for (const person of people) {
        await this.publish(
          {
            type: 'sign_in.failed_attempts',
            orgId: person.orgId,
            userId: person.id,
            address: alert.address,
            addressFailures: alert.addressFailures,
            firstFailedAt: alert.firstFailedAt.toISOString(),
            lastFailedAt: alert.lastFailedAt.toISOString(),
            accountFailures: alert.accountFailures,
          },
          `sign-in:${alert.email}:${alert.lastFailedAt.toISOString()}`,
        );
      }
    },

    /** An invitation or reset link from the identity module, mailed to its person. */
    async onAccountMail(mail: AccountMail): Promise<void> {
      const { kind, expiresAt, ...rest } = mail;
      await this.publish({ ...rest, type: `account.${kind}`, expiresAt: expiresAt.toISOString() });
    },

    async preferences(userId: string): Promise<Preference[]> {
      const saved = new Map((await store.preferences([userId])).map((r) => [`${r.event}:${r.channel}`, r.enabled]));
      return EVENT_TYPES.flatMap((event) =>
        PERSONAL_CHANNELS.map((channel) => {
          const mandatory = MANDATORY_EVENTS.has(event);
          return { event, channel, mandatory, enabled: mandatory || (saved.get(`${event}:${channel}`) ?? true) };
        }),
      );
    },

    async setPreferences(
      user: { userId: string; orgId: string },
      prefs: { event: EventType; channel: 'email' | 'agent'; enabled: boolean }[],
    ): Promise<Preference[]> {
      const fields = prefs.flatMap((p, i) =>
        MANDATORY_EVENTS.has(p.event) && !p.enabled ? [{ path: `preferences.${i}.enabled`, problem: `"${p.event}" notifications cannot be switched off` }] : [],
      );
      if (fields.length > 0) throw new AppError('validation_failed', `Invalid body: ${fields[0]?.problem}`, fields);
      await store.savePreferences(user.orgId, user.userId, prefs);
      return this.preferences(user.userId);
    },

    /** Adds an org endpoint; the signing secret is returned here once and never listed again. */
    async addWebhook(admin: { userId: string; orgId: string }, input: { url: string; events: EventType[] }) {
      try {
        await deps.checkWebhookUrl(input.url);
      } catch (err) {
        if (!(err instanceof OutboundRefused)) throw err;
        throw new AppError('validation_failed', `Invalid body: url: ${err.message}`, [{ path: 'url', problem: err.message }]);
      }
      const id = uuidv7();
      const secret = newWebhookSecret();
      await store.insertEndpoint({
        id,
        orgId: admin.orgId,
        url: input.url,
        events: input.events,
        secret: deps.secrets.seal(id, secret),
        createdBy: admin.userId,
      });
      await audit.record({
        orgId: admin.orgId,
        actorType: 'user',
        actorId: admin.userId,
        action: 'webhook.created',
        details: { endpointId: id, url: input.url, events: input.events },
      });
      return { id, url: input.url, events: input.events, secret };
    },

    async listWebhooks(orgId: string) {
      return (await store.activeEndpoints(orgId)).map((e) => ({ id: e.id, url: e.url, events: e.events, createdAt: e.createdAt.toISOString() }));
    },

    /** The org's endpoints the server disabled, with when and why: an admin may re-enable each. */
    async disabledWebhooks(orgId: string) {
      return (await store.disabledEndpoints(orgId)).map((e) => ({
        id: e.id,
        url: e.url,
        events: e.events,
        createdAt: e.createdAt.toISOString(),
        disabledAt: (e.disabledAt ?? e.createdAt).toISOString(),
        reason: e.disabledReason === 'gone' ? ('gone' as const) : ('failing' as const),
        detail: e.disabledDetail,
      }));
    },

    /**
     * Takes a disabled endpoint back (same URL, same signing secret) and sends it a test
     * delivery at once, so the delivery log shows whether the receiver works again. Its URL is
     * checked as when it was added.
     */
    async enableWebhook(admin: { userId: string; orgId: string }, id: string): Promise<{ deliveryId: string }> {
      const disabled = (await store.disabledEndpoints(admin.orgId)).find((e) => e.id === id);
      if (!disabled) throw new AppError('not_found', 'No disabled webhook endpoint with that id in this org', [{ path: 'id', problem: 'not found' }]);
      try {
        await deps.checkWebhookUrl(disabled.url);
      } catch (err) {
        if (!(err instanceof OutboundRefused)) throw err;
        throw new AppError('conflict', `This endpoint cannot be re-enabled: its URL ${err.message}`, [{ path: 'url', problem: err.message }]);
      }
      if (!(await store.enableEndpoint(admin.orgId, id))) throw new AppError('not_found', 'No disabled webhook endpoint with that id in this org');
      await audit.record({
        orgId: admin.orgId,
        actorType: 'user',
        actorId: admin.userId,
        action: 'webhook.enabled',
        details: { endpointId: id, url: disabled.url, wasDisabledAt: disabled.disabledAt?.toISOString() ?? null, reason: disabled.disabledReason },
      });
      return this.testWebhook(admin, id);
    },

    async removeWebhook(admin: { userId: string; orgId: string }, id: string): Promise<void> {
      if (!(await store.disableEndpoint(admin.orgId, id, now(), 'removed'))) {
        throw new AppError('not_found', 'No such webhook endpoint in this org', [{ path: 'id', problem: 'not found' }]);
      }
      await audit.record({ orgId: admin.orgId, actorType: 'user', actorId: admin.userId, action: 'webhook.removed', details: { endpointId: id } });
    },

    /**
     * Queues a `webhook.test` delivery to one endpoint of the org: the worker sends it signed,
     * like any event, so its row in the delivery log shows whether the receiver took it.
     */
    async testWebhook(admin: { userId: string; orgId: string }, id: string): Promise<{ deliveryId: string }> {
      const endpoint = (await store.activeEndpoints(admin.orgId)).find((e) => e.id === id);
      if (!endpoint) throw new AppError('not_found', 'No such webhook endpoint in this org', [{ path: 'id', problem: 'not found' }]);
      const at = now();
      const eventId = uuidv7();
      const body = JSON.stringify({ id: eventId, type: 'webhook.test', orgId: admin.orgId, occurredAt: at.toISOString(), data: { endpointId: id } });
      await store.enqueue([
        {
          id: eventId,
          orgId: admin.orgId,
          event: 'webhook.test',
          channel: 'webhook',
          userId: null,
          target: endpoint.id,
          payload: { kind: 'webhook', body },
          dedupeKey: `${eventId}:webhook:${endpoint.id}`,
          maxAttempts: deps.webhookMaxAttempts,
          nextAttemptAt: at,
        },
      ]);
      await audit.record({
        orgId: admin.orgId,
        actorType: 'user',
        actorId: admin.userId,
        action: 'webhook.test_sent',
        details: { endpointId: id, deliveryId: eventId },
      });
      return { deliveryId: eventId };
    },

    /**
     * An endpoint answered 410 Gone: it is disabled like a removed one (its queued deliveries
     * are given up), the audit log says why, and the org's admins are told by mail and tray.
     */
    async endpointGone(endpoint: WebhookEndpointRow): Promise<void> {
      await disableBySystem(endpoint, 'gone', 'HTTP 410 Gone');
    },

    /**
     * A delivery to an endpoint failed through the whole retry schedule: the endpoint is
     * disabled with the last error, so it no longer silently swallows events, and the admins
     * are told. Its other queued deliveries are given up when they come due.
     */
    async endpointFailing(endpointId: string, lastError: string): Promise<void> {
      const endpoint = await store.findEndpoint(endpointId);
      if (!endpoint || endpoint.disabledAt) return;
      await disableBySystem(endpoint, 'failing', lastError);
    },

    /** Recent deliveries of the org with their tracking (admins: did the mail go out?). */
    async deliveries(orgId: string, limit = 100) {
      return (await store.deliveries(orgId, limit)).map((r) => ({
        id: r.id,
        event: r.event,
        channel: r.channel,
        target: r.target,
        userId: r.userId,
        status: r.status,
        attempts: r.attempts,
        lastError: r.lastError,
        createdAt: r.createdAt.toISOString(),
        deliveredAt: r.deliveredAt?.toISOString() ?? null,
      }));
    },
  };
  return service;
}
export type NotificationService = ReturnType<typeof createNotificationService>;
