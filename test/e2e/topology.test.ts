// The cloud spread over processes as a deployment runs it: 2 api, 2 worker and 1 scheduler
// processes of the real server on PostgreSQL (a database of its own), Redis (a key prefix of its
// own) and RabbitMQ (a vhost of its own), behind haproxy with the repository's edge
// configuration. A simulated fleet syncs through the edge while one process of each role is
// killed with SIGKILL and replaced; then what a user would notice is checked.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Redis } from 'ioredis';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIRE_PATHS } from '@icarus/shared';
import { startCloud, type RunningCloud } from '../../cloud/src/start';
import { createEventOutboxStore, parseCloudEvent } from '../../cloud/src/platform/events';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../../cloud/test/support/database';
import { collectEvents, createTestVhost, type TestVhost } from '../../cloud/test/support/rabbitmq';
import { startSmtpServer, waitFor } from '../../cloud/test/support/servers';
import { makeSelfSignedCertificate, type TestCertificate } from '../../cloud/test/support/tls';
import { requireHaproxy, startEdge, type Edge } from '../helpers/haproxy';
import { freePort } from '../helpers/ports';

const serverEntry = new URL('../../cloud/src/server.ts', import.meta.url).pathname;
/**
 * Devices of the simulated fleet, a few thousand as the issue of scale asks. Each is enrolled,
 * bound and consenting through the services (audited like a real one): 2,000 take about 145 s
 * here with the machine shared; `TOPOLOGY_DEVICES=250` runs a quick one.
 */
const FLEET = Number(process.env.TOPOLOGY_DEVICES ?? 2000);
const LOAD_SECONDS = 30;
const IN_FLIGHT = 12;
const EXCHANGE = 'icarus.events';
const PASSWORD = 'correct horse battery staple';

/** How long the processes get to stop on SIGTERM when the suite ends. */
const STOP_GRACE_MS = 30_000;

interface Proc {
  name: string;
  roles: string;
  port: number;
  child: ChildProcess;
  output: () => string;
}

interface SimDevice {
  deviceId: string;
  token: string;
  /** Where this device's next span starts. */
  next: number;
}

describe.each(testDatabaseKinds())('the topology on %s', (kind) => {
  // PostgreSQL only: PGlite belongs to one process.
  const on = kind === 'postgres';
  let testDb: TestDatabase;
  let dataDir: string;
  let vhost: TestVhost;
  let cert: TestCertificate;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let consumer: Awaited<ReturnType<typeof collectEvents>>;
  let edge: Edge;
  let control: RunningCloud;
  const redisPrefix = `icarus-topology-${randomBytes(4).toString('hex')}:`;
  const procs: Proc[] = [];
  let edgePort = 0;
  let orgId = '';
  let managerId = '';
  let fleet: SimDevice[] = [];
  /** Span ids the cloud answered for with 200 (accepted, or a duplicate of an earlier try). */
  const confirmed = new Set<string>();
  let confirmedMs = 0;
  let loadStoppedAt = 0;
  let killed: string[] = [];
  /** How long after the load stopped the rollups equalled the raw sums. */
  let caughtUpMs = Infinity;
  const statuses = new Map<number, number>();
  const alive = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null;
  const agent = () => new Agent({ keepAlive: true, ca: cert.ca, maxSockets: IN_FLIGHT * 2 });
  let https: Agent;

  const env = (roles: string, port: number) => ({
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    ROLES: roles,
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    DEMO_SEED: 'false',
    DATA_DIR: dataDir,
    DATABASE_URL: testDb.databaseUrl ?? '',
    DATABASE_POOL_SIZE: '6',
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_PREFIX: redisPrefix,
    AMQP_URL: vhost.url(),
    EVENT_POLL_MS: '100',
    EVENT_PUBLISH_TIMEOUT_MS: '3000',
    SMTP_URL: smtp.url,
    NOTIFY_POLL_MS: '200',
    TRUST_PROXY: 'true',
    PUBLIC_URL: `https://localhost:${edgePort}`,
    // Every 4 s instead of Monday morning: each tick tries again, and each report still goes once.
    WEEKLY_REPORT_CRON: '*/4 * * * * *',
  });

  async function spawnCloud(name: string, roles: string, port: number): Promise<Proc> {
    const child = spawn(process.execPath, ['--import', 'tsx', serverEntry], { env: env(roles, port), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 90_000;
    while (!/listening on/.test(output)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${name} did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const proc = { name, roles, port, child, output: () => output };
    procs.push(proc);
    return proc;
  }

  async function killHard(proc: Proc) {
    const exited = new Promise((resolve) => proc.child.once('exit', resolve));
    proc.child.kill('SIGKILL');
    await exited;
    killed.push(proc.name);
  }

  /** One HTTPS request through the edge (or straight to a process with `base`). */
  function call(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}, base = `https://localhost:${edgePort}`) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(path, base);
      const options = { method: init.method ?? 'GET', headers: init.headers ?? {} };
      const done = (res: IncomingMessage) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      };
      const req = url.protocol === 'https:' ? httpsRequest(url, { ...options, agent: https }, done) : httpRequest(url, options, done);
      req.on('error', reject);
      req.setTimeout(20_000, () => req.destroy(new Error('timed out')));
      req.end(init.body);
    });
  }

  /** Enrolls a bound, consenting device in the control process (no HTTP: a few thousand of them quickly). */
  async function simulatedDevice(i: number): Promise<SimDevice> {
    const { directory, devices, consent } = control.cloud.services;
    const person = await directory.createUser({ orgId, email: `person${i}@topology.test`, name: `Person ${i}`, role: 'employee', osUser: `p${i}` });
    const { token } = await devices.createEnrollmentToken({ orgId, userId: person.id, label: `p${i}`, validDays: 1, maxUses: 1 });
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = await exportJWK(publicKey);
    const { deviceId } = await devices.enroll({
      enrollmentToken: token,
      deviceName: `sim-${i}`,
      platform: 'linux',
      osUser: `p${i}`,
      publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) },
    });
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(deviceId)
      .setSubject(deviceId)
      .setAudience(`https://localhost:${edgePort}${WIRE_PATHS.token}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti(uuidv7())
      .sign(privateKey);
    const { accessToken } = await devices.issueAccessToken(assertion, `https://localhost:${edgePort}${WIRE_PATHS.token}`);
    const policy = await consent.currentPolicy(orgId);
    await consent.decide(await devices.requireActive(deviceId), {
      policyVersion: policy.version,
      scopes: ['app_usage', 'idle'],
      decision: 'granted',
      method: 'terminal',
    });
    return { deviceId, token: accessToken, next: Date.now() - 6 * 3600_000 + i * 7 };
  }

  /** Five spans continuing the device's timeline: what a working agent sends every minute. */
  function batchOf(device: SimDevice): { body: string; ids: string[]; ms: number } {
    const spans = Array.from({ length: 5 }, (_, k) => {
      const start = device.next + k * 2000;
      return { id: uuidv7(), start: new Date(start).toISOString(), durationMs: 1500, app: ['Code', 'Mail', 'Chat'][k % 3] };
    });
    device.next += 5 * 2000;
    return { body: JSON.stringify({ batchId: uuidv7(), spans }), ids: spans.map((s) => s.id), ms: 5 * 1500 };
  }

  beforeAll(async () => {
    if (!on) return;
    requireHaproxy();
    testDb = await createTestDatabase('postgres');
    dataDir = mkdtempSync(join(tmpdir(), 'icarus-topology-'));
    vhost = await createTestVhost();
    cert = makeSelfSignedCertificate();
    https = agent();
    smtp = await startSmtpServer();
    consumer = await collectEvents(vhost.url(), EXCHANGE);
    edgePort = await freePort();

    // The control process: made the org, people and devices, later revokes one. No background roles.
    control = await startCloud({ env: { ...env('api', 0), DEMO_SEED: 'true', LOG_LEVEL: 'silent' }, silent: true });
    orgId = control.bootstrap.orgId;
    const { directory } = control.cloud.services;
    const team = await directory.createTeam(orgId, 'Field');
    const manager = await directory.createUser({
      orgId,
      email: 'manager@topology.test',
      name: 'Manager',
      role: 'manager',
      teamId: team.id,
      password: PASSWORD,
    });
    managerId = manager.id;
    await control.database.rows(sql`insert into team_managers (team_id, user_id) values (${team.id}, ${manager.id})`);
    const setupStarted = Date.now();
    for (let i = 0; i < FLEET; i += 20) fleet.push(...(await Promise.all(Array.from({ length: Math.min(20, FLEET - i) }, (_, k) => simulatedDevice(i + k)))));
    // Enrolled and consenting long ago, as a fleet in use is.
    const longAgo = new Date(Date.now() - 2 * 86_400_000).toISOString();
    await control.database.rows(sql`update devices set enrolled_at = ${longAgo}::timestamptz where org_id = ${orgId}`);
    await control.database.rows(sql`update consent_records set effective_at = ${longAgo}::timestamptz where org_id = ${orgId}`);

    const apiPorts = [await freePort(), await freePort()];
    await Promise.all([
      spawnCloud('api1', 'api', apiPorts[0] ?? 0),
      spawnCloud('api2', 'api', apiPorts[1] ?? 0),
      spawnCloud('worker1', 'worker', await freePort()),
      spawnCloud('worker2', 'worker', await freePort()),
      spawnCloud('scheduler1', 'scheduler', await freePort()),
    ]);
    const pem = join(cert.dir, 'edge.pem');
    writeFileSync(pem, Buffer.concat([cert.ca, Buffer.from('\n'), readFileSync(cert.keyPath)]));
    edge = await startEdge({ port: edgePort, certPem: pem, runDir: dataDir, clouds: [`127.0.0.1:${apiPorts[0]}`, `127.0.0.1:${apiPorts[1]}`] });

    // The load, with one process of each role killed and replaced along the way.
    const started = Date.now();
    const until = started + LOAD_SECONDS * 1000;
    const chaos = (async () => {
      const plan: [number, string][] = [
        [8_000, 'api1'],
        [13_000, 'worker1'],
        [18_000, 'scheduler1'],
      ];
      for (const [at, name] of plan) {
        await new Promise((r) => setTimeout(r, Math.max(0, started + at - Date.now())));
        const proc = procs.find((p) => p.name === name);
        if (!proc) throw new Error(`no ${name}`);
        await killHard(proc);
        await spawnCloud(`${name}-again`, proc.roles, proc.port);
      }
    })();
    let cursor = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (Date.now() < until) {
          const device = fleet[cursor++ % fleet.length];
          if (!device) return;
          const batch = batchOf(device);
          // An answer lost with a killed process is sent again, as the agent does: same ids, so at most once stored.
          for (let attempt = 0; attempt < 20; attempt++) {
            const res = await call(WIRE_PATHS.ingest, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${device.token}` },
              body: batch.body,
            }).catch(() => ({ status: 0, body: '' }));
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status === 200) {
              const answer = JSON.parse(res.body) as { accepted: number; duplicates: number; rejected: unknown[] };
              if (answer.rejected.length > 0) throw new Error(`refused spans: ${res.body}`);
              for (const id of batch.ids) confirmed.add(id);
              confirmedMs += batch.ms;
              break;
            }
            if (res.status !== 0 && res.status !== 502 && res.status !== 503 && res.status !== 429)
              throw new Error(`ingest answered ${res.status}: ${res.body}`);
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      }),
    );
    loadStoppedAt = Date.now();
    // Caught up while the last replacement may still be starting: measured from the load's end.
    const sums = async () => {
      const [raw] = await control.database.rows<{ ms: number }>(sql`select coalesce(sum(duration_ms), 0)::float8 as ms from spans where org_id = ${orgId}`);
      const [rolled] = await control.database.rows<{ ms: number }>(
        sql`select coalesce(sum(active_ms + idle_ms), 0)::float8 as ms from rollup_user_daily where org_id = ${orgId}`,
      );
      return Number(raw?.ms) > 0 && Number(raw?.ms) === Number(rolled?.ms);
    };
    while (Date.now() - loadStoppedAt < 30_000 && !(await sums())) await new Promise((r) => setTimeout(r, 100));
    if (await sums()) caughtUpMs = Date.now() - loadStoppedAt;
    await chaos;
    console.log(
      `topology: ${fleet.length} devices set up in ${Math.round((started - setupStarted) / 1000)} s; ${confirmed.size / 5} batches in ${LOAD_SECONDS} s; answers ${JSON.stringify(Object.fromEntries(statuses))}; rollups caught up ${caughtUpMs} ms after the load`,
    );
  }, 600_000);

  afterAll(async () => {
    if (!on) return;
    const running = procs.filter(alive);
    const exited = running.map((p) => new Promise((r) => p.child.once('exit', r)));
    for (const proc of running) proc.child.kill('SIGTERM');
    // A process that has not stopped gracefully by then is named and killed, so the clean-up
    // below still runs (the hook's own limit would leave the database, vhost and keys behind).
    const graceful = await Promise.race([Promise.all(exited).then(() => true), new Promise<false>((r) => setTimeout(() => r(false), STOP_GRACE_MS))]);
    if (!graceful) {
      const stuck = procs.filter(alive);
      console.error(`topology: ${stuck.map((p) => p.name).join(', ')} did not stop within ${STOP_GRACE_MS} ms of SIGTERM; killed`);
      for (const proc of stuck) proc.child.kill('SIGKILL');
      await Promise.all(exited);
    }
    await edge?.stop();
    await control?.close();
    await consumer?.close();
    await smtp?.close();
    https?.destroy();
    const redis = new Redis('redis://127.0.0.1:6379');
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await vhost?.drop();
    await testDb?.drop();
    cert?.remove();
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it.skipIf(!on)('kept every span the fleet was answered for, once, while one process of each role was killed', async () => {
    expect(killed).toEqual(['api1', 'worker1', 'scheduler1']);
    expect(confirmed.size).toBeGreaterThan(100);
    const [stored] = await control.database.rows<{ n: number; ms: number }>(
      sql`select count(*)::int as n, coalesce(sum(duration_ms), 0)::float8 as ms from spans where org_id = ${orgId}`,
    );
    expect({ spans: Number(stored?.n), ms: Number(stored?.ms) }).toEqual({ spans: confirmed.size, ms: confirmedMs });
  });

  it.skipIf(!on)('brought the rollups to the raw sums within 10 s of the load stopping', () => {
    expect(caughtUpMs).toBeLessThan(10_000);
  });

  it.skipIf(!on)('sent the weekly report mail exactly once, though the scheduler was killed and every tick tried again', async () => {
    await waitFor(() => smtp.mails.some((m) => m.subject.startsWith('Weekly report')), 20_000);
    // Ticks after the first (and after the replacement took over) find the report already queued.
    await new Promise((r) => setTimeout(r, 9_000));
    const weekly = smtp.mails.filter((m) => m.subject.startsWith('Weekly report') && m.to.includes('manager@topology.test'));
    expect(weekly).toHaveLength(1);
    expect(managerId).not.toBe('');
  });

  it.skipIf(!on)('limits sign-in attempts across both api processes together', async () => {
    const attempt = (port: number) =>
      call(
        '/api/session',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
          body: JSON.stringify({ email: 'manager@topology.test', password: 'wrong' }),
        },
        `http://127.0.0.1:${port}`,
      );
    const api = procs.filter((p) => p.roles === 'api' && alive(p));
    expect(api).toHaveLength(2);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await attempt(api[i % 2]?.port ?? 0)).status);
    // Three free failures for the account and address, then each must wait: whichever process is asked.
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3)).toEqual([429, 429, 429, 429, 429]);
  });

  it.skipIf(!on)('published every event, each with an id its copies share', async () => {
    await waitFor(async () => (await createEventOutboxStore(control.database).depth()) === 0, 30_000);
    const recorded = await control.database.rows<{ id: string }>(sql`select id from event_outbox`);
    await waitFor(() => {
      const seen = new Set(consumer.received.map((e) => e.messageId));
      return recorded.every((r) => seen.has(r.id));
    }, 30_000);
    const bodies = new Map<string, Set<string>>();
    for (const e of consumer.received) {
      const { envelope } = parseCloudEvent(e.json);
      expect(e.messageId).toBe(envelope.id);
      bodies.set(envelope.id, (bodies.get(envelope.id) ?? new Set()).add(e.body));
    }
    expect([...bodies.values()].filter((copies) => copies.size > 1)).toEqual([]);
    const batches = consumer.received.filter((e) => e.routingKey === 'batch.ingested');
    expect(new Set(batches.map((e) => e.messageId)).size).toBeGreaterThanOrEqual(confirmed.size / 5);
  });

  it.skipIf(!on)('refuses a revoked device within a second through every api process', async () => {
    const device = fleet[0];
    if (!device) throw new Error('no fleet');
    const api = procs.filter((p) => p.roles === 'api' && alive(p));
    const sync = (port: number) => {
      const batch = batchOf(device);
      return call(
        WIRE_PATHS.ingest,
        { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${device.token}` }, body: batch.body },
        `http://127.0.0.1:${port}`,
      );
    };
    for (const p of api) expect((await sync(p.port)).status).toBe(200);
    const revokedAt = Date.now();
    await control.cloud.services.devices.revoke(device.deviceId, orgId, managerId);
    for (const p of api) {
      await waitFor(async () => (await sync(p.port)).status === 403, 1_000 - (Date.now() - revokedAt));
    }
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
  });
});
