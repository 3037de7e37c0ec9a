import { createHmac } from 'node:crypto';
import type { Mailer } from '../../adapters/mail';
import { OutboundRefused, type WebhookClient } from '../../adapters/webhook';
import type { DeviceService } from '../devices';
import type { ClaimedDelivery, NotificationStore, WebhookEndpointRow } from './store';
import { webhookKey, type WebhookSecrets } from './webhook-secrets';

/** Sends one claimed delivery; throws when it did not go (the worker retries on its schedule). */
export type Deliver = (delivery: ClaimedDelivery) => Promise<void>;

/** A delivery that must not be tried again: its endpoint is gone or was removed. */
export class DeliveryAbandoned extends Error {}

/** The Standard Webhooks headers: the message id (the same on every retry), when it was signed, the signatures. */
export const WEBHOOK_HEADERS = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;
/** Mail carries the delivery id too, so a receiving system can tell a retried message from a new one. */
export const DELIVERY_HEADER = 'X-Icarus-Delivery';

/**
 * `v1,` + base64 HMAC-SHA256 over `{id}.{timestamp}.{body}` with the secret's key: the
 * signature covers the message id, so a captured delivery cannot be replayed under a fresh
 * id past the receiver's de-duplication.
 */
export function signWebhook(secret: string, id: string, timestamp: string, body: string): string {
  return `v1,${createHmac('sha256', webhookKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export function createChannels(deps: {
  devices: DeviceService;
  store: NotificationStore;
  mailer: Mailer;
  mailFrom: string;
  webhooks: WebhookClient;
  secrets: WebhookSecrets;
  /** An endpoint answered 410 Gone: it is disabled, and its org's admins are told. */
  onGone: (endpoint: WebhookEndpointRow) => Promise<void>;
  now: () => Date;
}) {
  const { mailer } = deps;

  const agent: Deliver = async (d) => {
    if (d.payload.kind !== 'agent') throw new Error('not an agent payload');
    // The outbox id doubles as the message id, so a retried queueing shows once in the tray.
    await deps.devices.queueDirective(d.target, { type: 'message', id: d.id, text: d.payload.text });
  };

  const email: Deliver = async (d) => {
    if (d.payload.kind !== 'email') throw new Error('not an email payload');
    await mailer.send({
      from: deps.mailFrom,
      to: d.target,
      subject: d.payload.subject,
      text: d.payload.text,
      html: d.payload.html,
      headers: { [DELIVERY_HEADER]: d.id },
    });
  };

  const webhook: Deliver = async (d) => {
    if (d.payload.kind !== 'webhook') throw new Error('not a webhook payload');
    const endpoint = await deps.store.findEndpoint(d.target);
    if (!endpoint || endpoint.disabledAt) throw new DeliveryAbandoned('webhook endpoint was removed');
    const secret = await deps.secrets.open(endpoint);
    const timestamp = String(Math.floor(deps.now().getTime() / 1000));
    // The URL is checked again at every delivery: its name may resolve elsewhere than when it was registered.
    const status = await deps.webhooks
      .post({
        url: endpoint.url,
        headers: {
          [WEBHOOK_HEADERS.id]: d.id,
          [WEBHOOK_HEADERS.timestamp]: timestamp,
          [WEBHOOK_HEADERS.signature]: signWebhook(secret, d.id, timestamp, d.payload.body),
        },
        body: d.payload.body,
      })
      .catch((err: unknown) => {
        throw err instanceof OutboundRefused ? new Error(`refused: the webhook URL ${err.message}`) : err;
      });
    // 410 Gone: the receiver says this endpoint will never take deliveries again (Standard Webhooks).
    if (status === 410) {
      await deps.onGone(endpoint);
      throw new DeliveryAbandoned('webhook answered HTTP 410 Gone: the endpoint was disabled');
    }
    if (status < 200 || status >= 300) throw new Error(`webhook answered HTTP ${status}`);
  };

  return {
    emailEnabled: mailer.enabled,
    deliver: { agent, email, webhook } satisfies Record<ClaimedDelivery['channel'], Deliver>,
    close() {
      mailer.close();
    },
  };
}
export type Channels = ReturnType<typeof createChannels>;
