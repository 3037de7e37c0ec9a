import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installStagedUpdates, type InstallOptions } from './install';
import { signManifest, UpdateRefused, type UpdateManifest } from './manifest';
import { spoolFiles } from './schedule';

const release = generateKeyPairSync('ed25519');
const attacker = generateKeyPairSync('ed25519');
const releasePem = release.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const pkg = Buffer.from('the 0.2.0 package bytes');

const manifestFor = (version: string): UpdateManifest => ({
  product: 'icarus-nova-agent',
  version,
  channel: 'stable',
  publishedAt: '2026-11-25T10:00:00.000Z',
  artifacts: [
    {
      platform: 'linux',
      arch: 'x64',
      kind: 'deb',
      url: `https://updates.example/icarus-nova-agent_${version}.deb`,
      sha256: createHash('sha256').update(pkg).digest('hex'),
      size: pkg.length,
    },
  ],
});

describe('the privileged installer trusts nothing in the spool', () => {
  let dir: string;
  let spool: string;
  let managedFile: string;
  let lines: string[];
  const options = (over: Partial<InstallOptions> = {}): InstallOptions => ({
    spoolDir: spool,
    managedFile,
    installed: { version: '0.1.0', platform: 'linux', arch: 'x64', kind: 'deb' },
    verifyOnly: true,
    write: (l) => lines.push(l),
    ...over,
  });
  const stage = (version: string, manifest: unknown, bytes: Buffer = pkg) => {
    const files = spoolFiles(spool, version);
    writeFileSync(files.pkg, bytes);
    writeFileSync(files.manifest, JSON.stringify(manifest));
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'icarus-install-'));
    spool = join(dir, 'spool');
    managedFile = join(dir, 'agent.json');
    lines = [];
    writeFileSync(managedFile, JSON.stringify({ server: 'https://icarus.example.com', updateKeys: { 'release-2026': releasePem }, updateChannel: 'stable' }));
    mkdirSync(spool);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies a staged release against the managed file keys', () => {
    stage('0.2.0', signManifest(manifestFor('0.2.0'), release.privateKey, 'release-2026'));
    expect(installStagedUpdates(options())).toBe(0);
    expect(lines.join('')).toMatch(/verified: .*icarus-nova-agent_0\.2\.0\.deb is 0\.2\.0, signed by a trusted key/);
  });

  it('refuses and deletes what a local user could drop there: a foreign key, a swapped package, a downgrade, a renamed manifest', () => {
    stage('0.2.0', signManifest(manifestFor('0.2.0'), attacker.privateKey, 'release-2026'));
    stage('0.3.0', signManifest(manifestFor('0.3.0'), release.privateKey, 'release-2026'), Buffer.from('another package'));
    stage('0.0.9', signManifest(manifestFor('0.0.9'), release.privateKey, 'release-2026'));
    stage('0.4.0', signManifest(manifestFor('0.2.0'), release.privateKey, 'release-2026'));
    expect(installStagedUpdates(options({ verifyOnly: false }))).toBe(1);
    const said = lines.join('');
    expect(said).toMatch(/REFUSED icarus-nova-agent_0\.2\.0\.manifest\.json: update manifest refused: the signature does not verify \(deleted\)/);
    expect(said).toMatch(/REFUSED icarus-nova-agent_0\.3\.0\.manifest\.json: downloaded .* does not match the signed manifest/);
    expect(said).toMatch(/REFUSED icarus-nova-agent_0\.0\.9\.manifest\.json: .*a downgrade/);
    expect(said).toMatch(/REFUSED icarus-nova-agent_0\.4\.0\.manifest\.json: .*holds a manifest for 0\.2\.0/);
    expect(said).not.toMatch(/installed/);
    expect(readdirSync(spool)).toEqual([]);
  });

  it('will not run without release keys in the managed file, whatever else is configured', () => {
    writeFileSync(managedFile, JSON.stringify({ server: 'https://icarus.example.com' }));
    stage('0.2.0', signManifest(manifestFor('0.2.0'), release.privateKey, 'release-2026'));
    expect(() => installStagedUpdates(options())).toThrow(UpdateRefused);
    expect(() => installStagedUpdates(options())).toThrow(/no trusted release key in the managed file .*updateKeys/);
  });

  it('says so when nothing is staged', () => {
    expect(installStagedUpdates(options())).toBe(0);
    expect(lines).toEqual([`no staged update in ${spool}\n`]);
  });
});
