import { arch, platform } from 'node:process';
import { AGENT_VERSION } from '../core/agent';
import { ConfigError, type AgentConfig } from '../core/config';
import { checkForUpdate, downloadArtifact, type UpdateArtifact } from '../update/manifest';
import type { Write } from './consent-prompt';

/** The package kind the headless agent ships as here: the .deb on Linux, the tarball elsewhere. */
function packageKind(): UpdateArtifact['kind'] {
  return platform === 'linux' ? 'deb' : 'tar.gz';
}

/**
 * `icarus-agent update --check`: reads the signed manifest from the configured feed, verifies its
 * signature against the trusted release keys, refuses a tampered or older one, and when a newer
 * package exists for this machine downloads it and checks its SHA-256 and size. Installs nothing.
 * Returns 0 when the feed is sound (an update or none), and throws UpdateRefused otherwise.
 */
export async function checkUpdate(config: AgentConfig, write: Write, fetchImpl: typeof fetch = fetch): Promise<number> {
  if (!config.updateUrl) throw new ConfigError('no update feed configured: set updateUrl (ICARUS_UPDATE_URL) to the feed’s manifest.json');
  if (Object.keys(config.updateKeys).length === 0)
    throw new ConfigError('no trusted release key configured: set updateKeys (ICARUS_UPDATE_KEYS), key id -> Ed25519 public key PEM');
  const running = { version: AGENT_VERSION, platform, arch, kind: packageKind(), channel: config.updateChannel };
  write(`checking ${config.updateUrl} (running ${running.version}, ${running.platform}/${running.arch} ${running.kind})\n`);
  const decision = await checkForUpdate(config.updateUrl, config.updateKeys, running, fetchImpl);
  if (!decision.update) {
    write(`manifest verified: ${decision.reason}\n`);
    return 0;
  }
  const { artifact } = decision;
  const bytes = await downloadArtifact(artifact, fetchImpl);
  write(`manifest verified: update ${decision.version} available\n`);
  write(`  package ${artifact.url}\n  ${bytes.byteLength} bytes, sha256 ${artifact.sha256} (matches the signed manifest)\n`);
  write('  nothing was installed; install it with your package manager\n');
  return 0;
}
