import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigLayer } from '../core/config';
import { decideUpdate, verifyArtifact, verifyManifest, UpdateRefused, type UpdateArtifact } from './manifest';
import { spoolFiles } from './schedule';

/**
 * `icarus-agent install-update`: the .deb's privileged installer, run as root by
 * icarus-agent-update.service when its path unit sees a manifest in the spool folder.
 *
 * The spool is writable by every local user (the agents run as people, mode 1733), so nothing
 * in it is trusted: each staged manifest is verified again against the release keys and the
 * channel in the managed file (/etc/icarus-nova/agent.json, root's), never the environment or a
 * person's own config; it must offer a version newer than the installed one, and the package
 * beside it must be byte for byte the one it names. Only then `dpkg -i`. Whatever is refused is
 * deleted, and said in the journal.
 */

const TrustFromManagedFile = z.object({
  updateKeys: ConfigLayer.shape.updateKeys.unwrap(),
  updateChannel: ConfigLayer.shape.updateChannel,
});

export interface InstallOptions {
  spoolDir: string;
  /** The managed file's path: the only source of the keys and the channel. */
  managedFile: string;
  installed: { version: string; platform: string; arch: string; kind: UpdateArtifact['kind'] };
  /** Verify and report, install nothing, delete nothing (what a check by hand runs). */
  verifyOnly: boolean;
  write: (line: string) => void;
}

/** Returns 0 when every staged update was installed (or there was none), 1 when any was refused. */
export function installStagedUpdates(options: InstallOptions): number {
  let trust: z.infer<typeof TrustFromManagedFile>;
  try {
    trust = TrustFromManagedFile.parse(JSON.parse(readFileSync(options.managedFile, 'utf8')));
  } catch (error) {
    const why = error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : String(error);
    throw new UpdateRefused(`no trusted release key in the managed file ${options.managedFile} (updateKeys): ${why}`);
  }
  const staged = safeList(options.spoolDir).filter((f) => f.endsWith('.manifest.json'));
  if (staged.length === 0) {
    options.write(`no staged update in ${options.spoolDir}\n`);
    return 0;
  }
  let refused = 0;
  // Oldest version first: dpkg takes each step, the newest ends up installed.
  for (const name of staged.sort()) {
    const manifestFile = join(options.spoolDir, name);
    const version = name.replace(/^icarus-nova-agent_/, '').replace(/\.manifest\.json$/, '');
    const files = spoolFiles(options.spoolDir, version);
    try {
      const manifest = verifyManifest(JSON.parse(readFileSync(manifestFile, 'utf8')), trust.updateKeys);
      if (manifest.version !== version) throw new UpdateRefused(`${name} holds a manifest for ${manifest.version}`);
      const decision = decideUpdate(manifest, { ...options.installed, channel: trust.updateChannel });
      if (!decision.update) throw new UpdateRefused(decision.reason);
      verifyArtifact(readFileSync(files.pkg), decision.artifact);
      if (options.verifyOnly) {
        options.write(`verified: ${files.pkg} is ${decision.version}, signed by a trusted key and matching its manifest (not installed: --verify-only)\n`);
        continue;
      }
      const dpkg = spawnSync('dpkg', ['-i', files.pkg], { encoding: 'utf8', timeout: 600_000 });
      if (dpkg.status !== 0) throw new Error(`dpkg -i ${files.pkg} failed (${dpkg.status}): ${dpkg.stderr.trim()}`);
      options.write(`installed ${decision.version} from ${files.pkg}\n`);
      removeStaged(files);
    } catch (error) {
      refused++;
      const message = error instanceof Error ? error.message : String(error);
      options.write(`REFUSED ${name}: ${message}${options.verifyOnly ? '' : ' (deleted)'}\n`);
      if (!options.verifyOnly) removeStaged(files);
    }
  }
  return refused > 0 ? 1 : 0;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function removeStaged(files: { pkg: string; manifest: string }) {
  rmSync(files.manifest, { force: true });
  rmSync(files.pkg, { force: true });
}
