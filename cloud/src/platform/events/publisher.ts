/**
 * The port a broker adapter implements (`adapters/amqp.ts` for RabbitMQ; Kafka or NATS would be
 * another file beside it). The relay hands it encoded events; it knows nothing of modules.
 */
export interface OutgoingEvent {
  /** The CloudEvents id, also sent as the message id. */
  id: string;
  /** The CloudEvents type. */
  type: string;
  /** Where a topic-routed broker files it: the catalogue name (`consent.granted`). */
  routingKey: string;
  /** The structured-mode CloudEvents JSON. */
  body: Buffer;
}

export interface EventPublisher {
  /**
   * Resolves once the broker has confirmed every one of `events` as stored; rejects when any is
   * refused, the connection drops or no confirmation comes in time (the relay retries them all:
   * consumers de-duplicate by id).
   */
  publish(events: OutgoingEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** The CloudEvents content type of a structured-mode message. */
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';
