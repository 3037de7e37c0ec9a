/**
 * `icarus-agent update --check` against a real local feed: the real bundled agent, a real HTTP
 * server serving a signed manifest and its package, then a tampered manifest and a downgrade;
 * and a running agent checking on its managed schedule, staging the package for the installer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signManifest, type SignedManifest, type UpdateManifest } from '../../desktop-agent/src/update/manifest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';
import { enrollOffline } from './agent-offline';

const release = generateKeyPairSync('ed25519');
const keys = JSON.stringify({ 'release-2026': release.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
const pkg = Buffer.from('the 0.2.0 package bytes');

describe('icarus-agent update --check', () => {
  let bundle: Awaited<ReturnType<typeof agentBundle>>;
  let server: Server;
  let base: string;
  let served: { manifest: unknown; pkg: Buffer };
  let home: AgentHome;

  const manifestFor = (version: string): UpdateManifest => ({
    product: 'icarus-nova-agent',
    version,
    channel: 'stable',
    publishedAt: '2026-11-25T10:00:00.000Z',
    artifacts: [
      {
        platform: 'linux',
        arch: process.arch === 'arm64' ? 'arm64' : 'x64',
        kind: 'deb',
        url: `${base}/icarus-nova-agent_${version}.deb`,
        sha256: createHash('sha256').update(pkg).digest('hex'),
        size: pkg.length,
      },
    ],
  });
  const check = () => home.cli(['update', '--check']);

  beforeAll(async () => {
    bundle = await agentBundle();
    server = createServer((req, res) => {
      if (req.url === '/manifest.json') res.end(JSON.stringify(served.manifest));
      else res.end(served.pkg);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    home = agentHome(bundle.file, process.env, { ICARUS_UPDATE_URL: `${base}/manifest.json`, ICARUS_UPDATE_KEYS: keys });
  });
  afterAll(async () => {
    home.cleanup();
    bundle.remove();
    await new Promise((r) => server.close(r));
  });

  it('reports a newer, correctly signed release and checks its package', async () => {
    served = { manifest: signManifest(manifestFor('0.2.0'), release.privateKey, 'release-2026'), pkg };
    const r = await check();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/manifest verified: update 0\.2\.0 available/);
    expect(r.stdout).toContain(`${base}/icarus-nova-agent_0.2.0.deb`);
    expect(r.stdout).toMatch(/matches the signed manifest/);
  });

  it('refuses a manifest altered after signing, and a package that is not the signed one', async () => {
    const signed: SignedManifest = signManifest(manifestFor('0.2.0'), release.privateKey, 'release-2026');
    served = { manifest: { ...signed, manifest: signed.manifest.replace('0.2.0.deb', '0.2.0-evil.deb') }, pkg };
    const tampered = await check();
    expect(tampered.code).not.toBe(0);
    expect(tampered.stderr).toMatch(/update manifest refused: the signature does not verify/);
    expect(tampered.stdout).not.toMatch(/available/);

    served = { manifest: signed, pkg: Buffer.from('the 0.2.0 package bytez') };
    const swapped = await check();
    expect(swapped.code).not.toBe(0);
    expect(swapped.stderr).toMatch(/does not match the signed manifest/);
  });

  it('refuses a correctly signed manifest for an older version, and is quiet when up to date', async () => {
    served = { manifest: signManifest(manifestFor('0.0.9'), release.privateKey, 'release-2026'), pkg };
    const downgrade = await check();
    expect(downgrade.code).not.toBe(0);
    expect(downgrade.stderr).toMatch(/offers 0\.0\.9, older than the running 0\.1\.0 \(a downgrade\)/);

    served = { manifest: signManifest(manifestFor('0.1.0'), release.privateKey, 'release-2026'), pkg };
    const same = await check();
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/manifest verified: up to date/);
  });

  it('checks on the schedule IT set while it runs, stages the verified package, and the installer verifies it again', async () => {
    const managed = {
      server: 'http://127.0.0.1:9',
      updateUrl: `${base}/manifest.json`,
      updateKeys: JSON.parse(keys) as Record<string, string>,
      updateIntervalMs: 1000,
      updateChannel: 'stable',
      updateMode: 'install',
    };
    const spool = mkdtempSync(join(tmpdir(), 'icarus-spool-'));
    const running = agentHome(bundle.file, process.env, { ICARUS_UPDATE_SPOOL: spool });
    try {
      writeFileSync(running.env.ICARUS_MANAGED_CONFIG ?? '', JSON.stringify(managed));
      await enrollOffline(running.dataDir);
      // A tampered feed first: the running agent refuses it and stages nothing.
      const signed = signManifest(manifestFor('0.2.0'), release.privateKey, 'release-2026');
      served = { manifest: { ...signed, manifest: signed.manifest.replace('0.2.0.deb', '0.2.0-evil.deb') }, pkg };
      const agent = running.start();
      await agent.waitFor(/update checks every 1 s from http:\/\/127\.0\.0\.1:\d+\/manifest\.json \(stable channel, install\)/);
      await agent.waitFor(/update check: REFUSED, nothing downloaded or installed: update manifest refused: the signature does not verify/);
      expect(readdirSync(spool)).toEqual([]);
      // The release is published: a later scheduled check verifies and stages it.
      served = { manifest: signed, pkg };
      await agent.waitFor(/update check: 0\.2\.0 verified and staged for the installer/);
      expect(await agent.stop()).toBe(0);
      expect(readFileSync(join(spool, 'icarus-nova-agent_0.2.0.deb'))).toEqual(pkg);
      // The person (or IT) sees the last check in status.
      const status = await running.cli(['status']);
      expect(status.stdout).toMatch(/last update check: 0\.2\.0 verified and staged for the installer/);

      // The installer's own check, with the keys of the managed file only.
      const verified = await running.cli(['install-update', '--spool', spool, '--verify-only']);
      expect(verified.stderr).toBe('');
      expect(verified.code).toBe(0);
      expect(verified.stdout).toMatch(/verified: .*icarus-nova-agent_0\.2\.0\.deb is 0\.2\.0, signed by a trusted key and matching its manifest/);
      // A person's environment cannot hand the installer other keys: with none in the managed file it refuses.
      writeFileSync(running.env.ICARUS_MANAGED_CONFIG ?? '', JSON.stringify({ server: managed.server }));
      const keyless = await running.cli(['install-update', '--spool', spool, '--verify-only', '--update-keys', keys]);
      expect(keyless.code).not.toBe(0);
      expect(keyless.stderr).toMatch(/no trusted release key in the managed file/);
    } finally {
      running.cleanup();
      rmSync(spool, { recursive: true, force: true });
    }
  }, 60_000);

  it('says what is missing when no feed or key is configured', async () => {
    const bare = agentHome(bundle.file);
    try {
      const r = await bare.cli(['update', '--check']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/no update feed configured/);
    } finally {
      bare.cleanup();
    }
  });
});
