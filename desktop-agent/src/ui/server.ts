import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { IPC_HTTP_PREFIX, type IpcHandlers, type IpcResult } from '@icarus/shared';
import { dispatchIpc } from './dispatch';

/** The files the screens consist of; nothing else under the assets folder is ever served. */
const ASSETS: Record<string, string> = {
  'consent.html': 'text/html; charset=utf-8',
  'my-data.html': 'text/html; charset=utf-8',
  'status.html': 'text/html; charset=utf-8',
  'imports.html': 'text/html; charset=utf-8',
  'agent.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'bridge.js': 'text/javascript; charset=utf-8',
};

export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const MAX_BODY_BYTES = 64 * 1024;

export interface UiServerOptions {
  handlers: IpcHandlers;
  /** Output of buildUi(). */
  assetsDir: string;
  /** 0 (the default) lets the OS pick a free port. */
  port?: number;
}

export interface UiServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  /** Per-session secret every /ipc/ request must carry; shown only in the URL fragment. */
  token: string;
  /** The address to open a page with, token in the fragment so it never reaches a log. */
  pageUrl(page: 'consent' | 'my-data' | 'status' | 'imports'): string;
  close(): Promise<void>;
}

const STATUS_OF: Record<string, number> = { bad_request: 400, unknown_channel: 404, forbidden: 403, unavailable: 503, failed: 500 };

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Serves the agent's screens and a JSON bridge for the IPC contract to a browser on this computer
 * only: bound to 127.0.0.1, answering only requests whose Host is that address (a DNS-rebinding
 * page elsewhere cannot talk to it), and running a channel only with the session token. Other
 * local users can reach the port but not the token, which lives in the agent's memory and the
 * URL the person opened.
 */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const token = randomBytes(32).toString('base64url');
  let origin = '';
  let allowedHosts = new Set<string>();

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, {
      'content-type': type,
      'content-security-policy': PAGE_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'cross-origin-resource-policy': 'same-origin',
    });
    res.end(body);
  };
  const sendResult = (res: ServerResponse, result: IpcResult<unknown>) =>
    send(res, result.ok ? 200 : (STATUS_OF[result.error.code] ?? 500), 'application/json; charset=utf-8', JSON.stringify(result));
  const refuse = (res: ServerResponse, status: number, message: string) =>
    sendResult(res, { ok: false, error: { code: status === 400 ? 'bad_request' : 'forbidden', message } });

  const server = createServer((req, res) => {
    void (async () => {
      if (!allowedHosts.has(req.headers.host ?? '')) return refuse(res, 403, 'wrong host');
      const path = new URL(req.url ?? '/', origin).pathname;
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (path === '/') {
          res.writeHead(302, { location: '/status.html' });
          return res.end();
        }
        const name = path.slice(1);
        const type = ASSETS[name];
        if (!type) return send(res, 404, 'text/plain; charset=utf-8', 'not found');
        return send(res, 200, type, await readFile(join(options.assetsDir, name)));
      }
      if (req.method !== 'POST' || !path.startsWith(IPC_HTTP_PREFIX)) return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed');
      // A browser always sends Origin on a cross-site POST; only our own pages may call.
      if (req.headers.origin !== undefined && req.headers.origin !== origin) return refuse(res, 403, 'wrong origin');
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !sameSecret(auth.slice(7), token)) return refuse(res, 403, 'missing or wrong session token');
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return refuse(res, 400, 'expected application/json');
      const text = await readBody(req);
      if (text === undefined) return refuse(res, 400, 'request too large');
      let payload: unknown;
      try {
        payload = text.length === 0 ? {} : JSON.parse(text);
      } catch {
        return refuse(res, 400, 'body is not JSON');
      }
      sendResult(res, await dispatchIpc(options.handlers, decodeURIComponent(path.slice(IPC_HTTP_PREFIX.length)), payload));
    })().catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', error instanceof Error ? error.message : 'internal error');
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  allowedHosts = new Set([`127.0.0.1:${port}`]);
  return {
    origin,
    port,
    token,
    pageUrl: (page) => `${origin}/${page}.html#token=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
