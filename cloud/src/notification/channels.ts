import { createHmac } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { DeviceService } from '../devices/service';
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
  smtpUrl: string | undefined;
  mailFrom: string;
  webhookTimeoutMs: number;
  now: () => Date;
}) {
  // One pooled transport for the process; with no SMTP_URL no mail is queued at all.
  const transport = deps.smtpUrl ? nodemailer.createTransport(deps.smtpUrl) : undefined;

  const agent: Deliver = async (d) => {
    if (d.payload.kind !== 'agent') throw new Error('not an agent payload');
    // The outbox id doubles as the message id, so a retried queueing shows once in the tray.
    await deps.devices.queueDirective(d.target, { type: 'message', id: d.id, text: d.payload.text });
  };

  const email: Deliver = async (d) => {
    if (d.payload.kind !== 'email') throw new Error('not an email payload');
    if (!transport) throw new Error('SMTP_URL is not configured');
    await transport.sendMail({
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
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: signWebhook(endpoint.secret, timestamp, d.payload.body),
        [DELIVERY_HEADER]: d.id,
      },
      body: d.payload.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.webhookTimeoutMs),
    });
    // Drain the body so the connection is reused; its content does not matter.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status >= 300) throw new Error(`webhook answered HTTP ${response.status}`);
  };

  return {
    emailEnabled: transport !== undefined,
    deliver: { agent, email, webhook } satisfies Record<ClaimedDelivery['channel'], Deliver>,
    close() {
      transport?.close();
    },
  };
}
export type Channels = ReturnType<typeof createChannels>;
