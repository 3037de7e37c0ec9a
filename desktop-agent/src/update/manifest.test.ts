import { generateKeyPairSync } from 'node:crypto';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkForUpdate, compareVersions, signManifest, UpdateRefused, verifyArtifact, verifyManifest, type UpdateManifest } from './manifest';

const release = generateKeyPairSync('ed25519');
const attacker = generateKeyPairSync('ed25519');
const trusted = { 'release-2026': release.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
const pkg = Buffer.from('pretend .deb bytes');
const manifest: UpdateManifest = {
  product: 'icarus-nova-agent',
  version: '0.2.0',
  channel: 'stable',
  publishedAt: '2026-11-25T10:00:00.000Z',
  artifacts: [
    {
      platform: 'linux',
      arch: 'x64',
      kind: 'deb',
      url: 'https://updates.example/icarus-nova-agent_0.2.0_amd64.deb',
      sha256: createHash('sha256').update(pkg).digest('hex'),
      size: pkg.length,
    },
  ],
};
const running = { version: '0.1.0', platform: 'linux', arch: 'x64', kind: 'deb' as const };

describe('signed update manifest', () => {
  it('accepts a manifest signed by a trusted key and picks this machine’s package', () => {
    const signed = signManifest(manifest, release.privateKey, 'release-2026');
    expect(verifyManifest(signed, trusted)).toEqual(manifest);
    const artifact = manifest.artifacts[0];
    if (!artifact) throw new Error('fixture');
    expect(() => verifyArtifact(pkg, artifact)).not.toThrow();
  });

  it('refuses a signature that does not verify: other key, altered text, unknown key id, unsigned', () => {
    const forged = signManifest(manifest, attacker.privateKey, 'release-2026');
    expect(() => verifyManifest(forged, trusted)).toThrow(/signature does not verify/);
    const signed = signManifest(manifest, release.privateKey, 'release-2026');
    const altered = { ...signed, manifest: signed.manifest.replace('updates.example', 'evil.example') };
    expect(() => verifyManifest(altered, trusted)).toThrow(UpdateRefused);
    expect(() => verifyManifest({ ...signed, keyId: 'someone-else' }, trusted)).toThrow(/unknown key/);
    expect(() => verifyManifest(manifest, trusted)).toThrow(/not a signed manifest/);
  });

  it('refuses a package whose bytes differ from the signed hash', () => {
    const artifact = manifest.artifacts[0];
    if (!artifact) throw new Error('fixture');
    expect(() => verifyArtifact(Buffer.from('tampered'), artifact)).toThrow(/does not match/);
  });

  it('checks a real feed over HTTP; never downgrades', async () => {
    let served: unknown = signManifest(manifest, release.privateKey, 'release-2026');
    const server = createServer((_req, res) => res.end(JSON.stringify(served)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/manifest.json`;
    try {
      expect(await checkForUpdate(url, trusted, running)).toMatchObject({ update: true, version: '0.2.0' });
      expect(await checkForUpdate(url, trusted, { ...running, version: '0.2.0' })).toMatchObject({ update: false, reason: /up to date/ });
      await expect(checkForUpdate(url, trusted, { ...running, version: '0.3.0' })).rejects.toThrow(/older than the running 0\.3\.0 \(a downgrade\)/);
      served = signManifest(manifest, attacker.privateKey, 'release-2026');
      await expect(checkForUpdate(url, trusted, running)).rejects.toThrow(/signature does not verify/);
    } finally {
      server.close();
    }
    expect(compareVersions('0.10.0', '0.9.9')).toBe(1);
  });
});
