import { createHmac } from 'node:crypto';
import type { Mailer } from '../../adapters/mail';
import { OutboundRefused, type WebhookClient } from '../../adapters/webhook';
import type { DeviceService } from '../devices';
import type { ClaimedDelivery, NotificationStore } from './store';

/** Sends one claimed delivery; throws when it did not go (the worker retries with backoff). */
export type Deliver = (delivery: ClaimedDelivery) => Promise<void>;

export const SIGNATURE_HEADER = 'X-Icarus-Signature';
export const TIMESTAMP_HEADER = 'X-Icarus-Timestamp';
export const DELIVERY_HEADER = 'X-Icarus-Delivery';

/** `sha256=` + hex HMAC-SHA256 over `timestamp.body`: the receiver recomputes it with its secret. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function createChannels(deps: {
  devices: DeviceService;
  store: NotificationStore;
  mailer: Mailer;
  mailFrom: string;
  webhooks: WebhookClient;
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
    if (!endpoint || endpoint.disabledAt) throw new Error('webhook endpoint was removed');
    const timestamp = String(Math.floor(deps.now().getTime() / 1000));
    // The URL is checked again at every delivery: its name may resolve elsewhere than when it was registered.
    const status = await deps.webhooks
      .post({
        url: endpoint.url,
        headers: {
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(endpoint.secret, timestamp, d.payload.body),
          [DELIVERY_HEADER]: d.id,
        },
        body: d.payload.body,
      })
      .catch((err: unknown) => {
        throw err instanceof OutboundRefused ? new Error(`refused: the webhook URL ${err.message}`) : err;
      });
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
