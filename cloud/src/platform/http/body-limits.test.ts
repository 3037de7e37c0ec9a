import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud';
import { testDatabaseKinds } from '../../../test/support/database';

const MiB = 1024 * 1024;

/** Opens a raw socket to the cloud and collects whatever it answers until it closes. */
function openSocket(port: number) {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  let closedAt: number | undefined;
  socket.on('data', (d) => (received += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => ((closedAt = Date.now()), resolve())));
  return { socket, closed, received: () => received, closedAt: () => closedAt };
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

/** Writes chunk after chunk (chunked encoding) until the server answers or `total` bytes went out. */
async function sendChunked(socket: Socket, total: number, chunk: Buffer, answered: () => boolean): Promise<number> {
  const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  let sent = 0;
  while (sent < total && !answered() && !socket.destroyed) {
    const ok = socket.write(frame);
    sent += chunk.length;
    if (!ok)
      await new Promise<void>((resolve) => {
        const done = () => (socket.off('drain', done), socket.off('close', done), resolve());
        socket.once('drain', done);
        socket.once('close', done);
      });
  }
  return sent;
}

describe.each(testDatabaseKinds())('request bodies and slow clients at the edge (%s)', (kind) => {
  let cloud: TestCloud;
  beforeAll(async () => {
    cloud = await startTestCloud(kind, { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2500', BODY_IDLE_TIMEOUT_MS: '1000' });
  });
  afterAll(() => cloud?.stopAll());

  it('answers 413 to a 256 MB chunked enrollment while holding only a few MB of it', async () => {
    const conn = openSocket(cloud.port);
    conn.socket.write('POST /v1/devices/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const sent = await sendChunked(conn.socket, 256 * MiB, Buffer.alloc(MiB, 0x61), () => conn.received().length > 0);
    await conn.closed;
    clearInterval(sampler);
    expect(statusOf(conn.received())).toBe(413);
    expect(conn.received()).toContain('payload_too_large');
    // The server stopped reading at the 4 MB limit: far less than the body was sent or held.
    expect(sent).toBeLessThan(128 * MiB);
    expect(peak - before).toBeLessThan(64 * MiB);
  });

  it('counts gzip bodies after inflation and stops a bomb at the inflated limit', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MiB, 0x20));
    const response = await cloud.fetchPath('/v1/devices/enroll', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    expect(response.status).toBe(413);
    expect(JSON.stringify(await response.json())).toContain('after decompression');
  });

  it('reads a gzip body that inflates past what is inflated inline, within the limit, in full', async () => {
    // 2 MB of JSON whitespace after the fields: past the 1 MB inflated in the event loop, under the 16 MB limit.
    const body = gzipSync(Buffer.from(`{"token":"not-a-token"${' '.repeat(2 * MiB)}}`));
    const response = await cloud.fetchPath('/v1/devices/enroll', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body,
    });
    // Parsed to its closing brace, 2 MB on: the answer is about its fields, not its size or encoding.
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: { code: string; fields: { path: string }[] } };
    expect(answer.error.code).toBe('validation_failed');
    expect(answer.error.fields.map((f) => f.path)).toContain('token');
  });

  it('answers 400 to a body that is not gzip, or is cut off, though it says it is', async () => {
    const whole = gzipSync(Buffer.from(JSON.stringify({ token: 'x'.repeat(64) })));
    for (const body of [Buffer.from('{"token":"plain"}'), whole.subarray(0, whole.length - 6)]) {
      const response = await cloud.fetchPath('/v1/devices/enroll', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body,
      });
      expect(response.status).toBe(400);
      expect(JSON.stringify(await response.json())).toContain('invalid gzip data');
    }
  });

  it('limits the sign-in form and every page form, chunked or declared', async () => {
    const conn = openSocket(cloud.port);
    conn.socket.write('POST /sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n');
    await sendChunked(conn.socket, 64 * MiB, Buffer.alloc(64 * 1024, 0x61), () => conn.received().length > 0);
    await conn.closed;
    expect(statusOf(conn.received())).toBe(413);

    const declared = await cloud.fetchPath('/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `email=${'b'.repeat(2 * MiB)}`,
    });
    expect(declared.status).toBe(413);
  });

  it('still reads a small form: a sign-in without its form token is the 403 page, not a limit', async () => {
    const response = await cloud.fetchPath('/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=nobody%40example.com&password=wrong',
      redirect: 'manual',
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('The form expired');
  });

  it('cuts off a body trickled at a byte every 400 ms once the request timeout passes', async () => {
    const conn = openSocket(cloud.port);
    const started = Date.now();
    conn.socket.write('POST /v1/devices/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
    const trickle = setInterval(() => conn.socket.destroyed || conn.socket.write(' '), 400);
    await conn.closed;
    clearInterval(trickle);
    const tookMs = (conn.closedAt() ?? Date.now()) - started;
    expect(tookMs).toBeGreaterThanOrEqual(2000);
    expect(tookMs).toBeLessThan(6000);
    expect([408, 0]).toContain(statusOf(conn.received()));
  });

  it('answers 408 to a body that stalls, after the body idle timeout', async () => {
    const conn = openSocket(cloud.port);
    const started = Date.now();
    conn.socket.write('POST /v1/devices/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":');
    await new Promise<void>((resolve) => {
      const check = setInterval(() => conn.received().length > 0 && (clearInterval(check), resolve()), 20);
    });
    expect(statusOf(conn.received())).toBe(408);
    expect(conn.received()).toContain('request_timeout');
    expect(Date.now() - started).toBeLessThan(2000);
    conn.socket.destroy();
  });

  it('closes a connection whose headers never finish', async () => {
    const conn = openSocket(cloud.port);
    const started = Date.now();
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => conn.socket.destroyed || conn.socket.write('X-A: b\r\n'), 200);
    await conn.closed;
    clearInterval(trickle);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});
