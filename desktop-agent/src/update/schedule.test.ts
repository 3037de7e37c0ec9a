import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signManifest, type UpdateManifest } from './manifest';
import { checkOnce, startUpdateSchedule, type UpdateOutcome, type UpdateScheduleOptions } from './schedule';

const release = generateKeyPairSync('ed25519');
const attacker = generateKeyPairSync('ed25519');
const trusted = { 'release-2026': release.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
const pkg = Buffer.from('the 0.2.0 package bytes');

describe('the scheduled update check, against a local update server', () => {
  let server: Server;
  let base: string;
  let served: { manifest: unknown; pkg: Buffer };
  let requests: string[] = [];
  let spool: string;

  const manifestFor = (version: string, channel: UpdateManifest['channel'] = 'stable'): UpdateManifest => ({
    product: 'icarus-nova-agent',
    version,
    channel,
    publishedAt: '2026-11-25T10:00:00.000Z',
    artifacts: [
      {
        platform: 'linux',
        arch: 'x64',
        kind: 'deb',
        url: `${base}/icarus-nova-agent_${version}.deb`,
        sha256: createHash('sha256').update(pkg).digest('hex'),
        size: pkg.length,
      },
    ],
  });
  const options = (over: Partial<UpdateScheduleOptions> = {}): UpdateScheduleOptions => ({
    feedUrl: `${base}/manifest.json`,
    trusted,
    running: { version: '0.1.0', platform: 'linux', arch: 'x64', kind: 'deb', channel: 'stable' },
    mode: 'notify',
    intervalMs: 60_000,
    spoolDir: spool,
    log: () => {},
    ...over,
  });

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.end(req.url === '/manifest.json' ? JSON.stringify(served.manifest) : served.pkg);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  const freshSpool = () => {
    spool = mkdtempSync(join(tmpdir(), 'icarus-spool-'));
    requests = [];
    return () => rmSync(spool, { recursive: true, force: true });
  };

  it('checks on its schedule, and tells of a verified newer release in notify mode, staging nothing', async () => {
    const cleanup = freshSpool();
    try {
      served = { manifest: signManifest(manifestFor('0.1.0'), release.privateKey, 'release-2026'), pkg };
      const outcomes: UpdateOutcome[] = [];
      const lines: string[] = [];
      const schedule = startUpdateSchedule(options({ intervalMs: 150, firstCheckMs: 10, log: (l) => lines.push(l), onOutcome: (o) => outcomes.push(o) }));
      try {
        await waitUntil(() => outcomes.length >= 1);
        expect(outcomes[0]).toMatchObject({ kind: 'none' });
        // The release is published while the agent runs: a later check finds it.
        served = { manifest: signManifest(manifestFor('0.2.0'), release.privateKey, 'release-2026'), pkg };
        await waitUntil(() => outcomes.some((o) => o.kind === 'available'));
      } finally {
        schedule.stop();
        await schedule.checking();
      }
      expect(outcomes.find((o) => o.kind === 'available')).toEqual({ kind: 'available', version: '0.2.0', url: `${base}/icarus-nova-agent_0.2.0.deb` });
      expect(lines.some((l) => /0\.2\.0 is available, signed and verified/.test(l))).toBe(true);
      expect(requests.filter((r) => r === '/manifest.json').length).toBeGreaterThanOrEqual(2);
      expect(readdirSync(spool)).toEqual([]);
    } finally {
      cleanup();
    }
  });

  it('stages the signed manifest and the exact package for the installer in install mode, once', async () => {
    const cleanup = freshSpool();
    try {
      served = { manifest: signManifest(manifestFor('0.2.0'), release.privateKey, 'release-2026'), pkg };
      const first = await checkOnce(options({ mode: 'install' }));
      expect(first).toEqual({ kind: 'staged', version: '0.2.0', manifestFile: join(spool, 'icarus-nova-agent_0.2.0.manifest.json') });
      expect(readFileSync(join(spool, 'icarus-nova-agent_0.2.0.deb'))).toEqual(pkg);
      expect(JSON.parse(readFileSync(join(spool, 'icarus-nova-agent_0.2.0.manifest.json'), 'utf8'))).toEqual(served.manifest);
      const downloads = requests.filter((r) => r.endsWith('.deb')).length;
      expect(await checkOnce(options({ mode: 'install' }))).toMatchObject({ kind: 'staged', version: '0.2.0' });
      expect(requests.filter((r) => r.endsWith('.deb')).length).toBe(downloads);
      expect(readdirSync(spool).sort()).toEqual(['icarus-nova-agent_0.2.0.deb', 'icarus-nova-agent_0.2.0.manifest.json']);
    } finally {
      cleanup();
    }
  });

  it('refuses a tampered, foreign-signed, downgraded or other-channel manifest and a swapped package, staging nothing', async () => {
    const cleanup = freshSpool();
    try {
      const signed = signManifest(manifestFor('0.2.0'), release.privateKey, 'release-2026');
      const cases: [unknown, Buffer, RegExp][] = [
        [{ ...signed, manifest: signed.manifest.replace('0.2.0.deb', '0.2.0-evil.deb') }, pkg, /the signature does not verify/],
        [signManifest(manifestFor('0.2.0'), attacker.privateKey, 'release-2026'), pkg, /the signature does not verify/],
        [signManifest(manifestFor('0.0.9'), release.privateKey, 'release-2026'), pkg, /older than the running 0\.1\.0 \(a downgrade\)/],
        [signManifest(manifestFor('0.3.0', 'beta'), release.privateKey, 'release-2026'), pkg, /for the beta channel, this agent follows stable/],
        [signed, Buffer.from('the 0.2.0 package bytez'), /does not match the signed manifest/],
      ];
      for (const [manifest, bytes, reason] of cases) {
        served = { manifest, pkg: bytes };
        const outcome = await checkOnce(options({ mode: 'install' }));
        expect(outcome.kind).toBe('refused');
        expect((outcome as { reason: string }).reason).toMatch(reason);
      }
      expect(readdirSync(spool)).toEqual([]);
      expect(existsSync(join(spool, 'icarus-nova-agent_0.2.0.manifest.json'))).toBe(false);
    } finally {
      cleanup();
    }
  });

  it('reports an unreachable feed as a failure to retry, not a refusal', async () => {
    const outcome = await checkOnce(options({ feedUrl: 'http://127.0.0.1:1/manifest.json' }));
    expect(outcome.kind).toBe('failed');
  });
});

async function waitUntil(done: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
