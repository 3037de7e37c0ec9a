import { gunzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

/**
 * The framework's ceiling for the fleet benchmark: the same HTTP stack (Hono on
 * @hono/node-server) reading, inflating and parsing the same gzip JSON batch and answering
 * like the cloud, with no authentication, validation or database.
 */
const app = new Hono();
app.post('/v1/ingest', async (c) => {
  const raw = Buffer.from(await c.req.arrayBuffer());
  const body = JSON.parse((c.req.header('content-encoding') === 'gzip' ? gunzipSync(raw) : raw).toString('utf8')) as { spans: unknown[] };
  return c.json({ accepted: body.spans.length, duplicates: 0, rejected: [], directives: [] });
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`listening on http://127.0.0.1:${info.port}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
