import type { Logger } from 'pino';
import type postgres from 'postgres';

/**
 * Tells every instance that something it may hold in memory changed (a device revoked, a
 * consent decision, a policy published). This instance's subscribers hear it at once; the
 * others through PostgreSQL NOTIFY (or Redis pub/sub). A subscriber given `null` must forget
 * everything of its topic: the connection dropped and messages may have been missed.
 */
export interface InvalidationBus {
  /** Call after the change has committed. */
  publish(topic: string, key: string): Promise<void>;
  subscribe(topic: string, onChange: (key: string | null) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const CHANNEL = 'icarus_invalidate';
/** Separates topic and key in one NOTIFY payload (never in a uuid or a topic name). */
const SEP = '\u0001';

function subscribers() {
  const byTopic = new Map<string, ((key: string | null) => void)[]>();
  return {
    add(topic: string, onChange: (key: string | null) => void) {
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), onChange]);
    },
    deliver(topic: string, key: string | null) {
      for (const onChange of byTopic.get(topic) ?? []) onChange(key);
    },
    deliverAll() {
      for (const [topic] of byTopic) this.deliver(topic, null);
    },
    decode(payload: string) {
      const at = payload.indexOf(SEP);
      if (at > 0) this.deliver(payload.slice(0, at), payload.slice(at + 1));
    },
  };
}

/** One process (PGlite, or a test): subscribers hear publications at once, and nothing else exists. */
export function createLocalBus(): InvalidationBus {
  const subs = subscribers();
  return {
    async publish(topic, key) {
      subs.deliver(topic, key);
    },
    subscribe: (topic, onChange) => subs.add(topic, onChange),
    async start() {},
    async stop() {},
  };
}

/**
 * LISTEN/NOTIFY on the database every instance already shares: no other service needed.
 * postgres.js listens on a connection of its own and listens again after a reconnect; each
 * (re)listen tells subscribers to forget everything, since notifications sent while the
 * connection was down are lost.
 */
export function createPostgresBus(pg: postgres.Sql, logger: Logger): InvalidationBus {
  const subs = subscribers();
  let listening: { unlisten: () => Promise<void> } | undefined;
  return {
    async publish(topic, key) {
      subs.deliver(topic, key);
      try {
        await pg.notify(CHANNEL, `${topic}${SEP}${key}`);
      } catch (err) {
        // The change is committed; other instances fall back to their caches' short lifetime.
        logger.warn({ err, topic }, 'invalidation: notify failed');
      }
    },
    subscribe: (topic, onChange) => subs.add(topic, onChange),
    async start() {
      if (listening) return;
      listening = await pg.listen(
        CHANNEL,
        (payload) => subs.decode(payload),
        () => subs.deliverAll(),
      );
    },
    async stop() {
      const held = listening;
      listening = undefined;
      await held?.unlisten().catch(() => undefined);
    },
  };
}

/** The subset of an ioredis client the Redis bus uses (a publisher and a subscriber connection). */
export interface RedisPubSub {
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/** Redis pub/sub, when REDIS_URL is set: the same contract over two Redis connections. */
export function createRedisBus(publisher: RedisPubSub, subscriber: RedisPubSub, prefix: string, logger: Logger): InvalidationBus {
  const subs = subscribers();
  const channel = `${prefix}invalidate`;
  let started = false;
  return {
    async publish(topic, key) {
      subs.deliver(topic, key);
      try {
        await publisher.publish(channel, `${topic}${SEP}${key}`);
      } catch (err) {
        logger.warn({ err, topic }, 'invalidation: publish failed');
      }
    },
    subscribe: (topic, onChange) => subs.add(topic, onChange),
    async start() {
      if (started) return;
      started = true;
      subscriber.on('message', (from, message) => {
        if (from === channel) subs.decode(message);
      });
      // ioredis subscribes again after a reconnect and says "ready": what was missed is forgotten.
      subscriber.on('ready', () => subs.deliverAll());
      await subscriber.subscribe(channel);
    },
    async stop() {
      if (!started) return;
      started = false;
      await subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}
