/**
 * The consent receipt the agent shows is the one the server signed: the real cloud signs it,
 * a proxy in front (test code only) alters what the agent is shown while keeping the signature,
 * and the real CLI must say the receipt is not verified and keep it marked so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';

/** Passes everything through; when `tamper` is set, rewrites the receipt in consent answers. */
class ReceiptProxy {
  server: Server | undefined;
  tamper: ((payload: Record<string, unknown>) => void) | undefined;
  url = '';
  constructor(private readonly upstream: () => string) {}

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        (async () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
          const body = Buffer.concat(chunks);
          const upstream = await fetch(`${this.upstream()}${req.url ?? '/'}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : body });
          let answer = Buffer.from(await upstream.arrayBuffer());
          if (req.url === '/v1/consent' && upstream.ok && this.tamper) {
            const json = JSON.parse(answer.toString('utf8')) as { receipt: { payload: Record<string, unknown> } };
            this.tamper(json.receipt.payload);
            answer = Buffer.from(JSON.stringify(json));
          }
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
          res.end(answer);
        })().catch((error: unknown) => {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'unavailable', message: `proxy: ${String(error)}` } }));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.server = server;
  }

  async down(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('consent receipts', () => {
  let cloud: TestCloud;
  let proxy: ReceiptProxy;
  let bundle: Awaited<ReturnType<typeof agentBundle>>;
  let home: AgentHome;
  const answers = 'y\ny\ny\n';
  const storedReceipts = () => {
    const db = new Database(join(home.dataDir, 'agent.db'), { readonly: true });
    try {
      return db.prepare<[], { payload: string; verified: number }>('SELECT payload, verified FROM receipts ORDER BY received_ms').all();
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    proxy = new ReceiptProxy(() => `http://127.0.0.1:${cloud.port}`); // cloud.url is the proxy's (PUBLIC_URL)
    await proxy.up();
    [cloud, bundle] = await Promise.all([startTestCloud(undefined, { PUBLIC_URL: proxy.url }), agentBundle()]);
    home = agentHome(bundle.file, process.env, { ICARUS_CAPTURE_BACKEND: 'get-windows' });
    const enrolled = await home.cli(['enroll', '--server', proxy.url, '--token', (await cloud.personToken('Rita')).token]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
  });
  afterAll(async () => {
    home?.cleanup();
    bundle?.remove();
    await Promise.all([proxy?.down(), cloud?.stopAll()]);
  });

  it('shows a receipt as verified when what it shows is what the server signed', async () => {
    proxy.tamper = undefined;
    const r = await home.cli(['consent'], answers);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/signature: verified against the server's published receipt key/);
    expect(storedReceipts().at(-1)?.verified).toBe(1);
  });

  it('refuses to call a receipt verified when its shown payload differs from the signed one', async () => {
    // What a person would be misled by: a shorter retention and no individual visibility shown,
    // while the server signed (and holds them to) something else.
    proxy.tamper = (payload) => {
      payload.retentionDays = 1;
      payload.visibility = { ...(payload.visibility as object), managersSeeIndividuals: false, summary: 'nobody sees anything' };
    };
    const r = await home.cli(['consent'], answers);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/signature: NOT verified \(the signed payload differs from the receipt shown\); the receipt is kept, marked unverified/);
    expect(r.stdout).not.toMatch(/signature: verified/);
    const last = storedReceipts().at(-1);
    expect(last?.verified).toBe(0);
    expect(JSON.parse(last?.payload ?? '{}')).toMatchObject({ retentionDays: 1 });
  });
});
