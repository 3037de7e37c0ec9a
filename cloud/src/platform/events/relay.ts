import type { Logger } from 'pino';
import type { Database } from '../db/client';
import type { Metrics } from '../metrics';
import { cloudEventType, type CloudEventEnvelope } from './catalogue';
import { createEventOutboxStore, type ClaimedEvent } from './outbox-store';
import type { EventPublisher, OutgoingEvent } from './publisher';

export interface RelayOptions {
  database: Database;
  publisher: EventPublisher;
  logger: Logger;
  metrics: Metrics;
  /** The CloudEvents `source` of every event of this deployment. */
  source: string;
  pollMs: number;
  /** First retry delay after a failed publish; doubled per attempt, capped at a minute. */
  retryBaseMs: number;
  /** How long a claimed row is kept off other relays; longer than any publish may take. */
  leaseMs: number;
  batch?: number;
  /** Published rows are kept this long, then deleted. */
  keepSentMs?: number;
}

const MAX_RETRY_MS = 60_000;

export function toCloudEvent(row: ClaimedEvent, source: string): CloudEventEnvelope {
  return {
    specversion: '1.0',
    id: row.id,
    source,
    type: cloudEventType(row.name as Parameters<typeof cloudEventType>[0]),
    time: row.time.toISOString(),
    subject: row.subject,
    datacontenttype: 'application/json',
    data: row.data,
  };
}

/**
 * Publishes the event outbox (worker role): claims due rows, publishes them with confirms, marks
 * them sent. A failure leaves them due again after a backoff; nothing is dropped, so a broker
 * outage delays events and loses none. Any number of relays share the outbox.
 */
export function createEventRelay(options: RelayOptions) {
  const { publisher, logger, metrics } = options;
  const store = createEventOutboxStore(options.database);
  const batch = options.batch ?? 200;
  const keepSentMs = options.keepSentMs ?? 60 * 60_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  let lastForget = 0;

  /** One pass: publishes until nothing is due or a publish fails. Answers how many were sent. */
  async function drain(): Promise<number> {
    let sent = 0;
    for (;;) {
      const claimed = await store.claim(batch, options.leaseMs);
      if (claimed.length === 0) break;
      const outgoing: OutgoingEvent[] = claimed.map((row) => {
        const envelope = toCloudEvent(row, options.source);
        return { id: row.id, type: envelope.type, routingKey: row.name, body: Buffer.from(JSON.stringify(envelope)) };
      });
      try {
        await publisher.publish(outgoing);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const attempts = Math.max(...claimed.map((r) => r.attempts));
        const delay = Math.min(MAX_RETRY_MS, options.retryBaseMs * 2 ** Math.min(16, attempts - 1));
        metrics.eventPublishFailures.inc(claimed.length);
        logger.warn({ events: claimed.length, attempts, retryInMs: delay, err: message }, 'events: publish failed, will retry');
        await store.markFailed(claimed, message, new Date(Date.now() + delay));
        break;
      }
      await store.markSent(claimed);
      metrics.eventsPublished.inc(claimed.length);
      sent += claimed.length;
      if (claimed.length < batch) break;
    }
    metrics.eventOutboxDepth.set(await store.depth());
    if (Date.now() - lastForget > 60_000) {
      lastForget = Date.now();
      await store.forgetSent(new Date(Date.now() - keepSentMs));
    }
    return sent;
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => {
      running = drain()
        .then(() => undefined)
        .catch((err: unknown) => logger.error({ err }, 'events: relay pass failed'))
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, options.pollMs);
    timer.unref();
  }

  return {
    drain,
    depth: () => store.depth(),
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await publisher.close();
    },
  };
}
export type EventRelay = ReturnType<typeof createEventRelay>;
