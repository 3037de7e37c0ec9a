/**
 * Faults between the headless agent and the real cloud. A small proxy in front of the cloud
 * (test code only) can go down, answer 500s, or hold an answer the cloud already gave, so a
 * crash lands exactly mid-send. The cloud's PUBLIC_URL is the proxy's, so token audiences match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { uuidv7 } from 'uuidv7';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { AgentStore } from '../../desktop-agent/src/core/store/store';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';
import { startXDisplay, xDisplayUnavailableReason, type XDisplay } from '../helpers/xdisplay';

type Mode = 'pass' | 'fail500' | 'hold';

class Proxy {
  server: Server | undefined;
  port = 0;
  mode: Mode = 'pass';
  failuresLeft = 0;
  ingestBatchIds: string[] = [];
  upstreamStored = 0;
  private sockets = new Set<Socket>();
  constructor(private upstream: () => string) {}

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const body = Buffer.concat(chunks);
          const ingest = req.url === '/v1/ingest';
          if (ingest) {
            const text = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body).toString() : body.toString();
            const batchId: unknown = JSON.parse(text).batchId;
            this.ingestBatchIds.push(String(batchId));
            if (this.mode === 'fail500' && this.failuresLeft > 0) {
              this.failuresLeft -= 1;
              res.writeHead(500, { 'content-type': 'application/json' });
              return res.end(JSON.stringify({ error: { code: 'internal', message: 'injected failure' } }));
            }
          }
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
          const upstream = await fetch(`${this.upstream()}${req.url ?? '/'}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : body });
          const answer = Buffer.from(await upstream.arrayBuffer());
          if (ingest && this.mode === 'hold') {
            this.upstreamStored += 1;
            return; // the cloud stored the batch; the agent never hears back
          }
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
          res.end(answer);
        })();
      });
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Like a server that stopped: connections refused until up() again. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noX = xDisplayUnavailableReason();
if (noX) console.warn(`skipping agent fault tests: ${noX}`);

describe.skipIf(noX !== undefined)('agent faults against the real cloud', () => {
  let cloud: TestCloud;
  let x: XDisplay;
  let proxy: Proxy;
  let bundle: Awaited<ReturnType<typeof agentBundle>>;
  const homes: AgentHome[] = [];

  beforeAll(async () => {
    proxy = new Proxy(() => `http://127.0.0.1:${cloud.port}`);
    await proxy.up();
    [cloud, x, bundle] = await Promise.all([startTestCloud(undefined, { PUBLIC_URL: proxy.url }), startXDisplay(), agentBundle()]);
  });
  afterAll(async () => {
    for (const h of homes) h.cleanup();
    bundle?.remove();
    await Promise.all([proxy?.down(), x?.close(), cloud?.stopAll()]);
  });

  /** An enrolled agent home whose person granted every scope on offer. */
  async function consentedHome(): Promise<AgentHome> {
    const home = agentHome(bundle.file, x.env, { ICARUS_SAMPLE_INTERVAL_MS: '200', ICARUS_SYNC_INTERVAL_MS: '500' });
    homes.push(home);
    const enrolled = await home.cli(['enroll', '--server', proxy.url, '--token', (await cloud.personToken(`faults${homes.length}`)).token]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    const consent = await home.cli(['consent'], 'y\ny\ny\n');
    expect(consent.code, consent.stderr).toBe(0);
    return home;
  }

  async function serverIds(home: AgentHome): Promise<string[]> {
    const store = AgentStore.open(home.dataDir);
    const deviceId = store.state.device()?.deviceId ?? '';
    store.close();
    const rows = await cloud.database.rows<{ id: string }>(sql`select id::text as id from spans where device_id = ${deviceId}`);
    return rows.map((r) => r.id).sort();
  }

  function local(home: AgentHome) {
    const store = AgentStore.open(home.dataDir);
    try {
      return {
        ids: store.spans
          .everything()
          .map((s) => s.id)
          .sort(),
        pending: store.spans.pendingCount(),
        spans: store.spans.everything(),
      };
    } finally {
      store.close();
    }
  }

  async function untilAllSent(home: AgentHome, timeoutMs = 40_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (local(home).pending > 0) {
      if (Date.now() > deadline) throw new Error(`still ${local(home).pending} unsent spans`);
      await sleep(300);
    }
  }

  it('kill -9 mid-send, then restart: the same batch goes again, nothing lost, nothing duplicated', { timeout: 90_000 }, async () => {
    const home = await consentedHome();
    // A backlog of 2,500 spans after the consent took effect: three batches to send.
    const seed = AgentStore.open(home.dataDir);
    const from = (seed.state.get('consent')?.effectiveFromMs ?? Date.now()) + 1;
    seed.spans.insert(
      Array.from({ length: 2500 }, (_, i) => ({ id: uuidv7(), start: from + i, durationMs: 1, app: 'Backlog' })),
      Date.now(),
    );
    seed.close();
    // The agent sends spans once they have ended: wait until the last of the backlog has.
    await sleep(Math.max(600, from + 2_600 - Date.now()));

    proxy.mode = 'hold';
    const first = home.start();
    const deadline = Date.now() + 20_000;
    while (proxy.upstreamStored === 0 && Date.now() < deadline) await sleep(20);
    expect(proxy.upstreamStored).toBe(1);
    first.child.kill('SIGKILL');
    await first.stop();
    const heldBatch = proxy.ingestBatchIds[0];
    expect(await serverIds(home)).toHaveLength(1000); // the cloud has the first batch; the agent never heard

    proxy.mode = 'pass';
    const second = home.start();
    await untilAllSent(home);
    expect(await second.stop()).toBe(0);
    expect(proxy.ingestBatchIds.filter((id) => id === heldBatch).length).toBeGreaterThanOrEqual(2);
    const mine = local(home);
    expect(mine.pending).toBe(0);
    expect(mine.spans.every((s) => s.rejectedReason === null)).toBe(true);
    const onServer = await serverIds(home);
    expect(onServer).toEqual(mine.ids);
    expect(new Set(onServer).size).toBe(onServer.length);
  });

  it('buffers while the server is down, then catches up; 500s back off and then succeed', { timeout: 90_000 }, async () => {
    const home = await consentedHome();
    const [a, b] = await Promise.all([x.openWindow('one', 'AppOne'), x.openWindow('two', 'AppTwo')]);
    const agent = home.start();
    await agent.waitFor(/capturing/);

    await proxy.down();
    for (const w of [a, b, a, b, a]) {
      await x.activate(w);
      await sleep(600);
    }
    await agent.waitFor(/sync: POST \/v1\/ingest failed/);
    expect(local(home).pending).toBeGreaterThanOrEqual(4);
    await proxy.up();
    await untilAllSent(home);

    proxy.mode = 'fail500';
    proxy.failuresLeft = 3;
    for (const w of [b, a, b]) {
      await x.activate(w);
      await sleep(500);
    }
    await agent.waitFor(/injected failure; next try in/);
    await untilAllSent(home);
    proxy.mode = 'pass';
    expect(proxy.failuresLeft).toBe(0);
    expect(await agent.stop()).toBe(0);
    const mine = local(home);
    expect(await serverIds(home)).toEqual(mine.ids);
  });
});

describe('agent with a damaged or locked database', () => {
  it('stops with a clear error naming the file, and leaves the file exactly as it was', async () => {
    const bundle = await agentBundle();
    const home = agentHome(bundle.file);
    try {
      mkdirSync(home.dataDir, { recursive: true });
      const file = join(home.dataDir, 'agent.db');
      writeFileSync(file, 'definitely not sqlite '.repeat(200));
      const before = readFileSync(file);
      const damaged = await home.cli(['status']);
      expect(damaged.code).toBe(3);
      expect(damaged.stderr).toContain(`The agent database ${file} is damaged`);
      expect(readFileSync(file)).toEqual(before);

      writeFileSync(file, '');
      const ok = await home.cli(['status']);
      expect(ok.code, ok.stderr).toBe(0);
      const holder = new Database(file);
      holder.exec('BEGIN EXCLUSIVE');
      holder.prepare("INSERT INTO settings (key, value) VALUES ('probe', '1')").run();
      const locked = await home.cli(['status']);
      holder.exec('ROLLBACK');
      holder.close();
      expect(locked.code).toBe(3);
      expect(locked.stderr).toContain(`The agent database ${file} is locked by another process`);
    } finally {
      home.cleanup();
      bundle.remove();
    }
  });
});
