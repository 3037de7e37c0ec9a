import type { Logger } from 'pino';
import { DeliveryAbandoned, type Channels } from './channels';
import type { ClaimedDelivery, NotificationStore } from './store';
import { SECRET_LINK_EVENTS } from './templates';

const MAX_BACKOFF_MS = 86_400_000;
/** How long a claimed row stays hidden from other workers while this one delivers it. */
const LEASE_MS = 120_000;
const BATCH = 20;

/** Delay before attempt n+1 after n failures: base * 2^(n-1), capped, with up to 20% jitter. */
export function backoffMs(failedAttempts: number, baseMs: number, random: () => number = Math.random): number {
  const plain = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(plain * (1 + 0.2 * random()));
}

/** Delay before the retry after the n-th failed webhook attempt, per the schedule; undefined past its end. */
export function webhookRetryMs(failedAttempts: number, schedule: readonly number[]): number | undefined {
  return schedule[failedAttempts - 1];
}

/**
 * Polls the outbox and delivers what is due. Several workers (in one process or many)
 * may run against one database: claims never overlap.
 */
export function createOutboxWorker(deps: {
  store: NotificationStore;
  channels: Channels;
  logger: Logger;
  retryBaseMs: number;
  /** Delay before each webhook retry (WEBHOOK_RETRY_SCHEDULE); webhook rows allow one attempt more than it has entries. */
  webhookSchedule: readonly number[];
  /** A webhook delivery failed its last attempt (not given up as abandoned): its endpoint is disabled. */
  onWebhookExhausted?: (endpointId: string, lastError: string) => Promise<void>;
  now?: () => Date;
}) {
  const { store, channels, logger } = deps;
  const now = deps.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function deliverOne(d: ClaimedDelivery): Promise<boolean> {
    try {
      await channels.deliver[d.channel](d);
      await store.markDelivered(d.id, now(), SECRET_LINK_EVENTS.has(d.event));
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const delay = d.channel === 'webhook' ? webhookRetryMs(d.attempt, deps.webhookSchedule) : backoffMs(d.attempt, deps.retryBaseMs);
      const retryAt = !(err instanceof DeliveryAbandoned) && d.attempt < d.maxAttempts && delay !== undefined ? new Date(now().getTime() + delay) : undefined;
      await store.markFailed(d.id, message.slice(0, 500), retryAt);
      if (d.channel === 'webhook' && retryAt === undefined && !(err instanceof DeliveryAbandoned)) {
        await deps
          .onWebhookExhausted?.(d.target, message)
          .catch((e: unknown) => logger.error({ err: e, endpointId: d.target }, 'notification: could not disable a failing webhook'));
      }
      // The operator's log keeps the transport detail that the admins' delivery log does not show.
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
      logger.warn({ deliveryId: d.id, channel: d.channel, event: d.event, attempt: d.attempt, retryAt, err: message, cause }, 'notification: delivery failed');
      return false;
    }
  }

  /** One pass: claims due rows until none are left; returns how many were delivered. */
  async function pollOnce(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const claimed = await store.claim(BATCH, LEASE_MS);
      if (claimed.length === 0) return delivered;
      const results = await Promise.all(claimed.map(deliverOne));
      delivered += results.filter(Boolean).length;
    }
  }

  /** Never two passes at once in one worker; a pass in progress is joined. */
  function poll(): Promise<number> {
    running ??= pollOnce().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    poll,
    start(intervalMs: number) {
      if (timer) return;
      timer = setInterval(() => {
        poll().catch((err: unknown) => logger.error({ err }, 'notification: outbox poll failed'));
      }, intervalMs);
      timer.unref();
    },
    /** Stops polling and waits for the pass in progress, so nothing is cut off mid-delivery. */
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
export type OutboxWorker = ReturnType<typeof createOutboxWorker>;
