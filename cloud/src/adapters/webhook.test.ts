import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/servers';
import { parseAllowedHosts, type ResolveHost } from '../platform/outbound-address';
import { createWebhookClient, OutboundRefused, WebhookUnanswered } from './webhook';

/** A loopback server recording each request's Host header; `answer` decides the reply. */
async function server(answer: (res: import('node:http').ServerResponse) => void) {
  const hosts: string[] = [];
  const s: Server = createServer((req, res) => {
    hosts.push(String(req.headers.host));
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (s.address() as AddressInfo).port,
    hosts,
    close: () =>
      new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      }),
  };
}

const outcome = (promise: Promise<number>) =>
  promise.then(
    (status) => `HTTP ${status}`,
    (err: unknown) =>
      err instanceof OutboundRefused ? `refused: ${err.message}` : err instanceof WebhookUnanswered ? `unanswered: ${err.message}` : String(err),
  );

describe('webhook POST', () => {
  let receiver: Awaited<ReturnType<typeof server>>;
  let internal: Awaited<ReturnType<typeof server>>;
  let silent: Awaited<ReturnType<typeof server>>;
  let redirector: Awaited<ReturnType<typeof server>>;
  beforeAll(async () => {
    receiver = await server((res) => res.writeHead(204).end());
    internal = await server((res) => res.writeHead(200).end('secret'));
    silent = await server(() => undefined);
    redirector = await server((res) => res.writeHead(302, { location: `http://127.0.0.1:${internal.port}/` }).end());
  });
  afterAll(async () => {
    for (const s of [receiver, internal, silent, redirector]) await s.close();
  });

  it('connects to the address it checked: a name only the checking resolver knows is still delivered to', async () => {
    let lookups = 0;
    const resolve: ResolveHost = async () => {
      lookups++;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const client = createWebhookClient({ allowHosts: parseAllowedHosts(`receiver.test:${receiver.port}`), timeoutMs: 2000, resolve });
    expect(await outcome(client.post({ url: `http://receiver.test:${receiver.port}/hooks`, headers: {}, body: '{}' }))).toBe('HTTP 204');
    expect(receiver.hosts.at(-1)).toBe(`receiver.test:${receiver.port}`);
    // One lookup per delivery, the checked one: the connection did not resolve the name again.
    expect(lookups).toBe(1);
  });

  it('checks again at every delivery: a name that now resolves to loopback (DNS rebinding) is refused before connecting', async () => {
    const answers = ['93.184.216.34', '127.0.0.1'];
    const resolve: ResolveHost = async () => [{ address: answers.shift() ?? '127.0.0.1', family: 4 }];
    const client = createWebhookClient({ allowHosts: [], timeoutMs: 2000, resolve });
    const url = `https://rebind.test:${internal.port}/`;
    expect((await client.check(url)).address).toBe('93.184.216.34');
    const before = internal.hosts.length;
    expect(await outcome(client.post({ url, headers: {}, body: '{}' }))).toMatch(/^refused: points to a loopback address/);
    expect(internal.hosts.length).toBe(before);
  });

  it('does not follow a redirect to another address', async () => {
    const client = createWebhookClient({ allowHosts: parseAllowedHosts(`127.0.0.1:${redirector.port}`), timeoutMs: 2000 });
    const before = internal.hosts.length;
    expect(await outcome(client.post({ url: `http://127.0.0.1:${redirector.port}/`, headers: {}, body: '{}' }))).toBe('HTTP 302');
    expect(internal.hosts.length).toBe(before);
  });

  it('says the same of a closed port and of a receiver that never answers', async () => {
    const closed = await freePort();
    const client = createWebhookClient({ allowHosts: parseAllowedHosts(`127.0.0.1:${closed}, 127.0.0.1:${silent.port}`), timeoutMs: 300 });
    const refused = await outcome(client.post({ url: `http://127.0.0.1:${closed}/`, headers: {}, body: '{}' }));
    const timedOut = await outcome(client.post({ url: `http://127.0.0.1:${silent.port}/`, headers: {}, body: '{}' }));
    expect(refused).toBe('unanswered: the receiver could not be reached or did not answer in time');
    expect(timedOut).toBe(refused);
  });
});
