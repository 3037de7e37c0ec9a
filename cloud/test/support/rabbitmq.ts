// RabbitMQ for tests: a vhost of its own per test (made and deleted with rabbitmqctl, which runs
// here as root), a queue bound to every event, and a loopback TCP proxy that can be cut to play a
// broker outage. The broker runs on this machine at 127.0.0.1:5672 (guest/guest).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import * as amqp from 'amqplib';

const run = promisify(execFile);
const BROKER_HOST = '127.0.0.1';
const BROKER_PORT = Number(process.env.TEST_AMQP_PORT ?? 5672);

async function rabbitmqctl(...args: string[]): Promise<void> {
  await run('rabbitmqctl', ['-q', ...args], { timeout: 60_000 });
}

export interface TestVhost {
  name: string;
  /** The broker URL of this vhost, optionally through another host:port (a proxy). */
  url(port?: number): string;
  drop(): Promise<void>;
}

export async function createTestVhost(): Promise<TestVhost> {
  const name = `icarus-test-${randomBytes(5).toString('hex')}`;
  await rabbitmqctl('add_vhost', name);
  await rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  return {
    name,
    url: (port = BROKER_PORT) => `amqp://guest:guest@${BROKER_HOST}:${port}/${encodeURIComponent(name)}`,
    drop: () => rabbitmqctl('delete_vhost', name),
  };
}

export interface ReceivedEvent {
  routingKey: string;
  messageId: string | undefined;
  contentType: string | undefined;
  body: string;
  json: unknown;
  redelivered: boolean;
}

/** A durable queue bound to `#` on the exchange (declared here too, as a consumer would), collecting what arrives. */
export async function collectEvents(url: string, exchange: string) {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('all-events', { durable: true });
  await channel.bindQueue(queue, exchange, '#');
  const received: ReceivedEvent[] = [];
  await channel.consume(queue, (message) => {
    if (!message) return;
    const body = message.content.toString('utf8');
    received.push({
      routingKey: message.fields.routingKey,
      messageId: message.properties.messageId as string | undefined,
      contentType: message.properties.contentType as string | undefined,
      body,
      json: JSON.parse(body) as unknown,
      redelivered: message.fields.redelivered,
    });
    channel.ack(message);
  });
  return {
    received,
    async close() {
      await connection.close();
    },
  };
}

/** A loopback TCP proxy to the broker; `cut()` drops every connection and refuses new ones until `restore()`. */
export async function startBrokerProxy(): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(BROKER_PORT, BROKER_HOST);
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      refusing = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      refusing = false;
    },
    async close() {
      refusing = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
