// The haproxy edge (deploy/haproxy/haproxy.cfg) on loopback in front of two real clouds:
// TLS 1.3 only, HTTP/2, the request size limit, health checks and a reload that loses nothing.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '../../cloud/src/start';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../../cloud/test/support/database';
import { makeTestOrg, PASSWORD } from '../../cloud/test/support/people';
import { httpsRequest, makeSelfSignedCertificate, type TestCertificate } from '../../cloud/test/support/tls';
import { requireHaproxy, startEdge, type Edge } from '../helpers/haproxy';
import { freePort } from '../helpers/ports';

describe.each(testDatabaseKinds())('the edge in front of two clouds on %s', (kind) => {
  let cert: TestCertificate;
  let runDir: string;
  const dbs: TestDatabase[] = [];
  const clouds: RunningCloud[] = [];
  let edge: Edge;
  let base: string;

  beforeAll(async () => {
    requireHaproxy();
    cert = makeSelfSignedCertificate();
    runDir = mkdtempSync(join(tmpdir(), 'icarus-edge-'));
    const pem = join(runDir, 'edge.pem');
    writeFileSync(pem, Buffer.concat([cert.ca, Buffer.from('\n'), readFileSync(cert.keyPath)]));
    // On PostgreSQL both clouds share one database, as in production; PGlite is one process's
    // own database, so there each cloud has its own (the edge behaves the same).
    const keys = {
      TITLE_KEY: randomBytes(32).toString('base64'),
      TOKEN_SECRET: randomBytes(32).toString('base64'),
      RECEIPT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    };
    const shared = kind === 'postgres' ? await createTestDatabase(kind) : undefined;
    if (shared) dbs.push(shared);
    for (let i = 0; i < 2; i++) {
      const db = shared ?? (await createTestDatabase(kind));
      if (!shared) dbs.push(db);
      const port = await freePort();
      clouds.push(
        await startCloud({
          env: {
            PORT: String(port),
            HOST: '127.0.0.1',
            DATA_DIR: db.dataDir,
            LOG_LEVEL: 'silent',
            NODE_ENV: 'test',
            TRUST_PROXY: 'true',
            ...keys,
            ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}),
          },
          silent: true,
        }),
      );
    }
    edge = await startEdge({ port: await freePort(), certPem: pem, runDir, clouds: [`127.0.0.1:${clouds[0]?.port}`, `127.0.0.1:${clouds[1]?.port}`] });
    base = `https://localhost:${edge.port}`;
  }, 120_000);

  afterAll(async () => {
    await edge?.stop();
    for (const cloud of clouds) await cloud.close();
    for (const db of dbs) await db.drop();
    cert?.remove();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  });

  it('refuses a client that offers no more than TLS 1.2', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: edge.port, servername: 'localhost', ca: cert.ca, maxVersion: 'TLSv1.2' }, () => {
        resolve(`connected with ${socket.getProtocol()}`);
        socket.destroy();
      });
      socket.on('error', (error) => resolve(`refused: ${error.message}`));
    });
    expect(outcome).toMatch(/^refused: .*protocol version/i);
  });

  it('speaks HTTP/2 over TLS 1.3 and forwards to a cloud', async () => {
    const session = http2Connect(base, { ca: cert.ca });
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': '/readyz' });
        let status = 0;
        let body = '';
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (body += chunk));
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
        stream.end();
      });
      expect(session.alpnProtocol).toBe('h2');
      expect(status).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ ok: true });
    } finally {
      session.close();
    }
  });

  it('refuses a body larger than 16 MB at the edge, before reading it', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      // Only the declared length is sent: the edge must answer without waiting for the body.
      const req = request(
        `${base}/v1/ingest`,
        { method: 'POST', ca: cert.ca, headers: { 'content-type': 'application/json', 'content-length': String(17 * 1024 * 1024) } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('tells the clouds the client used https, so a sign-in through it gets a Secure cookie', async () => {
    // One org per database: both clouds share one on PostgreSQL, each has its own on PGlite.
    const owners = kind === 'postgres' ? clouds.slice(0, 1) : clouds;
    const orgs = await Promise.all(owners.map((cloud) => makeTestOrg(cloud, `edge${kind}`)));
    const email = orgs[0]?.people.employee.email ?? '';
    for (let i = 0; i < 2; i++) {
      // The client's own X-Forwarded-Proto is replaced by the edge's.
      const answer = await httpsRequest(`${base}/api/session`, cert.ca, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'http' },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      expect(answer.status).toBe(201);
      expect(answer.setCookies.find((line) => line.startsWith('icarus_session='))).toMatch(/;\s*Secure/i);
    }
  });

  it('loses no request while it reloads gracefully under load', async () => {
    const statuses: number[] = [];
    const total = 160;
    let sent = 0;
    const worker = async () => {
      while (sent < total) {
        sent++;
        // A fresh connection each time, so requests land on old and new workers alike.
        const answer = await httpsRequest(`${base}/healthz`, cert.ca, { headers: { connection: 'close' } }).then(
          (a) => a.status,
          () => 0,
        );
        statuses.push(answer);
      }
    };
    const load = Promise.all([worker(), worker(), worker(), worker()]);
    for (const at of [40, 100]) {
      while (sent < at) await new Promise((r) => setTimeout(r, 5));
      edge.master.kill('SIGUSR2');
    }
    await load;
    expect(statuses).toHaveLength(total);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(edge.master.exitCode).toBeNull();
    expect(edge.output()).toMatch(/Reexecuting Master process|reload/i);
  }, 60_000);

  it('takes a stopped cloud out of rotation on its /readyz health check', async () => {
    await clouds[1]?.close();
    const deadline = Date.now() + 15_000;
    let down: Record<string, string>[] = [];
    while (Date.now() < deadline) {
      down = (await edge.stats()).filter((r) => r.svname === 'cloud2' && r.status?.startsWith('DOWN'));
      if (down.length === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(down.map((r) => r.pxname).sort()).toEqual(['api', 'web']);
    const cloud1 = (await edge.stats()).filter((r) => r.svname === 'cloud1').map((r) => r.status);
    expect(cloud1).toEqual(['UP', 'UP']);
    // Everything is served by the cloud that is left.
    const answers = await Promise.all(Array.from({ length: 10 }, () => httpsRequest(`${base}/readyz`, cert.ca).then((a) => a.status)));
    expect(answers).toEqual(Array.from({ length: 10 }, () => 200));
  }, 30_000);
});
