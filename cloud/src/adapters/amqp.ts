// RabbitMQ (AMQP 0-9-1) behind the events port: one connection and one confirm channel, opened
// on the first publish and again after any failure, a durable topic exchange, persistent messages.
import * as amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { Logger } from 'pino';
import { CLOUDEVENTS_JSON, type EventPublisher, type OutgoingEvent } from '../platform/events/publisher';

export interface AmqpPublisherOptions {
  url: string;
  /** A topic exchange: consumers bind queues by routing key (`consent.*`, `#`). */
  exchange: string;
  /** A publish whose confirmations take longer than this fails (and is retried by the relay). */
  timeoutMs: number;
  logger: Logger;
}

export function createAmqpPublisher(options: AmqpPublisherOptions): EventPublisher {
  const { logger } = options;
  let open: Promise<{ connection: ChannelModel; channel: ConfirmChannel }> | undefined;

  function connect() {
    open ??= (async () => {
      const connection = await amqp.connect(options.url, { timeout: options.timeoutMs });
      const forget = () => {
        open = undefined;
      };
      connection.on('error', (err: Error) => logger.warn({ err: err.message }, 'events: broker connection error'));
      connection.on('close', forget);
      try {
        const channel = await connection.createConfirmChannel();
        channel.on('error', (err: Error) => logger.warn({ err: err.message }, 'events: broker channel error'));
        channel.on('close', forget);
        await channel.assertExchange(options.exchange, 'topic', { durable: true });
        return { connection, channel };
      } catch (err) {
        await connection.close().catch(() => undefined);
        throw err;
      }
    })();
    // A failed attempt is not kept: the next publish tries again.
    open.catch(() => {
      open = undefined;
    });
    return open;
  }

  async function drop() {
    const current = open;
    open = undefined;
    if (current) await current.then(({ connection }) => connection.close()).catch(() => undefined);
  }

  return {
    async publish(events: OutgoingEvent[]) {
      if (events.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no broker confirmation within ${options.timeoutMs} ms`)), options.timeoutMs);
      });
      try {
        await Promise.race([
          (async () => {
            const { channel } = await connect();
            await Promise.all(
              events.map(
                (event) =>
                  new Promise<void>((resolve, reject) => {
                    channel.publish(
                      options.exchange,
                      event.routingKey,
                      event.body,
                      { persistent: true, messageId: event.id, type: event.type, contentType: CLOUDEVENTS_JSON, timestamp: Math.floor(Date.now() / 1000) },
                      (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(`broker refused event ${event.id}`)) : resolve()),
                    );
                  }),
              ),
            );
          })(),
          late,
        ]);
      } catch (err) {
        // Whatever state the channel is in, start over on the next publish.
        await drop();
        throw err;
      } finally {
        clearTimeout(timer);
      }
    },
    /** Closes the connection; a later publish opens a new one. */
    async close() {
      await drop();
    },
  };
}
