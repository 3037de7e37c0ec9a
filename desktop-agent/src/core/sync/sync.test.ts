/**
 * Sync against a small fake cloud that follows the wire protocol (shared schemas), so the
 * retry, batching and directive rules are tested without the real server's cost.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { uuidv7 } from 'uuidv7';
import { IngestBatch, type Directive, type IngestResult } from '@icarus/shared';
import { ManualClock } from '../clock';
import { AgentStore } from '../store/store';
import { createDeviceKey } from '../store/identity';
import { TokenSource } from './auth';
import { Syncer } from './sync';

type Reply = { status: number; body?: unknown; headers?: Record<string, string>; drop?: boolean };

class FakeCloud {
  server: Server;
  batches: IngestBatch[] = [];
  stored = new Set<string>();
  tokens = 0;
  /** Scripted answers for the next ingest calls; afterwards the normal protocol. */
  script: Reply[] = [];
  directives: Directive[] = [];
  rejectIds = new Set<string>();
  /** Spans answered as rejected with this reason (any string: a newer server may know reasons this agent does not). */
  rejectAs = new Map<string, string>();
  url = '';

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(Buffer.from(c));
    let raw = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
    const send = (r: Reply) => {
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
      res.end(JSON.stringify(r.body ?? {}));
    };
    if (req.url === '/v1/devices/token') {
      this.tokens += 1;
      return send({ status: 200, body: { accessToken: `t${this.tokens}`, tokenType: 'Bearer', expiresIn: 900 } });
    }
    if (req.url !== '/v1/ingest') return send({ status: 404, body: { error: { code: 'not_found', message: 'no' } } });
    const batch = IngestBatch.parse(JSON.parse(raw.toString('utf8')));
    this.batches.push(batch);
    const scripted = this.script.shift();
    if (scripted?.drop) {
      // Stored, but the answer never arrives: what a crash or a cut connection looks like.
      for (const s of batch.spans) this.stored.add(s.id);
      res.socket?.destroy();
      return;
    }
    if (scripted) return send(scripted);
    const result: IngestResult = { accepted: 0, duplicates: 0, rejected: [], directives: this.directives.splice(0) };
    for (const s of batch.spans) {
      const reason = this.rejectAs.get(s.id);
      if (reason !== undefined) (result.rejected as { id: string; reason: string }[]).push({ id: s.id, reason });
      else if (this.rejectIds.has(s.id)) result.rejected.push({ id: s.id, reason: 'no_consent' });
      else if (this.stored.has(s.id)) result.duplicates += 1;
      else {
        this.stored.add(s.id);
        result.accepted += 1;
      }
    }
    send({ status: 200, body: result });
  }
}

const T0 = Date.UTC(2026, 10, 25, 9);
let cloud: FakeCloud;
let dir: string;
let store: AgentStore;
let syncer: Syncer;
let clock: ManualClock;
let applied: Directive[][];

function spans(n: number) {
  return Array.from({ length: n }, (_, i) => ({ id: uuidv7(), start: T0 + i * 1000, durationMs: 1000, app: `App${i % 3}` }));
}

beforeEach(async () => {
  cloud = new FakeCloud();
  await cloud.listen();
  dir = mkdtempSync(join(tmpdir(), 'icarus-sync-'));
  store = AgentStore.open(dir);
  const device = { deviceId: uuidv7(), orgId: uuidv7(), serverUrl: cloud.url, keyFile: join(dir, 'key.jwk'), enrolledMs: T0 };
  await createDeviceKey(device.keyFile);
  clock = new ManualClock(T0 + 86_400_000);
  const tokens = new TokenSource(device, clock);
  applied = [];
  syncer = new Syncer({
    spans: store.spans,
    tokens,
    deviceId: device.deviceId,
    clock,
    holdMs: () => 0,
    status: () => ({ agentVersion: 'test', pendingSpans: store.spans.pendingCount(), droppedSpans: 0, captureSources: [] }),
    onDirectives: async (d) => void applied.push(d),
    heartbeatMs: 60_000,
  });
});
afterEach(async () => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
  await new Promise((resolve) => cloud.server.close(resolve));
});

describe('Syncer', () => {
  it('sends oldest first in gzip batches of at most 1000 and marks them synced', async () => {
    const all = spans(2500);
    store.spans.insert(all, T0);
    const report = await syncer.syncOnce();
    expect(report).toMatchObject({ sent: 2500, batches: 3 });
    expect(cloud.batches.map((b) => b.spans.length)).toEqual([1000, 1000, 500]);
    expect(cloud.batches.flatMap((b) => b.spans.map((s) => s.id))).toEqual(all.map((s) => s.id));
    expect(cloud.batches[0]?.status?.pendingSpans).toBe(2500);
    expect(store.spans.pendingCount()).toBe(0);
    expect(cloud.tokens).toBe(1); // one token reused across batches
  });

  it('resends the same batch id with the same spans when the answer was lost', async () => {
    store.spans.insert(spans(10), T0);
    cloud.script = [{ status: 0, drop: true }];
    const failed = await syncer.syncOnce();
    expect(failed.error).toMatch(/failed/);
    expect(failed.retryInMs).toBeGreaterThanOrEqual(0);
    const ok = await syncer.syncOnce();
    expect(ok.sent).toBe(10);
    expect(cloud.batches[1]?.batchId).toBe(cloud.batches[0]?.batchId);
    expect(cloud.batches[1]?.spans).toEqual(cloud.batches[0]?.spans);
    expect(cloud.stored.size).toBe(10);
  });

  it('backs off on 500s with growing, jittered delays, honours Retry-After, then succeeds', async () => {
    store.spans.insert(spans(3), T0);
    const error = { error: { code: 'internal', message: 'boom' } };
    cloud.script = [
      { status: 500, body: error },
      { status: 503, body: error },
      { status: 429, body: error, headers: { 'retry-after': '7' } },
    ];
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await syncer.syncOnce();
      expect(r.sent).toBe(0);
      delays.push(r.retryInMs ?? -1);
    }
    expect(delays[0]).toBeLessThanOrEqual(1000);
    expect(delays[1]).toBeLessThanOrEqual(2000);
    expect(delays[2]).toBe(7000);
    expect((await syncer.syncOnce()).sent).toBe(3);
    expect(syncer.backoff.failures).toBe(0);
  });

  it('keeps spans the server refuses for not being true, and any reason it names later, never resending them', async () => {
    const all = spans(7);
    const reasons = ['in_future', 'before_enrollment', 'overlap', 'start_changed', 'day_over_24h', 'a_reason_from_a_newer_server'];
    reasons.forEach((reason, i) => cloud.rejectAs.set(all[i]?.id ?? '', reason));
    store.spans.insert(all, T0);
    const first = await syncer.syncOnce();
    expect(first).toMatchObject({ sent: 7, batches: 1, rejected: 6 });
    expect(first.error).toBeUndefined();
    expect(store.spans.everything().map((s) => s.rejectedReason)).toEqual([...reasons, null]);
    expect(await syncer.syncOnce()).toMatchObject({ sent: 0, batches: 0 });
    expect(cloud.batches).toHaveLength(1);
  });

  it('obeys the directives it knows and passes over one of a type from a newer server, the batch settled once', async () => {
    store.spans.insert(spans(2), T0);
    const pause = { type: 'pause', until: new Date(T0 + 86_400_000 + 3_600_000).toISOString(), reason: 'meeting' } as const;
    cloud.directives = [{ type: 'a_directive_from_a_newer_server', detail: 42 } as unknown as Directive, pause];
    const report = await syncer.syncOnce();
    expect(report.error).toBeUndefined();
    expect(report).toMatchObject({ sent: 2, batches: 1 });
    expect(applied).toEqual([[pause]]);
    expect(await syncer.syncOnce()).toMatchObject({ sent: 0, batches: 0 });
    expect(cloud.batches).toHaveLength(1);
  });

  it('an answer that does not read right (here a known directive malformed) keeps the spans unsent, and the same batch goes again later', async () => {
    store.spans.insert(spans(2), T0);
    cloud.directives = [{ type: 'consent_revoked', scopes: 'app_usage' } as unknown as Directive];
    const report = await syncer.syncOnce();
    expect(report.error).toMatch(/unexpected body/);
    expect(report.retryInMs).toBeGreaterThan(0);
    expect(applied).toEqual([]);
    expect(store.spans.everything().filter((s) => s.rejectedReason === null && s.syncedMs === null)).toHaveLength(2);
    // The next answer reads right: the same batch settles, nothing was marked refused.
    clock.advance(report.retryInMs ?? 0);
    expect(await syncer.syncOnce()).toMatchObject({ sent: 2, batches: 1 });
    expect(cloud.batches.map((b) => b.batchId)).toEqual([cloud.batches[0]?.batchId, cloud.batches[0]?.batchId]);
  });

  it('keeps per-span rejections with their reason and a refused batch marked, never resending them', async () => {
    const [a, b, c] = spans(3);
    if (!a || !b || !c) throw new Error('spans');
    cloud.rejectIds.add(b.id);
    store.spans.insert([a, b], T0);
    await syncer.syncOnce();
    expect(store.spans.everything().map((s) => s.rejectedReason)).toEqual([null, 'no_consent']);
    store.spans.insert([c], T0);
    // A 400 that names no span (here the batch's status) refuses the whole batch, as before.
    cloud.script = [
      { status: 400, body: { error: { code: 'validation_failed', message: 'bad', fields: [{ path: 'status.agentVersion', problem: 'too long' }] } } },
    ];
    const refused = await syncer.syncOnce();
    expect(refused.error).toMatch(/validation_failed: bad \(status.agentVersion: too long\)/);
    expect(store.spans.everything().find((s) => s.id === c.id)?.rejectedReason).toBe('refused: validation_failed (400)');
    expect(await syncer.syncOnce()).toMatchObject({ sent: 0, batches: 0 });
  });

  it('a 400 naming spans by index keeps exactly those, with the server’s reasons, and sends the rest next time', async () => {
    const five = spans(5);
    store.spans.insert(five, T0);
    cloud.script = [
      {
        status: 400,
        body: {
          error: {
            code: 'validation_failed',
            message: 'bad spans',
            fields: [
              { path: 'spans.3.app', problem: 'Too big: expected string to have <=256 characters' },
              { path: 'spans.1.durationMs', problem: 'Too big: expected number to be <=3600000' },
              { path: 'spans.1.app', problem: 'Invalid input' },
              { path: 'spans.17.app', problem: 'not in this batch' },
            ],
          },
        },
      },
    ];
    const first = await syncer.syncOnce();
    expect(first).toMatchObject({ sent: 0, rejected: 2, retryInMs: 0 });
    const byId = new Map(store.spans.everything().map((s) => [s.id, s]));
    expect(byId.get(five[3]?.id ?? '')?.rejectedReason).toBe('refused by the server: spans.3.app: Too big: expected string to have <=256 characters');
    expect(byId.get(five[1]?.id ?? '')?.rejectedReason).toBe(
      'refused by the server: spans.1.durationMs: Too big: expected number to be <=3600000; spans.1.app: Invalid input',
    );
    expect([0, 2, 4].map((i) => byId.get(five[i]?.id ?? '')?.rejectedReason)).toEqual([null, null, null]);

    const second = await syncer.syncOnce();
    expect(second).toMatchObject({ sent: 3, batches: 1 });
    const [refusedBatch, resent] = cloud.batches;
    expect(resent?.spans.map((s) => s.id)).toEqual([0, 2, 4].map((i) => five[i]?.id));
    expect(resent?.batchId).not.toBe(refusedBatch?.batchId);
    expect([...cloud.stored].sort()).toEqual([0, 2, 4].map((i) => five[i]?.id).sort());
    expect(store.spans.pendingCount()).toBe(0);
    // The two kept spans never go again.
    expect(await syncer.syncOnce()).toMatchObject({ sent: 0, batches: 0 });
    expect(cloud.batches).toHaveLength(2);
  });

  it('gets a fresh token after a 401', async () => {
    store.spans.insert(spans(1), T0);
    cloud.script = [{ status: 401, body: { error: { code: 'unauthorized', message: 'expired' } } }];
    expect((await syncer.syncOnce()).sent).toBe(1);
    expect(cloud.tokens).toBe(2);
  });

  it('with nothing to send, posts an empty batch once the heartbeat is due, and obeys its directives', async () => {
    cloud.directives = [{ type: 'message', id: uuidv7(), text: 'hello' }];
    expect(await syncer.syncOnce()).toMatchObject({ sent: 0, batches: 0, heartbeat: true });
    expect(cloud.batches).toHaveLength(1);
    expect(cloud.batches[0]?.spans).toEqual([]);
    expect(cloud.batches[0]?.status?.agentVersion).toBe('test');
    expect(applied).toEqual([[expect.objectContaining({ type: 'message', text: 'hello' })]]);
    // Heard from the server just now: no heartbeat until the interval has passed again.
    clock.advance(59_000);
    expect((await syncer.syncOnce()).heartbeat).toBeUndefined();
    clock.advance(1_000);
    expect((await syncer.syncOnce()).heartbeat).toBe(true);
    expect(cloud.batches.map((b) => b.batchId)).toHaveLength(2);
    expect(new Set(cloud.batches.map((b) => b.batchId)).size).toBe(2);
  });

  it('a batch of spans counts as contact: no extra empty batch, and a failed heartbeat backs off', async () => {
    store.spans.insert(spans(2), T0);
    expect(await syncer.syncOnce()).toMatchObject({ sent: 2, batches: 1 });
    expect(cloud.batches).toHaveLength(1);
    clock.advance(60_000);
    cloud.script = [{ status: 503, body: { error: { code: 'unavailable', message: 'down' } } }];
    const failed = await syncer.syncOnce();
    expect(failed.error).toMatch(/503/);
    expect(failed.retryInMs).toBeGreaterThanOrEqual(0);
    expect((await syncer.syncOnce()).heartbeat).toBe(true);
  });

  it('stops for good on a revocation (403 naming the device revoked), keeping the spans; other 403s back off', async () => {
    store.spans.insert(spans(3), T0);
    cloud.script = [{ status: 403, body: { error: { code: 'forbidden', message: 'Blocked by proxy' } } }];
    const proxy = await syncer.syncOnce();
    expect(proxy.revoked).toBeUndefined();
    expect(proxy.retryInMs).toBeGreaterThanOrEqual(0);
    cloud.script = [
      { status: 403, body: { error: { code: 'forbidden', message: 'This device has been revoked', fields: [{ path: 'device', problem: 'revoked' }] } } },
    ];
    const revoked = await syncer.syncOnce();
    expect(revoked).toMatchObject({ sent: 0, revoked: true });
    expect(revoked.retryInMs).toBeUndefined();
    expect(revoked.error).toMatch(/revoked/);
    expect(store.spans.pendingCount()).toBe(3);
    expect(store.spans.everything().every((s) => s.rejectedReason === null)).toBe(true);
  });
});
