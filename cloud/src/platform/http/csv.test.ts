import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { csvResponse, streamCsv } from './csv';

async function* pages(failAt: number): AsyncGenerator<string[], void, undefined> {
  for (let i = 0; ; i++) {
    if (i === failAt) throw new Error(`page ${i} could not be read`);
    if (i === 3) return;
    yield [`${i},a`, `${i},b`];
  }
}
const render = (page: string[]) => [page.map((line) => `${line}\n`).join('')];

describe('a streamed CSV', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  async function download(failAt: number, errors: unknown[]) {
    const app = new Hono().get('/x.csv', async () => csvResponse(await streamCsv('n,v\n', pages(failAt), render, (e) => errors.push(e)), 'x.csv'));
    app.onError((err, c) => c.json({ error: { code: 'internal', message: err.message } }, 500));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await once(server, 'listening');
    close = () => new Promise((resolve) => server.close(() => resolve()));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x.csv`);
    return { status: res.status, text: res.text() };
  }

  it('arrives whole when every page is read', async () => {
    const errors: unknown[] = [];
    const { status, text } = await download(-1, errors);
    expect(status).toBe(200);
    expect(await text).toBe('n,v\n0,a\n0,b\n1,a\n1,b\n2,a\n2,b\n');
    expect(errors).toEqual([]);
  });

  it('is an error response, not a 200, when its first page fails', async () => {
    const errors: unknown[] = [];
    const { status, text } = await download(0, errors);
    expect(status).toBe(500);
    expect(await text).toMatch(/page 0 could not be read/);
  });

  it('breaks off the transfer, logged, when a later page fails: the client never gets a short file that looks complete', async () => {
    const errors: unknown[] = [];
    const { status, text } = await download(2, errors);
    expect(status).toBe(200);
    await expect(text).rejects.toThrow();
    expect(errors.map((e) => String(e))).toEqual(['Error: page 2 could not be read']);
  });
});
